// First-order fine-tuning (core/fo): a NaN or infinite loss is recorded and shown, then stops the
// run naming the step (#14: it used to fail before recording it); a stop request cancels.

#include <QtTest/QtTest>

#include <cmath>

#include "common/events.h"
#include "fo/first_order.h"
#include "test_util.h"

class TestFo : public QObject {
    Q_OBJECT
private slots:
    void nonFiniteLossIsRecordedThenStops();
    void stopRequestCancels();
};

namespace {

frugal::fo::FoConfig shortRun() {
    frugal::fo::FoConfig c;
    c.common.peft.target = frugal::peft::Target::Full;
    c.common.steps = 6;
    c.common.batchSize = 2;
    c.common.evalEvery = 100;
    c.common.evalLimit = 2;
    c.common.seed = 3;
    return c;
}

}  // namespace

void TestFo::nonFiniteLossIsRecordedThenStops() {
    frugal::test::useSourceResources();
    frugal::fo::FoConfig c = shortRun();
    c.optimizer = frugal::fo::FoOptimizer::Sgd;
    c.common.lr = 1e12;  // the first step wrecks the weights
    frugal::MemorySink& sink = frugal::test::sink();
    const QString message = QString::fromStdString(
        frugal::test::errorOf([&] { frugal::fo::runFirstOrder(c, sink, frugal::test::noStop()); }));
    QVERIFY2(message.contains(QLatin1String("first-order training: the loss is")) &&
                 message.contains(QLatin1String("lower fo.lr")),
             qPrintable(message));
    const std::vector<double> losses = sink.values("train/loss");
    QVERIFY(losses.size() >= 2);
    QVERIFY(std::isfinite(losses.front()));
    QVERIFY(!std::isfinite(losses.back()));  // the bad value is stored, not dropped
    QVERIFY2(message.contains(QString("at step %1").arg(losses.size())), qPrintable(message));
}

void TestFo::stopRequestCancels() {
    frugal::test::useSourceResources();
    frugal::StopToken stop;
    stop.requestStop();
    QString cancelled;
    frugal::MemorySink sink;
    try {
        frugal::fo::runFirstOrder(shortRun(), sink, stop);
    } catch (const frugal::Cancelled& e) {
        cancelled = QString::fromStdString(e.what());
    }
    // a stop asked for before the start is honoured at once, in the first dev evaluation: no
    // example scored, no step taken, no figure reported
    QVERIFY2(cancelled.contains(QLatin1String("stopped while scoring examples, after 0 of 2")), qPrintable(cancelled));
    QVERIFY(sink.values("train/loss").empty() && sink.values("dev/accuracy").empty());
}

QTEST_APPLESS_MAIN(TestFo)
#include "test_fo.moc"
