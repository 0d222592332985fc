#include "audio/resample.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace esper {

Resampler::Resampler(int fromRate, int toRate, ResampleOptions options) {
    gcd_ = std::gcd<int64_t>(fromRate, toRate);
    from_ = fromRate / gcd_;
    to_ = toRate / gcd_;
    identity_ = from_ == to_;
    // The kernel exactly as torchaudio builds it: time offsets of every tap for every output
    // phase, in units of the lower rate, clamped to the filter's support.
    const double base = std::min(from_, to_) * options.rolloff;
    const double lw = options.lowpassFilterWidth;
    width_ = static_cast<int64_t>(std::ceil(lw * from_ / base));
    const double scale = base / from_;
    kernels_.assign(static_cast<size_t>(to_), {});
    for (int64_t phase = 0; phase < to_; ++phase) {
        auto& k = kernels_[static_cast<size_t>(phase)];
        k.resize(static_cast<size_t>(2 * width_ + from_));
        for (int64_t tap = 0; tap < static_cast<int64_t>(k.size()); ++tap) {
            double t =
                (-static_cast<double>(phase) / to_ + static_cast<double>(tap - width_) / from_) *
                base;
            t = std::clamp(t, -lw, lw);
            const double window = std::pow(std::cos(t * M_PI / lw / 2), 2);
            const double x = t * M_PI;
            k[static_cast<size_t>(tap)] = (x == 0 ? 1.0 : std::sin(x) / x) * window * scale;
        }
    }
}

double Resampler::at(int64_t index) const {
    if (index < bufferStart_ || index >= received_) return 0.0;
    return buffer_[static_cast<size_t>(index - bufferStart_)];
}

void Resampler::produce(bool final, std::vector<float>& out) {
    const int64_t total = (received_ * to_ + from_ - 1) / from_; // ceil(len · to / from)
    for (;; ++produced_) {
        if (final && produced_ >= total) break;
        const int64_t frame = produced_ / to_, phase = produced_ % to_;
        // Output (frame, phase) reads input frame·from - width .. frame·from + width + from - 1.
        const int64_t first = frame * from_ - width_;
        const int64_t last = first + 2 * width_ + from_ - 1;
        if (!final && last >= received_) break;
        const auto& k = kernels_[static_cast<size_t>(phase)];
        double sum = 0;
        for (size_t tap = 0; tap < k.size(); ++tap)
            sum += k[tap] * at(first + static_cast<int64_t>(tap));
        out.push_back(static_cast<float>(sum));
    }
    // Keep only the input a later output can still read.
    const int64_t nextFirst = (produced_ / to_) * from_ - width_;
    if (nextFirst > bufferStart_) {
        const int64_t drop =
            std::min<int64_t>(nextFirst - bufferStart_, static_cast<int64_t>(buffer_.size()));
        buffer_.erase(buffer_.begin(), buffer_.begin() + drop);
        bufferStart_ += drop;
    }
}

void Resampler::push(const float* samples, size_t count, std::vector<float>& out) {
    if (identity_) {
        out.insert(out.end(), samples, samples + count);
        return;
    }
    buffer_.insert(buffer_.end(), samples, samples + count);
    received_ += static_cast<int64_t>(count);
    produce(false, out);
}

void Resampler::finish(std::vector<float>& out) {
    if (!identity_) produce(true, out);
}

std::vector<float> resample(const std::vector<float>& samples, int fromRate, int toRate,
                            ResampleOptions options) {
    Resampler r(fromRate, toRate, options);
    std::vector<float> out;
    out.reserve(samples.size() * static_cast<size_t>(toRate) / static_cast<size_t>(fromRate) + 1);
    r.push(samples.data(), samples.size(), out);
    r.finish(out);
    return out;
}

} // namespace esper
