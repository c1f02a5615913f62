#include "runs_view.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QHash>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QKeyEvent>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QFontDatabase>
#include <QCheckBox>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>
#include <cmath>

#include "compare_view.h"
#include "palette.h"
#include "run_groups.h"
#include "common/metric_keys.h"
#include "run/method_registry.h"

namespace frugal::ui {

namespace {

QColor statusColor(const QString& status) {
    if (status == QStringLiteral("running")) return QColor(0x1565C0);
    if (status == QStringLiteral("finished")) return QColor(0x2E7D32);
    if (status == QStringLiteral("failed")) return QColor(0xC62828);
    if (status == QStringLiteral("cancelled")) return QColor(0x6D4C41);
    if (status == QStringLiteral("interrupted")) return QColor(0xEF6C00);
    return QColor(0x616161);
}

QString metricText(double v) {
    if (std::isnan(v)) return QStringLiteral("NaN");
    if (std::isinf(v)) return v > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
    return QString::number(v, 'g', 4);
}

double seconds(const RunRow& r) {
    if (r.startMs <= 0) return -1;
    const qint64 end = r.endMs > 0                             ? r.endMs
                       : r.status == QStringLiteral("running") ? QDateTime::currentMSecsSinceEpoch()
                                                               : r.heartbeatMs;
    return static_cast<double>(end - r.startMs) / 1000.0;
}

QString durationText(double s) {
    if (s < 0) return QStringLiteral("-");
    const auto t = static_cast<qint64>(s + 0.5);
    if (t < 60) return QStringLiteral("%1s").arg(t);
    if (t < 3600) return QStringLiteral("%1m%2s").arg(t / 60).arg(t % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1h%2m").arg(t / 3600).arg((t / 60) % 60, 2, 10, QLatin1Char('0'));
}

}  // namespace

RunResult resultOf(const RunRow& r) {
    // the parts the run's method row names (common/method_view.h), as `frugal list` shows them
    std::map<std::string, double> latest;
    for (auto it = r.latest.begin(); it != r.latest.end(); ++it) latest[it.key().toStdString()] = it.value();
    const ResultText result = resultText(run::methodView(r.method.toStdString()).result, latest);
    QStringList keys;
    for (const auto& k : result.keys) keys << QString::fromStdString(k);
    return {QString::fromStdString(result.text), result.value, keys.join(QStringLiteral(", "))};
}

int RunsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int RunsModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : Count + static_cast<int>(m_configColumns.size());
}

QVariant RunsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    if (section >= Count) return m_configColumns.value(section - Count);
    switch (section) {
        case Id: return tr("id");
        case Status: return tr("status");
        case Name: return tr("name");
        case Method: return tr("method");
        case Model: return tr("model");
        case Task: return tr("task");
        case Start: return tr("start");
        case Duration: return tr("duration");
        case Loss: return tr("train loss");
        case Dev: return tr("dev acc");
        case Test: return tr("test acc");
        case Result: return tr("result");
        case Tags: return tr("tags");
        default: return {};
    }
}

