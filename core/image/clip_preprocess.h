// CLIP's image preprocessing (OpenAI clip._transform / HF CLIPImageProcessor): shortest side to
// `size` with Pillow bicubic, centre crop, scale to [0, 1], normalise, CHW.
#pragma once

#include "image/rgb_image.h"

#include <array>
#include <vector>

namespace esper {

struct ClipPreprocessConfig {
    int size = 224;
    std::array<double, 3> mean{0.48145466, 0.4578275, 0.40821073};
    std::array<double, 3> std{0.26862954, 0.26130258, 0.27577711};
};

// The resize target: the shortest side becomes `size`, the long side int(size * long / short).
std::pair<int, int> clipResizedSize(int width, int height, int size);
// Resize then centre-crop (offset (dim - size) // 2, zero padding where the image is smaller).
RgbImage clipResizeAndCrop(const RgbImage& image, int size);
// [3, size, size] float values in CHW order.
std::vector<float> clipNormalize(const RgbImage& cropped, const ClipPreprocessConfig& config);
std::vector<float> clipPreprocess(const RgbImage& image, const ClipPreprocessConfig& config = {});

} // namespace esper
