#pragma once
// The row of controls that groups runs on a chart: group by (none, everything but the seed, the
// run's name, or one config key), the centre (mean or median), the band (± std, ± sem, 95 % CI,
// min–max, none) and whether each run is drawn faint under its group. The choice is remembered
// across restarts (QSettings "groups/..."). GUI thread.

#include <QStringList>
#include <QWidget>

#include "run_groups.h"

QT_BEGIN_NAMESPACE
class QCheckBox;
class QComboBox;
QT_END_NAMESPACE

namespace frugal::ui {

class GroupControls : public QWidget {
    Q_OBJECT
public:
    explicit GroupControls(QWidget* parent = nullptr);
    GroupSpec spec() const;
    void setSpec(const GroupSpec& spec);
    // The config keys offered as "by KEY" (the keys that differ between the runs shown); the
    // choice is kept when the key is still offered.
    void setKeys(const QStringList& keys);
    // Runs newly loaded: grouped by "everything but the seed" when DEFAULTON (runs share a name or
    // differ only in seeds) and the user has not chosen otherwise for this set of runs.
    void applyDefault(bool defaultOn);
    QComboBox* groupBox() const { return m_by; }
    QComboBox* bandBox() const { return m_band; }

signals:
    void changed();

private:
    void remember();
    void enableSpread();
    QComboBox *m_by, *m_center, *m_band;
    QCheckBox* m_runs;
    bool m_userChose = false;
};

}  // namespace frugal::ui