QVariant RunsModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_rows.size()) return {};
    const RunRow& r = m_rows.at(index.row());
    const auto metric = [&](const char* key) -> QVariant {
        const QString k = QString::fromLatin1(key);
        if (!r.latest.contains(k)) return {};
        return role == Qt::DisplayRole ? QVariant(metricText(r.latest.value(k)))
                                       : QVariant(r.latest.value(k));
    };
    const bool group = isGroupRow(index.row());
    if (role == Qt::DecorationRole && index.column() == Name) return group ? QVariant() : QVariant(runColor(r.id));
    if (role == Qt::FontRole && group && index.column() == Name) {
        QFont bold;
        bold.setBold(true);
        return bold;
    }
    if (role == Qt::ForegroundRole && index.column() == Status) return statusColor(r.status);
    if (role == Qt::ToolTipRole) {
        if (index.column() == Status && !r.error.isEmpty()) return r.error;
        if (group && index.column() != Result)
            return tr("A group of %n run(s) differing only in their seeds: %1", nullptr,
                      static_cast<int>(m_members[index.row()].size()))
                .arg([&] {
                    QStringList ids;
                    for (qint64 id : m_members[index.row()]) ids << QString::number(id);
                    return ids.join(QStringLiteral(", "));
                }());
        if (index.column() == Name)  // the whole name: experiment (a sweep's config), name, note
            return QStringLiteral("%1 · %2%3").arg(r.experiment, r.name,
                                                   r.note.isEmpty() ? QString() : QStringLiteral("\n") + r.note);
        if (index.column() == Result) return m_results.at(index.row()).toolTip;
        return {};
    }
    if (role == Qt::EditRole && index.column() == Name) return r.name;
    if (role != Qt::DisplayRole && role != Qt::UserRole) return {};
    const bool sortKey = role == Qt::UserRole;
    if (index.column() >= Count) {
        const QString key = m_configColumns.value(index.column() - Count);
        const QString value = m_resolved.value(index.row()).value(key);
        bool number = false;
        const double v = value.toDouble(&number);
        return sortKey && number ? QVariant(v) : QVariant(value);
    }
    switch (index.column()) {
        case Id: return group && !sortKey ? QVariant(QStringLiteral("%1×").arg(m_members[index.row()].size()))
                                          : QVariant(r.id);
        case Status: return r.status;
        case Name: return r.note.isEmpty() || sortKey ? r.name : r.name + QStringLiteral("  ✎");
        case Method: return r.method;
        case Model: return r.model;
        case Task: return r.task;
        case Start:
            if (sortKey) return r.startMs;
            return r.startMs > 0 ? QDateTime::fromMSecsSinceEpoch(r.startMs).toString(
                                       QStringLiteral("yyyy-MM-dd HH:mm"))
                                 : QStringLiteral("-");
        case Duration: return sortKey ? QVariant(seconds(r)) : QVariant(durationText(seconds(r)));
        case Loss: return metric(metrics::kTrainLoss);
        case Dev: return metric(metrics::kDevAccuracy);
        case Test: return metric(metrics::kTestAccuracy);
        case Result: {
            const RunResult& result = m_results.at(index.row());
            if (result.text.isEmpty()) return {};
            // runs without a number sort after those with one, either way round
            return sortKey ? QVariant(std::isnan(result.value) ? QVariant() : QVariant(result.value))
                           : QVariant(result.text);
        }
        case Tags: return r.tags.join(QStringLiteral(", "));
        default: return {};
    }
}

Qt::ItemFlags RunsModel::flags(const QModelIndex& index) const {
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (index.isValid() && index.column() == Name && !isGroupRow(index.row())) f |= Qt::ItemIsEditable;
    return f;
}

bool RunsModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (!index.isValid() || index.column() != Name || role != Qt::EditRole || index.row() >= m_rows.size())
        return false;
    const QString name = value.toString().trimmed();
    if (isGroupRow(index.row())) return false;
    RunRow& r = m_rows[index.row()];
    if (name.isEmpty() || name == r.name) return false;
    r.name = name;  // shown at once; the store has it when the service is done
    emit dataChanged(index, index);
    emit renameRequested(r.id, name);
    return true;
}

void RunsModel::setRows(const QVector<RunRow>& rows) {
    // the same rows (ids and groups) as shown: their values change in place, the selection and
    // the scroll position stay
    const QVector<QVector<qint64>> before = m_members;
    m_all = rows;
    RunsModel next;
    next.m_all = rows;
    next.m_grouped = m_grouped;
    next.m_configColumns = m_configColumns;
    next.rebuild();
    const bool same = next.m_members == before;
    if (!same) beginResetModel();
    m_rows = std::move(next.m_rows);
    m_members = std::move(next.m_members);
    m_resolved = std::move(next.m_resolved);
    m_results = std::move(next.m_results);
    if (!same) endResetModel();
    else if (!m_rows.isEmpty())
        emit dataChanged(index(0, 0), index(static_cast<int>(m_rows.size()) - 1, columnCount() - 1));
}

