#include "chart_export.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSvgGenerator>
#include <cmath>

#include "metric_chart.h"

namespace frugal::ui {

namespace {

constexpr double kLogicalPerInch = 96;  // the chart lays out in 1/96 inch; fonts in points

QSizeF logicalSize(const ExportOptions& o) {
    return QSizeF(o.widthMm / 25.4 * kLogicalPerInch, o.heightMm / 25.4 * kLogicalPerInch);
}

}  // namespace

ExportOptions::Format formatForPath(const QString& path) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QStringLiteral("png")) return ExportOptions::Format::Png;
    if (suffix == QStringLiteral("svg")) return ExportOptions::Format::Svg;
    if (suffix == QStringLiteral("csv")) return ExportOptions::Format::Csv;
    return ExportOptions::Format::Pdf;
}

QString formatSuffix(ExportOptions::Format format) {
    switch (format) {
        case ExportOptions::Format::Png: return QStringLiteral("png");
        case ExportOptions::Format::Svg: return QStringLiteral("svg");
        case ExportOptions::Format::Pdf: return QStringLiteral("pdf");
        case ExportOptions::Format::Csv: return QStringLiteral("csv");
    }
    return QStringLiteral("pdf");
}

QSize pngPixels(const ExportOptions& o) {
    return QSize(static_cast<int>(std::lround(o.widthMm / 25.4 * o.dpi)),
                 static_cast<int>(std::lround(o.heightMm / 25.4 * o.dpi)));
}

QString safeFileName(const QString& name) {
    QString out;
    for (const QChar c : name) {
        const bool keep = (c.isLetterOrNumber() && c.unicode() < 128) || c == QLatin1Char('.') ||
                          c == QLatin1Char('_') || c == QLatin1Char('-');
        if (keep)
            out += c;
        else if (!out.endsWith(QLatin1Char('-')))
            out += QLatin1Char('-');
    }
    while (out.startsWith(QLatin1Char('-')) || out.startsWith(QLatin1Char('.'))) out.remove(0, 1);
    while (out.endsWith(QLatin1Char('-'))) out.chop(1);
    return out.isEmpty() ? QStringLiteral("chart") : out;
}

QString exportChart(const MetricChart& chart, const ExportOptions& o) {
    if (o.path.isEmpty()) return QObject::tr("export: no file name given");
    const QFileInfo target(o.path);
    if (!target.absoluteDir().exists() && !QDir().mkpath(target.absolutePath()))
        return QObject::tr("%1: cannot create the folder %2").arg(o.path, target.absolutePath());
    if (!(o.widthMm >= 20 && o.widthMm <= 1000) || !(o.heightMm >= 20 && o.heightMm <= 1000))
        return QObject::tr("%1: the size must be from 20 to 1000 mm a side, got %2 x %3 mm")
            .arg(o.path)
            .arg(o.widthMm)
            .arg(o.heightMm);
    if (o.dpi < 50 || o.dpi > 2400)
        return QObject::tr("%1: the resolution must be from 50 to 2400 dpi, got %2")
            .arg(o.path)
            .arg(o.dpi);
    const QString title = o.title.isEmpty() ? chart.title() : o.title;
    const QSizeF logical = logicalSize(o);
    switch (o.format) {
        case ExportOptions::Format::Csv: {
            QFile file(o.path);
            if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text))
                return QObject::tr("%1: cannot write (%2)").arg(o.path, file.errorString());
            const QByteArray bytes = chart.csv().toUtf8();
            if (file.write(bytes) != bytes.size())
                return QObject::tr("%1: writing failed (%2)").arg(o.path, file.errorString());
            return {};
        }
        case ExportOptions::Format::Png: {
            const QSize pixels = pngPixels(o);
            QImage image(pixels, QImage::Format_ARGB32);
            if (image.isNull())
                return QObject::tr("%1: %2 x %3 pixels is too large")
                    .arg(o.path)
                    .arg(pixels.width())
                    .arg(pixels.height());
            image.fill(Qt::white);
            const int dotsPerMeter = static_cast<int>(std::lround(o.dpi / 0.0254));
            image.setDotsPerMeterX(dotsPerMeter);
            image.setDotsPerMeterY(dotsPerMeter);
            {
                QPainter painter(&image);
                chart.render(painter, QRectF(QPointF(0, 0), QSizeF(pixels)), logical, title,
                             pixels.width());
            }
            if (!image.save(o.path, "PNG"))
                return QObject::tr("%1: cannot write the PNG file").arg(o.path);
            return {};
        }
        case ExportOptions::Format::Svg: {
            QSvgGenerator svg;
            svg.setFileName(o.path);
            svg.setSize(logical.toSize());
            svg.setViewBox(QRectF(QPointF(0, 0), logical));
            svg.setResolution(static_cast<int>(kLogicalPerInch));
            svg.setTitle(title);
            svg.setDescription(QObject::tr("Exported by Frugal"));
            QPainter painter;
            if (!painter.begin(&svg))
                return QObject::tr("%1: cannot write the SVG file").arg(o.path);
            chart.render(painter, QRectF(QPointF(0, 0), logical), logical, title,
                         static_cast<int>(logical.width() * 2));
            painter.end();
            return QFileInfo(o.path).size() > 0
                       ? QString()
                       : QObject::tr("%1: the SVG file is empty").arg(o.path);
        }
        case ExportOptions::Format::Pdf: {
            QPdfWriter pdf(o.path);
            pdf.setPageSize(QPageSize(QSizeF(o.widthMm, o.heightMm), QPageSize::Millimeter));
            pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
            pdf.setResolution(o.dpi);
            pdf.setTitle(title);
            pdf.setCreator(QStringLiteral("Frugal"));
            QPainter painter;
            if (!painter.begin(&pdf))
                return QObject::tr("%1: cannot write the PDF file").arg(o.path);
            chart.render(painter, QRectF(0, 0, pdf.width(), pdf.height()), logical, title,
                         static_cast<int>(logical.width() * 2));
            painter.end();
            return {};
        }
    }
    return {};
}

}  // namespace frugal::ui
