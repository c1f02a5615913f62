#include "run_controller.h"

#include <QTimer>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <vector>

#include "common/runtime_info.h"
#include "run/method_registry.h"

#include "run/workspace.h"
#include "store/store.h"

namespace frugal::ui {

struct LiveBuffer {
    std::mutex mutex;
    std::vector<MetricSample> samples;
    std::vector<VectorSample> vectors;
    QStringList logs;
    bool hasProgress = false;
    qint64 step = 0, total = 0;
    QString status;
};

namespace {

// Runs on the method's worker thread: everything goes into the buffer under its lock.
class BufferObserver : public run::Observer {
public:
    explicit BufferObserver(LiveBuffer& buffer)
        : m_buffer(buffer), m_start(std::chrono::steady_clock::now()) {}
    void onLog(const std::string& level, const std::string& text) override {
        const QString line = QString::fromStdString(level + ": " + text);
        std::lock_guard<std::mutex> lock(m_buffer.mutex);
        m_buffer.logs << line;
    }
    void onProgress(int64_t step, int64_t total, const std::string& status) override {
        const QString text = QString::fromStdString(status);
        std::lock_guard<std::mutex> lock(m_buffer.mutex);
        m_buffer.hasProgress = true;
        m_buffer.step = step;
        m_buffer.total = total;
        m_buffer.status = text;
    }
    void onMetric(const std::string& key, int64_t step, double value) override {
        const double wall =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
        MetricSample sample{QString::fromStdString(key), static_cast<double>(step), wall, value};
        std::lock_guard<std::mutex> lock(m_buffer.mutex);
        m_buffer.samples.push_back(std::move(sample));
    }
    void onVector(const std::string& key, int64_t step, const std::vector<int64_t>& shape,
                  const std::vector<float>& data) override {
        VectorSample sample{QString::fromStdString(key), step, QVector<qint64>(shape.begin(), shape.end()),
                            QVector<float>(data.begin(), data.end())};
        std::lock_guard<std::mutex> lock(m_buffer.mutex);
        m_buffer.vectors.push_back(std::move(sample));
    }

private:
    LiveBuffer& m_buffer;
    std::chrono::steady_clock::time_point m_start;
};

}  // namespace

RunWorker::RunWorker(std::shared_ptr<LiveBuffer> buffer) : m_buffer(std::move(buffer)) {}

void RunWorker::execute(const RunJob& job, std::shared_ptr<run::StopToken> stop,
                        const QString& dbPath) {
    // The worker entry: the one place a job's error becomes a message.
    qint64 id = job.resumeRunId;
    try {
        const std::filesystem::path dbFile = dbPath.toStdString();
        store::Store db(dbFile);
        if (job.resumeRunId > 0) {
            db.resumeRun(id);
            db.log(id, "info", "resumed from the workbench");
        } else {
            store::NewRun spec = job.newRun;
            spec.status = store::RunStatus::Running;
            id = db.createRun(spec);
        }
        emit started(id, job.name);
        std::optional<BufferObserver> observer;  // none beside the running run: the store has it
        if (m_buffer) observer.emplace(*m_buffer);
        const run::RunOutcome outcome = run::continueMethod(
            db, id, job.prepared->body, *stop, observer ? &*observer : nullptr, run::artifactRoot(dbFile));
        emit ended(id, QString::fromStdString(store::statusName(outcome.status)),
                   QString::fromStdString(outcome.error));
    } catch (const std::exception& e) {
        emit ended(id, QStringLiteral("failed"), QString::fromStdString(e.what()));
    }
}

RunController::RunController(const QString& dbPath, QObject* parent)
    : QObject(parent), m_dbPath(dbPath), m_buffer(std::make_shared<LiveBuffer>()) {
    qRegisterMetaType<frugal::ui::MetricSample>();
    qRegisterMetaType<QVector<frugal::ui::MetricSample>>();
    qRegisterMetaType<QVector<frugal::ui::VectorSample>>();
    m_worker = new RunWorker(m_buffer);
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &RunWorker::started, this, &RunController::workerStarted);
    connect(m_worker, &RunWorker::ended, this, &RunController::workerEnded);
    m_drainTimer = new QTimer(this);
    m_drainTimer->setInterval(34);  // at most 30 batches a second
    connect(m_drainTimer, &QTimer::timeout, this, &RunController::drain);
    m_thread.setObjectName(QStringLiteral("frugal-run"));
    m_thread.start();
    m_sideWorker = new RunWorker(nullptr);
    m_sideWorker->moveToThread(&m_sideThread);
    connect(&m_sideThread, &QThread::finished, m_sideWorker, &QObject::deleteLater);
    connect(m_sideWorker, &RunWorker::started, this, [this](qint64 runId, const QString& name) {
        m_sideRun = runId;
        emit sideRunStarted(runId, name);
    });
    connect(m_sideWorker, &RunWorker::ended, this, [this](qint64 runId, const QString& status, const QString& error) {
        m_sideBusy = false;
        m_sideRun = 0;
        m_sideStop.reset();
        emit runEnded(runId, status, error);
        dispatch();
    });
    m_sideThread.setObjectName(QStringLiteral("frugal-run-2"));
    m_sideThread.start();
}

