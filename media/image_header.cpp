#include "image_header.h"

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <cstring>

namespace esper::media {

namespace {

uint32_t be16(std::string_view b, size_t at) {
    return uint32_t(uint8_t(b[at])) << 8 | uint8_t(b[at + 1]);
}
uint32_t be32(std::string_view b, size_t at) {
    return be16(b, at) << 16 | be16(b, at + 2);
}
uint32_t le16(std::string_view b, size_t at) {
    return uint32_t(uint8_t(b[at + 1])) << 8 | uint8_t(b[at]);
}
uint32_t le32(std::string_view b, size_t at) {
    return le16(b, at + 2) << 16 | le16(b, at);
}
uint32_t le24(std::string_view b, size_t at) {
    return uint32_t(uint8_t(b[at + 2])) << 16 | le16(b, at);
}

std::optional<ImageSize> pngSize(std::string_view b) {
    // The signature, then IHDR first: length, "IHDR", width, height (big-endian).
    if (b.size() < 24 || b.substr(12, 4) != "IHDR") return std::nullopt;
    return ImageSize{be32(b, 16), be32(b, 20)};
}

std::optional<ImageSize> jpegSize(std::string_view b) {
    // Segments after SOI until a start-of-frame marker, which holds the height and width.
    size_t at = 2;
    while (at + 4 <= b.size()) {
        if (uint8_t(b[at]) != 0xFF) return std::nullopt;
        const uint8_t marker = uint8_t(b[at + 1]);
        if (marker == 0xFF) { // fill byte
            ++at;
            continue;
        }
        if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
            at += 2; // markers without a length
            continue;
        }
        const size_t length = be16(b, at + 2);
        if (length < 2) return std::nullopt;
        const bool frame =
            marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (frame) {
            if (at + 9 > b.size()) return std::nullopt;
            return ImageSize{be16(b, at + 7), be16(b, at + 5)};
        }
        if (marker == 0xDA || marker == 0xD9) return std::nullopt; // data before any frame
        at += 2 + length;
    }
    return std::nullopt;
}

std::optional<ImageSize> webpSize(std::string_view b) {
    if (b.size() < 30) return std::nullopt;
    const std::string_view chunk = b.substr(12, 4);
    if (chunk == "VP8X") return ImageSize{uint64_t(le24(b, 24)) + 1, uint64_t(le24(b, 27)) + 1};
    if (chunk == "VP8L") {
        const uint32_t bits = le32(b, 21);
        return ImageSize{(bits & 0x3FFF) + 1u, ((bits >> 14) & 0x3FFF) + 1u};
    }
    if (chunk == "VP8 ") return ImageSize{le16(b, 26) & 0x3FFF, le16(b, 28) & 0x3FFF};
    return std::nullopt;
}

std::optional<ImageSize> bmpSize(std::string_view b) {
    if (b.size() < 26) return std::nullopt;
    if (le32(b, 14) == 12) return ImageSize{le16(b, 18), le16(b, 20)}; // OS/2 core header
    const auto height = int32_t(le32(b, 22));                          // negative: stored top-down
    return ImageSize{le32(b, 18), uint64_t(height < 0 ? -int64_t(height) : height)};
}

std::optional<ImageSize> tiffSize(std::string_view b) {
    const bool little = b[0] == 'I';
    auto u16 = [&](size_t at) { return little ? le16(b, at) : be16(b, at); };
    auto u32 = [&](size_t at) { return little ? le32(b, at) : be32(b, at); };
    const size_t ifd = u32(4);
    if (ifd + 2 > b.size()) return std::nullopt;
    const size_t entries = u16(ifd);
    ImageSize size;
    for (size_t i = 0; i < entries; ++i) {
        const size_t at = ifd + 2 + i * 12;
        if (at + 12 > b.size()) return std::nullopt;
        const uint32_t tag = u16(at), type = u16(at + 2);
        const uint32_t value = type == 3 ? u16(at + 8) : u32(at + 8); // SHORT or LONG
        if (tag == 256) size.width = value;
        if (tag == 257) size.height = value;
    }
    if (size.width == 0 || size.height == 0) return std::nullopt;
    return size;
}

constexpr uint64_t kPillowBombLimit = 178'956'970; // Pillow's MAX_IMAGE_PIXELS × 2
std::atomic<uint64_t> configuredLimit{0};          // 0: not set by setMaxImagePixels

} // namespace

std::optional<ImageSize> imageSizeFromHeader(std::string_view b) {
    if (b.size() >= 8 && b.substr(0, 8) == "\x89PNG\r\n\x1a\n") return pngSize(b);
    if (b.size() >= 3 && b.substr(0, 3) == "\xFF\xD8\xFF") return jpegSize(b);
    if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") return webpSize(b);
    if (b.size() >= 2 && b.substr(0, 2) == "BM") return bmpSize(b);
    if (b.size() >= 8 && (b.substr(0, 4) == std::string_view("II*\0", 4) ||
                          b.substr(0, 4) == std::string_view("MM\0*", 4)))
        return tiffSize(b);
    return std::nullopt;
}

uint64_t maxImagePixels() {
    if (const uint64_t set = configuredLimit.load()) return set;
    static const uint64_t fromEnvironment = [] {
        const char* v = std::getenv("ESPER_MAX_IMAGE_PIXELS");
        if (!v) return kPillowBombLimit;
        // Anything but a whole positive number keeps the default.
        uint64_t n = 0;
        const std::string_view text(v);
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
        return error == std::errc() && end == text.data() + text.size() && n > 0 ? n
                                                                                 : kPillowBombLimit;
    }();
    return fromEnvironment;
}

void setMaxImagePixels(uint64_t pixels) {
    configuredLimit = pixels;
}

Result<void> checkImageSize(const ImageSize& size, const std::string& name) {
    // Each side is at most 2^32, so the product cannot overflow 64 bits.
    if (size.width * size.height <= maxImagePixels()) return {};
    return fail("'" + name + "' declares " + std::to_string(size.width) + " × " +
                std::to_string(size.height) + " pixels, more than the limit of " +
                std::to_string(maxImagePixels()) +
                " (a decompression bomb, or set ESPER_MAX_IMAGE_PIXELS to allow it)");
}

} // namespace esper::media
