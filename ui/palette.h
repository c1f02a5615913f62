#pragma once
// One colour per run, the same in every view (runs table, live charts, compare, exports):
// Okabe-Ito's colour-blind-safe palette, then Tableau's, picked by run id.

#include <QColor>

namespace frugal::ui {

inline QColor runColor(qint64 runId) {
    static const unsigned kColors[] = {0x0072B2, 0xD55E00, 0x009E73, 0xCC79A7, 0xE69F00, 0x56B4E9,
                                       0x000000, 0x8C564B, 0x7F7F7F, 0xBCBD22, 0x9467BD, 0x17BECF};
    const auto n = static_cast<qint64>(sizeof kColors / sizeof kColors[0]);
    return QColor::fromRgb(kColors[((runId % n) + n) % n]);
}

}  // namespace frugal::ui
