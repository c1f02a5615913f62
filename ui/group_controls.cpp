#include "group_controls.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSettings>
#include <QSignalBlocker>
#include <algorithm>

namespace frugal::ui {

GroupControls::GroupControls(QWidget* parent) : QWidget(parent) {
    m_by = new QComboBox(this);
    m_by->addItem(tr("no grouping"), QStringLiteral("none"));
    m_by->addItem(tr("everything but the seed"), QStringLiteral("config"));
    m_by->addItem(tr("run name"), QStringLiteral("name"));
    m_by->setToolTip(tr("Runs in one group are drawn as one line with a band: the seeds of one "
                        "configuration (everything but the seed), the runs of one name, or the runs "
                        "sharing a config key's value"));
    m_center = new QComboBox(this);
    m_center->addItem(tr("mean"), QStringLiteral("mean"));
    m_center->addItem(tr("median"), QStringLiteral("median"));
    m_band = new QComboBox(this);
    m_band->addItem(tr("± std"), QStringLiteral("std"));
    m_band->addItem(tr("± sem"), QStringLiteral("sem"));
    m_band->addItem(tr("95% CI"), QStringLiteral("ci95"));
    m_band->addItem(tr("min–max"), QStringLiteral("minmax"));
    m_band->addItem(tr("no band"), QStringLiteral("none"));
    m_band->setToolTip(tr("± std: the runs' standard deviation (n − 1); ± sem: the standard error of "
                          "the mean; 95% CI: the mean's interval by Student's t with n − 1 degrees "
                          "of freedom; min–max: the extremes"));
    m_runs = new QCheckBox(tr("runs faint"), this);
    m_runs->setToolTip(tr("Each run of a group drawn thin and pale under the group's line"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new QLabel(tr("Group"), this));
    layout->addWidget(m_by);
    layout->addWidget(m_center);
    layout->addWidget(m_band);
    layout->addWidget(m_runs);
    layout->addStretch(1);
    QSettings settings;
    {
        const QSignalBlocker b1(m_center), b2(m_band), b3(m_runs);
        m_center->setCurrentIndex(std::max(0, m_center->findData(settings.value(QStringLiteral("groups/center")))));
        m_band->setCurrentIndex(std::max(0, m_band->findData(settings.value(QStringLiteral("groups/band")))));
        m_runs->setChecked(settings.value(QStringLiteral("groups/runs"), false).toBool());
    }
    for (QComboBox* box : {m_center, m_band})
        connect(box, &QComboBox::currentIndexChanged, this, [this] {
            remember();
            emit changed();
        });
    connect(m_by, &QComboBox::activated, this, [this] { m_userChose = true; });
    connect(m_by, &QComboBox::currentIndexChanged, this, [this] {
        enableSpread();
        emit changed();
    });
    connect(m_runs, &QCheckBox::toggled, this, [this] {
        remember();
        emit changed();
    });
}

void GroupControls::remember() {
    QSettings settings;
    settings.setValue(QStringLiteral("groups/center"), m_center->currentData());
    settings.setValue(QStringLiteral("groups/band"), m_band->currentData());
    settings.setValue(QStringLiteral("groups/runs"), m_runs->isChecked());
}

GroupSpec GroupControls::spec() const {
    GroupSpec s;
    const QString by = m_by->currentData().toString();
    s.by = by == QLatin1String("none")     ? GroupBy::None
           : by == QLatin1String("config") ? GroupBy::Config
           : by == QLatin1String("name")   ? GroupBy::Name
                                           : GroupBy::Key;
    if (s.by == GroupBy::Key) s.key = by.mid(4);
    s.center = *stats::centerNamed(m_center->currentData().toString().toStdString());
    s.spread = *stats::spreadNamed(m_band->currentData().toString().toStdString());
    s.showRuns = m_runs->isChecked();
    return s;
}

void GroupControls::setSpec(const GroupSpec& s) {
    {
        const QSignalBlocker block(this);
        const QString by = s.by == GroupBy::None     ? QStringLiteral("none")
                           : s.by == GroupBy::Config ? QStringLiteral("config")
                           : s.by == GroupBy::Name   ? QStringLiteral("name")
                                                     : QStringLiteral("key:") + s.key;
        if (m_by->findData(by) < 0 && s.by == GroupBy::Key) m_by->addItem(tr("by %1").arg(s.key), by);
        m_by->setCurrentIndex(std::max(0, m_by->findData(by)));
        m_center->setCurrentIndex(std::max(0, m_center->findData(QString::fromLatin1(stats::centerName(s.center).data()))));
        m_band->setCurrentIndex(std::max(0, m_band->findData(QString::fromLatin1(stats::spreadName(s.spread).data()))));
        m_runs->setChecked(s.showRuns);
        m_userChose = true;
    }
    emit changed();
}

void GroupControls::setKeys(const QStringList& keys) {
    const QSignalBlocker block(m_by);
    const QString was = m_by->currentData().toString();
    while (m_by->count() > 3) m_by->removeItem(3);
    for (const QString& k : keys)
        if (!isSeedKey(k)) m_by->addItem(tr("by %1").arg(k), QStringLiteral("key:") + k);
    const int at = m_by->findData(was);
    m_by->setCurrentIndex(at < 0 ? 0 : at);
}

void GroupControls::applyDefault(bool defaultOn) {
    if (m_userChose) return;
    const QSignalBlocker block(m_by);
    m_by->setCurrentIndex(defaultOn ? 1 : 0);
    enableSpread();
}

void GroupControls::enableSpread() {
    const bool grouped = m_by->currentIndex() > 0;  // "no grouping" has no centre or band
    for (QWidget* w : {static_cast<QWidget*>(m_center), static_cast<QWidget*>(m_band), static_cast<QWidget*>(m_runs)})
        w->setEnabled(grouped);
}

}  // namespace frugal::ui
