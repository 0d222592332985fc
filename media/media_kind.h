// What a file holds, judged by its first bytes rather than its name: the CLI and the studio
// accept images and sounds side by side, and a file named .jpg that is really a WAV is a sound.
#pragma once

#include <string>
#include <string_view>

namespace esper::media {

enum class MediaKind { Image, Audio, Unknown };

MediaKind mediaKindOfBytes(std::string_view head);
// Reads the first bytes of `path`; Unknown when it cannot be read.
MediaKind mediaKindOfFile(const std::string& path);
// Whether the extension names a format of that kind (for picking files out of folders).
bool hasImageExtension(const std::string& path);
bool hasAudioExtension(const std::string& path);

// Whether the first bytes look like a sound format (RIFF/WAVE, FLAC, Ogg, MP3 with or without
// ID3, AAC/ADTS, MP4 audio, AIFF, AU, AMR, CAF, Matroska/WebM).
bool looksLikeAudio(std::string_view head);

} // namespace esper::media
