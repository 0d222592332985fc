// Images and files the tests make for themselves.
#pragma once

#include "image/rgb_image.h"

#include <QFile>
#include <QString>

#include <cstdint>
#include <vector>

namespace esper::test {

// A deterministic w x h pattern; different seeds give images CLIP tells apart.
inline RgbImage patternImage(int w, int h, int seed) {
    RgbImage img{w, h, std::vector<uint8_t>(size_t(w) * h * 3)};
    for (size_t i = 0; i < img.pixels.size(); ++i)
        img.pixels[i] = static_cast<uint8_t>((i * (5 + seed) + seed * 17) % 253);
    return img;
}

// Writes `bytes` to `path` (e.g. a file that claims to be an image and is not).
inline bool writeTestFile(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

} // namespace esper::test
