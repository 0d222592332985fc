// Sound into the engine: the streaming resampler against itself and torchaudio, the project's WAV
// reader and Qt Multimedia's decoders on files made at test time, bad files refused by name, and
// the decoded ESC-50 clips against the reference's 16 kHz waveforms and Wav2CLIP embeddings.
// LibTorch before Qt: Qt's `slots` macro breaks ATen's headers.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "test_support.h"

#include "audio/resample.h"
#include "audio_decoder.h"
#include "io/safetensors.h"
#include "media_kind.h"
#include "models/wav2clip.h"
#include "models/weight_source.h"
#include "util/file_util.h"
#include "wav_format.h"

#include <QDir>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <cmath>
#include <random>

using namespace esper;

namespace {

std::vector<float> tone(int rate, double seconds, double hz, float amplitude = 0.5f) {
    std::vector<float> s(static_cast<size_t>(rate * seconds));
    for (size_t i = 0; i < s.size(); ++i)
        s[i] = amplitude * static_cast<float>(std::sin(2 * M_PI * hz * i / rate));
    return s;
}

double maxAbsDiff(const std::vector<float>& a, const std::vector<float>& b, size_t skip = 0) {
    double d = 0;
    for (size_t i = skip; i + skip < std::min(a.size(), b.size()); ++i)
        d = std::max(d, std::fabs(double(a[i]) - b[i]));
    return d;
}

std::vector<float> tensorValues(const SafetensorsFile& io, const std::string& name) {
    const TensorInfo* info = io.find(name);
    if (!info) return {};
    const at::Tensor t = tensorFromFile(io, *info).to(at::kFloat).contiguous();
    return {t.data_ptr<float>(), t.data_ptr<float>() + t.numel()};
}

} // namespace

class TestAudio : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;

    std::string path(const char* name) const { return (tmp_.path() + "/" + name).toStdString(); }
    std::string writeBytes(const char* name, const std::string& bytes) {
        const auto p = path(name);
        if (!writeFileAtomic(p, bytes)) qFatal("cannot write %s", name);
        return p;
    }
    // sox converts a WAV made here into other formats; it is installed by ./setup.sh.
    void requireSox() {
        if (!QStandardPaths::findExecutable("sox").isEmpty()) return;
        if (esper::test::underCi()) QFAIL("sox is missing under CI (./setup.sh installs it)");
        QSKIP("needs sox (./setup.sh installs it)");
    }
    static std::string sox(const std::string& from, const std::string& to) {
        QProcess p;
        p.start("sox", {QString::fromStdString(from), QString::fromStdString(to)});
        if (!p.waitForFinished(30000) || p.exitCode() != 0) qFatal("sox failed on %s", to.c_str());
        return to;
    }

