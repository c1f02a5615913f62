#pragma once
// Shared by test_ui and bench_ui: a synthetic run that streams metric points at a fixed rate, and
// a probe of the GUI thread's event-loop latency (a 5 ms timer; the gaps between its ticks).

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "live_view.h"
#include "main_window.h"
#include "metric_chart.h"
#include "run/runner.h"
#include "run_controller.h"

namespace frugal::ui::testing {

// PERSECOND points of train/loss a second for SECONDS, paced by the clock, through the sink.
inline RunJob streamingJob(double seconds, int64_t perSecond) {
    RunJob job;
    job.name = QStringLiteral("stream");
    auto prepared = std::make_shared<run::PreparedRun>();
    prepared->method = "synthetic";
    prepared->body = [seconds, perSecond](const run::RunContext& context) {
        run::EventSink& sink = context.sink;
        const run::StopToken& stop = context.stop;
        const auto start = std::chrono::steady_clock::now();
        int64_t step = 0;
        for (;;) {
            const double elapsed =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (elapsed >= seconds || stop.stopRequested()) break;
            for (; step < static_cast<int64_t>(elapsed * static_cast<double>(perSecond)); ++step)
                sink.metric("train/loss", step, 3.0 / (1.0 + static_cast<double>(step) * 1e-3));
            sink.progress(step, static_cast<int64_t>(seconds * static_cast<double>(perSecond)),
                          "streaming");
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    };
    job.prepared = prepared;
    job.newRun.name = "stream";
    job.newRun.method = "synthetic";
    return job;
}

class LatencyProbe {
public:
    LatencyProbe() {
        m_timer.setInterval(5);
        QObject::connect(&m_timer, &QTimer::timeout, [this] {
            const qint64 now = m_clock.elapsed();
            m_gaps.push_back(now - m_last);
            m_last = now;
        });
    }
    void start() {
        m_clock.start();
        m_last = 0;
        m_timer.start();
    }
    void stop() {
        m_timer.stop();
        std::sort(m_gaps.begin(), m_gaps.end());
    }
    // after stop(): the gaps in ms, sorted
    const std::vector<qint64>& gaps() const { return m_gaps; }
    qint64 longest() const { return m_gaps.empty() ? 0 : m_gaps.back(); }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_last = 0;
    std::vector<qint64> m_gaps;
};

struct StreamOutcome {
    QString status;            // how the run ended
    QString error;             // its error, if it failed
    size_t points = 0;         // in the live view's loss chart
    std::vector<qint64> gaps;  // the probe's, sorted
};

// A workbench window at 1280x800 on a fresh database, showing the live view, while a run streams
// PERSECOND points a second for SECONDS; the GUI thread's latency measured meanwhile.
inline StreamOutcome streamIntoWorkbench(double seconds, int64_t perSecond) {
    QTemporaryDir dir;
    MainWindow window(dir.filePath(QStringLiteral("runs.db")));
    window.resize(1280, 800);
    window.show();
    window.tabs()->setCurrentWidget(window.liveView());
    QSignalSpy ended(window.controller(), &RunController::runEnded);
    LatencyProbe probe;
    StreamOutcome out;
    if (!window.controller()->start(streamingJob(seconds, perSecond))) return out;
    probe.start();
    ended.wait(static_cast<int>(seconds * 1000) + 30000);
    probe.stop();
    out.status = ended.isEmpty() ? QStringLiteral("(did not end)") : ended.at(0).at(1).toString();
    if (!ended.isEmpty()) out.error = ended.at(0).at(2).toString();
    out.points = window.liveView()->chartTitled(QStringLiteral("Loss"))->pointCount();
    out.gaps = probe.gaps();
    return out;
}

}  // namespace frugal::ui::testing
