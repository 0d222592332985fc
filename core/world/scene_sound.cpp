#include "world/scene_sound.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

namespace esper::world {
namespace {

constexpr size_t kTable = 4096;

// One period of each shape's waveform, peak-normalised: a tone is then one table read per
// sample, which keeps a training batch of sounds cheaper than its spectrograms.
const std::array<std::vector<float>, 4>& wavetables() {
    static const auto tables = [] {
        // Strong partials, so that each timbre is a pattern of lines a spectrogram shows.
        const std::array<std::vector<std::pair<int, double>>, 4> partials = {{
            {{1, 1.0}},                                                   // circle: pure
            {{1, 1.0}, {3, 0.8}, {5, 0.6}, {7, 0.5}},                     // square: odd
            {{1, 1.0}, {2, 0.8}, {3, 0.7}, {4, 0.6}, {5, 0.5}, {6, 0.4}}, // triangle: all
            {{1, 1.0}, {2, 0.9}, {4, 0.8}},                               // diamond: octaves
        }};
        std::array<std::vector<float>, 4> out;
        for (size_t s = 0; s < partials.size(); ++s) {
            std::vector<double> t(kTable, 0.0);
            for (size_t i = 0; i < kTable; ++i)
                for (const auto& [harmonic, amplitude] : partials[s])
                    t[i] += amplitude * std::sin(2 * M_PI * harmonic * double(i) / kTable);
            double peak = 0;
            for (double v : t)
                peak = std::max(peak, std::fabs(v));
            out[s].resize(kTable);
            for (size_t i = 0; i < kTable; ++i)
                out[s][i] = static_cast<float>(t[i] / peak);
        }
        return out;
    }();
    return tables;
}

// The envelope at `x` in [0, 1] of the tone's length, from the object's height (cy: 0 is the top).
float envelope(double x, float cy, double lengthSeconds) {
    const double edge = std::min(1.0, 0.015 / lengthSeconds); // 15 ms ramps: no clicks
    const double ramp = std::min({1.0, x / edge, (1 - x) / edge});
    double shape = 1.0;
    if (cy < 0.4f)
        shape = 0.15 + 0.85 * x; // swells
    else if (cy > 0.6f)
        shape = std::exp(-3.0 * x); // fades
    return static_cast<float>(std::max(0.0, ramp) * shape);
}

} // namespace

double colorPitch(Color color) {
    return 330.0 * std::pow(2.0, 3.0 * static_cast<int>(color) / 12.0);
}

AudioClip renderSceneSound(const Scene& scene, const SceneSoundOptions& o) {
    AudioClip clip;
    clip.sampleRate = o.sampleRate;
    const size_t total = static_cast<size_t>(o.seconds * o.sampleRate);
    clip.samples.assign(total, 0.0f);
    const auto& tables = wavetables();
    for (const auto& obj : scene.objects) {
        const bool large = obj.size == Size::Large;
        const double length = (large ? 0.6 : 0.3) * o.seconds / 2.0;
        const float loudness = large ? 0.3f : 0.18f;
        const double onset = (0.05 + 1.2 * std::clamp(obj.cx, 0.0f, 1.0f)) * o.seconds / 2.0;
        const auto first = static_cast<size_t>(onset * o.sampleRate);
        const auto count = static_cast<size_t>(length * o.sampleRate);
        const auto& table = tables[static_cast<size_t>(obj.shape)];
        const double step = colorPitch(obj.color) * kTable / o.sampleRate;
        double phase = 0;
        // The diamond also pulses (10 Hz), which no other shape does.
        const bool pulses = obj.shape == Shape::Diamond;
        for (size_t i = 0; i < count && first + i < total; ++i) {
            float env = envelope(double(i) / double(count), obj.cy, length);
            if (pulses)
                env *= 0.55f + 0.45f * static_cast<float>(
                                           std::cos(2 * M_PI * 10.0 * double(i) / o.sampleRate));
            clip.samples[first + i] += loudness * env * table[static_cast<size_t>(phase)];
            phase += step;
            if (phase >= kTable) phase -= kTable;
        }
    }
    std::mt19937 rng(static_cast<uint32_t>(scene.id * 2654435761u + 17));
    std::uniform_real_distribution<float> noise(-o.noise, o.noise);
    for (auto& v : clip.samples)
        v = std::clamp(v + noise(rng), -1.0f, 1.0f);
    return clip;
}

} // namespace esper::world
