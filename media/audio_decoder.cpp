#include "audio_decoder.h"

#include "audio/resample.h"
#include "media_kind.h"
#include "pcm_mix.h"
#include "util/file_util.h"
#include "wav_format.h"

#include <QAudioBuffer>
#include <QAudioDecoder>
#include <QCoreApplication>
#include <QEventLoop>
#include <QTimer>
#include <QUrl>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

namespace esper::media {
namespace {

namespace fs = std::filesystem;

std::string readHead(const std::string& path, size_t n) {
    std::ifstream in(path, std::ios::binary);
    std::string head(n, '\0');
    in.read(head.data(), static_cast<std::streamsize>(n));
    head.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
    return head;
}

// Mixes to mono, resamples, tracks the peak and passes blocks on.
class Pipeline {
public:
    Pipeline(int fromRate, int toRate, const AudioSink& sink)
        : resampler_(fromRate, toRate), sink_(sink) {}
    bool push(const float* mono, size_t n) {
        for (size_t i = 0; i < n; ++i)
            peak_ = std::max(peak_, std::fabs(mono[i]));
        out_.clear();
        resampler_.push(mono, n, out_);
        return deliver();
    }
    bool finish() {
        out_.clear();
        resampler_.finish(out_);
        return deliver();
    }
    float peak() const { return peak_; }
    double seconds() const { return static_cast<double>(delivered_) / resampler_.toRate(); }
    bool stopped() const { return stopped_; }

private:
    bool deliver() {
        if (stopped_ || out_.empty()) return !stopped_;
        delivered_ += out_.size();
        if (!sink_(out_.data(), out_.size())) stopped_ = true;
        return !stopped_;
    }
    Resampler resampler_;
    const AudioSink& sink_;
    std::vector<float> out_;
    float peak_ = 0;
    size_t delivered_ = 0;
    bool stopped_ = false;
};

Result<AudioSource> streamWav(const std::string& path, int rate, const AudioSink& sink,
                              const std::atomic<bool>* cancel) {
    std::error_code ec;
    const uint64_t size = fs::file_size(path, ec);
    if (ec) return fail(ErrorCode::NotFound, "cannot read '" + path + "': " + ec.message());
    // Headers with long metadata chunks before the data exist; a megabyte covers any sane one.
    const std::string head = readHead(path, static_cast<size_t>(std::min<uint64_t>(size, 1 << 20)));
    auto layout = parseWavHeader(head, size, path);
    ESPER_TRY(layout);
    std::ifstream in(path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(layout->dataOffset));
    const size_t frameBytes = static_cast<size_t>(layout->channels) * layout->bitsPerSample / 8;
    const uint64_t block = 1 << 16;
    std::vector<unsigned char> raw(block * frameBytes);
    std::vector<float> mono(block);
    Pipeline pipe(layout->sampleRate, rate, sink);
    for (uint64_t done = 0; done < layout->frames;) {
        if (cancel && cancel->load()) return cancelledError();
        const uint64_t n = std::min(block, layout->frames - done);
        in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(n * frameBytes));
        if (static_cast<uint64_t>(in.gcount()) != n * frameBytes)
            return fail("'" + path + "' could not be read to the end of its sound data");
        wavToMono(*layout, raw.data(), n, mono.data());
        if (!pipe.push(mono.data(), n)) break;
        done += n;
    }
    if (!pipe.stopped()) pipe.finish();
    return AudioSource{"wav", layout->sampleRate, layout->channels, pipe.seconds(), pipe.peak()};
}

// QAudioDecoder reports through signals, so it runs in a local event loop; the loop also polls
// the cancel flag.
Result<AudioSource> streamWithQt(const std::string& path, int rate, const AudioSink& sink,
                                 const std::atomic<bool>* cancel) {
    if (!QCoreApplication::instance()) {
        // The command line has no application object of its own; Qt Multimedia needs one.
        static int argc = 1;
        static char name[] = "esper";
        static char* argv[] = {name, nullptr};
        static QCoreApplication app(argc, argv);
    }
    QAudioDecoder decoder;
    if (!decoder.isSupported())
        return fail("'" + path +
                    "' cannot be decoded: Qt Multimedia has no audio decoder on this "
                    "system (install the GStreamer plugins: ./setup.sh does)");
    std::unique_ptr<Pipeline> pipe;
    AudioSource source{"qt", 0, 0, 0, 0};
    std::string error;
    QEventLoop loop;
    QObject::connect(&decoder, &QAudioDecoder::bufferReady, &loop, [&] {
        const QAudioBuffer buffer = decoder.read();
        if (!buffer.isValid() || (pipe == nullptr && !error.empty())) return;
        const QAudioFormat format = buffer.format();
        if (!pipe) {
            source.sampleRate = format.sampleRate();
            source.channels = format.channelCount();
            if (source.sampleRate < 1000 || source.channels < 1) {
                error = "'" + path + "' decoded to an unusable format";
                loop.quit();
                return;
            }
            pipe = std::make_unique<Pipeline>(source.sampleRate, rate, sink);
        }
        const auto mono = mixToMono(format, buffer.constData<char>(), buffer.frameCount());
        if (!pipe->push(mono.data(), mono.size())) {
            decoder.stop();
            loop.quit();
        }
    });
    QObject::connect(&decoder, &QAudioDecoder::finished, &loop, [&] { loop.quit(); });
    QObject::connect(&decoder, qOverload<QAudioDecoder::Error>(&QAudioDecoder::error), &loop,
                     [&](QAudioDecoder::Error) {
                         error = decoder.errorString().toStdString();
                         loop.quit();
                     });
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        if (cancel && cancel->load()) {
            decoder.stop();
            loop.quit();
        }
    });
    poll.start(50);
    decoder.setSource(QUrl::fromLocalFile(QString::fromStdString(path)));
    decoder.start();
    loop.exec();
    if (cancel && cancel->load()) return cancelledError();
    if (!error.empty() && !pipe)
        return fail(ErrorCode::InvalidInput,
                    "'" + path + "' is not a sound file this system can decode (" + error + ")");
    if (!error.empty()) return fail("'" + path + "' could not be decoded to the end: " + error);
    if (!pipe) return fail(ErrorCode::InvalidInput, "'" + path + "' holds no sound");
    if (!pipe->stopped()) pipe->finish();
    source.seconds = pipe->seconds();
    source.peak = pipe->peak();
    return source;
}

} // namespace

