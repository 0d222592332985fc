#include "image_decoder.h"

#include "image_header.h"

#include "util/file_util.h"

#include <cstdlib>

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
    if (const auto size = imageSizeFromHeader(bytes)) ESPER_TRY(checkImageSize(size.value(), name));
    // OpenCV's own limit stands behind ours for headers we do not read.
    static const bool backstop = [] {
        const std::string limit = std::to_string(maxImagePixels());
        return setenv("OPENCV_IO_MAX_IMAGE_PIXELS", limit.c_str(), 0) == 0;
    }();
    (void)backstop;
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
    // Converted straight into the result: the decoded pixels are held twice at most, not
    // three times.
    RgbImage out;
    out.width = decoded.cols;
    out.height = decoded.rows;
    out.pixels.resize(static_cast<size_t>(decoded.cols) * decoded.rows * 3);
    cv::Mat rgb(decoded.rows, decoded.cols, CV_8UC3, out.pixels.data());
    cv::cvtColor(decoded, rgb, cv::COLOR_BGR2RGB);
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
