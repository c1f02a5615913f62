#include "store_service.h"

#include <QFileInfo>

#include <algorithm>
#include <atomic>
#include <exception>
#include <limits>

#include "common/metric_keys.h"
#include "compare_view.h"
#include "run/jobs.h"
#include "run_groups.h"
#include "run/workspace.h"
#include "store/run_filter.h"
#include "store/store.h"

namespace frugal::ui {

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }

bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

RunRow makeRow(const store::Store& db, const store::RunInfo& r) {
    RunRow row;
    row.id = r.id;
    row.uuid = q(r.uuid);
    row.name = q(r.name);
    row.method = q(r.method);
    row.experiment = q(r.experiment);
    row.status = q(store::statusName(r.status));
    row.note = q(r.note);
    row.error = q(r.error);
    row.startMs = r.startMs;
    row.endMs = r.endMs;
    row.heartbeatMs = r.heartbeatMs;
    for (const auto& t : r.tags) row.tags << q(t);
    for (const auto& [key, value] : db.params(r.id)) {
        row.params.insert(q(key), q(value));
        if (row.model.isEmpty() && (key == "model" || endsWith(key, ".model")))
            row.model = q(value);
        if (row.task.isEmpty() &&
            (key == "task" || endsWith(key, ".task") || endsWith(key, ".tasks")))
            row.task = q(value);
    }
    for (const auto& m : db.latestMetrics(r.id)) row.latest.insert(q(m.key), m.point.value);
    return row;
}

// A series as one continuous run. The store keeps one point a step, the later attempt's where a
// resumed run logged a step again; the steps the killed attempt had gone past and the resumed one
// has not reached yet are left over from the dead process (their wall times fall back): they are
// not this run's path, and are left out until the new attempt writes them.
std::vector<store::MetricPoint> continuousSeries(std::vector<store::MetricPoint> points) {
    std::vector<store::MetricPoint> out;
    out.reserve(points.size());
    int64_t latest = std::numeric_limits<int64_t>::min();
    for (const store::MetricPoint& p : points) {
        if (p.wallMs < latest) continue;
        latest = p.wallMs;
        out.push_back(p);
    }
    return out;
}

}  // namespace

RunData readRunData(const store::Store& db, const store::RunInfo& r) {
    RunData d;
    d.row = makeRow(db, r);
    const int64_t id = r.id;
    d.config = q(r.config);
    const double start = static_cast<double>(r.startMs > 0 ? r.startMs : r.createdMs);
    for (const auto& key : db.metricKeys(id)) {
        QVector<SeriesPoint>& series = d.metrics[q(key)];
        const auto points = continuousSeries(db.metric(id, key));
        series.reserve(static_cast<qsizetype>(points.size()));
        for (const auto& p : points)
            series.push_back({static_cast<double>(p.step),
                              (static_cast<double>(p.wallMs) - start) / 1000.0, p.value});
    }
    for (const SeriesPoint& p : d.metrics.value(q(metrics::kResumedAt))) d.resumedAt << p.step;
    for (const auto& key : db.vectorKeys(id)) {
        QVector<VectorFrame>& frames = d.vectors[q(key)];
        for (const auto& v : db.vectorSeries(id, key)) {
            VectorFrame f;
            f.step = v.step;
            f.shape = QVector<qint64>(v.shape.begin(), v.shape.end());
            f.data = QVector<float>(v.data.begin(), v.data.end());
            frames.push_back(std::move(f));
        }
    }
    for (const auto& line : db.logs(id)) d.logs << q(line.level + ": " + line.text);
    return d;
}

StoreService::StoreService(QObject* parent) : QObject(parent) {
    qRegisterMetaType<frugal::ui::RunRow>();
    qRegisterMetaType<frugal::ui::RunData>();
    qRegisterMetaType<QVector<frugal::ui::RunRow>>();
    qRegisterMetaType<QVector<frugal::ui::RunData>>();
}

StoreService::~StoreService() = default;

quint64 StoreService::newRequestId() {
    static std::atomic<quint64> next{1};
    return next++;
}

void StoreService::open(const QString& path) {
    try {
        auto next = std::make_unique<store::Store>(path.toStdString());
        m_store = std::move(next);
        m_path = path;
        emit opened(path, QString());
    } catch (const std::exception& e) {
        emit opened(path, q(e.what()));
    }
}

