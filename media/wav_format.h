// RIFF/WAVE read and written by the project itself: PCM of 8, 16, 24 and 32 bits and IEEE float
// of 32 and 64 bits, plain or WAVE_FORMAT_EXTENSIBLE. Every header field is checked against the
// bytes that are really there, so a truncated or lying header is an error that says what is
// wrong, never a read past the end or an allocation the file cannot back.
#pragma once

#include "audio/audio_clip.h"
#include "util/result.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace esper::media {

struct WavLayout {
    int channels = 0;
    int sampleRate = 0;
    int bitsPerSample = 0;
    bool isFloat = false;
    uint64_t dataOffset = 0; // of the first sample in the file
    uint64_t frames = 0;     // samples per channel
};

// Whether the bytes start like a RIFF/WAVE file (RIFF or RF64).
bool looksLikeWav(std::string_view head);
// The layout of a WAV file held in `bytes` (the header and at least the data chunk's start).
// `fileSize` is the whole file's, to check the data chunk against; `name` is for messages.
Result<WavLayout> parseWavHeader(std::string_view bytes, uint64_t fileSize,
                                 const std::string& name);
// Samples of `layout` as floats in [-1, 1], channels averaged into mono.
void wavToMono(const WavLayout& layout, const unsigned char* data, uint64_t frames, float* out);
// Mono at the clip's own rate (no resampling).
Result<AudioClip> decodeWavBytes(std::string_view bytes, const std::string& name);
// 16-bit PCM mono, written atomically.
Result<void> writeWavFile(const AudioClip& clip, const std::string& path);

} // namespace esper::media
