#pragma once
// The export dialog: format (PNG, SVG, PDF, CSV), title, physical size (a paper's single or
// double column, or any width), resolution and file. It writes the chart as it was when the dialog
// opened (a snapshot), whatever the chart shows by then (a queued run started meanwhile). GUI
// thread.

#include <QDialog>
#include <memory>

#include "chart_export.h"

QT_BEGIN_NAMESPACE
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;
QT_END_NAMESPACE

namespace frugal::ui {

class MetricChart;

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    ExportDialog(const MetricChart& chart, const QString& suggestedPath, QWidget* parent = nullptr);
    ~ExportDialog() override;
    ExportOptions options() const;
    void setOptions(const ExportOptions& options);
    QString lastError() const { return m_error; }

public slots:
    void exportNow();  // writes the file; closes on success, shows the message otherwise

private:
    void formatChanged();
    void widthPresetChanged();
    void browse();

    std::unique_ptr<MetricChart> m_chart;  // the chart as it was when the dialog opened
    QComboBox *m_format, *m_widthPreset;
    QLineEdit *m_title, *m_path;
    QDoubleSpinBox *m_width, *m_height;
    QSpinBox* m_dpi;
    QLabel *m_pixels, *m_message;
    QString m_error;
};

}  // namespace frugal::ui
