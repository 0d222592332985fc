#include "audio/audio_windows.h"

#include <algorithm>
#include <cmath>

namespace esper {

AudioWindower::AudioWindower(int sampleRate, double windowSeconds, double minimumSeconds)
    : rate_(sampleRate),
      window_(std::max<size_t>(1, static_cast<size_t>(std::lround(windowSeconds * sampleRate)))),
      minimum_(static_cast<size_t>(std::max(0.0, minimumSeconds) * sampleRate)) {
    current_.clip.sampleRate = sampleRate;
    current_.clip.samples.reserve(window_);
}

bool AudioWindower::flush(const WindowSink& onWindow) {
    auto& w = current_;
    w.start = static_cast<double>(consumed_) / rate_;
    w.end = static_cast<double>(consumed_ + w.clip.samples.size()) / rate_;
    ++emitted_;
    const bool more = onWindow(w);
    consumed_ += w.clip.samples.size();
    w.clip.samples.clear();
    w.peak = 0;
    return more;
}

bool AudioWindower::push(const float* samples, size_t count, const WindowSink& onWindow) {
    while (count > 0) {
        const size_t take = std::min(count, window_ - current_.clip.samples.size());
        for (size_t i = 0; i < take; ++i)
            current_.peak = std::max(current_.peak, std::fabs(samples[i]));
        current_.clip.samples.insert(current_.clip.samples.end(), samples, samples + take);
        samples += take;
        count -= take;
        if (current_.clip.samples.size() == window_ && !flush(onWindow)) return false;
    }
    return true;
}

bool AudioWindower::finish(const WindowSink& onWindow) {
    if (current_.clip.samples.empty()) return true;
    if (emitted_ > 0 && current_.clip.samples.size() < minimum_) return true;
    return flush(onWindow);
}

} // namespace esper
