// Band-limited resampling between any two integer rates, computed as torchaudio's
// `functional.resample` computes it (windowed sinc with a Hann window, `lowpass_filter_width`
// zero crossings, `rolloff` of the lower Nyquist frequency), so that a clip resampled here
// reaches Wav2CLIP as the reference's did. It streams: samples go in in blocks of any size and
// the output is the same as resampling the whole signal at once, in bounded memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace esper {

struct ResampleOptions {
    int lowpassFilterWidth = 6;
    double rolloff = 0.99;
};

class Resampler {
public:
    Resampler(int fromRate, int toRate, ResampleOptions options = {});

    // Appends the output that `samples` make computable to `out`.
    void push(const float* samples, size_t count, std::vector<float>& out);
    // Ends the signal (zeros beyond its end, as the reference pads) and appends the rest:
    // ceil(input length · to / from) samples in all.
    void finish(std::vector<float>& out);

    int fromRate() const { return from_ * gcd_; }
    int toRate() const { return to_ * gcd_; }

private:
    void produce(bool final, std::vector<float>& out);
    double at(int64_t index) const; // input sample at a global index (zero outside the signal)

    int64_t from_, to_, gcd_, width_;
    std::vector<std::vector<double>> kernels_; // one per output phase, 2·width + from taps
    std::vector<float> buffer_;                // input from bufferStart_ on
    int64_t bufferStart_ = 0, received_ = 0, produced_ = 0;
    bool identity_;
};

// The whole signal at once.
std::vector<float> resample(const std::vector<float>& samples, int fromRate, int toRate,
                            ResampleOptions options = {});

} // namespace esper
