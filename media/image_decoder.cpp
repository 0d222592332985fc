#include "image_decoder.h"

#include "util/file_util.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace esper::media {

Result<RgbImage> decodeImageFile(const std::string& path) {
    auto bytes = readTextFile(path);
    ESPER_TRY(bytes);
    return decodeImageBytes(bytes.value(), path);
}

Result<RgbImage> decodeImageBytes(const std::string& bytes, const std::string& name) {
    if (bytes.empty()) return fail("'" + name + "' is empty, not an image");
    cv::Mat decoded;
    try {
        const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1,
                          const_cast<char*>(bytes.data()));
        // IMREAD_COLOR applies the EXIF orientation, expands grey and drops alpha;
        // IMREAD_ANYDEPTH is left out so 16-bit files come back scaled to 8 bits.
        decoded = cv::imdecode(raw, cv::IMREAD_COLOR);
    } catch (const cv::Exception& e) {
        return fail("'" + name + "' could not be decoded: " + e.what());
    }
    if (decoded.empty())
        return fail("'" + name +
                    "' is not an image in a supported format (PNG, JPEG, WebP, BMP, "
                    "TIFF) or is damaged");
    cv::Mat rgb;
    cv::cvtColor(decoded, rgb, cv::COLOR_BGR2RGB);
    RgbImage out;
    out.width = rgb.cols;
    out.height = rgb.rows;
    out.pixels.resize(static_cast<size_t>(rgb.cols) * rgb.rows * 3);
    for (int y = 0; y < rgb.rows; ++y)
        std::copy(rgb.ptr<uint8_t>(y), rgb.ptr<uint8_t>(y) + rgb.cols * 3, out.row(y));
    return out;
}

Result<void> encodeImageFile(const RgbImage& image, const std::string& path) {
    const cv::Mat rgb(image.height, image.width, CV_8UC3,
                      const_cast<uint8_t*>(image.pixels.data()));
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    const auto dot = path.rfind('.');
    const std::string ext = dot == std::string::npos ? ".png" : path.substr(dot);
    std::vector<uchar> bytes;
    try {
        if (!cv::imencode(ext, bgr, bytes)) return fail("cannot encode '" + path + "' as " + ext);
    } catch (const cv::Exception& e) {
        return fail("cannot encode '" + path + "': " + e.what());
    }
    return writeFileAtomic(path, std::string(bytes.begin(), bytes.end()));
}

} // namespace esper::media
