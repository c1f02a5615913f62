#include "export_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "metric_chart.h"

namespace frugal::ui {

ExportDialog::ExportDialog(const MetricChart& chart, const QString& suggestedPath, QWidget* parent)
    : QDialog(parent), m_chart(chart.snapshot()) {
    setWindowTitle(tr("Export chart — %1").arg(chart.title()));
    m_format = new QComboBox(this);
    m_format->addItem(tr("PDF (vector, for LaTeX)"), static_cast<int>(ExportOptions::Format::Pdf));
    m_format->addItem(tr("SVG (vector)"), static_cast<int>(ExportOptions::Format::Svg));
    m_format->addItem(tr("PNG (raster)"), static_cast<int>(ExportOptions::Format::Png));
    m_format->addItem(tr("CSV (every raw point)"), static_cast<int>(ExportOptions::Format::Csv));
    m_title = new QLineEdit(chart.title(), this);
    m_widthPreset = new QComboBox(this);
    m_widthPreset->addItem(tr("Single column (89 mm)"), 89.0);
    m_widthPreset->addItem(tr("One and a half columns (120 mm)"), 120.0);
    m_widthPreset->addItem(tr("Double column (183 mm)"), 183.0);
    m_widthPreset->addItem(tr("Custom"), 0.0);
    m_width = new QDoubleSpinBox(this);
    m_width->setRange(20, 1000);
    m_width->setSuffix(tr(" mm"));
    m_width->setValue(89);
    m_height = new QDoubleSpinBox(this);
    m_height->setRange(20, 1000);
    m_height->setSuffix(tr(" mm"));
    m_height->setValue(60);
    m_dpi = new QSpinBox(this);
    m_dpi->setRange(50, 2400);
    m_dpi->setSuffix(tr(" dpi"));
    m_dpi->setValue(300);
    m_pixels = new QLabel(this);
    m_path = new QLineEdit(suggestedPath, this);
    auto* browseButton = new QPushButton(tr("Browse…"), this);
    auto* pathRow = new QHBoxLayout;
    pathRow->addWidget(m_path, 1);
    pathRow->addWidget(browseButton);
    m_message = new QLabel(this);
    m_message->setWordWrap(true);
    m_message->setStyleSheet(QStringLiteral("color: #b00020;"));

    auto* form = new QFormLayout;
    form->addRow(tr("Format"), m_format);
    form->addRow(tr("Title"), m_title);
    form->addRow(tr("Width"), m_widthPreset);
    form->addRow(QString(), m_width);
    form->addRow(tr("Height"), m_height);
    form->addRow(tr("Resolution"), m_dpi);
    form->addRow(QString(), m_pixels);
    form->addRow(tr("File"), pathRow);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    QPushButton* exportButton = buttons->addButton(tr("Export"), QDialogButtonBox::AcceptRole);
    exportButton->setDefault(true);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(new QLabel(
        tr("%n raw point(s); the full series goes to CSV, the visible range to the figures.",
           nullptr, static_cast<int>(chart.pointCount())),
        this));
    layout->addWidget(m_message);
    layout->addWidget(buttons);

    connect(m_format, &QComboBox::currentIndexChanged, this, &ExportDialog::formatChanged);
    connect(m_widthPreset, &QComboBox::currentIndexChanged, this,
            &ExportDialog::widthPresetChanged);
    connect(m_width, &QDoubleSpinBox::valueChanged, this, [this] {
        const int custom = m_widthPreset->count() - 1;
        for (int i = 0; i < custom; ++i)
            if (m_widthPreset->itemData(i).toDouble() == m_width->value()) {
                m_widthPreset->setCurrentIndex(i);
                formatChanged();
                return;
            }
        m_widthPreset->setCurrentIndex(custom);
        formatChanged();
    });
    connect(m_height, &QDoubleSpinBox::valueChanged, this, &ExportDialog::formatChanged);
    connect(m_dpi, &QSpinBox::valueChanged, this, &ExportDialog::formatChanged);
    connect(browseButton, &QPushButton::clicked, this, &ExportDialog::browse);
    connect(exportButton, &QPushButton::clicked, this, &ExportDialog::exportNow);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    if (!suggestedPath.isEmpty()) {
        const int index = m_format->findData(static_cast<int>(formatForPath(suggestedPath)));
        if (index >= 0) m_format->setCurrentIndex(index);
    }
    formatChanged();
}

ExportDialog::~ExportDialog() = default;

ExportOptions ExportDialog::options() const {
    ExportOptions o;
    o.format = static_cast<ExportOptions::Format>(m_format->currentData().toInt());
    o.path = m_path->text();
    o.title = m_title->text();
    o.widthMm = m_width->value();
    o.heightMm = m_height->value();
    o.dpi = m_dpi->value();
    return o;
}

void ExportDialog::setOptions(const ExportOptions& o) {
    m_format->setCurrentIndex(m_format->findData(static_cast<int>(o.format)));
    m_path->setText(o.path);
    m_title->setText(o.title);
    m_width->setValue(o.widthMm);
    m_height->setValue(o.heightMm);
    m_dpi->setValue(o.dpi);
}

void ExportDialog::formatChanged() {
    const ExportOptions o = options();
    const bool figure = o.format != ExportOptions::Format::Csv;
    m_title->setEnabled(figure);
    m_width->setEnabled(figure);
    m_widthPreset->setEnabled(figure);
    m_height->setEnabled(figure);
    m_dpi->setEnabled(o.format == ExportOptions::Format::Png ||
                      o.format == ExportOptions::Format::Pdf);
    const QSize px = pngPixels(o);
    m_pixels->setText(o.format == ExportOptions::Format::Png
                          ? tr("%1 × %2 pixels").arg(px.width()).arg(px.height())
                      : figure
                          ? tr("vector; fonts in points, %1 × %2 mm").arg(o.widthMm).arg(o.heightMm)
                          : tr("all %n point(s)", nullptr, static_cast<int>(m_chart->pointCount())));
    QString path = m_path->text();
    if (!path.isEmpty()) {
        const QFileInfo info(path);
        const QString wanted = formatSuffix(o.format);
        if (info.suffix().toLower() != wanted) {
            path = (info.suffix().isEmpty() ? path
                                            : path.left(path.size() - info.suffix().size() - 1)) +
                   QLatin1Char('.') + wanted;
            m_path->setText(path);
        }
    }
}

void ExportDialog::widthPresetChanged() {
    const double mm = m_widthPreset->currentData().toDouble();
    if (mm > 0 && m_width->value() != mm) m_width->setValue(mm);
}

void ExportDialog::browse() {
    const QString suffix = formatSuffix(options().format);
    const QString file =
        QFileDialog::getSaveFileName(this, tr("Export chart"), m_path->text(),
                                     tr("%1 files (*.%2)").arg(suffix.toUpper(), suffix));
    if (!file.isEmpty()) m_path->setText(file);
}

void ExportDialog::exportNow() {
    m_error = exportChart(*m_chart, options());
    m_message->setText(m_error);
    if (m_error.isEmpty()) accept();
}

}  // namespace frugal::ui
