#pragma once
// A generic view of a run's vector series (store::logVector): a 1-D vector as per-index bars
// (up to 64 values: per-layer sparsity, per-layer sharpness) or as a line (longer: a loss slice),
// a 2-D one as a heatmap with contour lines and a colour bar (a loss-landscape grid). A slider picks the step.
// GUI thread.

#include <QVector>
#include <QWidget>

#include "store_service.h"

QT_BEGIN_NAMESPACE
class QComboBox;
class QLabel;
class QSlider;
QT_END_NAMESPACE

namespace frugal::ui {

class VectorPlot : public QWidget {
    Q_OBJECT
public:
    enum class Mode { Empty, Bars, Line, Heatmap };
    explicit VectorPlot(QWidget* parent = nullptr);
    void setFrame(const QString& title, const VectorFrame& frame);
    // A colour (or value) range shared with other plots, so that surfaces side by side compare;
    // lo >= hi: each plot's own extremes again.
    void setFixedRange(double lo, double hi) {
        m_fixedRange = lo < hi;
        m_fixedLo = static_cast<float>(lo);
        m_fixedHi = static_cast<float>(hi);
        update();
    }
    Mode mode() const { return m_mode; }
    QSize sizeHint() const override { return {360, 220}; }

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    Mode m_mode = Mode::Empty;
    bool m_fixedRange = false;
    float m_fixedLo = 0, m_fixedHi = 1;
    QString m_title;
    VectorFrame m_frame;
};

// Key and step pickers over a run's vector series, feeding a VectorPlot.
class VectorPanel : public QWidget {
    Q_OBJECT
public:
    explicit VectorPanel(QWidget* parent = nullptr);
    void setSeries(const QMap<QString, QVector<VectorFrame>>& series);
    // The key shown first when a run's series arrive and it has that key (the per-matrix
    // sparsity of a pruning run, a landscape's surface); empty: the first key.
    void setPreferredKeys(const QStringList& keys) { m_preferred = keys; }
    bool isEmpty() const { return m_series.isEmpty(); }
    VectorPlot* plot() const { return m_plot; }

private:
    void show(int stepIndex);
    QMap<QString, QVector<VectorFrame>> m_series;
    QStringList m_preferred;
    QComboBox* m_key;
    QSlider* m_step;
    QLabel* m_stepLabel;
    VectorPlot* m_plot;
};

// Viridis, T in [0, 1].
QColor viridis(double t);

}  // namespace frugal::ui
