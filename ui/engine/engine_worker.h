// The one object that touches the engine. It lives on its own thread; requests arrive as queued
// slot calls with an id and a cancel flag (captions and scores through a RequestQueue, so the
// interactive one goes first), results leave as signals. Exceptions never escape:
// every failure becomes a message in the result.
#pragma once

#include "engine_types.h"
#include "request_queue.h"

#include <QObject>
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

namespace esper {
class Captioner;
struct CaptionStyle;
struct CaptionResult;
struct CaptionOptions;
} // namespace esper

namespace esper::ui {

using CancelFlag = std::shared_ptr<std::atomic<bool>>;

class EngineWorker final : public QObject {
    Q_OBJECT

public:
    EngineWorker();
    ~EngineWorker() override;
    RequestQueue& queue() { return queue_; }

public slots:
    // Runs the queue's next job; posted once per job pushed.
    void serveNext();
    void loadBundle(quint64 id, const QString& dir, const QString& modelsDir,
                    const QString& device);
    void caption(quint64 id, const QString& imagePath, const QVector<esper::ui::StyleSpec>& styles,
                 const esper::ui::DecodingSettings& settings, esper::ui::CancelFlag cancel);
    // The same for sound heard live (the clip's samples, not a file).
    void captionSound(quint64 id, const esper::ui::SoundClip& clip,
                      const QVector<esper::ui::StyleSpec>& styles,
                      const esper::ui::DecodingSettings& settings, esper::ui::CancelFlag cancel);
    // A recording captioned window by window (`styles`, usually one) as a timeline: one
    // timelineWindow per window, then timelineFinished. Interactive requests that arrive
    // meanwhile are served between windows.
    void captionTimeline(quint64 id, const QString& path,
                         const QVector<esper::ui::StyleSpec>& styles,
                         const esper::ui::DecodingSettings& settings, double windowSeconds,
                         esper::ui::CancelFlag cancel);
    void score(quint64 id, const QString& imagePath, const QStringList& captions,
               const QStringList& references, esper::ui::CancelFlag cancel);
    // Asks LibTorch which devices this build can use (CUDA's probe can take a moment).
    void probeDevices();
    // Slows every decoding step down, to see (and test) how the UI behaves on a slow device.
    void setStepDelay(int milliseconds) { stepDelayMs_ = milliseconds; }

signals:
    void bundleLoaded(quint64 id, const esper::ui::BundleInfo& info);
    void devicesFound(const QStringList& devices);
    void captionToken(quint64 id, int style, const QString& text);
    void captionFinished(quint64 id, const esper::ui::CaptionOutcome& outcome);
    void scoreFinished(quint64 id, const esper::ui::ScoreOutcome& outcome);
    void timelineWindow(quint64 id, double start, double end,
                        const esper::ui::CaptionOutcome& outcome);
    void timelineFinished(quint64 id, const QString& error);

private:
    // What caption() and captionSound() share: `run` calls the captioner with the engine's
    // styles, options and token stream; the rest is the outcome's bookkeeping.
    struct CaptionCall;
    void runCaption(quint64 id, CaptionOutcome out, const QVector<StyleSpec>& styles,
                    const DecodingSettings& settings, const CancelFlag& cancel,
                    const CaptionCall& run);
    static std::vector<CaptionStyle> engineStyles(const QVector<StyleSpec>& styles);
    static QVector<StyleCaption> captionsOf(const CaptionResult& result);
    CaptionOptions captionOptions(const DecodingSettings& settings) const;
    std::unique_ptr<Captioner> captioner_;
    RequestQueue queue_;
    int stepDelayMs_ = 0;
};

} // namespace esper::ui

Q_DECLARE_METATYPE(esper::ui::CancelFlag)