Result<AudioSource> streamAudioFile(const std::string& path, int rate, const AudioSink& sink,
                                    const std::atomic<bool>* cancel) {
    // Streamed, so no size limit; but never a device or a pipe.
    ESPER_TRY(checkRegularFile(path, UINT64_MAX));
    std::error_code ec;
    if (fs::file_size(path, ec) == 0)
        return fail(ErrorCode::InvalidInput, "'" + path + "' is empty, not a sound file");
    const std::string head = readHead(path, 64);
    if (looksLikeWav(head)) return streamWav(path, rate, sink, cancel);
    if (!looksLikeAudio(head))
        return fail(ErrorCode::InvalidInput,
                    "'" + path +
                        "' is not a sound file (its content is not WAV, FLAC, Ogg, MP3, "
                        "AAC/MP4, AIFF or another known sound format)");
    return streamWithQt(path, rate, sink, cancel);
}

Result<AudioClip> decodeAudioFile(const std::string& path, const AudioDecodeOptions& options) {
    AudioClip clip;
    clip.sampleRate = options.sampleRate;
    const size_t limit = options.maxSeconds > 0
                             ? static_cast<size_t>(options.maxSeconds * options.sampleRate)
                             : SIZE_MAX;
    auto source = streamAudioFile(path, options.sampleRate, [&](const float* s, size_t n) {
        const size_t take = std::min(n, limit - clip.samples.size());
        clip.samples.insert(clip.samples.end(), s, s + take);
        return clip.samples.size() < limit;
    });
    ESPER_TRY(source);
    if (clip.samples.empty()) return fail(ErrorCode::InvalidInput, "'" + path + "' holds no sound");
    // Below -80 dBFS nothing is there to caption; saying so beats a caption of noise.
    if (options.refuseSilence && source->peak < 1e-4f)
        return fail(ErrorCode::InvalidInput, "'" + path + "' is silent (" +
                                                 std::to_string(source->seconds) +
                                                 " s with no sound above -80 dBFS)");
    return clip;
}

} // namespace esper::media
