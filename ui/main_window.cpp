#include "main_window.h"

#include <QAction>
#include <QCloseEvent>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QScreen>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

#include <algorithm>

#include "chart_controls.h"
#include "compare_view.h"
#include "experiment_form.h"
#include "run/method_registry.h"
#include "export_dialog.h"
#include "live_view.h"
#include "metric_chart.h"
#include "queue_panel.h"
#include "run_controller.h"
#include "runs_view.h"
#include "store_service.h"
#include "common/runtime_info.h"
#include "store/store.h"

namespace frugal::ui {

namespace {

ChartOptions loadOptions(const QSettings& s) {
    ChartOptions o;
    o.smoothing = s.value(QStringLiteral("charts/smoothing"), 0.6).toDouble();
    o.xAxis = static_cast<XAxisKind>(s.value(QStringLiteral("charts/xAxis"), 0).toInt());
    o.logX = s.value(QStringLiteral("charts/logX"), false).toBool();
    o.logY = s.value(QStringLiteral("charts/logY"), false).toBool();
    return o;
}

}  // namespace

MainWindow::MainWindow(const QString& dbPath, QWidget* parent)
    : QMainWindow(parent), m_dbPath(dbPath) {
    setWindowTitle(tr("Frugal workbench"));
    m_service = new StoreService;
    m_service->moveToThread(&m_storeThread);
    connect(&m_storeThread, &QThread::finished, m_service, &QObject::deleteLater);
    m_storeThread.setObjectName(QStringLiteral("frugal-store"));
    m_storeThread.start();
    m_controller = new RunController(dbPath, this);

    m_tabs = new QTabWidget(this);
    m_runs = new RunsView(m_service, m_tabs);
    m_form = new ExperimentForm(m_tabs);
    m_live = new LiveView(m_service, m_controller, m_tabs);
    m_compare = new CompareView(m_service, m_tabs);
    {  // the Runs tab: the queue (while runs wait) above the table
        auto* page = new QWidget(m_tabs);
        auto* layout = new QVBoxLayout(page);
        layout->setContentsMargins(0, 0, 0, 0);
        m_queue = new QueuePanel(m_controller, page);
        layout->addWidget(m_queue);
        layout->addWidget(m_runs, 1);
        m_tabs->addTab(page, tr("Runs"));
    }
    m_tabs->addTab(m_form, tr("New experiment"));
    m_tabs->addTab(m_live, tr("Live run"));
    m_tabs->addTab(m_compare, tr("Compare"));
    setCentralWidget(m_tabs);
    m_dbLabel = new QLabel(this);
    m_runLabel = new QLabel(this);
    statusBar()->addWidget(m_dbLabel, 1);
    statusBar()->addPermanentWidget(m_runLabel);
    buildMenus();

    connect(m_runs, &RunsView::openRequested, this, [this](qint64 id) {
        m_live->showRun(id);
        m_tabs->setCurrentWidget(m_live);
    });
    // the form offers the pruned models of this database (a recovery config asks for one)
    connect(m_service, &StoreService::prunedModelsListed, m_form, &ExperimentForm::setPrunedModels);
    connect(m_tabs, &QTabWidget::currentChanged, this, [this] {
        if (m_tabs->currentWidget() == m_form)
            QMetaObject::invokeMethod(m_service, &StoreService::listPrunedModels, Qt::QueuedConnection);
    });
    // the empty database's hint names the first run to try: its link opens the form on that preset
    connect(m_runs, &RunsView::newExperimentRequested, this, [this] {
        const QVector<Preset> presets = methodPresets();
        for (int i = 0; i < presets.size(); ++i)
            if (presets[i].file.endsWith(QString::fromUtf8(run::firstRun().file))) m_form->selectPreset(i);
        m_tabs->setCurrentWidget(m_form);
    });
    connect(m_runs, &RunsView::duplicateRequested, this, [this](qint64 id) {
        const quint64 request = StoreService::newRequestId();
        m_duplicateRequest = request;
        QMetaObject::invokeMethod(
            m_service, [service = m_service, request, id] { service->loadRuns(request, {id}); },
            Qt::QueuedConnection);
    });
    connect(m_service, &StoreService::runsLoaded, this,
            [this](quint64 request, const QVector<RunData>& runs) {
                if (request != m_duplicateRequest || runs.isEmpty()) return;
                m_duplicateRequest = 0;
                const RunData& d = runs.first();
                const QString error = m_form->loadText(
                    d.config, tr("run %1's config").arg(d.row.id), d.row.name + tr(" (copy)"));
                if (!error.isEmpty()) {
                    QMessageBox::warning(this, tr("Duplicate config"), error);
                    return;
                }
                m_tabs->setCurrentWidget(m_form);
                statusBar()->showMessage(
                    tr("run %1's config is in the form: change it and start a new run").arg(d.row.id), 8000);
            });
    connect(m_runs, &RunsView::compareRequested, this, [this](const QVector<qint64>& ids) {
        m_compare->compare(ids);
        m_tabs->setCurrentWidget(m_compare);
    });
    connect(m_form, &ExperimentForm::runRequested, this, [this](const RunJob& job, bool now) {
        if (now) {
            if (!m_controller->start(job))
                QMessageBox::information(this, tr("A run is going"),
                                         tr("Queue this run, or stop the running one first."));
            else
                m_tabs->setCurrentWidget(m_live);
        } else {
            m_controller->enqueue(job);
        }
    });
    connect(m_controller, &RunController::busyChanged, m_form, &ExperimentForm::setRunning);
    connect(m_controller, &RunController::runStarted, this, [this](qint64 id, const QString& name) {
        m_runLabel->setText(tr("running: %1 (run %2)").arg(name).arg(id));
        m_runs->refresh();
    });
    connect(m_controller, &RunController::runEnded, this,
            [this](qint64 id, const QString& status, const QString&) {
                m_runLabel->setText(tr("run %1 %2").arg(id).arg(status));
                m_runs->refresh();
            });
    connect(m_controller, &RunController::sideRunStarted, this, [this](qint64 id, const QString& name) {
        statusBar()->showMessage(tr("run %1 (%2) started beside run %3; open it from Runs")
                                     .arg(id)
                                     .arg(name)
                                     .arg(m_controller->currentRun()),
                                 10000);
        m_runs->refresh();
    });
    connect(m_controller, &RunController::queueChanged, this, [this](int n) {
        if (n > 0) m_runLabel->setText(tr("%n run(s) queued", nullptr, n));
    });
    connect(m_live, &LiveView::exportRequested, this, &MainWindow::openExport);
    connect(m_compare, &CompareView::exportRequested, this, &MainWindow::openExport);
    connect(m_live, &LiveView::message, this,
            [this](const QString& text) { statusBar()->showMessage(text, 10000); });
    connect(
        m_service, &StoreService::opened, this, [this](const QString& path, const QString& error) {
            if (!error.isEmpty()) {
                QMessageBox::warning(this, tr("Cannot open the database"), error);
                return;
            }
            m_dbPath = path;
            m_dbLabel->setText(tr("database: %1").arg(QDir::toNativeSeparators(path)));
            QSettings settings;
            QStringList recent = settings.value(QStringLiteral("recentDatabases")).toStringList();
            recent.removeAll(path);
            recent.prepend(path);
            while (recent.size() > 8) recent.removeLast();
            settings.setValue(QStringLiteral("recentDatabases"), recent);
            updateRecent();
            m_runs->refresh();
        });

    QSettings settings;
    resize(1280, 800);
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    if (const QScreen* s = screen()) {  // a geometry saved on a larger screen: this one's size at most
        const QRect room = s->availableGeometry();
        if (width() > room.width() || height() > room.height()) {
            resize(std::min(width(), room.width()), std::min(height(), room.height()));
            move(room.topLeft());
        }
    }
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    const ChartOptions options = loadOptions(settings);
    m_live->controls()->setOptions(options);
    m_compare->controls()->setOptions(options);
    m_tabs->setCurrentIndex(settings.value(QStringLiteral("window/tab"), 0).toInt());
    openDatabase(dbPath);
    // the run last shown and the runs last compared, as the user left them (this database only)
    m_live->restoreLayout(QFileInfo(dbPath).absoluteFilePath());
    m_compare->restoreLayout(QFileInfo(dbPath).absoluteFilePath());
}

MainWindow::~MainWindow() {
    delete m_controller;  // stops a run and waits for its worker before the store thread goes
    m_controller = nullptr;
    m_storeThread.quit();
    m_storeThread.wait();
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open database…"));
    open->setShortcut(QKeySequence::Open);
    connect(open, &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Open an experiment database"), QFileInfo(m_dbPath).absolutePath(),
            tr("Frugal databases (*.db);;All files (*)"));
        if (!path.isEmpty()) openDatabase(path);
    });
    m_recent = file->addMenu(tr("Recent databases"));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"));
    quit->setShortcut(QKeySequence::Quit);
    connect(quit, &QAction::triggered, this, &QWidget::close);
    QMenu* view = menuBar()->addMenu(tr("&View"));
    for (int i = 0; i < m_tabs->count(); ++i) {
        QAction* a = view->addAction(m_tabs->tabText(i));
        a->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)));
        connect(a, &QAction::triggered, this, [this, i] { m_tabs->setCurrentIndex(i); });
    }
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QAction* keys = help->addAction(tr("&Keyboard and mouse shortcuts"));
    keys->setShortcut(QKeySequence::HelpContents);
    connect(keys, &QAction::triggered, this,
            [this] { QMessageBox::information(this, tr("Shortcuts"), shortcutsText()); });
    QAction* about = help->addAction(tr("&About Frugal"));
    connect(about, &QAction::triggered, this, [this] { QMessageBox::about(this, tr("About Frugal"), aboutText()); });
    updateRecent();
}

