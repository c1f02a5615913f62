#pragma once
// The runs view: every run of the database in a sortable table (status in colour, name, method,
// model, task, start, duration, key final metrics, tags), filtered with `frugal list --filter`'s
// syntax, refreshed every second (runs of other processes appear, running ones move on);
// multi-select to open, compare, tag, note or delete. GUI thread; reads through StoreService.

#include <QAbstractTableModel>
#include <QVector>
#include <QWidget>

#include <limits>

#include "store_service.h"

QT_BEGIN_NAMESPACE
class QCheckBox;
class QLabel;
class QLineEdit;
class QMenu;
class QSortFilterProxyModel;
class QTableView;
class QTimer;
class QPushButton;
QT_END_NAMESPACE

namespace frugal::ui {

// A run's headline, as its method defines it: dev accuracy and loss for fine-tuning (and the
// search's best fitness for SharpZO), pruned against dense perplexity and sparsity for pruning,
// held-out perplexity for pre-training, each task's accuracy for an evaluation, the sharpness
// for a landscape. VALUE is what the column sorts by (NaN: no result yet).
struct RunResult {
    QString text;
    double value = std::numeric_limits<double>::quiet_NaN();
    QString toolTip;  // the keys the text is read from
};
RunResult resultOf(const RunRow& row);

class RunsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        Id,
        Status,
        Name,
        Method,
        Model,
        Task,
        Start,
        Duration,
        Loss,
        Dev,
        Test,
        Result,
        Tags,
        Count
    };
    using QAbstractTableModel::QAbstractTableModel;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
    // The name is edited in place (double click it, or F2): a rename, stored through the view.
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role) override;
    void setRows(const QVector<RunRow>& rows);
    const RunRow& row(int r) const { return m_rows.at(r); }
    // The row holding run ID (a group's row holds its runs).
    int rowOfId(qint64 id) const;
    // The runs of row R: one, or a group's.
    QVector<qint64> idsOfRow(int r) const { return m_members.value(r); }
    // Grouped: the seeds of one configuration (everything but the seed the same, run_groups.h)
    // as one row, its result the mean ± std of its runs' results and N; runs alone stay rows.
    void setGrouped(bool grouped);
    bool grouped() const { return m_grouped; }
    bool isGroupRow(int r) const { return m_members.value(r).size() > 1; }
    // Config keys shown as columns after the tags (each run's resolved value).
    void setConfigColumns(const QStringList& keys);
    QStringList configColumns() const { return m_configColumns; }
    // Every config key the listed runs set, sorted: what "Add a config column" offers.
    QStringList configKeys() const;

signals:
    void renameRequested(qint64 runId, const QString& name);

private:
    void fillResults();
    void rebuild();  // m_rows, m_members and m_results from m_all
    QVector<RunRow> m_all;       // as listed
    QVector<RunRow> m_rows;      // as shown (a group: one row)
    QVector<QVector<qint64>> m_members;
    QVector<QMap<QString, QString>> m_resolved;  // of each shown row (a group's: its first run's)
    QVector<RunResult> m_results;  // resultOf each row, once per refresh (the sort reads it often)
    bool m_grouped = false;
    QStringList m_configColumns;
};

class RunsView : public QWidget {
    Q_OBJECT
public:
    RunsView(StoreService* service, QWidget* parent = nullptr);
    QVector<qint64> selectedIds() const;
    void selectIds(const QVector<qint64>& ids);
    QString filterText() const;
    void setFilterText(const QString& text);
    QString filterError() const;
    int visibleRows() const;
    // The hint an empty database shows instead of the table ("" when the table is shown).
    QString emptyHint() const;
    RunsModel* model() const { return m_model; }
    QTableView* table() const { return m_table; }
    // Seeds of one configuration as one row (remembered across restarts).
    void setGrouped(bool grouped);
    // The header's menu: add a config key as a column, remove one (remembered across restarts).
    void fillHeaderMenu(QMenu* menu, int column);
    // The right-click menu for the selected runs: open, compare, rename, tag, note, duplicate the
    // config into the form, delete (each enabled when it applies to the selection).
    void fillContextMenu(QMenu* menu);
    // Starts editing the selected run's name in place.
    void renameSelected();
    // The tags the listed runs carry, sorted: what the tag dialog offers.
    QStringList knownTags() const;

public slots:
    void refresh();

signals:
    void openRequested(qint64 runId);
    void compareRequested(const QVector<qint64>& runIds);
    void duplicateRequested(qint64 runId);
    void newExperimentRequested();  // the empty database's hint, clicked
    void refreshed();

private:
    void listed(const QVector<RunRow>& rows, const QString& filterError);
    void tag();
    void untag();
    void note();
    void remove();
    void selectionChanged();
    bool eventFilter(QObject* watched, QEvent* event) override;
    bool editing() const;  // a name's editor is open

    StoreService* m_service;
    RunsModel* m_model;
    QSortFilterProxyModel* m_proxy;
    QTableView* m_table;
    QLineEdit* m_filter;
    QLabel *m_filterError, *m_count, *m_emptyHint;
    QCheckBox* m_group = nullptr;
    QPushButton *m_open, *m_compare, *m_tag, *m_untag, *m_note, *m_delete;
    QTimer* m_timer;
    bool m_inFlight = false;
};

}  // namespace frugal::ui
