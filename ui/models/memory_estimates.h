// The memory each model's weights need, for the Models page: read from the safetensors headers
// of a model on disk, or over the network (a few KB per model) for one that is not here, on a
// thread of its own. Results are remembered (StudioSettings), so the column fills without the
// network next time.
#pragma once

#include <QHash>
#include <QObject>
#include <QPair>
#include <QSet>
#include <QString>
#include <atomic>
#include <memory>

class QThread;

namespace esper::ui {

class MemoryEstimates final : public QObject {
    Q_OBJECT

public:
    // `endpoint` empty: $HF_ENDPOINT or the public hub.
    explicit MemoryEstimates(QString endpoint, QObject* parent = nullptr);
    ~MemoryEstimates() override; // stops the lookups (each request ends at once) and waits

    // -1 while not known.
    qint64 bytes(const QString& id) const { return known_.value(id, -1); }
    bool pending(const QString& id) const { return pending_.contains(id); }
    // Looks up each (id, local folder or empty) not known yet; a local folder is always read
    // again, since its files may have changed.
    void estimate(const QList<QPair<QString, QString>>& models);
    // What someone else found out (a download's own estimate).
    void remember(const QString& id, qint64 bytes) { emit estimated(id, bytes); }

signals:
    // bytes -1: it could not be found out (offline, or no safetensors weights).
    void estimated(const QString& id, qint64 bytes);

private:
    void startNext();
    QString endpoint_;
    QHash<QString, qint64> known_;
    QSet<QString> pending_;
    QList<QPair<QString, QString>> queue_;
    std::shared_ptr<std::atomic<bool>> cancel_ = std::make_shared<std::atomic<bool>>(false);
    QThread* thread_ = nullptr;
};

} // namespace esper::ui
