#pragma once
// Colours that mean the same thing in every view. A run has one colour (runs table, compare,
// exports): Okabe-Ito's colour-blind-safe palette, then Tableau's, picked by run id. A metric
// key has one colour in a run's live charts, whatever order its series arrive in: the slot its
// method's view gives it (train blue, dev vermillion, test green; common/method_view.h), and keys
// no view names are placed by a hash of their name.

#include <QColor>
#include <QString>

namespace frugal::ui {

inline QColor paletteColor(qint64 index) {
    // Okabe-Ito without its black (which reads as an axis or the text, not a run: issue 35), then
    // Tableau's; its red takes black's place
    static const unsigned kColors[] = {0x0072B2, 0xD55E00, 0x009E73, 0xCC79A7, 0xE69F00, 0x56B4E9,
                                       0xD62728, 0x8C564B, 0x7F7F7F, 0xBCBD22, 0x9467BD, 0x17BECF};
    const auto n = static_cast<qint64>(sizeof kColors / sizeof kColors[0]);
    return QColor::fromRgb(kColors[((index % n) + n) % n]);
}

inline QColor runColor(qint64 runId) { return paletteColor(runId); }

// The colour of metric KEY's line in a run's charts (distinct among the keys that share a chart).
QColor seriesColor(const QString& key);

}  // namespace frugal::ui
