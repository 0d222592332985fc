#include "pcm_mix.h"

namespace esper::media {

std::vector<float> mixToMono(const QAudioFormat& format, const char* data, qsizetype frames) {
    const int channels = format.channelCount(), bytes = format.bytesPerSample();
    std::vector<float> mono(static_cast<size_t>(std::max<qsizetype>(frames, 0)), 0.0f);
    if (channels <= 0) return mono;
    for (qsizetype f = 0; f < frames; ++f) {
        float sum = 0;
        for (int c = 0; c < channels; ++c)
            sum += format.normalizedSampleValue(data + (f * channels + c) * bytes);
        mono[static_cast<size_t>(f)] = sum / static_cast<float>(channels);
    }
    return mono;
}

} // namespace esper::media
