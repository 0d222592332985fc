#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace esper {

// An 8-bit RGB image, rows top to bottom, pixels interleaved (HWC). The engine's only image type:
// decoding lives in the media library, so the engine never depends on an image codec.
struct RgbImage {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> pixels; // width * height * 3

    uint8_t* row(int y) { return pixels.data() + static_cast<size_t>(y) * width * 3; }
    const uint8_t* row(int y) const { return pixels.data() + static_cast<size_t>(y) * width * 3; }
};

} // namespace esper
