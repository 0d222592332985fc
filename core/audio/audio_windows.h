// Long recordings in fixed windows: samples stream in, windows of `windowSeconds` come out in
// order, each with its place on the recording's timeline. Only one window is ever held, so a
// two-hour file is captioned in the memory of five seconds of sound.
#pragma once

#include "audio/audio_clip.h"

#include <functional>

namespace esper {

struct AudioWindow {
    double start = 0, end = 0; // seconds from the recording's start
    AudioClip clip;
    float peak = 0;                              // largest |sample|
    bool silent() const { return peak < 1e-4f; } // below -80 dBFS
};

class AudioWindower {
public:
    // A tail shorter than `minimumSeconds` is dropped unless it is the recording's only window.
    AudioWindower(int sampleRate, double windowSeconds, double minimumSeconds = 1.0);
    // Calls `onWindow` for each window these samples complete; its false stops the stream.
    using WindowSink = std::function<bool(const AudioWindow&)>;
    bool push(const float* samples, size_t count, const WindowSink& onWindow);
    // The last, partial window.
    bool finish(const WindowSink& onWindow);
    int windows() const { return emitted_; }

private:
    bool flush(const WindowSink& onWindow);
    int rate_;
    size_t window_, minimum_;
    AudioWindow current_;
    size_t consumed_ = 0; // samples before the current window
    int emitted_ = 0;
};

} // namespace esper
