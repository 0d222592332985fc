#include "image/pillow_resize.h"

#include <cmath>

namespace esper {
namespace {

constexpr int kPrecisionBits = 22;
constexpr double kSupport = 2.0;

double bicubic(double x) {
    constexpr double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

// Per output index: the first input index, how many inputs it reads, and fixed-point weights.
struct Coefficients {
    int taps = 0;
    std::vector<int> first, count;
    std::vector<int32_t> weights; // outSize * taps
};

Coefficients precompute(int inSize, int outSize) {
    const double scale = static_cast<double>(inSize) / outSize;
    const double filterScale = scale < 1.0 ? 1.0 : scale;
    const double support = kSupport * filterScale;
    Coefficients c;
    c.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
    c.first.resize(outSize);
    c.count.resize(outSize);
    c.weights.assign(static_cast<size_t>(outSize) * c.taps, 0);
    std::vector<double> w(c.taps);
    for (int xx = 0; xx < outSize; ++xx) {
        const double center = (xx + 0.5) * scale;
        // C casts truncate toward zero, as Pillow's do.
        int xmin = static_cast<int>(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = static_cast<int>(center + support + 0.5);
        if (xmax > inSize) xmax = inSize;
        xmax -= xmin;
        double total = 0.0;
        for (int x = 0; x < xmax; ++x) {
            w[x] = bicubic((x + xmin - center + 0.5) / filterScale);
            total += w[x];
        }
        for (int x = 0; x < xmax; ++x) {
            const double v = total != 0.0 ? w[x] / total : w[x];
            c.weights[static_cast<size_t>(xx) * c.taps + x] = static_cast<int32_t>(
                v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
        }
        c.first[xx] = xmin;
        c.count[xx] = xmax;
    }
    return c;
}

uint8_t clip8(int64_t acc) {
    const int64_t v = acc >> kPrecisionBits;
    return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

RgbImage resizeHorizontal(const RgbImage& in, int outWidth) {
    const Coefficients c = precompute(in.width, outWidth);
    RgbImage out{outWidth, in.height,
                 std::vector<uint8_t>(static_cast<size_t>(outWidth) * in.height * 3)};
    for (int y = 0; y < in.height; ++y) {
        const uint8_t* src = in.row(y);
        uint8_t* dst = out.row(y);
        for (int xx = 0; xx < outWidth; ++xx) {
            const int32_t* k = &c.weights[static_cast<size_t>(xx) * c.taps];
            for (int ch = 0; ch < 3; ++ch) {
                int64_t acc = 1 << (kPrecisionBits - 1);
                for (int x = 0; x < c.count[xx]; ++x)
                    acc += static_cast<int64_t>(src[(x + c.first[xx]) * 3 + ch]) * k[x];
                dst[xx * 3 + ch] = clip8(acc);
            }
        }
    }
    return out;
}

RgbImage resizeVertical(const RgbImage& in, int outHeight) {
    const Coefficients c = precompute(in.height, outHeight);
    RgbImage out{in.width, outHeight,
                 std::vector<uint8_t>(static_cast<size_t>(in.width) * outHeight * 3)};
    const size_t rowBytes = static_cast<size_t>(in.width) * 3;
    for (int yy = 0; yy < outHeight; ++yy) {
        const int32_t* k = &c.weights[static_cast<size_t>(yy) * c.taps];
        uint8_t* dst = out.row(yy);
        for (size_t i = 0; i < rowBytes; ++i) {
            int64_t acc = 1 << (kPrecisionBits - 1);
            for (int y = 0; y < c.count[yy]; ++y)
                acc += static_cast<int64_t>(in.row(y + c.first[yy])[i]) * k[y];
            dst[i] = clip8(acc);
        }
    }
    return out;
}

} // namespace

RgbImage pillowResizeBicubic(const RgbImage& in, int outWidth, int outHeight) {
    RgbImage current = in;
    if (outWidth != in.width) current = resizeHorizontal(current, outWidth);
    if (outHeight != in.height) current = resizeVertical(current, outHeight);
    return current;
}

} // namespace esper
