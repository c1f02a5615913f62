#pragma once
// The workbench window: Runs, New experiment, Live run and Compare tabs over one experiment
// database, a menu to open another database (recent ones remembered) and to export charts. The
// window's geometry, layout, recent databases and chart settings are kept with QSettings. GUI
// thread; the database is read on the StoreService's thread and runs go on the RunController's.

#include <QMainWindow>
#include <QThread>

QT_BEGIN_NAMESPACE
class QLabel;
class QMenu;
class QTabWidget;
QT_END_NAMESPACE

namespace frugal::ui {

class CompareView;
class ExperimentForm;
class ExportDialog;
class LiveView;
class MetricChart;
class RunController;
class QueuePanel;
class RunsView;
class StoreService;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(const QString& dbPath, QWidget* parent = nullptr);
    ~MainWindow() override;

    QTabWidget* tabs() const { return m_tabs; }
    RunsView* runsView() const { return m_runs; }
    QueuePanel* queuePanel() const { return m_queue; }
    ExperimentForm* form() const { return m_form; }
    // The Help menu's texts: every keyboard and mouse shortcut, and the versions of what runs.
    QString shortcutsText() const;
    QString aboutText() const;
    LiveView* liveView() const { return m_live; }
    CompareView* compareView() const { return m_compare; }
    RunController* controller() const { return m_controller; }
    StoreService* service() const { return m_service; }
    QString databasePath() const { return m_dbPath; }
    // What the last export wrote ("wrote PATH (SIZE)"), also shown in the status bar.
    QString lastExport() const { return m_lastExport; }
    // The export dialog for CHART (not yet shown), with a file name in the user's last folder.
    ExportDialog* exportDialog(MetricChart* chart);

public slots:
    void openDatabase(const QString& path);
    void openExport(frugal::ui::MetricChart* chart);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildMenus();
    void updateRecent();
    void saveSettings();

    QString m_dbPath, m_lastExport;
    QThread m_storeThread;
    StoreService* m_service = nullptr;
    quint64 m_duplicateRequest = 0;  // the loadRuns answer that fills the form
    RunController* m_controller = nullptr;
    QTabWidget* m_tabs = nullptr;
    RunsView* m_runs = nullptr;
    QueuePanel* m_queue = nullptr;
    ExperimentForm* m_form = nullptr;
    LiveView* m_live = nullptr;
    CompareView* m_compare = nullptr;
    QMenu* m_recent = nullptr;
    QLabel* m_dbLabel = nullptr;
    QLabel* m_runLabel = nullptr;
};

}  // namespace frugal::ui
