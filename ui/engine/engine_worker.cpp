#include "engine_worker.h"

#include "audio/audio_windows.h"
#include "audio_decoder.h"
#include "captioning/captioner.h"
#include "image_decoder.h"
#include "media_kind.h"
#include "models/device_list.h"
#include "styles/style_presets.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <QThread>
#include <exception>

namespace esper::ui {

EngineWorker::EngineWorker() = default;
EngineWorker::~EngineWorker() = default;

void EngineWorker::serveNext() {
    if (auto job = queue_.pop()) job();
}

void EngineWorker::probeDevices() {
    QStringList devices;
    try {
        for (const auto& d : availableDevices())
            devices << QString::fromStdString(d);
    } catch (const std::exception&) {
        // A broken CUDA setup still leaves the CPU.
    }
    if (devices.isEmpty()) devices << "cpu";
    emit devicesFound(devices);
}

void EngineWorker::loadBundle(quint64 id, const QString& dir, const QString& modelsDir,
                              const QString& device) {
    BundleInfo info;
    info.dir = dir;
    info.device = device;
    try {
        // "cpu · int8": a device and the precision its weights are held in.
        const QStringList parts = device.split(" · ");
        auto loaded =
            Captioner::loadBundle(dir.toStdString(), modelsDir.toStdString(),
                                  parts.value(0).toStdString(), parts.value(1).toStdString());
        if (!loaded) {
            info.error = QString::fromStdString(loaded.error());
        } else {
            captioner_ = std::move(loaded.value());
            info.ok = true;
            // A precision the bundle chose shows beside the device.
            if (parts.size() == 1 && captioner_->precision() != "fp32")
                info.device = device + " · " + QString::fromStdString(captioner_->precision());
            info.audio = captioner_->hasAudio();
            info.name = QString::fromStdString(captioner_->bundle().name);
            info.description = QString::fromStdString(captioner_->describe());
            for (const auto& s : captioner_->bundleStyles()) {
                const auto* preset = findStylePreset(s.id);
                info.styles.push_back({QString::fromStdString(s.id),
                                       QString::fromStdString(preset ? preset->label : s.id),
                                       QString::fromStdString(s.prompt)});
            }
        }
    } catch (const std::exception& e) {
        info.error = QString("the bundle could not be loaded: %1").arg(e.what());
    }
    emit bundleLoaded(id, info);
}

struct EngineWorker::CaptionCall {
    std::function<Result<CaptionResult>(const std::vector<CaptionStyle>&, const CaptionOptions&,
                                        const CaptionStream&, const std::atomic<bool>*)>
        run;
};

namespace {

std::string cacheKeyOf(const QString& path) {
    return (path + "@" + QString::number(QFileInfo(path).lastModified().toMSecsSinceEpoch()))
        .toStdString();
}

// A file the studio opens interactively is captioned and scored from its first 30 s: a card
// answers in a moment; long recordings are for windows.
Result<AudioClip> decodeInteractiveSound(const std::string& path) {
    media::AudioDecodeOptions decode;
    decode.maxSeconds = 30;
    return media::decodeAudioFile(path, decode);
}

} // namespace

std::vector<CaptionStyle> EngineWorker::engineStyles(const QVector<StyleSpec>& styles) {
    std::vector<CaptionStyle> out;
    for (const auto& s : styles)
        out.push_back({s.id.toStdString(), s.prompt.toStdString()});
    return out;
}

QVector<StyleCaption> EngineWorker::captionsOf(const CaptionResult& result) {
    QVector<StyleCaption> out;
    for (const auto& c : result.captions)
        out.push_back({QString::fromStdString(c.style.id), QString::fromStdString(c.text),
                       c.score.clipS, c.score.cosine, QString::fromStdString(c.style.prompt)});
    return out;
}

CaptionOptions EngineWorker::captionOptions(const DecodingSettings& settings) const {
    CaptionOptions options;
    // The bundle's decoding (end-of-text rule, stop strings, beam settings) under the settings
    // the panel shows.
    options.decode = captioner_->bundle().decoding;
    auto& d = options.decode;
    d.strategy = settings.sample ? DecodeStrategy::Sample : DecodeStrategy::Greedy;
    d.maxNewTokens = settings.maxTokens;
    d.temperature = settings.temperature;
    d.topK = settings.topK;
    d.topP = settings.topP;
    d.noRepeatNgram = settings.noRepeat;
    d.bestOf = settings.sample ? settings.bestOf : 1;
    d.seed = settings.seed;
    if (!settings.cutAtPeriod) d.stopStrings.clear();
    return options;
}

void EngineWorker::captionTimeline(quint64 id, const QString& path,
                                   const QVector<StyleSpec>& styles,
                                   const DecodingSettings& settings, double windowSeconds,
                                   CancelFlag cancel) {
    if (cancel && cancel->load()) return; // superseded while it waited
    if (!captioner_) {
        emit timelineFinished(id, tr("No model is loaded. Open a bundle first."));
        return;
    }
    QString error;
    try {
        const auto wanted = engineStyles(styles);
        const auto options = captionOptions(settings);
        const std::string key = cacheKeyOf(path);
        AudioWindower windower(kAudioSampleRate, windowSeconds);
        const auto onWindow = [&](const AudioWindow& w) {
            // What the user is looking at goes first, between windows.
            while (auto job = queue_.popInteractive())
                job();
            if (cancel && cancel->load()) return false;
            CaptionOutcome out;
            out.imagePath = path;
            out.audio = true;
            out.decoding = settings;
            if (w.silent()) {
                out.error = tr("silence");
            } else {
                auto r = captioner_->captionAudio(w.clip, key + "#" + std::to_string(w.start),
                                                  wanted, options, {}, cancel.get());
                if (r.cancelled()) return false;
                if (!r)
                    out.error = QString::fromStdString(r.error());
                else
                    out.captions = captionsOf(r.value());
            }
            emit timelineWindow(id, w.start, w.end, out);
            return true;
        };
        auto source = media::streamAudioFile(
            path.toStdString(), kAudioSampleRate,
            [&](const float* s, size_t n) { return windower.push(s, n, onWindow); }, cancel.get());
        if (source && !(cancel && cancel->load())) windower.finish(onWindow);
        if (!source && !source.cancelled()) error = QString::fromStdString(source.error());
    } catch (const std::exception& e) {
        error = QString("captioning the recording failed: %1").arg(e.what());
    }
    if (cancel && cancel->load()) return; // a newer timeline replaced this one
    emit timelineFinished(id, error);
}

void EngineWorker::runCaption(quint64 id, CaptionOutcome out, const QVector<StyleSpec>& styles,
                              const DecodingSettings& settings, const CancelFlag& cancel,
                              const CaptionCall& call) {
    QElapsedTimer timer;
    timer.start();
    out.decoding = settings;
    auto finish = [&] {
        out.milliseconds = double(timer.nsecsElapsed()) / 1e6;
        emit captionFinished(id, out);
    };
    if (cancel && cancel->load()) { // superseded while it waited in the queue
        out.cancelled = true;
        return finish();
    }
    if (!captioner_) {
        out.error = tr("No model is loaded. Open a bundle first.");
        return finish();
    }
    try {
        auto result = call.run(
            engineStyles(styles), captionOptions(settings),
            [&](size_t style, int, const std::string& text) {
                if (stepDelayMs_ > 0) QThread::msleep(static_cast<unsigned long>(stepDelayMs_));
                emit captionToken(id, static_cast<int>(style), QString::fromStdString(text));
            },
            cancel.get());
        if (!result) {
            out.cancelled = result.cancelled();
            if (!out.cancelled) out.error = QString::fromStdString(result.error());
            return finish();
        }
        out.captions = captionsOf(result.value());
    } catch (const std::exception& e) {
        out.error = QString("captioning failed: %1").arg(e.what());
    }
    finish();
}

void EngineWorker::caption(quint64 id, const QString& imagePath, const QVector<StyleSpec>& styles,
                           const DecodingSettings& settings, CancelFlag cancel) {
    CaptionOutcome out;
    out.imagePath = imagePath;
    const std::string path = imagePath.toStdString();
    out.audio = media::mediaKindOfFile(path) == media::MediaKind::Audio;
    // Decoded only when the request is still wanted and a model is there (runCaption checks).
    runCaption(id, out, styles, settings, cancel,
               {[&](const auto& engineStyles, const auto& options, const auto& stream,
                    const std::atomic<bool>* stop) -> Result<CaptionResult> {
                   if (out.audio) {
                       auto clip = decodeInteractiveSound(path);
                       ESPER_TRY(clip);
                       return captioner_->captionAudio(clip.value(), cacheKeyOf(imagePath),
                                                       engineStyles, options, stream, stop);
                   }
                   auto image = media::decodeImageFile(path);
                   ESPER_TRY(image);
                   return captioner_->caption(image.value(), cacheKeyOf(imagePath), engineStyles,
                                              options, stream, stop);
               }});
}

void EngineWorker::captionSound(quint64 id, const SoundClip& sound,
                                const QVector<StyleSpec>& styles, const DecodingSettings& settings,
                                CancelFlag cancel) {
    CaptionOutcome out;
    out.audio = true;
    runCaption(id, out, styles, settings, cancel,
               {[&](const auto& engineStyles, const auto& options, const auto& stream,
                    const std::atomic<bool>* stop) -> Result<CaptionResult> {
                   AudioClip clip{{sound.samples.begin(), sound.samples.end()}, sound.sampleRate};
                   // No cache key: every live window is new sound.
                   return captioner_->captionAudio(clip, "", engineStyles, options, stream, stop);
               }});
}

void EngineWorker::score(quint64 id, const QString& imagePath, const QStringList& captions,
                         const QStringList& references, CancelFlag cancel) {
    ScoreOutcome out;
    out.imagePath = imagePath;
    if (cancel && cancel->load()) return; // cancelled work reports nothing
    if (!captioner_) {
        out.error = tr("No model is loaded. Open a bundle first.");
        emit scoreFinished(id, out);
        return;
    }
    try {
        const std::string path = imagePath.toStdString();
        std::vector<std::string> caps, refs;
        for (const auto& c : captions)
            caps.push_back(c.toStdString());
        for (const auto& r : references)
            refs.push_back(r.toStdString());
        auto scoresOf = [&]() -> Result<std::vector<ClipScore>> {
            if (media::mediaKindOfFile(path) == media::MediaKind::Audio) {
                auto clip = decodeInteractiveSound(path);
                ESPER_TRY(clip);
                return captioner_->scoreAudio(clip.value(), cacheKeyOf(imagePath), caps, refs);
            }
            auto image = media::decodeImageFile(path);
            ESPER_TRY(image);
            return captioner_->score(image.value(), path, caps, refs);
        };
        auto scores = scoresOf();
        if (!scores)
            out.error = QString::fromStdString(scores.error());
        else
            for (const auto& s : scores.value()) {
                out.clipS.push_back(s.clipS);
                if (s.refClipS) out.refClipS.push_back(*s.refClipS);
            }
    } catch (const std::exception& e) {
        out.error = QString("scoring failed: %1").arg(e.what());
    }
    emit scoreFinished(id, out);
}

} // namespace esper::ui
