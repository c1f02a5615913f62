#pragma once
// What the workbench's tests share: the store service on its own thread, as the window runs it,
// and a finished run with a loss series. Header-only; Qt Test and the store.

#include <QObject>
#include <QSignalSpy>
#include <QString>
#include <QThread>
#include <map>
#include <string>
#include <vector>

#include "store/store.h"
#include "store_service.h"

namespace frugal::ui::uitest {

// A store service on its own thread, as the window runs it.
struct ServiceThread {
    QThread thread;
    StoreService* service = new StoreService;
    explicit ServiceThread(const QString& db) {
        service->moveToThread(&thread);
        QObject::connect(&thread, &QThread::finished, service, &QObject::deleteLater);
        thread.start();
        QSignalSpy opened(service, &StoreService::opened);
        QMetaObject::invokeMethod(
            service, [s = service, db] { s->open(db); }, Qt::QueuedConnection);
        if (!opened.wait(10000)) qFatal("the store service did not open %s", qPrintable(db));
    }
    ~ServiceThread() {
        thread.quit();
        thread.wait();
    }
};

// A run of METHOD named NAME, created running, its metrics left to the caller.
inline int64_t createRunningRun(store::Store& db, const std::string& name, const std::string& method) {
    store::NewRun r;
    r.name = name;
    r.method = method;
    r.status = store::RunStatus::Running;
    return db.createRun(r);
}

inline int64_t addRun(store::Store& db, const std::string& name,
               const std::map<std::string, std::string>& params, const std::vector<double>& loss) {
    store::NewRun r;
    r.name = name;
    r.method = "zo";
    r.params = params;
    r.status = store::RunStatus::Running;
    const int64_t id = db.createRun(r);
    for (size_t i = 0; i < loss.size(); ++i)
        db.logMetric(id, "train/loss", static_cast<int64_t>(i) * 10, loss[i]);
    db.setStatus(id, store::RunStatus::Finished);
    return id;
}

}  // namespace frugal::ui::uitest
