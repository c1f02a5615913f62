#include "run_groups.h"

#include <QSet>
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "common/metric_keys.h"
#include "compare_view.h"
#include "metric_chart.h"
#include "palette.h"

namespace frugal::ui {

namespace {

// The text every run of a group shares under SPEC (its signature).
QString signatureOf(const RunRow& row, const QMap<QString, QString>& resolved, const GroupSpec& spec) {
    switch (spec.by) {
        case GroupBy::None: return QString::number(row.id);
        case GroupBy::Name: return row.name;
        case GroupBy::Key: return resolved.value(spec.key, QStringLiteral("(unset)"));
        case GroupBy::Config: {
            QString s = row.method;
            for (auto it = resolved.begin(); it != resolved.end(); ++it)
                if (!isSeedKey(it.key())) s += QLatin1Char('\n') + it.key() + QLatin1Char('=') + it.value();
            return s;
        }
    }
    return {};
}

// The name a group's runs share: their name when it is one; else the words all their names
// share (a sweep's "lr=1e-4 seed=1" and "lr=1e-4 seed=2" are "lr=1e-4"); else their experiment
// (the config they ran), else the first name.
QString sharedName(const QVector<RunRow>& rows, const QVector<int>& members) {
    const RunRow& first = rows[members.front()];
    bool same = true, sameExperiment = true;
    for (int i : members) {
        same = same && rows[i].name == first.name;
        sameExperiment = sameExperiment && rows[i].experiment == first.experiment;
    }
    if (same) return first.name;
    QStringList words = first.name.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    for (int i : members) {
        const QStringList theirs = rows[i].name.split(QLatin1Char(' '), Qt::SkipEmptyParts);
        words.erase(std::remove_if(words.begin(), words.end(), [&](const QString& w) { return !theirs.contains(w); }),
                    words.end());
    }
    if (!words.isEmpty()) return words.join(QLatin1Char(' '));
    // the store names a run without an experiment "default": that names nothing
    const bool named = !first.experiment.isEmpty() && first.experiment != QLatin1String("default");
    return sameExperiment && named ? first.experiment : first.name;
}

QString shortNumber(double v) {
    if (!std::isfinite(v)) return QStringLiteral("nan");
    return QString::number(v, 'g', 4);
}

}  // namespace

QString configSignature(const RunRow& row, const QMap<QString, QString>& resolved) {
    GroupSpec spec;
    spec.by = GroupBy::Config;
    return signatureOf(row, resolved, spec);
}

bool isSeedKey(const QString& key) {
    const QString last = key.section(QLatin1Char('.'), -1);
    return last == QLatin1String("seed") || last.endsWith(QLatin1String("_seed"));
}

QString seedsOf(const QMap<QString, QString>& resolved) {
    QStringList parts;
    for (auto it = resolved.begin(); it != resolved.end(); ++it)
        if (isSeedKey(it.key())) parts << it.key() + QLatin1Char('=') + it.value();
    return parts.join(QLatin1Char(' '));
}

QVector<RunGroup> groupRuns(const QVector<RunRow>& rows, const QVector<QMap<QString, QString>>& resolved,
                            const GroupSpec& spec) {
    QVector<RunGroup> groups;
    QVector<QString> signatures;
    for (int i = 0; i < rows.size(); ++i) {
        const QString sig = signatureOf(rows[i], resolved.value(i), spec);
        const auto at = std::find(signatures.begin(), signatures.end(), sig);
        if (at != signatures.end()) {
            groups[static_cast<int>(at - signatures.begin())].members << i;
            continue;
        }
        signatures << sig;
        RunGroup g;
        g.members << i;
        g.color = paletteColor(static_cast<qint64>(groups.size()));
        groups << g;
    }
    for (RunGroup& g : groups) {
        const RunRow& first = rows[g.members.front()];
        if (spec.by == GroupBy::None) {
            g.label = QStringLiteral("%1 %2").arg(first.id).arg(first.name);
            g.color = runColor(first.id);
        } else if (spec.by == GroupBy::Key) {
            g.label = QStringLiteral("%1=%2").arg(spec.key.section(QLatin1Char('.'), -1),
                                                  resolved.value(g.members.front()).value(spec.key, QStringLiteral("(unset)")));
        } else {
            g.label = sharedName(rows, g.members);
        }
    }
    if (spec.by != GroupBy::Config) return groups;
    // groups of one name but different configs: told apart by what differs (seeds aside)
    QMap<QString, QVector<int>> byLabel;
    for (int i = 0; i < groups.size(); ++i) byLabel[groups[i].label] << i;
    for (const QVector<int>& same : byLabel) {
        if (same.size() < 2) continue;
        QVector<QMap<QString, QString>> params;
        for (int g : same) params << resolved.value(groups[g].members.front());
        QStringList keys;
        for (const DiffRow& d : configDiff(params))
            if (!isSeedKey(d.key) && keys.size() < 2) keys << d.key;
        for (int j = 0; j < same.size(); ++j) {
            QStringList parts;
            for (const QString& k : keys)
                parts << k.section(QLatin1Char('.'), -1) + QLatin1Char('=') + params[j].value(k, QStringLiteral("(unset)"));
            if (!parts.isEmpty()) groups[same[j]].label += QStringLiteral(" · ") + parts.join(QLatin1Char(' '));
        }
    }
    return groups;
}

bool groupsByDefault(const QVector<RunRow>& rows, const QVector<QMap<QString, QString>>& resolved) {
    GroupSpec spec;
    spec.by = GroupBy::Config;
    QSet<QString> names, signatures;
    for (int i = 0; i < rows.size(); ++i) {
        if (names.contains(rows[i].name)) return true;
        names.insert(rows[i].name);
        const QString sig = signatureOf(rows[i], resolved.value(i), spec);
        if (signatures.contains(sig)) return true;
        signatures.insert(sig);
    }
    return false;
}

QString groupLegend(const RunGroup& group, const GroupSpec& spec) {
    if (group.members.size() < 2) return group.label;
    QString what = QString::fromLatin1(stats::centerName(spec.center).data());
    const QString spread = QString::fromStdString(stats::spreadLabel(spec.spread));
    if (!spread.isEmpty()) what += (spec.spread == stats::Spread::Std || spec.spread == stats::Spread::Sem)
                                       ? QLatin1Char(' ') + spread
                                       : QStringLiteral(", ") + spread;
    return QStringLiteral("%1 (N=%2, %3)").arg(group.label).arg(group.members.size()).arg(what);
}

namespace {

// Forward passes by step for a line, from RUN's zo/forward_passes, steps less OFFSET.
std::vector<std::pair<double, double>> passesOf(const RunData& run, double offset) {
    std::vector<std::pair<double, double>> map;
    const auto passes = run.metrics.find(QString::fromLatin1(metrics::kForwardPasses));
    if (passes == run.metrics.end()) return map;
    for (const SeriesPoint& p : *passes) map.emplace_back(p.step - offset, p.value);
    return map;
}

}  // namespace

int drawGroups(MetricChart& chart, const QVector<RunData>& runs, const QVector<RunGroup>& groups,
               const QString& metric, const GroupSpec& spec, bool relative) {
    chart.clearLines();
    int drawn = 0;
    for (const RunGroup& g : groups) {
        // each member's series, steps relative to its first point when asked
        std::vector<stats::Series> series;
        std::vector<int> members;
        for (int i : g.members) {
            const auto it = runs[i].metrics.find(metric);
            if (it == runs[i].metrics.end() || it->isEmpty()) continue;
            const double offset = relative ? it->front().step : 0;
            stats::Series s;
            for (const SeriesPoint& p : *it) {
                s.step.push_back(p.step - offset);
                s.value.push_back(p.value);
                s.wall.push_back(p.wallSeconds);
            }
            series.push_back(std::move(s));
            members.push_back(i);
        }
        if (series.empty()) continue;
        const auto addRun = [&](size_t k, const QString& label, const QColor& color) {
            const int line = chart.addLine(label, color);
            for (size_t j = 0; j < series[k].step.size(); ++j)
                chart.append(line, series[k].step[j], series[k].wall[j], series[k].value[j]);
            const RunData& run = runs[members[k]];
            const auto it = run.metrics.find(metric);
            chart.setPasses(line, passesOf(run, relative ? it->front().step : 0));
            return line;
        };
        if (series.size() == 1) {
            const RunRow& row = runs[members[0]].row;
            addRun(0, g.members.size() == 1 && spec.by != GroupBy::None ? QStringLiteral("%1 %2").arg(row.id).arg(g.label)
                                                                         : g.label,
                   spec.by == GroupBy::None ? runColor(row.id) : g.color);
            ++drawn;
            continue;
        }
        if (spec.showRuns)
            for (size_t k = 0; k < series.size(); ++k) {
                const int line = addRun(k, QStringLiteral("run %1").arg(runs[members[k]].row.id), g.color);
                chart.setLineFaint(line, true);
            }
        RunGroup shown = g;
        shown.members = QVector<int>(members.begin(), members.end());
        const stats::Band band = stats::aggregate(series, spec.center, spec.spread);
        const int line = chart.addLine(groupLegend(shown, spec), g.color);
        for (size_t j = 0; j < band.step.size(); ++j) chart.append(line, band.step[j], band.wall[j], band.center[j]);
        if (spec.spread != stats::Spread::None) chart.setBand(line, band.lo, band.hi);
        const RunData& first = runs[members[0]];
        chart.setPasses(line, passesOf(first, relative ? first.metrics.value(metric).front().step : 0));
        ++drawn;
    }
    return drawn;
}

double finalValue(const RunData& run, const QString& metric) {
    const auto it = run.metrics.find(metric);
    if (it == run.metrics.end()) return std::numeric_limits<double>::quiet_NaN();
    for (auto p = it->rbegin(); p != it->rend(); ++p)
        if (std::isfinite(p->value)) return p->value;
    return std::numeric_limits<double>::quiet_NaN();
}

GroupComparison compareTwoGroups(const QVector<RunData>& runs, const QVector<QMap<QString, QString>>& resolved,
                                 const RunGroup& a, const RunGroup& b, const QString& metric) {
    // paired when each group holds the same seeds, once each
    QMap<QString, int> seedsA, seedsB;
    for (int i : a.members) seedsA[seedsOf(resolved.value(i))] = i;
    for (int i : b.members) seedsB[seedsOf(resolved.value(i))] = i;
    const bool paired = seedsA.size() == a.members.size() && seedsB.size() == b.members.size() &&
                        seedsA.keys() == seedsB.keys() && !seedsA.contains(QString());
    std::vector<double> va, vb;
    if (paired) {
        for (auto it = seedsA.begin(); it != seedsA.end(); ++it) {
            va.push_back(finalValue(runs[it.value()], metric));
            vb.push_back(finalValue(runs[seedsB.value(it.key())], metric));
        }
    } else {
        for (int i : a.members) va.push_back(finalValue(runs[i], metric));
        for (int i : b.members) vb.push_back(finalValue(runs[i], metric));
    }
    GroupComparison out;
    out.test = stats::compareGroups(va, vb, paired);
    const stats::TwoGroupTest& t = out.test;
    const QString head = QStringLiteral("%1: %2 vs %3").arg(metric, a.label, b.label);
    if (!t.valid) {
        out.text = QStringLiteral("%1: no test (%2)").arg(head, QString::fromStdString(t.why));
        return out;
    }
    const QString p = t.p < 1e-4 ? QStringLiteral("< 0.0001") : QStringLiteral("= %1").arg(t.p, 0, 'g', 2);
    out.text = QStringLiteral("%1: mean %2 vs %3 (Δ %4); %5 t(%6) = %7, p %8, %9 = %10, N = %11")
                   .arg(head, shortNumber(t.meanA), shortNumber(t.meanB), shortNumber(t.diff),
                        paired ? QStringLiteral("paired") : QStringLiteral("Welch"),
                        paired ? QString::number(t.df, 'f', 0) : QString::number(t.df, 'f', 1),
                        QString::number(t.t, 'f', 2), p, paired ? QStringLiteral("d_z") : QStringLiteral("d"),
                        QString::number(t.effect, 'f', 2),
                        paired ? QStringLiteral("%1 pairs").arg(t.nA)
                               : QStringLiteral("%1 + %2 runs").arg(t.nA).arg(t.nB));
    return out;
}

}  // namespace frugal::ui
