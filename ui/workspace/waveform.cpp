#include "waveform.h"

#include "audio_decoder.h"

#include <QPainter>
#include <algorithm>

namespace esper::ui {
namespace {

// Merges adjacent buckets pairwise until at most `buckets` remain.
void shrink(QVector<float>& low, QVector<float>& high, int buckets) {
    while (low.size() > buckets) {
        const qsizetype n = (low.size() + 1) / 2;
        for (qsizetype i = 0; i < n; ++i) {
            const qsizetype j = std::min(2 * i + 1, low.size() - 1);
            low[i] = std::min(low[2 * i], low[j]);
            high[i] = std::max(high[2 * i], high[j]);
        }
        low.resize(n);
        high.resize(n);
    }
}

} // namespace

WaveformPeaks readWaveformPeaks(const QString& path, int buckets) {
    // Peaks of every 5 ms first (the length is not known before the end), then merged down.
    constexpr qsizetype kBlock = kAudioSampleRate / 200;
    WaveformPeaks p;
    float lo = 0, hi = 0;
    qsizetype inBlock = 0, total = 0;
    auto source =
        media::streamAudioFile(path.toStdString(), kAudioSampleRate, [&](const float* s, size_t n) {
            for (size_t i = 0; i < n; ++i) {
                lo = inBlock ? std::min(lo, s[i]) : s[i];
                hi = inBlock ? std::max(hi, s[i]) : s[i];
                if (++inBlock == kBlock) {
                    p.low.push_back(lo);
                    p.high.push_back(hi);
                    inBlock = 0;
                }
            }
            total += qsizetype(n);
            // Keep the peaks few for any length: merge whenever they double the target.
            if (p.low.size() > 4 * std::max(buckets, 1)) shrink(p.low, p.high, 2 * buckets);
            return true;
        });
    if (!source) {
        p.error = QString::fromStdString(source.error());
        return p;
    }
    if (inBlock) {
        p.low.push_back(lo);
        p.high.push_back(hi);
    }
    shrink(p.low, p.high, buckets);
    p.seconds = double(total) / kAudioSampleRate;
    return p;
}

QImage drawWaveform(const WaveformPeaks& peaks, QSize size, const QColor& wave,
                    const QColor& background) {
    QImage image(size, QImage::Format_ARGB32_Premultiplied);
    image.fill(background);
    if (peaks.low.isEmpty() || size.isEmpty()) return image;
    QPainter painter(&image);
    painter.setPen(wave);
    const double mid = size.height() / 2.0, half = size.height() / 2.0 - 1;
    const auto n = peaks.low.size();
    for (int x = 0; x < size.width(); ++x) {
        const qsizetype a = qsizetype(double(x) / size.width() * double(n));
        const qsizetype b = std::max(a + 1, qsizetype(double(x + 1) / size.width() * double(n)));
        float lo = peaks.low[a], hi = peaks.high[a];
        for (qsizetype i = a + 1; i < std::min(b, n); ++i) {
            lo = std::min(lo, peaks.low[i]);
            hi = std::max(hi, peaks.high[i]);
        }
        const int top = int(mid - std::clamp(hi, -1.0f, 1.0f) * half);
        const int bottom = int(mid - std::clamp(lo, -1.0f, 1.0f) * half);
        painter.drawLine(x, top, x, std::max(top, bottom));
    }
    return image;
}

} // namespace esper::ui
