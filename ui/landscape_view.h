#pragma once
// The loss landscape of one or more runs: the 2-D slice as a rotatable 3-D surface (Qt Data
// Visualization's Q3DSurface, where this build has it and the display gives OpenGL), α and β on
// its floor, the loss up, the centre (θ₀) marked; beside it the two 1-D cuts through the centre
// (β = 0 and α = 0), a line per landscape; every landscape on one colour and height scale, and the
// difference of two (A − B, on a scale symmetric about zero). Exported as PNG. GUI thread.

#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>
#include <vector>

#include "store_service.h"

QT_BEGIN_NAMESPACE
class QComboBox;
class QLabel;
class QPushButton;
QT_END_NAMESPACE

namespace frugal::ui {

class MetricChart;
class VectorPlot;

// One landscape: the grid (AXIS along α and along β), the loss at [β row][α column], the
// centre's loss, the run it is of.
struct LandscapeGrid {
    qint64 runId = 0;
    QString label;
    std::vector<double> axis;
    std::vector<double> loss;  // n × n, row-major over β
    double centre = 0;         // the loss at α = β = 0 (the grid point nearest it)
    int n() const { return static_cast<int>(axis.size()); }
    double at(int beta, int alpha) const { return loss[static_cast<size_t>(beta) * axis.size() + static_cast<size_t>(alpha)]; }
    // The index of the grid point nearest 0 on the axis.
    int centreIndex() const;
};

// RUN's last 2-D slice (landscape/slice2d with landscape/axis); none when it has no square one.
bool landscapeOf(const RunData& run, LandscapeGrid& out);
// A − B on their common grid (same axis); false (and WHY) when the grids differ.
bool landscapeDifference(const LandscapeGrid& a, const LandscapeGrid& b, LandscapeGrid& out, QString* why);

class LandscapeView : public QWidget {
    Q_OBJECT
public:
    explicit LandscapeView(QWidget* parent = nullptr);
    ~LandscapeView() override;
    void setRuns(const QVector<RunData>& runs);
    // The landscapes found, the one shown (an index into them, or the difference of the two
    // chosen), and the shared scale [lo, hi] of the loss.
    const QVector<LandscapeGrid>& landscapes() const { return m_grids; }
    const LandscapeGrid& shown() const { return m_shown; }
    void showLandscape(int index);
    void showDifference(int a, int b);
    double scaleLo() const { return m_lo; }
    double scaleHi() const { return m_hi; }
    // The 1-D cuts through the centre: along α (β = 0) and along β (α = 0).
    MetricChart* cutAlpha() const { return m_cutAlpha; }
    MetricChart* cutBeta() const { return m_cutBeta; }
    // Whether the 3-D surface is shown (false: no OpenGL here, or a build without Qt Data
    // Visualization; the heatmap takes its place, and the caption says why).
    bool surfaceShown() const;
    QString caption() const;
    // Writes the surface (or the heatmap) to PATH as PNG at SIZE; "" or the error.
    QString exportPng(const QString& path, const QSize& size);

private:
    void fillCuts();
    void showGrid(const LandscapeGrid& grid, double lo, double hi, bool difference);
    struct Surface;
    Surface* m_surface = nullptr;  // the 3-D graph, when there is one
    QVector<LandscapeGrid> m_grids;
    LandscapeGrid m_shown;
    double m_lo = 0, m_hi = 1;
    QComboBox *m_show, *m_minus;
    QLabel* m_caption;
    QPushButton* m_export;
    QWidget* m_surfaceBox;
    QWidget* m_cuts = nullptr;
    VectorPlot* m_heatmap;
    MetricChart *m_cutAlpha, *m_cutBeta;
};

}  // namespace frugal::ui
