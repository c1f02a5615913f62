// Workbench benchmarks (docs/BENCHMARKS.md), not unit tests: run by hand on an idle machine.
//   QT_QPA_PLATFORM=offscreen build/release/bin/bench_ui
// chartRedraw1M: a chart holding 1,000,000 raw points (smoothing on) redraws, i.e. decimates
//   per pixel column, replaces its series and paints, in how many ms (QBENCHMARK, and the
//   median of 20 timed redraws, full view and zoomed to 1 %).
// hoverAndLegend1M: on a chart of two 1,000,000-point lines, the time from a mouse move to the
//   hover readout painted (nearest stored point of each line, crosshair, labels), and from a
//   click on a legend entry to the line hidden or shown and the chart repainted: median and
//   worst of 200 events each, against 16 ms (one frame at 60 Hz).
// guiLatencyWhileStreaming: a run streams 10,000 metric points a second for 5 s through the
//   RunController into the live view; a 5 ms timer on the GUI thread records the longest gap.

#include <QApplication>
#include <QElapsedTimer>
#include <QMouseEvent>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest/QtTest>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include "live_view.h"
#include "main_window.h"
#include "metric_chart.h"
#include "run/runner.h"
#include "run_controller.h"
#include "streaming_probe.h"

using namespace frugal;
using namespace frugal::ui;

class BenchUi : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void chartRedraw1M() {
        MetricChart chart(QStringLiteral("Loss"), QStringLiteral("loss"));
        chart.resize(1200, 700);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        const int line = chart.addLine(QStringLiteral("train/loss"), Qt::blue);
        std::mt19937_64 rng(7);
        std::normal_distribution<double> noise(0, 0.05);
        const int n = 1'000'000;
        for (int i = 0; i < n; ++i)
            chart.append(line, i, i * 0.01, 2.5 * std::exp(-i / 3e5) + 0.3 + noise(rng));
        QElapsedTimer first;
        first.start();
        chart.redrawNow();  // includes smoothing all 1M points once
        qInfo("first redraw (smoothing 1M points included): %.1f ms", first.nsecsElapsed() / 1e6);
        const auto median = [&](const std::function<void()>& f) {
            std::vector<double> ms;
            for (int r = 0; r < 20; ++r) {
                QElapsedTimer t;
                t.start();
                f();
                ms.push_back(t.nsecsElapsed() / 1e6);
            }
            std::sort(ms.begin(), ms.end());
            return ms[ms.size() / 2];
        };
        const double decimateOnly = median([&] { chart.redrawNow(); });
        const double withPaint = median([&] {
            chart.redrawNow();
            chart.repaint();
            (void)chart.grab();
        });
        qInfo(
            "1M points, full view: redraw (decimate + replace) median %.2f ms; with paint %.2f ms; "
            "%zu points drawn",
            decimateOnly, withPaint, chart.drawnPoints());
        QBENCHMARK {
            chart.redrawNow();
            (void)chart.grab();
        }
    }

    void hoverAndLegend1M() {
        MetricChart chart(QStringLiteral("Loss"), QStringLiteral("loss"));
        chart.resize(1200, 700);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        std::mt19937_64 rng(11);
        std::normal_distribution<double> noise(0, 0.05);
        const int n = 1'000'000;
        for (const char* key : {"train/loss", "dev/loss"}) {
            const int line = chart.addLine(QString::fromLatin1(key), key[0] == 't' ? Qt::blue : Qt::red);
            for (int i = 0; i < n; ++i)
                chart.append(line, i, i * 0.01, 2.5 * std::exp(-i / 3e5) + (key[0] == 't' ? 0.3 : 0.5) + noise(rng));
        }
        chart.redrawNow();
        chart.repaint();
        const auto summary = [](std::vector<double> ms) {
            std::sort(ms.begin(), ms.end());
            return std::make_pair(ms[ms.size() / 2], ms.back());
        };
        std::vector<double> plain;
        for (int e = 0; e < 20; ++e) {
            QElapsedTimer t;
            t.start();
            chart.repaint();
            plain.push_back(t.nsecsElapsed() / 1e6);
        }
        std::vector<double> readout;
        for (int e = 0; e < 20; ++e) {
            QElapsedTimer t;
            t.start();
            (void)chart.readoutAt(chart.positionOf(n * (e + 0.5) / 20.0, 1.0));
            readout.push_back(t.nsecsElapsed() / 1e6);
        }
        qInfo("plain repaint: median %.2f ms; readoutAt alone: median %.3f ms", summary(plain).first,
              summary(readout).first);
        std::vector<double> hover;
        for (int e = 0; e < 200; ++e) {
            const QPointF at = chart.positionOf(n * (e + 0.5) / 200.0, 1.0);
            QElapsedTimer t;
            t.start();
            QMouseEvent move(QEvent::MouseMove, at, chart.mapToGlobal(at), Qt::NoButton, Qt::NoButton, Qt::NoModifier);
            QApplication::sendEvent(&chart, &move);
            chart.repaint();
            hover.push_back(t.nsecsElapsed() / 1e6);
            QVERIFY(chart.hover().rows.size() == 2);
        }
        std::vector<double> legend;
        for (int e = 0; e < 200; ++e) {
            const QPointF at = chart.legendRect(e % 2).center();
            QElapsedTimer t;
            t.start();
            QTest::mouseClick(&chart, Qt::LeftButton, Qt::NoModifier, at.toPoint());
            chart.repaint();
            legend.push_back(t.nsecsElapsed() / 1e6);
        }
        QVERIFY(chart.lineVisible(0) && chart.lineVisible(1));  // each toggled an even number of times
        const auto [hoverMedian, hoverWorst] = summary(hover);
        const auto [legendMedian, legendWorst] = summary(legend);
        qInfo("hover readout on 2 x 1M points, move to painted: median %.2f ms, worst %.2f ms (200 events)",
              hoverMedian, hoverWorst);
        qInfo("legend click on 2 x 1M points, click to repainted: median %.2f ms, worst %.2f ms (200 events)",
              legendMedian, legendWorst);
    }

    void guiLatencyWhileStreaming() {
        const testing::StreamOutcome out = testing::streamIntoWorkbench(5.0, 10000);
        QCOMPARE(out.status, QStringLiteral("finished"));
        const auto& gaps = out.gaps;
        const size_t points = out.points;
        qInfo(
            "streamed %zu points in 5 s; GUI-thread timer gaps over %zu ticks: median %lld ms, "
            "99th percentile %lld ms, "
            "longest %lld ms",
            points, gaps.size(), static_cast<long long>(gaps[gaps.size() / 2]),
            static_cast<long long>(gaps[gaps.size() * 99 / 100]),
            static_cast<long long>(gaps.back()));
    }
};

QTEST_MAIN(BenchUi)
#include "bench_ui.moc"
