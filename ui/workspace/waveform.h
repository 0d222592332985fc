// A sound drawn as its waveform: the gallery's thumbnails, the audio preview and the live panel
// draw sound the same way. Peaks are read by streaming the file, so a two-hour recording costs
// the memory of its peaks, not of its samples.
#pragma once

#include <QColor>
#include <QImage>
#include <QString>
#include <QVector>

namespace esper::ui {

struct WaveformPeaks {
    QVector<float> low, high; // per bucket: the smallest and largest sample
    double seconds = 0;
    QString error; // why the file could not be read; empty on success
};

// Peaks of a sound file in `buckets` buckets (decoded at 16 kHz mono).
WaveformPeaks readWaveformPeaks(const QString& path, int buckets);
QImage drawWaveform(const WaveformPeaks& peaks, QSize size, const QColor& wave,
                    const QColor& background);

} // namespace esper::ui