void StoreService::refreshRuns(const QString& filter) {
    if (!m_store) return;
    QVector<RunRow> rows;
    QString filterError;
    try {
        std::vector<store::FilterTerm> terms;
        const auto runs = m_store->runs();
        try {
            if (!filter.trimmed().isEmpty()) terms = store::parseFilter(filter.toStdString());
            store::checkFilterKeys(*m_store, runs, terms);
        } catch (const std::exception& e) {
            filterError = q(e.what());
            terms.clear();
        }
        for (const auto& r : runs)
            if (terms.empty() || store::runMatches(*m_store, r, terms))
                rows.push_back(makeRow(*m_store, r));
    } catch (const std::exception& e) {
        filterError = q(e.what());
    }
    emit runsListed(rows, filterError);
}

void StoreService::loadRuns(quint64 request, const QVector<qint64>& ids) {
    if (!m_store) return;
    QVector<RunData> out;
    try {
        for (qint64 id : ids) {
            const auto r = m_store->run(id);
            if (!r) continue;
            RunData d = readRunData(*m_store, *r);
            d.resumeRefusal = q(run::resumeRefusal(m_store->path(), *r));
            out.push_back(std::move(d));
        }
    } catch (const std::exception& e) {
        emit actionFailed(q(e.what()));
    }
    emit runsLoaded(request, out);
}

void StoreService::loadSiblings(quint64 request, qint64 runId) {
    if (!m_store) return;
    QVector<RunData> out;
    try {
        const auto runs = m_store->runs();
        QString signature;
        std::vector<std::pair<const store::RunInfo*, RunRow>> rows;
        for (const auto& r : runs) {
            RunRow row = makeRow(*m_store, r);
            if (r.id == runId) signature = configSignature(row, resolvedParams(row.method, row.params));
            rows.emplace_back(&r, std::move(row));
        }
        for (const auto& [info, row] : rows) {
            if (row.id == runId || signature.isEmpty()) continue;
            if (configSignature(row, resolvedParams(row.method, row.params)) != signature) continue;
            RunData d = readRunData(*m_store, *info);
            d.vectors.clear();
            out.push_back(std::move(d));
        }
    } catch (const std::exception& e) {
        emit actionFailed(q(e.what()));
    }
    emit runsLoaded(request, out);
}

void StoreService::tagRuns(const QVector<qint64>& ids, const QString& tag) {
    try {
        for (qint64 id : ids) m_store->addTag(id, tag.toStdString());
        emit changed();
    } catch (const std::exception& e) {
        emit actionFailed(q(e.what()));
    }
}

void StoreService::untagRuns(const QVector<qint64>& ids, const QString& tag) {
    try {
        for (qint64 id : ids) m_store->removeTag(id, tag.toStdString());
        emit changed();
    } catch (const std::exception& e) {
        emit actionFailed(q(e.what()));
    }
}

void StoreService::setNote(qint64 id, const QString& note) {
    try {
        m_store->setNote(id, note.toStdString());
        emit changed();
    } catch (const std::exception& e) {
        emit actionFailed(q(e.what()));
    }
}

void StoreService::listPrunedModels() {
    if (!m_store) return;
    QStringList folders;
    try {
        for (const auto& r : m_store->runs()) {
            if (r.method != "prune" || r.status != store::RunStatus::Finished) continue;
            for (const auto& a : m_store->artifacts(r.id)) {
                const QFileInfo file(q(a.path));
                if (a.kind == "model" && file.exists() && !folders.contains(file.absolutePath()))
                    folders << file.absolutePath();
            }
        }
    } catch (const std::exception& e) {
        emit actionFailed(q(e.what()));
    }
    emit prunedModelsListed(folders);
}

void StoreService::renameRun(qint64 id, const QString& name) {
    try {
        m_store->renameRun(id, name.toStdString());
        emit changed();
    } catch (const std::exception& e) {
        emit actionFailed(q(e.what()));
    }
}

void StoreService::deleteRuns(const QVector<qint64>& ids) {
    try {
        for (qint64 id : ids) {
            const auto r = m_store->run(id);
            if (r && r->status == store::RunStatus::Running)
                throw std::runtime_error("run " + std::to_string(id) + " (" + r->name +
                                         ") is running; stop it before deleting it");
        }
        for (qint64 id : ids) run::deleteRunAndFolder(*m_store, id);
        emit changed();
    } catch (const std::exception& e) {
        emit actionFailed(q(e.what()));
    }
}

}  // namespace frugal::ui
