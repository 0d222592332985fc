// Image files to the engine's RgbImage: PNG, JPEG, WebP, BMP, TIFF via OpenCV, EXIF orientation
// applied, grey expanded to RGB, alpha dropped (as Pillow's convert("RGB") does).
#pragma once

#include "image/rgb_image.h"
#include "util/result.h"

#include <string>

namespace esper::media {

Result<RgbImage> decodeImageFile(const std::string& path);
Result<RgbImage> decodeImageBytes(const std::string& bytes, const std::string& nameForErrors);
// Writes PNG (or JPEG, by the extension) atomically.
Result<void> encodeImageFile(const RgbImage& image, const std::string& path);

} // namespace esper::media
