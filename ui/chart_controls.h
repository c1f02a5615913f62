#pragma once
// The row of chart settings shared by the live and compare views: smoothing (TensorBoard's EMA
// weight, 0 to 0.999), x axis (step, forward passes, wall time), log x, log y, fit. GUI thread.

#include <QWidget>

#include "metric_chart.h"

QT_BEGIN_NAMESPACE
class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QSlider;
QT_END_NAMESPACE

namespace frugal::ui {

class ChartControls : public QWidget {
    Q_OBJECT
public:
    explicit ChartControls(QWidget* parent = nullptr);
    ChartOptions options() const;
    void setOptions(const ChartOptions& options);
    QPushButton* exportButton() const { return m_export; }

signals:
    void optionsChanged(const frugal::ui::ChartOptions& options);
    void fitRequested();

private:
    void changed();
    QSlider* m_smoothing;
    QLabel* m_smoothingValue;
    QComboBox* m_xAxis;
    QCheckBox *m_logX, *m_logY;
    QPushButton *m_fit, *m_export;
};

}  // namespace frugal::ui
