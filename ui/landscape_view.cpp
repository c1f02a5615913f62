#include "landscape_view.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QDir>
#include <QHBoxLayout>
#include <QImage>
#include <QLabel>
#include <QOpenGLContext>
#include <QPixmap>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSplitter>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "common/metric_keys.h"
#include "metric_chart.h"
#include "palette.h"
#include "vector_plot.h"

#ifdef FRUGAL_HAVE_DATAVIS
#include <QCustom3DLabel>
#include <QLinearGradient>
#include <Q3DSurface>
#include <Q3DTheme>
#include <QSurface3DSeries>
#include <QSurfaceDataProxy>
#include <QValue3DAxis>
#endif

namespace frugal::ui {

int LandscapeGrid::centreIndex() const {
    int best = 0;
    for (int i = 1; i < n(); ++i)
        if (std::abs(axis[static_cast<size_t>(i)]) < std::abs(axis[static_cast<size_t>(best)])) best = i;
    return best;
}

bool landscapeOf(const RunData& run, LandscapeGrid& out) {
    const auto slices = run.vectors.value(QString::fromLatin1(metrics::kSlice2d));
    const auto axes = run.vectors.value(QString::fromLatin1(metrics::kLandscapeAxis));
    if (slices.isEmpty() || axes.isEmpty()) return false;
    const VectorFrame& f = slices.last();
    const VectorFrame& axis = axes.last();
    const qint64 n = axis.data.size();
    if (f.shape.size() != 2 || f.shape[0] != n || f.shape[1] != n || f.data.size() != n * n || n < 2) return false;
    out = LandscapeGrid{};
    out.runId = run.row.id;
    out.label = QStringLiteral("%1 %2").arg(run.row.id).arg(run.row.name);
    out.axis.assign(axis.data.begin(), axis.data.end());
    out.loss.assign(f.data.begin(), f.data.end());
    const int c = out.centreIndex();
    out.centre = out.at(c, c);
    return true;
}

bool landscapeDifference(const LandscapeGrid& a, const LandscapeGrid& b, LandscapeGrid& out, QString* why) {
    if (a.axis != b.axis) {
        if (why)
            *why = QStringLiteral("the grids differ (%1 points over [%2, %3] against %4 over [%5, %6])")
                       .arg(a.n())
                       .arg(a.axis.front())
                       .arg(a.axis.back())
                       .arg(b.n())
                       .arg(b.axis.front())
                       .arg(b.axis.back());
        return false;
    }
    out = a;
    out.runId = 0;
    out.label = QStringLiteral("%1 − %2").arg(a.label, b.label);
    for (size_t i = 0; i < out.loss.size(); ++i) out.loss[i] = a.loss[i] - b.loss[i];
    out.centre = a.centre - b.centre;
    return true;
}

#ifdef FRUGAL_HAVE_DATAVIS
struct LandscapeView::Surface {
    Q3DSurface* graph = nullptr;
    QSurface3DSeries* series = nullptr;
    QCustom3DLabel* centre = nullptr;
};
#else
struct LandscapeView::Surface {};
#endif

namespace {

// Whether this display can draw the 3-D graph: OpenGL on a real window system. The offscreen
// platform (the tests, headless exports) has no window to contain it, even where it finds a GLX
// display to make a context on.
[[maybe_unused]] bool openGlAvailable() {
    if (QGuiApplication::platformName() == QLatin1String("offscreen")) return false;
    QOpenGLContext context;
    return context.create();
}

}  // namespace

LandscapeView::LandscapeView(QWidget* parent) : QWidget(parent) {
    m_show = new QComboBox(this);
    m_minus = new QComboBox(this);
    m_minus->setToolTip(tr("Subtract another landscape on the same grid: the difference, on a scale "
                           "symmetric about zero"));
    m_caption = new QLabel(this);
    m_caption->setWordWrap(true);
    m_export = new QPushButton(tr("Export PNG…"), this);
    m_heatmap = new VectorPlot(this);
    m_cutAlpha = new MetricChart(tr("cut through the centre along α (β = 0)"), tr("loss"), this);
    m_cutBeta = new MetricChart(tr("cut through the centre along β (α = 0)"), tr("loss"), this);
    for (MetricChart* cut : {m_cutAlpha, m_cutBeta}) {
        ChartOptions raw;
        raw.smoothing = 0;  // a cut is a function of α, never smoothed
        cut->setOptions(raw);
        cut->setMinimumSize(220, 90);
    }
    m_cutAlpha->setStepAxisLabel(tr("α"));
    m_cutBeta->setStepAxisLabel(tr("β"));
    m_surfaceBox = new QWidget(this);
    auto* surfaceLayout = new QVBoxLayout(m_surfaceBox);
    surfaceLayout->setContentsMargins(0, 0, 0, 0);
    QString without;
#ifdef FRUGAL_HAVE_DATAVIS
    if (openGlAvailable()) {
        m_surface = new Surface;
        m_surface->graph = new Q3DSurface;
        m_surface->series = new QSurface3DSeries;
        m_surface->series->setDrawMode(QSurface3DSeries::DrawSurfaceAndWireframe);
        m_surface->series->setFlatShadingEnabled(false);
        QLinearGradient gradient;
        for (int i = 0; i <= 8; ++i) gradient.setColorAt(i / 8.0, viridis(i / 8.0));
        m_surface->series->setBaseGradient(gradient);
        m_surface->series->setColorStyle(Q3DTheme::ColorStyleRangeGradient);
        m_surface->series->setItemLabelFormat(QStringLiteral("α @xLabel, β @zLabel: loss @yLabel"));
        m_surface->graph->addSeries(m_surface->series);
        m_surface->graph->axisX()->setTitle(tr("α"));
        m_surface->graph->axisZ()->setTitle(tr("β"));
        m_surface->graph->axisY()->setTitle(tr("loss"));
        for (QValue3DAxis* a : {m_surface->graph->axisX(), m_surface->graph->axisY(), m_surface->graph->axisZ()}) {
            a->setTitleVisible(true);
            a->setLabelFormat(QStringLiteral("%.3g"));
        }
        m_surface->graph->scene()->activeCamera()->setCameraPreset(Q3DCamera::CameraPresetIsometricRight);
        m_surface->graph->scene()->activeCamera()->setZoomLevel(88);
        {
            // labels a reader can read at this size: the theme's text larger, on white
            Q3DTheme* theme = m_surface->graph->activeTheme();
            QFont f = theme->font();
            f.setPointSize(64);
            theme->setFont(f);
            theme->setLabelBorderEnabled(false);
        }
        m_surface->centre = new QCustom3DLabel;
        m_surface->centre->setText(tr("centre θ₀"));
        m_surface->centre->setFacingCamera(true);
        m_surface->centre->setScaling(QVector3D(1.0f, 1.0f, 1.0f));
        {
            QFont f = m_surface->centre->font();
            f.setPointSize(64);
            f.setBold(true);
            m_surface->centre->setFont(f);
        }
        m_surface->centre->setTextColor(QColor(0xD5, 0x5E, 0x00));
        m_surface->graph->addCustomItem(m_surface->centre);
        QWidget* container = QWidget::createWindowContainer(m_surface->graph, m_surfaceBox);
        container->setMinimumSize(300, 220);
        container->setToolTip(tr("Drag with the right button to rotate, wheel to zoom; click the surface for a value"));
        surfaceLayout->addWidget(container, 1);
        m_heatmap->hide();
    } else {
        without = tr("3-D needs OpenGL, which this display does not give; the heatmap shows the same grid");
    }
#else
    without = tr("this build has no Qt Data Visualization (qt6-datavisualization-dev); the heatmap shows the grid");
#endif
    surfaceLayout->addWidget(m_heatmap, 1);
    if (!without.isEmpty()) m_caption->setToolTip(without);
    m_heatmap->setProperty("without3d", without);
    auto* cuts = new QWidget(this);
    m_cuts = cuts;
    auto* cutsLayout = new QVBoxLayout(cuts);
    cutsLayout->setContentsMargins(0, 0, 0, 0);
    cutsLayout->addWidget(m_cutAlpha, 1);
    cutsLayout->addWidget(m_cutBeta, 1);
    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(m_surfaceBox);
    split->addWidget(cuts);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Landscape"), this));
    top->addWidget(m_show, 1);
    top->addWidget(new QLabel(tr("minus"), this));
    top->addWidget(m_minus, 1);
    top->addWidget(m_export);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(m_caption);
    layout->addWidget(split, 1);
    const auto choose = [this] {
        const int minus = m_minus->currentIndex() - 1;  // 0: nothing subtracted
        if (minus >= 0 && minus != m_show->currentIndex()) showDifference(m_show->currentIndex(), minus);
        else showLandscape(m_show->currentIndex());
    };
    connect(m_show, &QComboBox::currentIndexChanged, this, choose);
    connect(m_minus, &QComboBox::currentIndexChanged, this, choose);
    connect(m_export, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export the landscape"),
                                                          QDir::home().filePath(QStringLiteral("landscape.png")),
                                                          tr("PNG (*.png)"));
        if (path.isEmpty()) return;
        const QString error = exportPng(path, QSize(1600, 1200));
        m_caption->setText(error.isEmpty() ? tr("wrote %1").arg(path) : error);
    });
}

