// The UI side of the engine: owns the worker's thread, numbers requests, cancels the requests
// a newer one supersedes, and forwards only results that are still wanted.
#pragma once

#include "engine_worker.h"

#include <QHash>
#include <QObject>
#include <QThread>

namespace esper::ui {

class EngineClient final : public QObject {
    Q_OBJECT

public:
    explicit EngineClient(QObject* parent = nullptr);
    ~EngineClient() override;

    quint64 loadBundle(const QString& dir, const QString& modelsDir, const QString& device);
    // The interactive request: cancels the previous interactive one; its late results never
    // reach the signals below.
    quint64 captionNow(const QString& imagePath, const QVector<StyleSpec>& styles,
                       const DecodingSettings& settings);
    // Live sound: an interactive request like captionNow (it supersedes the previous one).
    quint64 captionSoundNow(const SoundClip& clip, const QVector<StyleSpec>& styles,
                            const DecodingSettings& settings);
    // A recording's timeline, window by window, in the background lane; a new timeline
    // cancels the previous one.
    quint64 captionTimeline(const QString& path, const QVector<StyleSpec>& styles,
                            const DecodingSettings& settings, double windowSeconds);
    void cancelTimeline();
    // Background requests ("Caption all"): queued behind each other, cancelled together. An
    // interactive request is served before every background request still waiting.
    quint64 captionInBackground(const QString& imagePath, const QVector<StyleSpec>& styles,
                                const DecodingSettings& settings);
    // CLIP-S (and RefCLIP-S with references) for existing captions, in the background lane.
    quint64 scoreInBackground(const QString& imagePath, const QStringList& captions,
                              const QStringList& references);
    void cancelBackground();
    int queueLength() const { return int(background_.size()) + (current_ ? 1 : 0); }
    bool bundleReady() const { return bundleReady_; }
    void setStepDelay(int milliseconds); // see EngineWorker::setStepDelay
    void probeDevices();                 // answered by devicesFound

signals:
    void bundleLoaded(const esper::ui::BundleInfo& info);
    void captionToken(quint64 id, int style, const QString& text);
    void captionFinished(quint64 id, const esper::ui::CaptionOutcome& outcome);
    void backgroundFinished(quint64 id, const esper::ui::CaptionOutcome& outcome);
    void scoreFinished(quint64 id, const esper::ui::ScoreOutcome& outcome);
    void queueChanged(int length);
    void timelineWindow(quint64 id, double start, double end,
                        const esper::ui::CaptionOutcome& outcome);
    void timelineFinished(quint64 id, const QString& error);
    void devicesFound(const QStringList& devices);

private:
    quint64 submit(RequestQueue::Lane lane, const QString& imagePath,
                   const QVector<StyleSpec>& styles, const DecodingSettings& settings,
                   CancelFlag flag);
    // Queues `job` in `lane` for the worker's thread.
    void enqueue(RequestQueue::Lane lane, std::function<void()> job);

    QThread thread_;
    EngineWorker* worker_ = nullptr;
    quint64 nextId_ = 1;
    quint64 current_ = 0; // the live interactive request
    CancelFlag currentFlag_;
    QHash<quint64, CancelFlag> background_;
    quint64 bundleRequest_ = 0;
    quint64 timeline_ = 0;
    CancelFlag timelineFlag_;
    bool bundleReady_ = false;
};

} // namespace esper::ui
