// How long the UI thread was blocked: the longest gap between the ticks of a 5 ms timer, from
// construction on. Shared by the GUI tests and the review benchmark.
#pragma once

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTimer>

#include <algorithm>

namespace esper::test {

class StallMeter {
public:
    StallMeter() {
        clock_.start();
        timer_.setInterval(5);
        QObject::connect(&timer_, &QTimer::timeout,
                         [this] { longest_ = std::max(longest_, clock_.restart() - 5); });
        timer_.start();
    }
    // Turns the event loop for another 50 ms first: the tick after the last piece of work is
    // what measures it.
    qint64 longest() {
        QElapsedTimer after;
        after.start();
        while (after.elapsed() < 50)
            QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
        return longest_;
    }

private:
    QTimer timer_;
    QElapsedTimer clock_;
    qint64 longest_ = 0;
};

} // namespace esper::test