LandscapeView::~LandscapeView() { delete m_surface; }

bool LandscapeView::surfaceShown() const { return m_surface != nullptr; }

QString LandscapeView::caption() const { return m_caption->text(); }

void LandscapeView::setRuns(const QVector<RunData>& runs) {
    m_grids.clear();
    for (const RunData& r : runs) {
        LandscapeGrid g;
        if (landscapeOf(r, g)) m_grids << g;
    }
    // one scale for all: the lowest and highest finite loss over every landscape
    m_lo = INFINITY;
    m_hi = -INFINITY;
    for (const LandscapeGrid& g : m_grids)
        for (double v : g.loss)
            if (std::isfinite(v)) m_lo = std::min(m_lo, v), m_hi = std::max(m_hi, v);
    if (!(m_lo < m_hi)) m_lo = 0, m_hi = 1;
    {
        const QSignalBlocker b1(m_show), b2(m_minus);
        m_show->clear();
        m_minus->clear();
        m_minus->addItem(tr("(nothing)"));
        for (const LandscapeGrid& g : m_grids) {
            m_show->addItem(g.label);
            m_minus->addItem(g.label);
        }
    }
    // no landscape: the sentence alone, no empty graph and axes
    m_surfaceBox->setVisible(!m_grids.isEmpty());
    m_cuts->setVisible(!m_grids.isEmpty());
    m_show->setEnabled(!m_grids.isEmpty());
    m_minus->setEnabled(m_grids.size() > 1);
    m_export->setEnabled(!m_grids.isEmpty());
    fillCuts();
    if (m_grids.isEmpty()) {
        m_caption->setText(tr("None of these runs has a 2-D landscape (run the landscape method with dims = 2)"));
        return;
    }
    showLandscape(0);
}

