#pragma once
// Writing a chart for a paper: PNG at a chosen physical size and resolution, SVG and PDF as vector
// graphics (title, axis labels and legend included) at a chosen physical width, and CSV with every
// raw point. GUI thread (it paints widgets' data).

#include <QSize>
#include <QString>

namespace frugal::ui {

class MetricChart;

struct ExportOptions {
    enum class Format { Png, Svg, Pdf, Csv };
    Format format = Format::Pdf;
    QString path;
    QString title;
    double widthMm = 89;  // a single column of a two-column paper
    double heightMm = 60;
    int dpi = 300;  // PNG pixels per inch; PDF device resolution
};

// From the file name's suffix (.png .svg .pdf .csv); PDF when it has none of them.
ExportOptions::Format formatForPath(const QString& path);
QString formatSuffix(ExportOptions::Format format);
// Pixel size of a PNG export.
QSize pngPixels(const ExportOptions& options);
// NAME as a file name that every file system takes: letters, digits, '.', '_' and '-' kept, any
// other run of characters (a metric's '/', spaces) one '-' ("train/loss" -> "train-loss").
QString safeFileName(const QString& name);
// Writes CHART, creating its folder; returns an empty string, or one message naming the file and
// what went wrong.
QString exportChart(const MetricChart& chart, const ExportOptions& options);

}  // namespace frugal::ui
