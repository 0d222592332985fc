#include "wav_format.h"

#include "util/file_util.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace esper::media {
namespace {

uint16_t u16(const unsigned char* p) {
    return static_cast<uint16_t>(p[0] | p[1] << 8);
}
uint32_t u32(const unsigned char* p) {
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
           static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}
void put16(std::string& s, uint16_t v) {
    s.push_back(static_cast<char>(v & 0xff));
    s.push_back(static_cast<char>(v >> 8));
}
void put32(std::string& s, uint32_t v) {
    for (int i = 0; i < 4; ++i)
        s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

constexpr uint16_t kPcm = 1, kFloat = 3, kExtensible = 0xfffe;

} // namespace

bool looksLikeWav(std::string_view head) {
    return head.size() >= 12 && (head.substr(0, 4) == "RIFF" || head.substr(0, 4) == "RF64") &&
           head.substr(8, 4) == "WAVE";
}

Result<WavLayout> parseWavHeader(std::string_view bytes, uint64_t fileSize,
                                 const std::string& name) {
    const auto bad = [&](const std::string& why) {
        return fail(ErrorCode::InvalidInput, "'" + name + "' is not a usable WAV file: " + why);
    };
    if (!looksLikeWav(bytes)) return bad("it does not start with a RIFF/WAVE header");
    const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
    WavLayout layout;
    bool haveFormat = false;
    uint64_t pos = 12;
    while (pos + 8 <= bytes.size()) {
        const std::string_view id = bytes.substr(pos, 4);
        const uint64_t size = u32(b + pos + 4);
        const uint64_t body = pos + 8;
        if (id == "fmt ") {
            if (size < 16 || body + size > bytes.size())
                return bad("its format chunk is cut short");
            uint16_t tag = u16(b + body);
            layout.channels = u16(b + body + 2);
            layout.sampleRate = static_cast<int>(u32(b + body + 4));
            const uint16_t blockAlign = u16(b + body + 12);
            layout.bitsPerSample = u16(b + body + 14);
            if (tag == kExtensible) {
                if (size < 40) return bad("its extensible format chunk is cut short");
                tag = u16(b + body + 24); // the sub-format GUID starts with the format tag
            }
            if (tag != kPcm && tag != kFloat)
                return fail(ErrorCode::InvalidInput,
                            "'" + name + "' is a WAV file in a compressed encoding (format " +
                                std::to_string(tag) + "); only PCM and float WAV are read here");
            layout.isFloat = tag == kFloat;
            const int bits = layout.bitsPerSample;
            const bool bitsOk = layout.isFloat
                                    ? (bits == 32 || bits == 64)
                                    : (bits == 8 || bits == 16 || bits == 24 || bits == 32);
            if (!bitsOk) return bad(std::to_string(bits) + "-bit samples are not supported");
            if (layout.channels < 1 || layout.channels > 64)
                return bad("it declares " + std::to_string(layout.channels) + " channels");
            if (layout.sampleRate < 1000 || layout.sampleRate > 768000)
                return bad("it declares a sample rate of " + std::to_string(layout.sampleRate) +
                           " Hz");
            if (blockAlign != layout.channels * bits / 8)
                return bad("its block alignment (" + std::to_string(blockAlign) +
                           ") does not match its channels and sample size");
            haveFormat = true;
        } else if (id == "data") {
            if (!haveFormat) return bad("its data comes before its format");
            const uint64_t frameBytes =
                static_cast<uint64_t>(layout.channels) * layout.bitsPerSample / 8;
            uint64_t available = fileSize > body ? fileSize - body : 0;
            // 0xffffffff is what streaming writers leave when they cannot seek back: the data
            // runs to the end of the file.
            uint64_t declared = size == 0xffffffffu ? available : size;
            if (declared > available)
                return bad("its header declares " + std::to_string(declared) +
                           " bytes of sound but the file holds only " + std::to_string(available) +
                           " (it is truncated)");
            layout.dataOffset = body;
            layout.frames = declared / frameBytes;
            if (layout.frames == 0) return bad("it holds no samples");
            return layout;
        }
        pos = body + size + (size & 1); // chunks are padded to an even size
    }
    return bad(haveFormat ? "it has no data chunk" : "it has no format chunk");
}

void wavToMono(const WavLayout& layout, const unsigned char* data, uint64_t frames, float* out) {
    const int channels = layout.channels, bytes = layout.bitsPerSample / 8;
    const float norm = 1.0f / static_cast<float>(channels);
    for (uint64_t f = 0; f < frames; ++f) {
        double sum = 0;
        for (int c = 0; c < channels; ++c) {
            const unsigned char* p = data + (f * channels + c) * bytes;
            double v = 0;
            if (layout.isFloat && bytes == 4) {
                float x;
                std::memcpy(&x, p, 4);
                v = x;
            } else if (layout.isFloat) {
                double x;
                std::memcpy(&x, p, 8);
                v = x;
            } else if (bytes == 1) {
                v = (static_cast<int>(p[0]) - 128) / 128.0;
            } else if (bytes == 2) {
                v = static_cast<int16_t>(u16(p)) / 32768.0;
            } else if (bytes == 3) {
                const int32_t x = static_cast<int32_t>(static_cast<uint32_t>(p[0]) << 8 |
                                                       static_cast<uint32_t>(p[1]) << 16 |
                                                       static_cast<uint32_t>(p[2]) << 24);
                v = x / 2147483648.0;
            } else {
                v = static_cast<int32_t>(u32(p)) / 2147483648.0;
            }
            sum += v;
        }
        out[f] = static_cast<float>(sum) * norm;
    }
}

Result<AudioClip> decodeWavBytes(std::string_view bytes, const std::string& name) {
    auto layout = parseWavHeader(bytes, bytes.size(), name);
    ESPER_TRY(layout);
    AudioClip clip;
    clip.sampleRate = layout->sampleRate;
    clip.samples.resize(layout->frames);
    wavToMono(*layout, reinterpret_cast<const unsigned char*>(bytes.data()) + layout->dataOffset,
              layout->frames, clip.samples.data());
    return clip;
}

Result<void> writeWavFile(const AudioClip& clip, const std::string& path) {
    const uint32_t dataBytes = static_cast<uint32_t>(clip.samples.size() * 2);
    std::string s;
    s.reserve(44 + dataBytes);
    s += "RIFF";
    put32(s, 36 + dataBytes);
    s += "WAVEfmt ";
    put32(s, 16);
    put16(s, kPcm);
    put16(s, 1);
    put32(s, static_cast<uint32_t>(clip.sampleRate));
    put32(s, static_cast<uint32_t>(clip.sampleRate) * 2);
    put16(s, 2);
    put16(s, 16);
    s += "data";
    put32(s, dataBytes);
    for (float x : clip.samples) {
        const long v = std::lround(std::clamp(x, -1.0f, 1.0f) * 32767.0f);
        put16(s, static_cast<uint16_t>(static_cast<int16_t>(v)));
    }
    return writeFileAtomic(path, s);
}

} // namespace esper::media
