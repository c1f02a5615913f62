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
class QPainter;
class QLabel;
class QSlider;
QT_END_NAMESPACE

namespace frugal::ui {

// What a heatmap's axes say: each one's title and either its values (a landscape's α and β, one per
// cell, the centre at 0 marked) or its names (per-layer figures: "layer 3", a block's matrices),
// else cell indices.
struct HeatmapAxes {
    QString rowTitle, columnTitle;
    QVector<float> rowValues, columnValues;
    QStringList rowNames, columnNames;
    bool markCentre = false;  // a cross where both values are 0
};
// The axes for vector series KEY: a 2-D landscape slice over AXIS (β down the rows, α along the
// columns); per-matrix sparsity (layers down, MATRIXNAMES along: the block's linear layers in
// order, or their indices); otherwise indices.
HeatmapAxes heatmapAxesFor(const QString& key, const QVector<float>& axis, const QStringList& matrixNames,
                           qint64 rows, qint64 columns);
// The matrix order a pruning run logged ("matrix order: q_proj, k_proj, ..."), from its LOGS.
QStringList matrixNamesFromLogs(const QStringList& logs);

class VectorPlot : public QWidget {
    Q_OBJECT
public:
    enum class Mode { Empty, Bars, Line, Heatmap, Lines };
    explicit VectorPlot(QWidget* parent = nullptr);
    void setFrame(const QString& title, const VectorFrame& frame);
    // Every frame of a 1-D series as one line coloured by its step (viridis: early dark, late
    // yellow, with a step colour bar), frame CURRENT drawn thicker and black-edged; AXIS (empty,
    // or one x per value: a slice's grid) gives the x coordinates. A live landscape's slices.
    void setLines(const QString& title, const QVector<VectorFrame>& frames, int current,
                  const QVector<float>& axis = {});
    int lineCount() const { return static_cast<int>(m_frames.size()); }
    // The same frames, mode and range as OTHER (an export's copy).
    void copyFrom(const VectorPlot& other) {
        m_mode = other.m_mode;
        m_fixedRange = other.m_fixedRange;
        m_fixedLo = other.m_fixedLo;
        m_fixedHi = other.m_fixedHi;
        m_title = other.m_title;
        m_frame = other.m_frame;
        m_frames = other.m_frames;
        m_axis = other.m_axis;
        m_current = other.m_current;
        m_heatmapAxes = other.m_heatmapAxes;
        update();
    }
    // A colour (or value) range shared with other plots, so that surfaces side by side compare;
    // lo >= hi: each plot's own extremes again.
    void setFixedRange(double lo, double hi) {
        m_fixedRange = lo < hi;
        m_fixedLo = static_cast<float>(lo);
        m_fixedHi = static_cast<float>(hi);
        update();
    }
    // The heatmap's axes (titles, values or names); kept until set again.
    void setHeatmapAxes(const HeatmapAxes& axes) {
        m_heatmapAxes = axes;
        update();
    }
    const HeatmapAxes& heatmapAxes() const { return m_heatmapAxes; }
    // A heatmap's cell under widget position POS ({-1, -1} outside), and what hovering it says
    // ("α 0.1, β -0.2: 2.31", "layer 3 · q_proj: 0.5").
    QPoint cellAt(const QPointF& pos) const;
    QString cellText(const QPoint& cell) const;
    Mode mode() const { return m_mode; }
    bool hasFixedRange() const { return m_fixedRange; }
    double fixedLo() const { return m_fixedLo; }
    double fixedHi() const { return m_fixedHi; }
    qint64 currentStep() const { return m_frame.step; }
    QSize sizeHint() const override { return {360, 220}; }

protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;

private:
    void paintLines(QPainter& p);
    // The heatmap's image area at this size.
    QRect heatmapArea() const;
    void paintHeatmapAxes(QPainter& p, const QRect& area) const;
    Mode m_mode = Mode::Empty;
    bool m_fixedRange = false;
    float m_fixedLo = 0, m_fixedHi = 1;
    QString m_title;
    VectorFrame m_frame;
    QVector<VectorFrame> m_frames;  // Lines
    QVector<float> m_axis;
    int m_current = 0;
    HeatmapAxes m_heatmapAxes;
    QPoint m_hoverCell{-1, -1};
};

// True when the 1-D frames of KEY are a slice to draw as lines by step (landscape/slice1d and
// the like).
bool isSliceKey(const QString& key);

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
    // The names of a block's matrices, in order, for per-matrix heatmaps (matrixNamesFromLogs).
    void setMatrixNames(const QStringList& names) { m_matrixNames = names; }
    VectorPlot* plot() const { return m_plot; }

private:
    void show(int stepIndex);
    QMap<QString, QVector<VectorFrame>> m_series;
    QVector<float> m_axis;  // landscape/axis, when the run has it
    QStringList m_preferred;
    QStringList m_matrixNames;
    QComboBox* m_key;
    QSlider* m_step;
    QLabel* m_stepLabel;
    VectorPlot* m_plot;
};

// Renders FIGURE (shown off screen, at its size) to PATH: .png at DPI, .svg, or .pdf of WIDTHMM x
// HEIGHTMM (vector). Returns "" or the error, naming the file.
QString exportFigure(QWidget& figure, const QString& path, double widthMm, double heightMm, double dpi);

// Viridis, T in [0, 1].
QColor viridis(double t);

}  // namespace frugal::ui
