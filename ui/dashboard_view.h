#pragma once
// Every metric of the compared runs at once: a grid of panels, one MetricChart per metric key
// (grouped and banded as the Compare view's chart is), their x axes linked (a zoom, pan or fit in
// one is the view of all) and their crosshairs synchronised (hovering one marks the same x in
// all); a filter picks the panels by name. GUI thread.

#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>

#include "run_groups.h"
#include "store_service.h"

QT_BEGIN_NAMESPACE
class QGridLayout;
class QLabel;
class QLineEdit;
QT_END_NAMESPACE

namespace frugal::ui {

class MetricChart;
struct ChartOptions;

class DashboardView : public QWidget {
    Q_OBJECT
public:
    explicit DashboardView(QWidget* parent = nullptr);
    // The runs and their groups (as Compare groups them), drawn under SPEC with OPTIONS.
    void setRuns(const QVector<RunData>& runs, const QVector<RunGroup>& groups, const GroupSpec& spec,
                 bool relative);
    void setOptions(const ChartOptions& options);
    // The panels shown (those whose key contains the filter's text; all when it is empty).
    QVector<MetricChart*> panels() const { return m_panels; }
    QStringList panelKeys() const;
    // The metrics each run holds one number of, as the table above the panels shows them.
    QString numbersText() const;
    void setFilter(const QString& text);
    QString filter() const;

private:
    void rebuild();
    void linkPanels();
    QVector<RunData> m_runs;
    QVector<RunGroup> m_groups;
    GroupSpec m_spec;
    bool m_relative = false;
    QLineEdit* m_filter;
    QLabel* m_caption;
    QLabel* m_numbers;  // the metrics that are one number a run: a table, not lone dots
    QWidget* m_grid;
    QGridLayout* m_gridLayout;
    QVector<MetricChart*> m_panels;
    bool m_linking = false;
};

}  // namespace frugal::ui
