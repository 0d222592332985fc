// One model's download on a thread of its own: the hub client blocks, so it runs there and
// reports back through queued signals; cancel() may be called from any thread. The widgets
// never wait on it.
#pragma once

#include <QObject>
#include <QString>
#include <atomic>
#include <memory>

class QThread;

namespace esper::ui {

class ModelDownloadJob final : public QObject {
    Q_OBJECT

public:
    // Into DIR/REPO; `endpoint` empty: $HF_ENDPOINT or the public hub.
    ModelDownloadJob(QString repo, QString modelsDir, QString endpoint = {},
                     QObject* parent = nullptr);
    ~ModelDownloadJob() override;
    void start();
    void cancel();
    QString repo() const { return repo_; }
    QString destination() const;
    bool running() const;

signals:
    void estimated(qint64 weightBytes); // before fetching: the memory the weights need
    void progress(const QString& file, qint64 done, qint64 total);
    // `converted`: what was done to a checkpoint among the files (empty when nothing).
    void finished(const QString& dir, const QString& converted);
    void failed(const QString& message, bool cancelled);

private:
    QString repo_, modelsDir_, endpoint_;
    std::shared_ptr<std::atomic<bool>> cancel_ = std::make_shared<std::atomic<bool>>(false);
    QThread* thread_ = nullptr;
};

} // namespace esper::ui
