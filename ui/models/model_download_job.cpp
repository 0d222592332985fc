#include "model_download_job.h"

#include "model_download.h"

#include <QElapsedTimer>
#include <QThread>

namespace esper::ui {

ModelDownloadJob::ModelDownloadJob(QString repo, QString modelsDir, QString endpoint,
                                   QObject* parent)
    : QObject(parent), repo_(std::move(repo)), modelsDir_(std::move(modelsDir)),
      endpoint_(std::move(endpoint)) {}

ModelDownloadJob::~ModelDownloadJob() {
    cancel();
    if (thread_) thread_->wait();
}

QString ModelDownloadJob::destination() const {
    return modelsDir_ + "/" + repo_;
}

bool ModelDownloadJob::running() const {
    return thread_ && thread_->isRunning();
}

void ModelDownloadJob::cancel() {
    cancel_->store(true);
}

void ModelDownloadJob::start() {
    if (running()) return;
    cancel_->store(false);
    // The thread owns copies of everything it reads; it reports through this object's signals,
    // queued to the thread this object lives on.
    thread_ = QThread::create(
        [this, repo = repo_, dest = destination(), endpoint = endpoint_, cancel = cancel_] {
            const auto s = hub::settingsFromEnvironment(endpoint);
            if (auto bytes = hub::modelWeightBytes(s, repo); bytes) emit estimated(bytes.value());
            hub::ModelProgress progress;
            QElapsedTimer sinceReport;
            sinceReport.start();
            progress.bytes = [this, &sinceReport](const QString& file, qint64 done, qint64 total) {
                // A few reports a second, not one per network chunk.
                if (sinceReport.elapsed() < 100 && done != total) return;
                sinceReport.restart();
                emit this->progress(file, done, total);
            };
            QString converted;
            progress.converted = [&converted](const QString& what) { converted = what; };
            auto ok = hub::downloadModel(s, repo, "main", dest, progress, cancel.get());
            if (ok)
                emit finished(dest, converted);
            else
                emit failed(QString::fromStdString(ok.error()), ok.cancelled());
        });
    thread_->setParent(this);
    thread_->start();
}

} // namespace esper::ui