void RunsModel::rebuild() {
    m_rows.clear();
    m_members.clear();
    m_resolved.clear();
    const bool resolve = m_grouped || !m_configColumns.isEmpty();
    QVector<QMap<QString, QString>> resolved;
    if (resolve)
        for (const RunRow& r : m_all) resolved << resolvedParams(r.method, r.params);
    if (!m_grouped) {
        m_rows = m_all;
        for (const RunRow& r : m_all) m_members << QVector<qint64>{r.id};
        m_resolved = resolved;
        fillResults();
        return;
    }
    GroupSpec spec;
    spec.by = GroupBy::Config;
    const QVector<RunGroup> groups = groupRuns(m_all, resolved, spec);
    QVector<RunResult> results;
    for (const RunGroup& g : groups) {
        RunRow row = m_all[g.members.front()];
        QVector<qint64> ids;
        for (int i : g.members) ids << m_all[i].id;
        m_members << ids;
        m_resolved << resolved[g.members.front()];
        if (g.members.size() > 1) {
            row.name = g.label;
            QStringList statuses;
            for (int i : g.members) {
                const RunRow& member = m_all[i];
                if (!statuses.contains(member.status)) statuses << member.status;
                if (member.startMs > 0 && (row.startMs <= 0 || member.startMs < row.startMs)) row.startMs = member.startMs;
                row.endMs = std::max(row.endMs, member.endMs);
                for (const QString& t : member.tags)
                    if (!row.tags.contains(t)) row.tags << t;
            }
            row.status = statuses.size() == 1 ? statuses.front() : statuses.join(QLatin1Char('/'));
            // each metric column: the mean of the runs that have it
            for (auto it = row.latest.begin(); it != row.latest.end(); ++it) {
                std::vector<double> values;
                for (int i : g.members)
                    if (m_all[i].latest.contains(it.key())) values.push_back(m_all[i].latest.value(it.key()));
                it.value() = stats::summarize(values, stats::Center::Mean, stats::Spread::None).mean;
            }
        }
        m_rows << row;
    }
    fillResults();
    // a group's result: the mean ± std of its runs' results, and N (each run found by its id once)
    QHash<qint64, int> indexOf;
    for (int i = 0; i < m_all.size(); ++i) indexOf.insert(m_all[i].id, i);
    for (int r = 0; r < m_rows.size(); ++r) {
        const QVector<qint64>& ids = m_members[r];
        if (ids.size() < 2) continue;
        std::vector<double> values;
        QStringList each;
        QString head;
        for (qint64 id : ids) {
            const RunResult one = resultOf(m_all[indexOf.value(id)]);
            values.push_back(one.value);
            if (head.isEmpty()) head = one.text.section(QLatin1Char(' '), 0, 0);  // the headline's label: "dev"
            each << QStringLiteral("run %1: %2").arg(id).arg(one.text);
        }
        const stats::Summary s = stats::summarize(values, stats::Center::Mean, stats::Spread::Std);
        RunResult& result = m_results[r];
        bool numeric = false;
        head.toDouble(&numeric);
        if (numeric) head.clear();
        result.value = s.mean;
        result.text = std::isnan(s.mean) ? tr("(a run has no result yet) N=%1").arg(ids.size())
                                         : QStringLiteral("%1%2 ± %3 (N=%4)")
                                               .arg(head.isEmpty() ? QString() : head + QStringLiteral(" "),
                                                    metricText(s.mean), metricText(s.std))
                                               .arg(ids.size());
        result.toolTip = tr("mean ± standard deviation (n − 1) of the runs' results\n") + each.join(QLatin1Char('\n'));
    }
}

void RunsModel::setGrouped(bool grouped) {
    if (grouped == m_grouped) return;
    beginResetModel();
    m_grouped = grouped;
    rebuild();
    endResetModel();
}

void RunsModel::setConfigColumns(const QStringList& keys) {
    beginResetModel();
    m_configColumns = keys;
    rebuild();
    endResetModel();
}

QStringList RunsModel::configKeys() const {
    QStringList keys;
    for (const RunRow& r : m_all)
        for (auto it = r.params.begin(); it != r.params.end(); ++it)
            if (!keys.contains(it.key())) keys << it.key();
    keys.sort();
    return keys;
}

void RunsModel::fillResults() {
    m_results.clear();
    m_results.reserve(m_rows.size());
    for (const RunRow& r : m_rows) m_results.push_back(resultOf(r));
}

int RunsModel::rowOfId(qint64 id) const {
    for (qsizetype i = 0; i < m_members.size(); ++i)
        if (m_members[i].contains(id)) return static_cast<int>(i);
    return -1;
}