QString MainWindow::shortcutsText() const {
    QString rows;
    const auto row = [&](const QString& keys, const QString& what) {
        rows += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>").arg(keys, what);
    };
    row(QKeySequence(QKeySequence::Open).toString(QKeySequence::NativeText), tr("open a database"));
    row(QKeySequence(QKeySequence::Quit).toString(QKeySequence::NativeText), tr("quit"));
    for (int i = 0; i < m_tabs->count(); ++i)
        row(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)).toString(QKeySequence::NativeText),
            tr("the %1 tab").arg(m_tabs->tabText(i)));
    row(QKeySequence(QKeySequence::HelpContents).toString(QKeySequence::NativeText), tr("this list"));
    row(tr("Runs: double click, Enter"), tr("open the run"));
    row(tr("Runs: F2, or click a selected name"), tr("rename the run in place"));
    row(tr("Runs: Delete"), tr("delete the selected runs (asks first)"));
    row(tr("Runs: right click"), tr("open, compare, rename, tag, note, duplicate config into the form, delete"));
    row(tr("Chart: drag"), tr("zoom to the box"));
    row(tr("Chart: wheel"), tr("zoom the x axis around the mouse"));
    row(tr("Chart: Shift+drag, middle drag"), tr("pan"));
    row(tr("Chart: double click, right click"), tr("fit everything again"));
    row(tr("Chart: hover"), tr("read the nearest step's values of every line"));
    row(tr("Chart: click a legend entry"), tr("hide or show that line"));
    return QStringLiteral("<table cellspacing=6>%1</table>").arg(rows);
}

