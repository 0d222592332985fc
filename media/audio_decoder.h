// Sound files to the engine's 16 kHz mono: WAV by the project's own reader, every other format
// (FLAC, Ogg/Vorbis, Opus, MP3, AAC, ... whatever the platform's backend offers) through Qt
// Multimedia's QAudioDecoder. Channels are averaged and the rate converted by the engine's
// Resampler (torchaudio's sinc resampling), never by the backend, so every format reaches the
// encoder the same way. Decoding streams: a two-hour file never sits in memory whole.
#pragma once

#include "audio/audio_clip.h"
#include "util/result.h"

#include <atomic>
#include <functional>
#include <string>
#include <string_view>

namespace esper::media {

struct AudioSource {
    std::string decoder; // "wav" or "qt"
    int sampleRate = 0;  // the file's own
    int channels = 0;
    double seconds = 0; // decoded
    float peak = 0;     // largest |sample| after mixing to mono
};

// Called with each block of output samples, in order; return false to stop early.
using AudioSink = std::function<bool(const float* samples, size_t count)>;

// Decodes `path` to mono at `rate` and hands the samples to `sink` as they come.
Result<AudioSource> streamAudioFile(const std::string& path, int rate, const AudioSink& sink,
                                    const std::atomic<bool>* cancel = nullptr);

struct AudioDecodeOptions {
    int sampleRate = kAudioSampleRate;
    double maxSeconds = 0;     // 0: all of it; otherwise the start of a longer file
    bool refuseSilence = true; // a silent file is an error that says so
};

// The whole file (or its first maxSeconds) as one clip.
Result<AudioClip> decodeAudioFile(const std::string& path, const AudioDecodeOptions& options = {});

} // namespace esper::media
