// Image decoding and CLIP preprocessing against Pillow: the resized-and-cropped bytes equal the
// reference (at most 1 level off in at most 0.1 % of values), pixel_values within 1e-5.
#include "test_support.h"

#include "image/clip_preprocess.h"
#include "image/pillow_resize.h"
#include "image_decoder.h"
#include "image_header.h"
#include "io/safetensors.h"
#include "util/file_util.h"

#include <QDir>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <cmath>
#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

using namespace esper;

class TestPreprocess : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;

    std::string writeEncoded(const char* name, const cv::Mat& image, const char* ext) {
        std::vector<uchar> buf;
        if (!cv::imencode(ext, image, buf)) qFatal("cannot encode test image");
        const auto path = (tmp_.path() + "/" + name).toStdString();
        if (!writeFileAtomic(path, std::string(buf.begin(), buf.end()))) qFatal("write failed");
        return path;
    }

private slots:
    void matchesPillowOnReferenceImages_data() {
        QTest::addColumn<QString>("name");
        for (const char* n : {"astronaut", "chelsea", "rocket", "synthetic_97x61"})
            QTest::newRow(n) << QString(n);
    }

    void matchesPillowOnReferenceImages() {
        QFETCH(QString, name);
        const QString ref = esper::test::referenceDir();
        auto expected = SafetensorsFile::open(
            (ref + "/preprocess/clip_preprocess_pil.safetensors").toStdString());
        QVERIFY(expected.ok());
        auto image = media::decodeImageFile((ref + "/images/" + name + ".png").toStdString());
        ESPER_VERIFY_OK(image);

        const RgbImage cropped = clipResizeAndCrop(image.value(), 224);
        const auto* u8 = expected->find(name.toStdString() + ".resized_cropped_u8");
        QVERIFY(u8);
        QCOMPARE(int64_t(cropped.pixels.size()), u8->numel());
        const uint8_t* want = expected->bytes(*u8);
        int64_t off = 0;
        for (size_t i = 0; i < cropped.pixels.size(); ++i) {
            const int d = std::abs(int(cropped.pixels[i]) - int(want[i]));
            QVERIFY2(d <= 1, qPrintable(QString("value %1 is %2 levels off").arg(i).arg(d)));
            off += d;
        }
        QVERIFY2(off <= int64_t(cropped.pixels.size() / 1000),
                 qPrintable(QString("%1 values off by one").arg(off)));

        const auto values = clipNormalize(cropped, {});
        const auto* pv = expected->find(name.toStdString() + ".pixel_values");
        QVERIFY(pv);
        std::vector<float> ref32(static_cast<size_t>(pv->numel()));
        std::memcpy(ref32.data(), expected->bytes(*pv), ref32.size() * 4);
        // Where the bytes agree the values must agree to float precision.
        double worst = 0;
        for (size_t i = 0; i < values.size(); ++i) {
            const size_t c = i / (224 * 224), p = i % (224 * 224);
            if (cropped.pixels[p * 3 + c] == want[p * 3 + c])
                worst = std::max(worst, double(std::abs(values[i] - ref32[i])));
        }
        QVERIFY2(worst <= 1e-5, qPrintable(QString::number(worst)));
    }

    void resizedSizeFollowsTheTruncationRule() {
        QCOMPARE(clipResizedSize(451, 300, 224), (std::pair<int, int>{336, 224}));
        QCOMPARE(clipResizedSize(97, 61, 224), (std::pair<int, int>{356, 224}));
        QCOMPARE(clipResizedSize(61, 97, 224), (std::pair<int, int>{224, 356}));
        QCOMPARE(clipResizedSize(50, 50, 224), (std::pair<int, int>{224, 224}));
    }

    void resizeOfAConstantImageIsConstant() {
        RgbImage flat{37, 23, std::vector<uint8_t>(37 * 23 * 3, 200)};
        const RgbImage out = pillowResizeBicubic(flat, 101, 9);
        QCOMPARE(out.width, 101);
        QCOMPARE(out.height, 9);
        for (uint8_t v : out.pixels)
            QCOMPARE(int(v), 200);
    }

    void greyAndAlphaBecomeRgb() {
        cv::Mat grey(4, 6, CV_8UC1, cv::Scalar(90));
        auto g = media::decodeImageFile(writeEncoded("grey.png", grey, ".png"));
        QVERIFY(g.ok());
        QCOMPARE(g->width, 6);
        QCOMPARE(g->height, 4);
        for (uint8_t v : g->pixels)
            QCOMPARE(int(v), 90);

        cv::Mat bgra(3, 5, CV_8UC4, cv::Scalar(10, 20, 30, 0)); // fully transparent
        auto a = media::decodeImageFile(writeEncoded("alpha.png", bgra, ".png"));
        QVERIFY(a.ok());
        QCOMPARE(int(a->pixels[0]), 30); // R, alpha dropped as convert("RGB") does
        QCOMPARE(int(a->pixels[1]), 20);
        QCOMPARE(int(a->pixels[2]), 10);

        for (const char* ext : {".bmp", ".tiff", ".webp", ".jpg"}) {
            auto p = media::decodeImageFile(
                writeEncoded((std::string("img") + ext).c_str(),
                             cv::Mat(8, 12, CV_8UC3, cv::Scalar(0, 128, 255)), ext));
            QVERIFY2(p.ok(), ext);
            QCOMPARE(p->width, 12);
        }
    }

    void exifOrientationIsApplied() {
        // A 8x4 JPEG whose EXIF says "rotate 90° clockwise" (orientation 6) decodes as 4x8.
        std::vector<uchar> jpeg;
        QVERIFY(cv::imencode(".jpg", cv::Mat(4, 8, CV_8UC3, cv::Scalar(50, 100, 150)), jpeg));
        const unsigned char exif[] = {
            0xFF, 0xE1, 0x00, 0x22, 'E',  'x',  'i',  'f',  0,    0, // APP1, length 34
            'I',  'I',  0x2A, 0x00, 0x08, 0x00, 0x00, 0x00,          // TIFF header, IFD at 8
            0x01, 0x00,                                              // one entry
            0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, // orientation
            0x00, 0x00, 0x00, 0x00};                                                // no next IFD
        std::string bytes(jpeg.begin(), jpeg.begin() + 2);
        bytes.append(reinterpret_cast<const char*>(exif), sizeof exif);
        bytes.append(jpeg.begin() + 2, jpeg.end());
        const auto path = (tmp_.path() + "/rotated.jpg").toStdString();
        QVERIFY(writeFileAtomic(path, bytes).ok());
        auto img = media::decodeImageFile(path);
        ESPER_VERIFY_OK(img);
        QCOMPARE(img->width, 4);
        QCOMPARE(img->height, 8);
    }

    void badFilesGiveMessagesThatNameThem() {
        const auto corrupt = (tmp_.path() + "/corrupt.png").toStdString();
        QVERIFY(writeFileAtomic(corrupt, "\x89PNG\r\n\x1a\n garbage that is not a png").ok());
        auto c = media::decodeImageFile(corrupt);
        QVERIFY(!c.ok());
        QVERIFY(QString::fromStdString(c.error()).contains("corrupt.png"));
        auto missing = media::decodeImageFile("/nonexistent/photo.jpg");
        QVERIFY(!missing.ok());
        QVERIFY(QString::fromStdString(missing.error()).contains("/nonexistent/photo.jpg"));
        const auto empty = (tmp_.path() + "/empty.jpg").toStdString();
        QVERIFY(writeFileAtomic(empty, "").ok());
        QVERIFY(!media::decodeImageFile(empty).ok());
    }

    // The size in each format's header is what the decoder finds.
    void headerSizesAreReadWithoutDecoding_data() {
        QTest::addColumn<QString>("ext");
        for (const char* e : {".png", ".jpg", ".webp", ".bmp", ".tiff"})
            QTest::newRow(e) << QString(e);
    }
    void headerSizesAreReadWithoutDecoding() {
        QFETCH(QString, ext);
        cv::Mat image(61, 97, CV_8UC3, cv::Scalar(10, 200, 30));
        std::vector<uchar> buf;
        QVERIFY(cv::imencode(ext.toStdString(), image, buf));
        const auto size = media::imageSizeFromHeader(
            std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size()));
        QVERIFY(size.has_value());
        QCOMPARE(size->width, uint64_t(97));
        QCOMPARE(size->height, uint64_t(61));
        // Cut short, the header gives no size rather than a wrong one.
        QVERIFY(!media::imageSizeFromHeader(
                     std::string_view(reinterpret_cast<const char*>(buf.data()), 11))
                     .has_value());
        QVERIFY(!media::imageSizeFromHeader("GIF89a....").has_value());
    }

    // A small file that declares 26,000 × 26,000 pixels is refused before anything is decoded:
    // fast, and without the gigabytes decoding it would take.
    void aDecompressionBombIsRefusedBeforeDecoding() {
        cv::Mat image(8, 8, CV_8UC3, cv::Scalar(0, 0, 0));
        std::vector<uchar> buf;
        QVERIFY(cv::imencode(".png", image, buf));
        std::string png(buf.begin(), buf.end());
        auto put32 = [&](size_t at, uint32_t v) {
            for (int i = 0; i < 4; ++i)
                png[at + i] = char(v >> (24 - 8 * i));
        };
        put32(16, 26000);
        put32(20, 26000);
        // The IHDR chunk's CRC (over its type and data), so the file is a valid PNG header.
        uint32_t crc = 0xFFFFFFFFu;
        for (size_t i = 12; i < 29; ++i) {
            crc ^= uint8_t(png[i]);
            for (int k = 0; k < 8; ++k)
                crc = crc & 1 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        put32(29, ~crc);
        const auto path = (tmp_.path() + "/bomb.png").toStdString();
        QVERIFY(writeFileAtomic(path, png).ok());
        QElapsedTimer timer;
        timer.start();
        auto bomb = media::decodeImageFile(path);
        QVERIFY(!bomb.ok());
        QVERIFY(timer.elapsed() < 1000);
        const QString message = QString::fromStdString(bomb.error());
        QVERIFY2(message.contains("bomb.png") && message.contains("26000 × 26000") &&
                     message.contains("ESPER_MAX_IMAGE_PIXELS"),
                 qPrintable(message));
        // The limit is a setting: lowered, an ordinary image is refused too; raised, allowed.
        const auto small = writeEncoded("small.png", cv::Mat(61, 97, CV_8UC3), ".png");
        media::setMaxImagePixels(5000);
        QVERIFY(!media::decodeImageFile(small).ok());
        media::setMaxImagePixels(97 * 61);
        QVERIFY(media::decodeImageFile(small).ok());
        media::setMaxImagePixels(0); // back to the default
        QCOMPARE(media::maxImagePixels(), uint64_t(178'956'970));
    }
};

QTEST_GUILESS_MAIN(TestPreprocess)
#include "test_preprocess.moc"
