// Dataset and project files are read and written here, on one background thread, in the order
// they were asked for: the UI thread never waits on a disk, and a save never overtakes an
// earlier one. Results come back on the owner's thread.
#pragma once

#include <QObject>
#include <QThreadPool>

#include <functional>
#include <memory>
#include <optional>

namespace esper::ui {

class FileTasks final : public QObject {
    Q_OBJECT

public:
    explicit FileTasks(QObject* parent = nullptr);
    ~FileTasks() override; // finishes what is queued: nothing a user saved is dropped at exit

    // Runs `work` on the file thread, then `done(result)` on this object's thread (unless this
    // object is gone by then).
    template <class T> void run(std::function<T()> work, std::function<void(T)> done) {
        auto slot = std::make_shared<std::optional<T>>();
        ++pending_;
        pool_.start([this, slot, work = std::move(work), done = std::move(done)] {
            slot->emplace(work());
            QMetaObject::invokeMethod(
                this,
                [this, slot, done] {
                    --pending_;
                    done(std::move(**slot));
                    if (pending_ == 0) emit idle();
                },
                Qt::QueuedConnection);
        });
    }

    bool busy() const { return pending_ > 0; }
    // Blocks until every queued task has run; for shutdown and tests only.
    void waitForIdle();

signals:
    void idle();

private:
    QThreadPool pool_;
    int pending_ = 0; // touched on the owner's thread only
};

} // namespace esper::ui
