#include "chart_controls.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>

namespace frugal::ui {

ChartControls::ChartControls(QWidget* parent) : QWidget(parent) {
    m_smoothing = new QSlider(Qt::Horizontal, this);
    m_smoothing->setRange(0, 999);
    m_smoothing->setValue(600);
    m_smoothing->setMaximumWidth(160);
    m_smoothing->setToolTip(
        tr("TensorBoard's debiased EMA weight; the raw line stays faint behind"));
    m_smoothingValue = new QLabel(this);
    m_smoothingValue->setMinimumWidth(40);
    m_xAxis = new QComboBox(this);
    m_xAxis->addItem(tr("step"), static_cast<int>(XAxisKind::Step));
    m_xAxis->addItem(tr("forward passes"), static_cast<int>(XAxisKind::ForwardPasses));
    m_xAxis->addItem(tr("wall time"), static_cast<int>(XAxisKind::WallTime));
    m_logX = new QCheckBox(tr("log x"), this);
    m_logY = new QCheckBox(tr("log y"), this);
    m_fit = new QPushButton(tr("Fit"), this);
    m_fit->setToolTip(
        tr("Show all the data again (or double click a chart). Wheel: zoom x; drag: zoom to a "
           "rectangle; shift+drag: pan"));
    m_export = new QPushButton(tr("Export…"), this);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new QLabel(tr("Smoothing"), this));
    layout->addWidget(m_smoothing);
    layout->addWidget(m_smoothingValue);
    layout->addSpacing(12);
    layout->addWidget(new QLabel(tr("x axis"), this));
    layout->addWidget(m_xAxis);
    layout->addWidget(m_logX);
    layout->addWidget(m_logY);
    layout->addWidget(m_fit);
    layout->addStretch(1);
    layout->addWidget(m_export);
    connect(m_smoothing, &QSlider::valueChanged, this, &ChartControls::changed);
    connect(m_xAxis, &QComboBox::currentIndexChanged, this, &ChartControls::changed);
    connect(m_logX, &QCheckBox::toggled, this, &ChartControls::changed);
    connect(m_logY, &QCheckBox::toggled, this, &ChartControls::changed);
    connect(m_fit, &QPushButton::clicked, this, &ChartControls::fitRequested);
    m_smoothingValue->setText(QString::number(options().smoothing, 'f', 3));
}

ChartOptions ChartControls::options() const {
    ChartOptions o;
    o.smoothing = m_smoothing->value() / 1000.0;
    o.xAxis = static_cast<XAxisKind>(m_xAxis->currentData().toInt());
    o.logX = m_logX->isChecked();
    o.logY = m_logY->isChecked();
    return o;
}

void ChartControls::setOptions(const ChartOptions& o) {
    const QSignalBlocker a(m_smoothing), b(m_xAxis), c(m_logX), d(m_logY);
    m_smoothing->setValue(static_cast<int>(o.smoothing * 1000 + 0.5));
    m_xAxis->setCurrentIndex(m_xAxis->findData(static_cast<int>(o.xAxis)));
    m_logX->setChecked(o.logX);
    m_logY->setChecked(o.logY);
    changed();
}

void ChartControls::changed() {
    m_smoothingValue->setText(QString::number(options().smoothing, 'f', 3));
    emit optionsChanged(options());
}

}  // namespace frugal::ui