QString MainWindow::aboutText() const {
    const RuntimeInfo rt = queryRuntime();
    return tr("<h3>Frugal %1</h3><p>A workbench for fine-tuning language models with forward passes only "
              "(zeroth-order optimisation) and for post-training pruning.</p>"
              "<table><tr><td>Qt</td><td>%2 (built with %3)</td></tr>"
              "<tr><td>LibTorch</td><td>%4</td></tr>"
              "<tr><td>BLAS</td><td>%5, %6 thread(s)</td></tr>"
              "<tr><td>SQLite</td><td>%7</td></tr>"
              "<tr><td>Database</td><td>%8</td></tr></table>")
        .arg(QStringLiteral(FRUGAL_VERSION), QString::fromLatin1(qVersion()), QStringLiteral(QT_VERSION_STR),
             QString::fromStdString(rt.torchVersion), QString::fromStdString(rt.blasKind))
        .arg(rt.openblasThreads)
        .arg(QString::fromStdString(store::sqliteVersion()), m_dbPath.toHtmlEscaped());
}

void MainWindow::updateRecent() {
    m_recent->clear();
    const QStringList recent = QSettings().value(QStringLiteral("recentDatabases")).toStringList();
    for (const QString& path : recent) {
        QAction* a = m_recent->addAction(QDir::toNativeSeparators(path));
        connect(a, &QAction::triggered, this, [this, path] { openDatabase(path); });
    }
    m_recent->setEnabled(!recent.isEmpty());
}