RunsView::RunsView(StoreService* service, QWidget* parent) : QWidget(parent), m_service(service) {
    m_model = new RunsModel(this);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(Qt::UserRole);
    m_table = new QTableView(this);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(RunsModel::Id, Qt::DescendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->verticalHeader()->hide();
    m_table->setAlternatingRowColors(true);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setEditTriggers(QAbstractItemView::EditKeyPressed | QAbstractItemView::SelectedClicked);
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    m_table->installEventFilter(this);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_table->setColumnWidth(RunsModel::Id, 48);
    m_table->setColumnWidth(RunsModel::Status, 80);
    m_table->setColumnWidth(RunsModel::Name, 260);
    m_table->setColumnWidth(RunsModel::Method, 70);
    m_table->setColumnWidth(RunsModel::Model, 110);
    m_table->setColumnWidth(RunsModel::Task, 80);
    m_table->setColumnWidth(RunsModel::Start, 125);
    m_table->setColumnWidth(RunsModel::Duration, 70);
    for (int c : {RunsModel::Loss, RunsModel::Dev, RunsModel::Test}) m_table->setColumnWidth(c, 75);
    m_table->setColumnWidth(RunsModel::Result, 210);

    m_filter = new QLineEdit(this);
    m_filter->setPlaceholderText(
        tr("filter, as frugal list --filter: method=zo and lr<1e-3 and tag=sweep"));
    m_filter->setClearButtonEnabled(true);
    m_filterError = new QLabel(this);
    m_filterError->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_filterError->setWordWrap(true);
    m_filterError->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));  // the caret under its column
    m_filterError->hide();
    m_count = new QLabel(this);
    m_group = new QCheckBox(tr("Group seeds"), this);
    m_group->setToolTip(tr("Runs that differ only in their seeds as one row: the mean ± std of their "
                           "results and N (select the row to open or compare its runs)"));
    // a first launch: an empty database says what to do
    m_emptyHint = new QLabel(this);
    m_emptyHint->setObjectName(QStringLiteral("emptyHint"));
    m_emptyHint->setWordWrap(true);
    m_emptyHint->setAlignment(Qt::AlignCenter);
    m_emptyHint->setTextInteractionFlags(Qt::TextBrowserInteraction);
    m_emptyHint->hide();
    connect(m_emptyHint, &QLabel::linkActivated, this, [this] { emit newExperimentRequested(); });
    m_open = new QPushButton(tr("Open"), this);
    m_compare = new QPushButton(tr("Compare"), this);
    m_tag = new QPushButton(tr("Tag…"), this);
    m_untag = new QPushButton(tr("Untag…"), this);
    m_note = new QPushButton(tr("Note…"), this);
    m_delete = new QPushButton(tr("Delete…"), this);
    m_open->setToolTip(tr("Show the run's charts and log (double click a row)"));
    m_compare->setToolTip(tr("Overlay two or more selected runs"));

    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Filter"), this));
    top->addWidget(m_filter, 1);
    top->addWidget(m_group);
    top->addWidget(m_count);
    auto* buttons = new QHBoxLayout;
    for (QPushButton* b : {m_open, m_compare, m_tag, m_untag, m_note, m_delete})
        buttons->addWidget(b);
    buttons->addStretch(1);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_filterError);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_emptyHint, 1);
    layout->addLayout(buttons);

    m_timer = new QTimer(this);
    m_timer->setInterval(1000);
    connect(m_timer, &QTimer::timeout, this, &RunsView::refresh);
    m_timer->start();
    connect(m_filter, &QLineEdit::textChanged, this, &RunsView::refresh);
    connect(m_service, &StoreService::runsListed, this, &RunsView::listed);
    connect(m_service, &StoreService::changed, this, &RunsView::refresh);
    connect(m_service, &StoreService::actionFailed, this,
            [this](const QString& message) { QMessageBox::warning(this, tr("Runs"), message); });
    connect(m_table, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
        emit openRequested(m_model->row(m_proxy->mapToSource(index).row()).id);
    });
    connect(m_open, &QPushButton::clicked, this, [this] {
        const auto ids = selectedIds();
        if (!ids.isEmpty()) emit openRequested(ids.first());
    });
    connect(m_compare, &QPushButton::clicked, this, [this] {
        const auto ids = selectedIds();
        if (ids.size() >= 2) emit compareRequested(ids);
    });
    connect(m_tag, &QPushButton::clicked, this, &RunsView::tag);
    connect(m_untag, &QPushButton::clicked, this, &RunsView::untag);
    connect(m_note, &QPushButton::clicked, this, &RunsView::note);
    connect(m_delete, &QPushButton::clicked, this, &RunsView::remove);
    m_delete->setToolTip(tr("Delete the selected runs (Delete key)"));
    connect(m_model, &RunsModel::renameRequested, this, [this](qint64 id, const QString& name) {
        QMetaObject::invokeMethod(
            m_service, [service = m_service, id, name] { service->renameRun(id, name); },
            Qt::QueuedConnection);
    });
    connect(m_table, &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
        const QModelIndex index = m_table->indexAt(at);
        if (index.isValid() && !m_table->selectionModel()->isRowSelected(index.row(), QModelIndex()))
            m_table->selectRow(index.row());
        QMenu menu(this);
        fillContextMenu(&menu);
        menu.exec(m_table->viewport()->mapToGlobal(at));
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &RunsView::selectionChanged);
    m_table->horizontalHeader()->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_table->horizontalHeader(), &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
        QMenu menu(this);
        fillHeaderMenu(&menu, m_table->horizontalHeader()->logicalIndexAt(at));
        menu.exec(m_table->horizontalHeader()->mapToGlobal(at));
    });
    {
        const QSettings settings;
        m_model->setConfigColumns(settings.value(QStringLiteral("runs/configColumns")).toStringList());
        m_group->setChecked(settings.value(QStringLiteral("runs/grouped"), false).toBool());
        m_model->setGrouped(m_group->isChecked());
    }
    connect(m_group, &QCheckBox::toggled, this, &RunsView::setGrouped);
    selectionChanged();
}

