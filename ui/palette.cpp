#include "palette.h"

#include <QHash>

namespace frugal::ui {

QColor seriesColor(const QString& key) {
    // palette slots: 0 blue, 1 vermillion, 2 green, 3 pink, 4 orange, 5 sky, 6 black, 7 brown,
    // 8 grey, 9 olive, 10 purple, 11 cyan; the keys drawn on one chart never share a slot
    static const QHash<QString, int> kSlots = {
        {QStringLiteral("train/loss"), 0},
        {QStringLiteral("dev/loss"), 1},
        {QStringLiteral("test/loss"), 2},
        {QStringLiteral("dev/accuracy"), 1},
        {QStringLiteral("dev/accuracy_calibrated"), 4},
        {QStringLiteral("test/accuracy"), 2},
        {QStringLiteral("test/accuracy_calibrated"), 9},
        {QStringLiteral("held_out/perplexity"), 3},
        {QStringLiteral("sys/rss_mb"), 0},
        {QStringLiteral("sys/peak_rss_mb"), 3},
        {QStringLiteral("mem/estimate_mb"), 8},
        {QStringLiteral("zo/projected_grad"), 0},
        {QStringLiteral("zo/projected_grad_abs_mean"), 1},
        {QStringLiteral("zo/queries"), 0},
        {QStringLiteral("sys/steps_per_s"), 0},
        {QStringLiteral("cma/best_fitness"), 0},
        {QStringLiteral("cma/mean_fitness"), 1},
        {QStringLiteral("cma/sigma"), 0},
        {QStringLiteral("train/forwards"), 0},
        {QStringLiteral("sharpness/hutchinson_trace"), 0},
        {QStringLiteral("sharpness/hutchinson_stderr"), 1},
        {QStringLiteral("sharpness/eps_ball"), 0},
        {QStringLiteral("sharpness/sam"), 1},
        {QStringLiteral("landscape/min_loss"), 0},
        {QStringLiteral("landscape/max_loss"), 1},
        {QStringLiteral("landscape/centre_loss"), 2},
        {QStringLiteral("prune/block_error"), 0},
        {QStringLiteral("prune/perplexity_dense"), 0},
        {QStringLiteral("prune/perplexity"), 1},
        {QStringLiteral("prune/perplexity_pruned"), 1},
    };
    if (const auto it = kSlots.constFind(key); it != kSlots.constEnd()) return paletteColor(it.value());
    quint32 h = 2166136261u;  // FNV-1a over the UTF-16 code units: the same on every machine
    for (const QChar c : key) h = (h ^ c.unicode()) * 16777619u;
    return paletteColor(static_cast<qint64>(h % 12));
}

}  // namespace frugal::ui