void MainWindow::openDatabase(const QString& path) {
    if (!m_controller->setDatabasePath(path)) {
        QMessageBox::information(
            this, tr("A run is going"),
            tr("The running run writes to %1; open another database when it has ended.")
                .arg(m_dbPath));
        return;
    }
    QMetaObject::invokeMethod(
        m_service, [service = m_service, path] { service->open(path); }, Qt::QueuedConnection);
}

ExportDialog* MainWindow::exportDialog(MetricChart* chart) {
    QSettings settings;
    const QString folder =
        settings
            .value(QStringLiteral("export/folder"),
                   QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation))
            .toString();
    // a name that is a file, not a folder ("train/loss" -> "train-loss"), in the last format
    QString base = safeFileName(chart->title().toLower());
    if (m_live->runId() > 0 && chart != m_compare->chart())
        base = QStringLiteral("run%1-%2").arg(m_live->runId()).arg(base);
    const auto format = static_cast<ExportOptions::Format>(
        settings.value(QStringLiteral("export/format"), static_cast<int>(ExportOptions::Format::Pdf)).toInt());
    auto* dialog = new ExportDialog(
        *chart, QDir(folder).filePath(base + QLatin1Char('.') + formatSuffix(format)), this);
    ExportOptions remembered = dialog->options();
    remembered.widthMm = settings.value(QStringLiteral("export/widthMm"), remembered.widthMm).toDouble();
    remembered.heightMm = settings.value(QStringLiteral("export/heightMm"), remembered.heightMm).toDouble();
    remembered.dpi = settings.value(QStringLiteral("export/dpi"), remembered.dpi).toInt();
    if (settings.value(QStringLiteral("export/titleFor")).toString() == chart->title())
        remembered.title = settings.value(QStringLiteral("export/title")).toString();
    dialog->setOptions(remembered);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog, title = chart->title()] {
        const ExportOptions o = dialog->options();
        QSettings s;
        s.setValue(QStringLiteral("export/folder"), QFileInfo(o.path).absolutePath());
        s.setValue(QStringLiteral("export/format"), static_cast<int>(o.format));
        s.setValue(QStringLiteral("export/widthMm"), o.widthMm);
        s.setValue(QStringLiteral("export/heightMm"), o.heightMm);
        s.setValue(QStringLiteral("export/dpi"), o.dpi);
        s.setValue(QStringLiteral("export/titleFor"), title);
        s.setValue(QStringLiteral("export/title"), o.title);
        const QFileInfo written(o.path);
        m_lastExport = tr("wrote %1 (%2)").arg(written.absoluteFilePath(), QLocale().formattedDataSize(written.size()));
        statusBar()->showMessage(m_lastExport, 15000);
    });
    return dialog;
}

void MainWindow::openExport(MetricChart* chart) { exportDialog(chart)->open(); }

void MainWindow::saveSettings() {
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("window/tab"), m_tabs->currentIndex());
    const ChartOptions o = m_live->controls()->options();
    settings.setValue(QStringLiteral("charts/smoothing"), o.smoothing);
    settings.setValue(QStringLiteral("charts/xAxis"), static_cast<int>(o.xAxis));
    settings.setValue(QStringLiteral("charts/logX"), o.logX);
    settings.setValue(QStringLiteral("charts/logY"), o.logY);
    m_live->saveLayout(QFileInfo(m_dbPath).absoluteFilePath());
    m_compare->saveLayout(QFileInfo(m_dbPath).absoluteFilePath());
}

void MainWindow::closeEvent(QCloseEvent* event) {
    const int queued = m_controller->queued();
    if ((m_controller->busy() || m_controller->sideBusy()) &&
        QMessageBox::question(this, tr("A run is going"),
                              queued > 0 ? tr("Stop the running run and quit? The %n queued run(s) will not start.",
                                              nullptr, queued)
                                         : tr("Stop the running run and quit?")) != QMessageBox::Yes) {
        event->ignore();
        return;
    }
    saveSettings();
    event->accept();
}

}  // namespace frugal::ui