void RunsView::refresh() {
    if (m_inFlight) return;
    if (editing()) return;  // a rename being typed: the rows stay as they are
    m_inFlight = true;
    const QString filter = m_filter->text();
    QMetaObject::invokeMethod(
        m_service, [service = m_service, filter] { service->refreshRuns(filter); },
        Qt::QueuedConnection);
}

void RunsView::listed(const QVector<RunRow>& rows, const QString& filterError) {
    m_inFlight = false;
    const QVector<qint64> selected = selectedIds();
    m_model->setRows(rows);
    selectIds(selected);
    // the CLI's messages name its flag; here the field is the filter
    QString error = filterError;
    if (error.startsWith(QStringLiteral("--filter: "))) error = error.mid(10);
    const bool noMatch = rows.isEmpty() && !m_filter->text().trimmed().isEmpty() && filterError.isEmpty();
    if (noMatch) error = tr("no run matches this filter");
    m_filterError->setStyleSheet(noMatch ? QStringLiteral("color: #616161;") : QStringLiteral("color: #b00020;"));
    m_filterError->setText(error);
    m_filterError->setVisible(!error.isEmpty());
    m_count->setText(tr("%n run(s)", nullptr, static_cast<int>(rows.size())));
    const bool empty = rows.isEmpty() && m_filter->text().trimmed().isEmpty() && filterError.isEmpty();
    if (empty) {
        const run::FirstRun& first = run::firstRun();  // from the measured tables, its time measured
        m_emptyHint->setText(
            tr("<p style='font-size:large'><b>No runs yet.</b></p>"
               "<p>Open the <a href='form'>New experiment</a> tab, pick the preset <i>%1</i> on the built-in "
               "model and task (%2 on 2 cores) and press <i>Start now</i>.</p>"
               "<p>Or from a terminal: <code>frugal run experiments/%3 --db %4</code><br>"
               "Runs of other processes writing to this database appear here as they start.</p>")
                .arg(QString::fromUtf8(first.label), QString::fromStdString(run::aboutTime(first.seconds)),
                     QString::fromUtf8(first.file), m_service->path().toHtmlEscaped()));
    }
    m_emptyHint->setVisible(empty);
    m_table->setVisible(!empty);
    selectionChanged();
    emit refreshed();
}