private slots:
    void resamplerStreamsLikeTheWholeSignal() {
        std::mt19937 rng(5);
        std::normal_distribution<float> noise(0, 0.3f);
        std::vector<float> x(44100 + 37);
        for (auto& v : x)
            v = noise(rng);
        for (auto [from, to] : {std::pair{44100, 16000}, std::pair{8000, 16000},
                                std::pair{48000, 16000}, std::pair{22050, 16000}}) {
            const auto whole = resample(x, from, to);
            QCOMPARE(whole.size(), (x.size() * to + from - 1) / from);
            Resampler r(from, to);
            std::vector<float> streamed;
            std::uniform_int_distribution<size_t> block(1, 5000);
            for (size_t i = 0; i < x.size();) {
                const size_t n = std::min(block(rng), x.size() - i);
                r.push(x.data() + i, n, streamed);
                i += n;
            }
            r.finish(streamed);
            QCOMPARE(streamed.size(), whole.size());
            QCOMPARE(maxAbsDiff(streamed, whole), 0.0);
        }
        QCOMPARE(resample(x, 16000, 16000), x);
    }

    // A tone well below both Nyquist frequencies comes through unchanged in level and pitch.
    void resamplerKeepsABandLimitedTone() {
        const auto y = resample(tone(44100, 1.0, 440), 44100, 16000);
        const auto expected = tone(16000, 1.0, 440);
        QVERIFY2(maxAbsDiff(y, expected, 200) < 2e-3, "440 Hz changed in resampling");
    }

    void wavRoundTripsEveryPcmWidth() {
        AudioClip clip{tone(16000, 0.5, 300), 16000};
        ESPER_VERIFY_OK(media::writeWavFile(clip, path("t16.wav")));
        auto back = media::decodeAudioFile(path("t16.wav"));
        ESPER_VERIFY_OK(back);
        QCOMPARE(back->samples.size(), clip.samples.size());
        QVERIFY(maxAbsDiff(back->samples, clip.samples) < 1.0 / 32767 + 1e-6);
        for (const char* encoding : {"-b8", "-b24", "-b32", "-efloat"}) {
            requireSox();
            const auto out = path((std::string("t") + encoding + ".wav").c_str());
            QProcess p;
            // -D: no dither, so the only difference is the quantisation itself.
            p.start("sox", {"-D", QString::fromStdString(path("t16.wav")), encoding,
                            QString::fromStdString(out)});
            QVERIFY(p.waitForFinished(30000) && p.exitCode() == 0);
            auto decoded = media::decodeAudioFile(out);
            ESPER_VERIFY_OK(decoded);
            QVERIFY2(maxAbsDiff(decoded->samples, clip.samples) <
                         (encoding[2] == '8' ? 1.01 / 128 : 1e-4),
                     encoding);
        }
    }

    // FLAC, Ogg/Vorbis and MP3 through Qt Multimedia, stereo at 44.1 kHz, against the WAV they
    // were made from: lossless exactly, lossy close.
    void decodesCompressedFormatsThroughQt() {
        requireSox();
        AudioClip clip{tone(44100, 1.5, 440, 0.4f), 44100};
        for (size_t i = 0; i < clip.samples.size(); ++i)
            clip.samples[i] += 0.2f * static_cast<float>(std::sin(2 * M_PI * 1250.0 * i / 44100));
        ESPER_VERIFY_OK(media::writeWavFile(clip, path("source.wav")));
        auto reference = media::decodeAudioFile(path("source.wav"));
        ESPER_VERIFY_OK(reference);
        for (const char* ext : {"flac", "ogg", "mp3"}) {
            const auto file = sox(path("source.wav"), path((std::string("s.") + ext).c_str()));
            std::vector<float> samples;
            auto info = media::streamAudioFile(file, 16000, [&](const float* s, size_t n) {
                samples.insert(samples.end(), s, s + n);
                return true;
            });
            ESPER_VERIFY_OK(info);
            QCOMPARE(info->decoder, std::string("qt"));
            QCOMPARE(info->sampleRate, 44100);
            // Lossy coders add padding at the start (MP3's encoder delay): compare the level.
            QVERIFY2(std::fabs(double(samples.size()) - reference->samples.size()) < 0.1 * 16000,
                     ext);
            double energy = 0, refEnergy = 0;
            for (float v : samples)
                energy += v * v;
            for (float v : reference->samples)
                refEnergy += v * v;
            QVERIFY2(std::fabs(energy / refEnergy - 1) < 0.1, ext);
            if (std::string(ext) == "flac") QVERIFY(maxAbsDiff(samples, reference->samples) < 1e-4);
        }
    }

    void badFilesAreRefusedByName_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected");
        AudioClip clip{tone(16000, 0.2, 300), 16000};
        ESPER_VERIFY_OK(media::writeWavFile(clip, path("good.wav")));
        const std::string good = readTextFile(path("good.wav")).value();
        std::string lying = good;
        lying[40] = '\xff'; // the data chunk claims far more than the file holds
        lying[41] = '\xff';
        lying[42] = '\xff';
        lying[43] = '\x0f';
        std::string adpcm = good;
        adpcm[20] = 2; // format tag 2: MS ADPCM
        std::string zeroChannels = good;
        zeroChannels[22] = 0;
        const QByteArray png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x02\0\0\0", 33);
        QTest::newRow("empty") << QByteArray() << "is empty";
        QTest::newRow("header cut")
            << QByteArray::fromStdString(good.substr(0, 30)) << "format chunk is cut short";
        QTest::newRow("lying size") << QByteArray::fromStdString(lying) << "truncated";
        QTest::newRow("unknown codec") << QByteArray::fromStdString(adpcm) << "compressed encoding";
        QTest::newRow("zero channels") << QByteArray::fromStdString(zeroChannels) << "channels";
        QTest::newRow("a picture") << png << "not a sound file";
        QTest::newRow("silence") << QByteArray::fromStdString(good.substr(0, 44) +
                                                              std::string(good.size() - 44, '\0'))
                                 << "is silent";
    }
    void badFilesAreRefusedByName() {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        const auto file = writeBytes("bad.wav", bytes.toStdString());
        ESPER_VERIFY_FAILS_WITH(media::decodeAudioFile(file), "bad.wav", expected);
    }

    // A truncated Ogg file is not a WAV: Qt's decoder reports it, and the message names it.
    void aDamagedCompressedFileIsReported() {
        requireSox();
        AudioClip clip{tone(44100, 1.0, 440), 44100};
        ESPER_VERIFY_OK(media::writeWavFile(clip, path("o.wav")));
        const std::string ogg = readTextFile(sox(path("o.wav"), path("o.ogg"))).value();
        const auto cut = writeBytes("cut.ogg", ogg.substr(0, 60));
        auto decoded = media::decodeAudioFile(cut);
        QVERIFY(!decoded.ok());
        QVERIFY2(QString::fromStdString(decoded.error()).contains("cut.ogg"),
                 decoded.error().c_str());
    }

    void sniffsByContent() {
        using namespace std::literals;
        QVERIFY(media::looksLikeAudio("RIFF\x24\0\0\0WAVEfmt "sv));
        QVERIFY(media::looksLikeAudio("fLaC\0\0\0\x22"sv));
        QVERIFY(media::looksLikeAudio("OggS\0\x02"sv));
        QVERIFY(media::looksLikeAudio("ID3\x04\0"sv));
        QVERIFY(media::looksLikeAudio("\xff\xfb\x90\x44"sv));
        QVERIFY(!media::looksLikeAudio("\xff\xd8\xff\xe0"sv));       // JPEG
        QVERIFY(!media::looksLikeAudio("\x89PNG\r\n\x1a\n"sv));      // PNG
        QVERIFY(!media::looksLikeAudio("RIFF\x24\0\0\0WEBPVP8 "sv)); // WebP
        QVERIFY(media::mediaKindOfBytes("RIFF\x24\0\0\0WEBPVP8 "sv) == media::MediaKind::Image);
        QVERIFY(media::mediaKindOfBytes("RIFF\x24\0\0\0WAVEfmt "sv) == media::MediaKind::Audio);
        QVERIFY(media::mediaKindOfBytes("\xff\xd8\xff\xe0"sv) == media::MediaKind::Image);
        QVERIFY(media::mediaKindOfBytes("hello"sv) == media::MediaKind::Unknown);
    }

    // The ESC-50 clips decoded and resampled here against torchaudio's 16 kHz waveforms, and
    // the Wav2CLIP embeddings of both.
    void decodedClipsMatchTheReference() {
        const QString dir = esper::test::sharedReferenceDir() + "/wav2clip";
        ESPER_REQUIRE_SHARED(dir + "/io.safetensors");
        auto io = SafetensorsFile::open((dir + "/io.safetensors").toStdString());
        ESPER_VERIFY_OK(io);
        c10::InferenceMode guard;
        auto model = Wav2Clip::load(dir.toStdString(), {});
        ESPER_VERIFY_OK(model);
        for (const char* clip : {"1-13572-A-46", "1-34495-A-14", "2-116400-A-0"}) {
            auto decoded = media::decodeAudioFile((dir + "/clips/" + clip + ".wav").toStdString());
            ESPER_VERIFY_OK(decoded);
            const auto expected =
                tensorValues(io.value(), std::string("esc50_") + clip + ".waveform_16k");
            QCOMPARE(decoded->samples.size(), expected.size());
            const double waveDiff = maxAbsDiff(decoded->samples, expected);
            QVERIFY2(waveDiff < 1e-5, qPrintable(QString("%1: %2").arg(clip).arg(waveDiff)));
            const auto mine = model.value()
                                  ->encode(at::tensor(decoded->samples).unsqueeze(0))
                                  .embedding.flatten();
            const auto theirs =
                at::tensor(tensorValues(io.value(), std::string("esc50_") + clip + ".embedding"));
            const double cosine = (mine.dot(theirs) / (mine.norm() * theirs.norm())).item<double>();
            QVERIFY2(cosine > 0.99999, qPrintable(QString::number(cosine)));
            qInfo("%s: waveform max |diff| %.2e, embedding max |diff| %.2e, cosine %.9f", clip,
                  waveDiff, (mine - theirs).abs().max().item<double>(), cosine);
        }
    }
};

QTEST_GUILESS_MAIN(TestAudio)
#include "test_audio.moc"
