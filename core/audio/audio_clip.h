// Sound as the engine takes it: mono float samples in [-1, 1] at a known rate. Decoding files
// into it is the media library's job; the engine only ever sees this.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace esper {

// Wav2CLIP (and every audio encoder the project trains) hears 16 kHz mono.
inline constexpr int kAudioSampleRate = 16000;

struct AudioClip {
    std::vector<float> samples; // mono
    int sampleRate = kAudioSampleRate;
    double seconds() const {
        return sampleRate > 0 ? static_cast<double>(samples.size()) / sampleRate : 0.0;
    }
};

} // namespace esper
