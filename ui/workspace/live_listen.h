// Listening live. LiveListener turns PCM from any QIODevice (a microphone through QAudioSource,
// or a pipe a test feeds) into windows of the last few seconds at 16 kHz, one per second of
// sound heard; a window due while the engine is still busy is dropped, never queued, so the
// captions follow the sound instead of falling behind it. LiveListenPanel is the studio's face
// of it: the microphone, its level, the captions as they come, and "Keep clip".
#pragma once

#include "audio/resample.h"
#include "engine/engine_client.h"

#include <QAudioFormat>
#include <QElapsedTimer>
#include <QIODevice>
#include <QPointer>
#include <QWidget>
#include <deque>
#include <functional>
#include <memory>

class QAudioSource;
class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QTextBrowser;

namespace esper::ui {

// A byte pipe: what is written comes out of read, with readyRead. A stand-in microphone for tests
// and for sound that arrives from elsewhere.
class AudioPipe final : public QIODevice {
    Q_OBJECT

public:
    explicit AudioPipe(QObject* parent = nullptr);
    bool isSequential() const override { return true; }
    qint64 bytesAvailable() const override { return buffer_.size() + QIODevice::bytesAvailable(); }

protected:
    qint64 readData(char* data, qint64 maxSize) override;
    qint64 writeData(const char* data, qint64 size) override;

private:
    QByteArray buffer_;
};

class LiveListener final : public QObject {
    Q_OBJECT

public:
    explicit LiveListener(QObject* parent = nullptr);
    // Reads `device` (already open) as PCM of `format` whenever it has data.
    void start(QIODevice* device, const QAudioFormat& format);
    void stop();
    bool listening() const { return device_ != nullptr; }
    // While busy (a window is being captioned) the windows that fall due are dropped.
    void setBusy(bool busy) { busy_ = busy; }
    void setWindowSeconds(double seconds) { windowSeconds_ = seconds; }
    // The last window of sound at 16 kHz (shorter at the start).
    SoundClip lastWindow() const;
    int windowsSent() const { return sent_; }
    int windowsDropped() const { return dropped_; }
    double seconds() const { return double(heard_) / kRate; }

signals:
    void level(double dbfs); // RMS of each block read
    void windowReady(const esper::ui::SoundClip& clip);

private:
    void readAvailable();
    static constexpr int kRate = 16000;
    QPointer<QIODevice> device_;
    QAudioFormat format_;
    std::unique_ptr<Resampler> resampler_;
    std::deque<float> window_;
    qint64 heard_ = 0, nextDue_ = kRate;
    double windowSeconds_ = 5;
    bool busy_ = false;
    int sent_ = 0, dropped_ = 0;
    QByteArray pending_; // a partial frame left from the last read
};

class LiveListenPanel final : public QWidget {
    Q_OBJECT

public:
    // `request` supplies the styles and decoding the workspace shows.
    using StylesNow = std::function<QVector<StyleSpec>()>;
    using SettingsNow = std::function<DecodingSettings()>;
    LiveListenPanel(EngineClient* engine, StylesNow styles, SettingsNow settings,
                    QWidget* parent = nullptr);
    ~LiveListenPanel() override;

    // Listens to `device` instead of a microphone (tests, or sound from another program).
    void listenTo(QIODevice* device, const QAudioFormat& format);
    void stopListening();
    LiveListener* listener() { return &listener_; }
    QString captionsText() const;
    double lastLatencyMs() const { return lastLatencyMs_; }
    // Where kept clips are written.
    void setKeepFolder(const QString& folder) { keepFolder_ = folder; }

signals:
    // A kept clip, written as WAV, with the captions it had.
    void kept(const QString& path, const esper::ui::CaptionOutcome& captions);
    void message(const QString& text);

private:
    void refreshDevices();
    void startMicrophone();
    void showOutcome(const CaptionOutcome& outcome);
    void keepClip();

    EngineClient* engine_;
    StylesNow styles_;
    SettingsNow settings_;
    LiveListener listener_;
    QAudioSource* source_ = nullptr;
    QComboBox* devices_;
    QPushButton* startStop_;
    QPushButton* keep_;
    QProgressBar* meter_;
    QTextBrowser* captions_;
    QLabel* status_;
    quint64 request_ = 0;
    QElapsedTimer sentAt_;
    double lastLatencyMs_ = 0;
    SoundClip lastClip_;
    CaptionOutcome lastOutcome_;
    QString keepFolder_;
};

} // namespace esper::ui
