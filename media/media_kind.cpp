#include "media_kind.h"

#include "wav_format.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

namespace esper::media {
namespace {

bool startsWith(std::string_view s, std::string_view p) {
    return s.size() >= p.size() && s.substr(0, p.size()) == p;
}

std::string lowerExtension(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    return ext;
}

bool looksLikeImage(std::string_view h) {
    using namespace std::literals;
    return startsWith(h, "\x89PNG\r\n\x1a\n"sv) || startsWith(h, "\xff\xd8\xff"sv) ||
           startsWith(h, "GIF8"sv) || startsWith(h, "BM"sv) || startsWith(h, "II*\0"sv) ||
           startsWith(h, "MM\0*"sv) ||
           (h.size() >= 12 && startsWith(h, "RIFF"sv) && h.substr(8, 4) == "WEBP"sv);
}

} // namespace

bool looksLikeAudio(std::string_view h) {
    using namespace std::literals;
    if (looksLikeWav(h)) return true;
    if (startsWith(h, "fLaC"sv) || startsWith(h, "OggS"sv) || startsWith(h, "ID3"sv) ||
        startsWith(h, "#!AMR"sv) || startsWith(h, "caff"sv) || startsWith(h, ".snd"sv) ||
        startsWith(h, "\x1a\x45\xdf\xa3"sv))
        return true;
    if (h.size() >= 12 && startsWith(h, "FORM"sv) &&
        (h.substr(8, 4) == "AIFF"sv || h.substr(8, 4) == "AIFC"sv))
        return true;
    if (h.size() >= 12 && h.substr(4, 4) == "ftyp"sv) {
        const auto brand = h.substr(8, 4);
        return brand == "M4A "sv || brand == "M4B "sv || brand == "mp42"sv || brand == "isom"sv;
    }
    // An MPEG audio frame (MP3 without ID3) or AAC in ADTS: 11 or 12 sync bits. JPEG starts
    // FF D8, which neither is.
    if (h.size() >= 2 && static_cast<unsigned char>(h[0]) == 0xff) {
        const auto b = static_cast<unsigned char>(h[1]);
        return ((b & 0xe0) == 0xe0 && (b & 0x06) != 0) || (b & 0xf6) == 0xf0;
    }
    return false;
}

MediaKind mediaKindOfBytes(std::string_view head) {
    // Image first: a WebP is a RIFF file too, and looksLikeAudio only claims RIFF/WAVE.
    if (looksLikeImage(head)) return MediaKind::Image;
    if (looksLikeAudio(head)) return MediaKind::Audio;
    return MediaKind::Unknown;
}

MediaKind mediaKindOfFile(const std::string& path) {
    // Not even opened unless regular: a FIFO would block the read below for ever.
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return MediaKind::Unknown;
    std::ifstream in(path, std::ios::binary);
    if (!in) return MediaKind::Unknown;
    std::string head(64, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
    return mediaKindOfBytes(head);
}

bool hasImageExtension(const std::string& path) {
    static const std::set<std::string> exts = {".jpg", ".jpeg", ".png", ".webp",
                                               ".bmp", ".tif",  ".tiff"};
    return exts.count(lowerExtension(path)) > 0;
}

bool hasAudioExtension(const std::string& path) {
    static const std::set<std::string> exts = {".wav",  ".flac", ".ogg", ".oga", ".opus",
                                               ".mp3",  ".m4a",  ".aac", ".aif", ".aiff",
                                               ".aifc", ".au",   ".caf", ".amr", ".weba"};
    return exts.count(lowerExtension(path)) > 0;
}

} // namespace esper::media