RunController::~RunController() {
    m_queue.clear();
    if (m_stop) m_stop->requestStop();
    if (m_sideStop) m_sideStop->requestStop();
    m_thread.quit();
    m_sideThread.quit();
    m_thread.wait();
    m_sideThread.wait();
}

bool RunController::setDatabasePath(const QString& path) {
    if (m_busy) return false;
    m_queue.clear();
    m_dbPath = path;
    emit queueChanged(0);
    return true;
}

bool RunController::start(const RunJob& job) {
    if (m_busy) return false;
    launch(job);
    return true;
}

void RunController::enqueue(const RunJob& job) {
    if (!m_busy) {
        launch(job);
        return;
    }
    m_queue.push_back(job);
    dispatch();
    emit queueChanged(queued());
}

void RunController::setParallel(int parallel) {
    m_parallel = std::clamp(parallel, 1, 2);
    dispatch();
    emit queueChanged(queued());
}

void RunController::stopRun(qint64 runId) {
    if (runId == m_sideRun && m_sideStop) m_sideStop->requestStop();
    else if (runId == m_currentRun) requestStop();
}

void RunController::dispatch() {
    m_waitReason.clear();
    if (m_queue.isEmpty()) return;
    if (!m_busy) {
        const RunJob next = m_queue.takeFirst();
        emit queueChanged(queued());
        launch(next, /*fromQueue=*/true);
        return;
    }
    if (m_parallel < 2 || m_sideBusy) return;
    // the guard's estimate of the next run against what is free now (the running one's share is
    // already taken)
    int64_t need = 0;
    try {
        const RunJob& next = m_queue.front();
        if (const auto summary = run::trainableSummary(next.prepared->resolvedConfig, "the queued run", {}))
            need = summary->memoryBytes;
    } catch (const std::exception&) {
    }
    const int64_t freeBytes = frugal::availableMemoryBytes();
    const auto gib = [](int64_t bytes) { return QString::number(static_cast<double>(bytes) / (1 << 30), 'f', 1); };
    if (need <= 0) {
        m_waitReason = tr("the next run waits its turn: its method gives no memory estimate to start it beside");
        return;
    }
    if (static_cast<double>(need) > 0.8 * static_cast<double>(freeBytes)) {
        m_waitReason = tr("the next run waits its turn: it needs ≈ %1 GiB, over 80 % of the %2 GiB free now")
                           .arg(gib(need), gib(freeBytes));
        return;
    }
    const RunJob next = m_queue.takeFirst();
    emit queueChanged(queued());
    launchSide(next);
}

