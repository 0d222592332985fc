#include "image/clip_preprocess.h"

#include "image/pillow_resize.h"

namespace esper {

std::pair<int, int> clipResizedSize(int width, int height, int size) {
    if (width == height) return {size, size};
    if (width < height) return {size, static_cast<int>(static_cast<double>(size) * height / width)};
    return {static_cast<int>(static_cast<double>(size) * width / height), size};
}

RgbImage clipResizeAndCrop(const RgbImage& image, int size) {
    const auto [w, h] = clipResizedSize(image.width, image.height, size);
    const RgbImage resized = pillowResizeBicubic(image, w, h);
    // Python's floor division, also for negative offsets (padding).
    auto floorHalf = [](int d) { return d >= 0 ? d / 2 : -((-d + 1) / 2); };
    const int top = floorHalf(h - size), left = floorHalf(w - size);
    RgbImage out{size, size, std::vector<uint8_t>(static_cast<size_t>(size) * size * 3, 0)};
    for (int y = 0; y < size; ++y) {
        const int sy = y + top;
        if (sy < 0 || sy >= h) continue;
        for (int x = 0; x < size; ++x) {
            const int sx = x + left;
            if (sx < 0 || sx >= w) continue;
            for (int c = 0; c < 3; ++c)
                out.row(y)[x * 3 + c] = resized.row(sy)[sx * 3 + c];
        }
    }
    return out;
}

std::vector<float> clipNormalize(const RgbImage& cropped, const ClipPreprocessConfig& config) {
    const size_t plane = static_cast<size_t>(cropped.width) * cropped.height;
    std::vector<float> out(plane * 3);
    for (int c = 0; c < 3; ++c) {
        for (size_t i = 0; i < plane; ++i) {
            const double v = cropped.pixels[i * 3 + c] * (1.0 / 255.0);
            out[c * plane + i] = static_cast<float>((v - config.mean[c]) / config.std[c]);
        }
    }
    return out;
}

std::vector<float> clipPreprocess(const RgbImage& image, const ClipPreprocessConfig& config) {
    return clipNormalize(clipResizeAndCrop(image, config.size), config);
}

} // namespace esper
