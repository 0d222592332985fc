// Pillow's bicubic resize, bit for bit: separable passes (horizontal first, into 8 bits), the
// a = -0.5 kernel widened by the downscale factor, 22-bit fixed-point weights.
#pragma once

#include "image/rgb_image.h"

namespace esper {

RgbImage pillowResizeBicubic(const RgbImage& in, int outWidth, int outHeight);

} // namespace esper
