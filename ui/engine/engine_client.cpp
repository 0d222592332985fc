#include "engine_client.h"

namespace esper::ui {

EngineClient::EngineClient(QObject* parent) : QObject(parent) {
    qRegisterMetaType<StyleSpec>();
    qRegisterMetaType<QVector<StyleSpec>>();
    qRegisterMetaType<DecodingSettings>();
    qRegisterMetaType<CaptionOutcome>();
    qRegisterMetaType<BundleInfo>();
    qRegisterMetaType<ScoreOutcome>();
    qRegisterMetaType<CancelFlag>();
    qRegisterMetaType<SoundClip>();
    worker_ = new EngineWorker();
    worker_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
    connect(worker_, &EngineWorker::devicesFound, this, &EngineClient::devicesFound);
    connect(worker_, &EngineWorker::bundleLoaded, this, [this](quint64 id, const BundleInfo& info) {
        if (id != bundleRequest_) return; // a newer load was asked for
        bundleReady_ = info.ok;
        emit bundleLoaded(info);
    });
    connect(worker_, &EngineWorker::captionToken, this,
            [this](quint64 id, int style, const QString& text) {
                if (id == current_) emit captionToken(id, style, text);
            });
    connect(worker_, &EngineWorker::captionFinished, this,
            [this](quint64 id, const CaptionOutcome& outcome) {
                if (id == current_) {
                    current_ = 0;
                    currentFlag_.reset();
                    emit queueChanged(queueLength());
                    if (!outcome.cancelled) emit captionFinished(id, outcome);
                } else if (background_.remove(id)) {
                    emit queueChanged(queueLength());
                    if (!outcome.cancelled) emit backgroundFinished(id, outcome);
                }
                // Anything else was superseded: dropped here, never shown.
            });
    connect(worker_, &EngineWorker::scoreFinished, this, [this](quint64 id, const ScoreOutcome& o) {
        if (!background_.remove(id)) return; // cancelled
        emit queueChanged(queueLength());
        emit scoreFinished(id, o);
    });
    connect(worker_, &EngineWorker::timelineWindow, this,
            [this](quint64 id, double start, double end, const CaptionOutcome& o) {
                if (id == timeline_) emit timelineWindow(id, start, end, o);
            });
    connect(worker_, &EngineWorker::timelineFinished, this,
            [this](quint64 id, const QString& error) {
                if (id != timeline_) return;
                timeline_ = 0;
                timelineFlag_.reset();
                emit timelineFinished(id, error);
            });
    thread_.setObjectName("esper-engine");
    thread_.start();
}

EngineClient::~EngineClient() {
    if (currentFlag_) *currentFlag_ = true;
    if (timelineFlag_) *timelineFlag_ = true;
    for (const auto& f : background_)
        *f = true;
    thread_.quit();
    thread_.wait();
}

void EngineClient::probeDevices() {
    QMetaObject::invokeMethod(worker_, "probeDevices", Qt::QueuedConnection);
}

quint64 EngineClient::loadBundle(const QString& dir, const QString& modelsDir,
                                 const QString& device) {
    bundleRequest_ = nextId_++;
    bundleReady_ = false;
    QMetaObject::invokeMethod(worker_, "loadBundle", Qt::QueuedConnection,
                              Q_ARG(quint64, bundleRequest_), Q_ARG(QString, dir),
                              Q_ARG(QString, modelsDir), Q_ARG(QString, device));
    return bundleRequest_;
}

void EngineClient::enqueue(RequestQueue::Lane lane, std::function<void()> job) {
    worker_->queue().push(lane, std::move(job));
    QMetaObject::invokeMethod(worker_, "serveNext", Qt::QueuedConnection);
}

quint64 EngineClient::submit(RequestQueue::Lane lane, const QString& imagePath,
                             const QVector<StyleSpec>& styles, const DecodingSettings& settings,
                             CancelFlag flag) {
    const quint64 id = nextId_++;
    enqueue(lane, [w = worker_, id, imagePath, styles, settings, flag] {
        w->caption(id, imagePath, styles, settings, flag);
    });
    return id;
}

quint64 EngineClient::captionNow(const QString& imagePath, const QVector<StyleSpec>& styles,
                                 const DecodingSettings& settings) {
    if (currentFlag_) *currentFlag_ = true; // the older request stops at its next step
    currentFlag_ = std::make_shared<std::atomic<bool>>(false);
    current_ = submit(RequestQueue::Lane::Interactive, imagePath, styles, settings, currentFlag_);
    emit queueChanged(queueLength());
    return current_;
}

quint64 EngineClient::captionSoundNow(const SoundClip& clip, const QVector<StyleSpec>& styles,
                                      const DecodingSettings& settings) {
    if (currentFlag_) *currentFlag_ = true;
    currentFlag_ = std::make_shared<std::atomic<bool>>(false);
    const quint64 id = nextId_++;
    enqueue(RequestQueue::Lane::Interactive,
            [w = worker_, id, clip, styles, settings, flag = currentFlag_] {
                w->captionSound(id, clip, styles, settings, flag);
            });
    current_ = id;
    emit queueChanged(queueLength());
    return id;
}

quint64 EngineClient::captionTimeline(const QString& path, const QVector<StyleSpec>& styles,
                                      const DecodingSettings& settings, double windowSeconds) {
    cancelTimeline();
    timelineFlag_ = std::make_shared<std::atomic<bool>>(false);
    timeline_ = nextId_++;
    enqueue(RequestQueue::Lane::Background, [w = worker_, id = timeline_, path, styles, settings,
                                             windowSeconds, flag = timelineFlag_] {
        w->captionTimeline(id, path, styles, settings, windowSeconds, flag);
    });
    return timeline_;
}

void EngineClient::cancelTimeline() {
    if (timelineFlag_) *timelineFlag_ = true;
    timelineFlag_.reset();
    timeline_ = 0;
}

quint64 EngineClient::captionInBackground(const QString& imagePath,
                                          const QVector<StyleSpec>& styles,
                                          const DecodingSettings& settings) {
    auto flag = std::make_shared<std::atomic<bool>>(false);
    const quint64 id = submit(RequestQueue::Lane::Background, imagePath, styles, settings, flag);
    background_.insert(id, flag);
    emit queueChanged(queueLength());
    return id;
}

quint64 EngineClient::scoreInBackground(const QString& imagePath, const QStringList& captions,
                                        const QStringList& references) {
    auto flag = std::make_shared<std::atomic<bool>>(false);
    const quint64 id = nextId_++;
    enqueue(RequestQueue::Lane::Background,
            [w = worker_, id, imagePath, captions, references, flag] {
                w->score(id, imagePath, captions, references, flag);
            });
    background_.insert(id, flag);
    emit queueChanged(queueLength());
    return id;
}

void EngineClient::cancelBackground() {
    for (const auto& f : background_)
        *f = true;
    background_.clear();
    emit queueChanged(queueLength());
}

void EngineClient::setStepDelay(int milliseconds) {
    QMetaObject::invokeMethod(
        worker_, [w = worker_, milliseconds] { w->setStepDelay(milliseconds); },
        Qt::QueuedConnection);
}

} // namespace esper::ui