void LandscapeView::showLandscape(int index) {
    if (index < 0 || index >= m_grids.size()) return;
    {
        const QSignalBlocker b1(m_show), b2(m_minus);
        m_show->setCurrentIndex(index);
        m_minus->setCurrentIndex(0);
    }
    m_shown = m_grids[index];
    showGrid(m_shown, m_lo, m_hi, false);
}

void LandscapeView::showDifference(int a, int b) {
    if (a < 0 || b < 0 || a >= m_grids.size() || b >= m_grids.size()) return;
    {
        const QSignalBlocker b1(m_show), b2(m_minus);
        m_show->setCurrentIndex(a);
        m_minus->setCurrentIndex(b + 1);
    }
    QString why;
    LandscapeGrid d;
    if (!landscapeDifference(m_grids[a], m_grids[b], d, &why)) {
        m_caption->setText(tr("No difference: %1").arg(why));
        return;
    }
    double m = 0;
    for (double v : d.loss)
        if (std::isfinite(v)) m = std::max(m, std::abs(v));
    if (m == 0) m = 1;
    m_shown = d;
    showGrid(m_shown, -m, m, true);
}

void LandscapeView::showGrid(const LandscapeGrid& g, double lo, double hi, bool difference) {
    size_t nonFinite = 0;
    for (double v : g.loss) nonFinite += !std::isfinite(v);
    const QString scale = difference ? tr("difference on [%1, %2], symmetric about 0").arg(lo, 0, 'g', 4).arg(hi, 0, 'g', 4)
                          : m_grids.size() > 1
                              ? tr("%1 landscapes on one scale [%2, %3]").arg(m_grids.size()).arg(lo, 0, 'g', 4).arg(hi, 0, 'g', 4)
                              : tr("loss on [%1, %2]").arg(lo, 0, 'g', 4).arg(hi, 0, 'g', 4);
    QString text = tr("%1: %2 × %2 grid, α, β in [%3, %4]; centre %5; %6")
                       .arg(g.label)
                       .arg(g.n())
                       .arg(g.axis.front(), 0, 'g', 3)
                       .arg(g.axis.back(), 0, 'g', 3)
                       .arg(g.centre, 0, 'g', 5)
                       .arg(scale);
    if (nonFinite) text += tr("; %n point(s) NaN or infinite, drawn at the top of the scale", nullptr, static_cast<int>(nonFinite));
    const QString without = m_heatmap->property("without3d").toString();
    if (!without.isEmpty()) text += QStringLiteral(" (") + without + QLatin1Char(')');
    m_caption->setText(text);
    // the heatmap: the same grid, the same scale
    VectorFrame frame;
    frame.shape = {g.n(), g.n()};
    for (double v : g.loss) frame.data << static_cast<float>(v);
    const QVector<float> axis(g.axis.begin(), g.axis.end());
    m_heatmap->setHeatmapAxes(heatmapAxesFor(QString::fromLatin1(metrics::kSlice2d), axis, {}, g.n(), g.n()));
    m_heatmap->setFrame(g.label, frame);
    m_heatmap->setFixedRange(lo, hi);
#ifdef FRUGAL_HAVE_DATAVIS
    if (m_surface) {
        auto* array = new QSurfaceDataArray;
        array->reserve(g.n());
        for (int b = 0; b < g.n(); ++b) {
            auto* row = new QSurfaceDataRow(g.n());
            for (int a = 0; a < g.n(); ++a) {
                const double v = g.at(b, a);
                (*row)[a].setPosition(QVector3D(static_cast<float>(g.axis[static_cast<size_t>(a)]),
                                                static_cast<float>(std::isfinite(v) ? v : hi),
                                                static_cast<float>(g.axis[static_cast<size_t>(b)])));
            }
            *array << row;
        }
        m_surface->series->dataProxy()->resetArray(array);
        m_surface->graph->axisY()->setRange(static_cast<float>(lo), static_cast<float>(hi));
        m_surface->graph->axisX()->setRange(static_cast<float>(g.axis.front()), static_cast<float>(g.axis.back()));
        m_surface->graph->axisZ()->setRange(static_cast<float>(g.axis.front()), static_cast<float>(g.axis.back()));
        // just above the surface at the centre, so that the surface does not hide it
        m_surface->centre->setPosition(QVector3D(0, static_cast<float>(g.centre + 0.06 * (hi - lo)), 0));
        m_surface->centre->setText(difference ? tr("centre Δ %1").arg(g.centre, 0, 'g', 4)
                                              : tr("centre θ₀ %1").arg(g.centre, 0, 'g', 4));
    }
#endif
    fillCuts();
}

