#include "file_tasks.h"

#include <QCoreApplication>

namespace esper::ui {

FileTasks::FileTasks(QObject* parent) : QObject(parent) {
    pool_.setMaxThreadCount(1); // one file thread keeps writes in order
    pool_.setExpiryTimeout(-1);
}

FileTasks::~FileTasks() {
    pool_.waitForDone();
}

void FileTasks::waitForIdle() {
    pool_.waitForDone();
    // The results are queued to this thread; deliver them before returning.
    while (pending_ > 0)
        QCoreApplication::sendPostedEvents(this);
}

} // namespace esper::ui
