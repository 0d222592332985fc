// The preview of a sound: its waveform with a cursor where playback is, play/pause (Space when
// focused), the position and the length; a click on the waveform seeks there. Playback is Qt
// Multimedia's; the waveform is read off the UI thread.
#pragma once

#include "waveform.h"

#include <QWidget>

class QLabel;
class QMediaPlayer;
class QAudioOutput;
class QToolButton;

namespace esper::ui {

class WaveformView;

class AudioPreview final : public QWidget {
    Q_OBJECT

public:
    explicit AudioPreview(QWidget* parent = nullptr);
    void showSound(const QString& path);
    void stop();
    QString path() const { return path_; }
    bool playing() const;
    const WaveformPeaks& peaks() const { return peaks_; }

signals:
    void peaksReady(const QString& path);

private:
    void updateTime();
    QString path_;
    WaveformPeaks peaks_;
    WaveformView* wave_;
    QToolButton* play_;
    QLabel* time_;
    QLabel* title_;
    QMediaPlayer* player_;
    QAudioOutput* output_;
};

} // namespace esper::ui