void LandscapeView::fillCuts() {
    for (MetricChart* cut : {m_cutAlpha, m_cutBeta}) cut->clearLines();
    const bool difference = m_shown.runId == 0 && !m_grids.isEmpty();
    const QVector<LandscapeGrid> lines = difference ? QVector<LandscapeGrid>{m_shown} : m_grids;
    for (int i = 0; i < lines.size(); ++i) {
        const LandscapeGrid& g = lines[i];
        const int c = g.centreIndex();
        const QColor color = difference ? QColor(0x42, 0x42, 0x42) : runColor(g.runId);
        const int a = m_cutAlpha->addLine(g.label, color), b = m_cutBeta->addLine(g.label, color);
        for (int j = 0; j < g.n(); ++j) {
            m_cutAlpha->append(a, g.axis[static_cast<size_t>(j)], 0, g.at(c, j));
            m_cutBeta->append(b, g.axis[static_cast<size_t>(j)], 0, g.at(j, c));
        }
    }
    for (MetricChart* cut : {m_cutAlpha, m_cutBeta}) {
        cut->setYLabel(difference ? tr("loss difference") : tr("loss"));
        cut->redrawNow();
    }
}

QString LandscapeView::exportPng(const QString& path, const QSize& size) {
    if (m_grids.isEmpty()) return tr("no landscape to export");
    QDir().mkpath(QFileInfo(path).absolutePath());
    QImage image;
#ifdef FRUGAL_HAVE_DATAVIS
    if (m_surface) image = m_surface->graph->renderToImage(0, size);
#endif
    if (image.isNull()) image = m_heatmap->grab().toImage().scaled(size, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    if (image.isNull() || !image.save(path, "PNG")) return tr("%1: could not be written").arg(path);
    return {};
}

}  // namespace frugal::ui
