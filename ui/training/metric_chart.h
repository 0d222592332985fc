// A live line chart of training metrics against iterations (Qt Charts): points are added as
// the trainer reports them and the axes follow the data.
#pragma once

#include <QChartView>
#include <QHash>
#include <QStringList>

class QLineSeries;
class QValueAxis;

namespace esper::ui {

class MetricChart final : public QChartView {
    Q_OBJECT

public:
    // One series per metric name; `labels` are what the legend shows.
    MetricChart(const QString& title, const QStringList& metrics, const QStringList& labels,
                QWidget* parent = nullptr);
    // Adds the point (iteration, value) of every metric the map holds.
    void add(int iteration, const QVariantMap& metrics);
    void clear();
    int points() const; // of the first series; for tests

private:
    QStringList metrics_;
    QHash<QString, QLineSeries*> series_;
    QValueAxis *x_, *y_;
    double low_ = 0, high_ = 0;
    int lastIteration_ = 0;
    bool any_ = false;
};

} // namespace esper::ui