void RunController::launchSide(const RunJob& job) {
    m_sideBusy = true;
    m_sideStop = std::make_shared<run::StopToken>();
    QMetaObject::invokeMethod(
        m_sideWorker,
        [worker = m_sideWorker, job, stop = m_sideStop, db = m_dbPath] { worker->execute(job, stop, db); },
        Qt::QueuedConnection);
}

void RunController::requestStop() {
    if (m_stop) m_stop->requestStop();
}

QStringList RunController::queuedNames() const {
    QStringList names;
    for (const RunJob& job : m_queue) names << job.name;
    return names;
}

void RunController::cancelQueued(int index) {
    if (index < 0 || index >= m_queue.size()) return;
    m_queue.removeAt(index);
    emit queueChanged(queued());
}

void RunController::moveQueued(int from, int to) {
    if (from < 0 || from >= m_queue.size() || to < 0 || to >= m_queue.size() || from == to) return;
    m_queue.move(from, to);
    emit queueChanged(queued());
}

void RunController::clearQueue() {
    m_queue.clear();
    emit queueChanged(0);
}

void RunController::launch(const RunJob& job, bool fromQueue) {
    m_busy = true;
    m_fromQueue = fromQueue;
    m_currentMethod = job.prepared ? QString::fromStdString(job.prepared->method) : QString();
    m_currentParams.clear();
    if (job.prepared)
        for (const auto& [key, value] : job.prepared->params)
            m_currentParams.insert(QString::fromStdString(key), QString::fromStdString(value));
    m_stop = std::make_shared<run::StopToken>();
    {
        std::lock_guard<std::mutex> lock(m_buffer->mutex);
        m_buffer->samples.clear();
        m_buffer->logs.clear();
        m_buffer->hasProgress = false;
    }
    emit busyChanged(true);
    QMetaObject::invokeMethod(
        m_worker,
        [worker = m_worker, job, stop = m_stop, db = m_dbPath] { worker->execute(job, stop, db); },
        Qt::QueuedConnection);
    m_drainTimer->start();
}

void RunController::workerStarted(qint64 runId, const QString& name) {
    m_currentRun = runId;
    emit runStarted(runId, name);
}

void RunController::drain() {
    std::vector<MetricSample> samples;
    std::vector<VectorSample> vectors;
    QStringList logs;
    bool hasProgress = false;
    qint64 step = 0, total = 0;
    QString status;
    {
        std::lock_guard<std::mutex> lock(m_buffer->mutex);
        samples.swap(m_buffer->samples);
        vectors.swap(m_buffer->vectors);
        logs.swap(m_buffer->logs);
        hasProgress = m_buffer->hasProgress;
        m_buffer->hasProgress = false;
        step = m_buffer->step;
        total = m_buffer->total;
        status = m_buffer->status;
    }
    if (m_currentRun == 0) {  // not started yet: keep what came for the run's first batch
        std::lock_guard<std::mutex> lock(m_buffer->mutex);
        m_buffer->samples.insert(m_buffer->samples.begin(), samples.begin(), samples.end());
        m_buffer->vectors.insert(m_buffer->vectors.begin(), vectors.begin(), vectors.end());
        logs.append(m_buffer->logs);
        m_buffer->logs = logs;
        m_buffer->hasProgress = m_buffer->hasProgress || hasProgress;
        return;
    }
    if (!samples.empty())
        emit metricsArrived(m_currentRun, QVector<MetricSample>(samples.begin(), samples.end()));
    if (!vectors.empty())
        emit vectorsArrived(m_currentRun, QVector<VectorSample>(vectors.begin(), vectors.end()));
    if (!logs.isEmpty()) emit logsArrived(m_currentRun, logs);
    if (hasProgress) emit progressChanged(m_currentRun, step, total, status);
}

void RunController::workerEnded(qint64 runId, const QString& status, const QString& error) {
    if (m_currentRun == 0) m_currentRun = runId;
    drain();
    m_drainTimer->stop();
    m_busy = false;
    m_stop.reset();
    m_currentRun = 0;
    emit runEnded(runId, status, error);
    emit busyChanged(false);
    dispatch();
}

}  // namespace frugal::ui
