// The preview of a sound: its waveform with a cursor where playback is, play/pause (Space when
// focused), the position and the length; a click on the waveform seeks there. A recording
// longer than a window gets a timeline of captions below it, window by window. Playback is Qt
// Multimedia's; the waveform is read off the UI thread.
#pragma once

#include "waveform.h"

#include <QWidget>

class QLabel;
class QMediaPlayer;
class QAudioOutput;
class QToolButton;
class QTreeWidget;

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
    // The timeline of a long recording: one row per window, clicked to play from there.
    void clearTimeline(const QString& note = {});
    void addTimelineWindow(double start, double end, const QString& caption, double clipS);
    void setTimelineNote(const QString& note);
    int timelineRows() const;
    QString timelineCaption(int row) const;

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
    QLabel* timelineNote_;
    QTreeWidget* timeline_;
    QMediaPlayer* player_;
    QAudioOutput* output_;
};

} // namespace esper::ui