QVector<qint64> RunsView::selectedIds() const {
    QVector<qint64> ids;
    for (const QModelIndex& index : m_table->selectionModel()->selectedRows())
        ids << m_model->idsOfRow(m_proxy->mapToSource(index).row());
    return ids;
}

void RunsView::setGrouped(bool grouped) {
    if (m_group->isChecked() != grouped) {
        m_group->setChecked(grouped);  // toggled: stored and applied below
        return;
    }
    const QVector<qint64> selected = selectedIds();
    m_model->setGrouped(grouped);
    QSettings().setValue(QStringLiteral("runs/grouped"), grouped);
    selectIds(selected);
}

void RunsView::fillHeaderMenu(QMenu* menu, int column) {
    QMenu* add = menu->addMenu(tr("Add a config column"));
    const QStringList shown = m_model->configColumns();
    for (const QString& key : m_model->configKeys()) {
        if (shown.contains(key)) continue;
        QAction* a = add->addAction(key);
        connect(a, &QAction::triggered, this, [this, key] {
            QStringList keys = m_model->configColumns();
            keys << key;
            m_model->setConfigColumns(keys);
            QSettings().setValue(QStringLiteral("runs/configColumns"), keys);
        });
    }
    add->setEnabled(!add->isEmpty());
    if (column >= RunsModel::Count) {
        const QString key = m_model->configColumns().value(column - RunsModel::Count);
        QAction* remove = menu->addAction(tr("Remove the column %1").arg(key));
        connect(remove, &QAction::triggered, this, [this, key] {
            QStringList keys = m_model->configColumns();
            keys.removeAll(key);
            m_model->setConfigColumns(keys);
            QSettings().setValue(QStringLiteral("runs/configColumns"), keys);
        });
    }
}

