#include "metric_chart.h"

#include <QChart>
#include <QLineSeries>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace esper::ui {

MetricChart::MetricChart(const QString& title, const QStringList& metrics,
                         const QStringList& labels, QWidget* parent)
    : QChartView(parent), metrics_(metrics), x_(new QValueAxis), y_(new QValueAxis) {
    auto* chart = new QChart;
    chart->setTitle(title);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->addAxis(x_, Qt::AlignBottom);
    chart->addAxis(y_, Qt::AlignLeft);
    x_->setTitleText(tr("iteration"));
    x_->setLabelFormat("%d");
    // Whole-number ticks at a round step, whatever the run's length.
    x_->setTickType(QValueAxis::TicksDynamic);
    x_->setTickAnchor(0);
    for (int i = 0; i < metrics.size(); ++i) {
        auto* s = new QLineSeries;
        s->setName(i < labels.size() ? labels[i] : metrics[i]);
        chart->addSeries(s);
        s->attachAxis(x_);
        s->attachAxis(y_);
        series_.insert(metrics[i], s);
    }
    setChart(chart);
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(180);
    clear();
}

void MetricChart::add(int iteration, const QVariantMap& values) {
    for (const auto& name : metrics_) {
        const auto it = values.find(name);
        if (it == values.end()) continue;
        const double v = it->toDouble();
        if (!std::isfinite(v)) continue;
        series_[name]->append(iteration, v);
        low_ = any_ ? std::min(low_, v) : v;
        high_ = any_ ? std::max(high_, v) : v;
        any_ = true;
    }
    lastIteration_ = std::max(lastIteration_, iteration);
    const int span = std::max(lastIteration_, 1);
    x_->setRange(0, span);
    int step = 1;
    for (int nice : {1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000})
        if (span / nice <= 8) {
            step = nice;
            break;
        }
    x_->setTickInterval(step);
    const double pad = std::max(1e-6, (high_ - low_) * 0.08);
    if (any_) y_->setRange(low_ - pad, high_ + pad);
}

void MetricChart::clear() {
    for (auto* s : series_)
        s->clear();
    any_ = false;
    low_ = high_ = 0;
    lastIteration_ = 0;
    x_->setRange(0, 1);
    x_->setTickInterval(1);
    y_->setRange(0, 1);
}

int MetricChart::points() const {
    return metrics_.isEmpty() ? 0 : int(series_[metrics_.first()]->count());
}

} // namespace esper::ui
