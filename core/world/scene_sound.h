// The synthetic world, heard: every scene has a deterministic sound that carries its content, so
// an audio encoder can be trained and captions checked against ground truth with no recording.
// Each object is a tone: its colour sets the pitch (eight pitches a minor third apart from
// 330 Hz), its shape the timbre (circle: pure; square: odd harmonics; triangle: every harmonic;
// diamond: octaves, pulsing at 10 Hz), its size the length and loudness, its horizontal place the
// onset (left sounds first) and its height the envelope (high objects swell, low ones fade, centred
// ones hold). Quiet noise, seeded by the scene, keeps it from being too clean.
#pragma once

#include "audio/audio_clip.h"
#include "world/scene.h"

namespace esper::world {

struct SceneSoundOptions {
    double seconds = 2.0;
    int sampleRate = kAudioSampleRate;
    float noise = 0.01f; // amplitude of the background noise
};

AudioClip renderSceneSound(const Scene& scene, const SceneSoundOptions& options = {});

// The pitch an object of this colour sounds at, in Hz.
double colorPitch(Color color);

} // namespace esper::world
