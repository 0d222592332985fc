// An image's size read from its header alone, so a file that declares more pixels than the limit
// is refused before anything is decoded or allocated (a 2 MB PNG may declare 26,000 × 26,000
// pixels: 2 GB once decoded). PNG, JPEG, WebP, BMP and TIFF, the formats the decoder reads.
#pragma once

#include "util/result.h"

#include <cstdint>
#include <optional>
#include <string_view>

namespace esper::media {

struct ImageSize {
    uint64_t width = 0, height = 0;
};
// Empty when the header is not one of the formats above or is cut short.
std::optional<ImageSize> imageSizeFromHeader(std::string_view bytes);

// The most pixels an image may have: Pillow's decompression-bomb limit (178,956,970, about
// 13,400 × 13,400) unless $ESPER_MAX_IMAGE_PIXELS or setMaxImagePixels says otherwise.
uint64_t maxImagePixels();
void setMaxImagePixels(uint64_t pixels);
// Fails, naming the file, the size and the limit, when `size` is over the limit.
Result<void> checkImageSize(const ImageSize& size, const std::string& nameForErrors);

} // namespace esper::media
