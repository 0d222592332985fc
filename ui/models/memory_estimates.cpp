#include "memory_estimates.h"

#include "model_download.h"
#include "settings/studio_settings.h"

#include <QThread>

namespace esper::ui {

MemoryEstimates::MemoryEstimates(QString endpoint, QObject* parent)
    : QObject(parent), endpoint_(std::move(endpoint)) {
    const QString hub = hub::settingsFromEnvironment(endpoint_).endpoint;
    connect(this, &MemoryEstimates::estimated, this, [this, hub](const QString& id, qint64 b) {
        pending_.remove(id);
        if (b < 0) return;
        known_[id] = b;
        StudioSettings().setModelMemory(hub, id, b);
    });
}

MemoryEstimates::~MemoryEstimates() {
    cancel_->store(true);
    if (thread_) thread_->wait();
}

void MemoryEstimates::estimate(const QList<QPair<QString, QString>>& models) {
    const QString hub = hub::settingsFromEnvironment(endpoint_).endpoint;
    const StudioSettings settings;
    for (const auto& [id, local] : models) {
        if (pending_.contains(id)) continue;
        if (local.isEmpty() && known_.contains(id)) continue;
        if (const qint64 remembered = settings.modelMemory(hub, id);
            local.isEmpty() && remembered >= 0) {
            known_[id] = remembered;
            continue;
        }
        pending_.insert(id);
        queue_.push_back({id, local});
    }
    startNext();
}

void MemoryEstimates::startNext() {
    if ((thread_ && thread_->isRunning()) || queue_.isEmpty()) return;
    auto batch = std::exchange(queue_, {});
    if (thread_) thread_->deleteLater();
    // The thread owns copies of what it reads and reports through a queued signal.
    thread_ = QThread::create([this, batch, endpoint = endpoint_, cancel = cancel_] {
        auto s = hub::settingsFromEnvironment(endpoint);
        // An estimate is worth little waiting: one try, and a short wait for a silent hub.
        s.attempts = 1;
        s.timeoutMs = 8000;
        s.cancel = cancel.get();
        for (const auto& [id, local] : batch) {
            if (cancel->load()) return;
            const auto bytes =
                local.isEmpty() ? hub::modelWeightBytes(s, id) : hub::localWeightBytes(local);
            emit estimated(id, bytes ? bytes.value() : -1);
        }
    });
    connect(thread_, &QThread::finished, this, &MemoryEstimates::startNext);
    thread_->start();
}

} // namespace esper::ui