void RunsView::selectIds(const QVector<qint64>& ids) {
    QItemSelection selection;
    for (qint64 id : ids) {
        const int row = m_model->rowOfId(id);
        if (row < 0) continue;
        const QModelIndex index = m_proxy->mapFromSource(m_model->index(row, 0));
        selection.select(index, index);
    }
    m_table->selectionModel()->select(
        selection, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

QString RunsView::filterText() const { return m_filter->text(); }

void RunsView::setFilterText(const QString& text) { m_filter->setText(text); }

QString RunsView::filterError() const { return m_filterError->text(); }

int RunsView::visibleRows() const { return m_proxy->rowCount(); }

QString RunsView::emptyHint() const { return m_emptyHint->isVisible() ? m_emptyHint->text() : QString(); }

void RunsView::selectionChanged() {
    const auto n = selectedIds().size();
    m_open->setEnabled(n >= 1);
    m_compare->setEnabled(n >= 2);
    m_tag->setEnabled(n >= 1);
    m_untag->setEnabled(n >= 1);
    m_note->setEnabled(n == 1);
    m_delete->setEnabled(n >= 1);
}

void RunsView::fillContextMenu(QMenu* menu) {
    const auto ids = selectedIds();
    const qsizetype n = ids.size();
    const auto add = [&](const QString& text, bool enabled, auto&& slot) {
        QAction* a = menu->addAction(text);
        a->setEnabled(enabled);
        connect(a, &QAction::triggered, this, slot);
        return a;
    };
    add(tr("Open"), n >= 1, [this, ids] { emit openRequested(ids.first()); });
    add(tr("Compare"), n >= 2, [this, ids] { emit compareRequested(ids); });
    menu->addSeparator();
    add(tr("Rename"), n == 1, [this] { renameSelected(); })->setShortcut(QKeySequence(Qt::Key_F2));
    add(tr("Tag…"), n >= 1, [this] { tag(); });
    add(tr("Untag…"), n >= 1, [this] { untag(); });
    add(tr("Note…"), n == 1, [this] { note(); });
    add(tr("Duplicate config into the form"), n == 1, [this, ids] { emit duplicateRequested(ids.first()); });
    menu->addSeparator();
    add(tr("Delete…"), n >= 1, [this] { remove(); })->setShortcut(QKeySequence(QKeySequence::Delete));
}

bool RunsView::editing() const {
    for (const QWidget* w : m_table->viewport()->findChildren<QLineEdit*>(QString(), Qt::FindDirectChildrenOnly))
        if (w->isVisible()) return true;
    return false;
}

void RunsView::renameSelected() {
    const auto rows = m_table->selectionModel()->selectedRows(RunsModel::Name);
    if (rows.size() != 1) return;
    m_table->setCurrentIndex(rows.first());
    m_table->edit(rows.first());
}

bool RunsView::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_table && event->type() == QEvent::KeyPress && !editing()) {
        const auto* key = static_cast<QKeyEvent*>(event);
        if (key->key() == Qt::Key_Delete || (key->key() == Qt::Key_Backspace && key->modifiers() & Qt::ControlModifier)) {
            remove();
            return true;
        }
        if ((key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter) && !selectedIds().isEmpty()) {
            emit openRequested(selectedIds().first());
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

// The tags the database's runs carry (as listed), sorted, for the tag dialog to offer.
QStringList RunsView::knownTags() const {
    QStringList tags;
    for (int row = 0; row < m_model->rowCount(); ++row)
        for (const QString& t : m_model->row(row).tags)
            if (!tags.contains(t)) tags << t;
    tags.sort();
    return tags;
}

void RunsView::tag() {
    const auto ids = selectedIds();
    bool ok = false;
    // the tags already in use are offered (a new one is typed): the same tag, not a near-twin
    const QString tag =
        QInputDialog::getItem(this, tr("Tag runs"), tr("Tag for %n run(s):", nullptr, static_cast<int>(ids.size())),
                              knownTags(), -1, /*editable=*/true, &ok)
            .trimmed();
    if (!ok || tag.isEmpty()) return;
    QMetaObject::invokeMethod(
        m_service, [service = m_service, ids, tag] { service->tagRuns(ids, tag); },
        Qt::QueuedConnection);
}

void RunsView::untag() {
    const auto ids = selectedIds();
    QStringList tags;
    for (qint64 id : ids)
        if (const int row = m_model->rowOfId(id); row >= 0)
            for (const QString& t : m_model->row(row).tags)
                if (!tags.contains(t)) tags << t;
    if (tags.isEmpty()) return;
    bool ok = false;
    const QString tag =
        QInputDialog::getItem(this, tr("Remove a tag"), tr("Tag:"), tags, 0, false, &ok);
    if (!ok) return;
    QMetaObject::invokeMethod(
        m_service, [service = m_service, ids, tag] { service->untagRuns(ids, tag); },
        Qt::QueuedConnection);
}

void RunsView::note() {
    const auto ids = selectedIds();
    if (ids.size() != 1) return;
    const int row = m_model->rowOfId(ids.first());
    bool ok = false;
    const QString text =
        QInputDialog::getMultiLineText(this, tr("Note"), tr("Note for run %1:").arg(ids.first()),
                                       row >= 0 ? m_model->row(row).note : QString(), &ok);
    if (!ok) return;
    const qint64 id = ids.first();
    QMetaObject::invokeMethod(
        m_service, [service = m_service, id, text] { service->setNote(id, text); },
        Qt::QueuedConnection);
}

void RunsView::remove() {
    const auto ids = selectedIds();
    if (ids.isEmpty()) return;
    QStringList names;  // the runs by name, as the table shows them
    for (const qint64 id : ids)
        if (const int row = m_model->rowOfId(id); row >= 0)
            names << QStringLiteral("%1 (%2)").arg(id).arg(m_model->row(row).name);
    const QString which = names.size() <= 8 ? names.join(QStringLiteral(", "))
                                            : names.mid(0, 8).join(QStringLiteral(", ")) + tr(" and %n more", nullptr,
                                                                                            static_cast<int>(names.size() - 8));
    if (QMessageBox::question(this, tr("Delete runs"),
                              tr("Delete %n run(s), %1, with their metrics, logs and artifact folders (saved "
                                 "models, trajectories)? This cannot be undone.", nullptr, static_cast<int>(ids.size()))
                                  .arg(which)) != QMessageBox::Yes)
        return;
    QMetaObject::invokeMethod(
        m_service, [service = m_service, ids] { service->deleteRuns(ids); }, Qt::QueuedConnection);
}

}  // namespace frugal::ui
