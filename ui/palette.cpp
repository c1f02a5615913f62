#include "palette.h"

#include "run/method_registry.h"

namespace frugal::ui {

QColor seriesColor(const QString& key) {
    // the slot the method rows' views give the key (run::metricSlot; the keys sharing a chart
    // never share a slot), else a hash of the name
    if (const int slot = run::metricSlot(key.toStdString()); slot >= 0) return paletteColor(slot);
    quint32 h = 2166136261u;  // FNV-1a over the UTF-16 code units: the same on every machine
    for (const QChar c : key) h = (h ^ c.unicode()) * 16777619u;
    return paletteColor(static_cast<qint64>(h % 12));
}

}  // namespace frugal::ui
