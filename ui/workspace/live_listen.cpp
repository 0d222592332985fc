#include "live_listen.h"

#include "pcm_mix.h"
#include "wav_format.h"

#include <QAudioDevice>
#include <QAudioSource>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QHBoxLayout>
#include <QLabel>
#include <QMediaDevices>
#include <QProgressBar>
#include <QPushButton>
#include <QStandardPaths>
#include <QTextBrowser>
#include <QVBoxLayout>
#include <cmath>

namespace esper::ui {

AudioPipe::AudioPipe(QObject* parent) : QIODevice(parent) {
    open(QIODevice::ReadWrite);
}

qint64 AudioPipe::readData(char* data, qint64 maxSize) {
    const qint64 n = std::min<qint64>(maxSize, buffer_.size());
    std::memcpy(data, buffer_.constData(), size_t(n));
    buffer_.remove(0, n);
    return n;
}

qint64 AudioPipe::writeData(const char* data, qint64 size) {
    buffer_.append(data, size);
    emit readyRead();
    return size;
}

LiveListener::LiveListener(QObject* parent) : QObject(parent) {}

void LiveListener::start(QIODevice* device, const QAudioFormat& format) {
    stop();
    device_ = device;
    format_ = format;
    resampler_ = std::make_unique<Resampler>(format.sampleRate(), kRate);
    window_.clear();
    pending_.clear();
    heard_ = 0;
    nextDue_ = kRate;
    sent_ = dropped_ = 0;
    connect(device, &QIODevice::readyRead, this, &LiveListener::readAvailable);
    readAvailable();
}

void LiveListener::stop() {
    if (device_) disconnect(device_, nullptr, this, nullptr);
    device_ = nullptr;
}

SoundClip LiveListener::lastWindow() const {
    SoundClip clip;
    clip.sampleRate = kRate;
    clip.samples = QVector<float>(window_.begin(), window_.end());
    return clip;
}

void LiveListener::readAvailable() {
    if (!device_) return;
    pending_ += device_->readAll();
    const int frame = format_.bytesPerFrame();
    if (frame <= 0) return;
    const qsizetype frames = pending_.size() / frame;
    if (frames == 0) return;
    const std::vector<float> mono = media::mixToMono(format_, pending_.constData(), frames);
    double energy = 0;
    for (float v : mono)
        energy += double(v) * v;
    pending_.remove(0, frames * frame);
    emit level(10 * std::log10(std::max(energy / double(frames), 1e-10)));

    std::vector<float> resampled;
    resampler_->push(mono.data(), mono.size(), resampled);
    const auto keep = size_t(windowSeconds_ * kRate);
    for (float v : resampled) {
        window_.push_back(v);
        if (window_.size() > keep) window_.pop_front();
        // A window falls due after every second of sound heard; a busy engine drops it.
        if (++heard_ >= nextDue_) {
            nextDue_ += kRate;
            if (busy_) {
                ++dropped_;
            } else {
                ++sent_;
                busy_ = true;
                emit windowReady(lastWindow());
            }
        }
    }
}

LiveListenPanel::LiveListenPanel(EngineClient* engine, StylesNow styles, SettingsNow settings,
                                 QWidget* parent)
    : QWidget(parent), engine_(engine), styles_(std::move(styles)), settings_(std::move(settings)),
      devices_(new QComboBox), startStop_(new QPushButton), keep_(new QPushButton(tr("Keep clip"))),
      meter_(new QProgressBar), captions_(new QTextBrowser), status_(new QLabel) {
    setWindowTitle(tr("Listen live"));
    keepFolder_ = QStandardPaths::writableLocation(QStandardPaths::MusicLocation) + "/ESPER Studio";
    meter_->setRange(-60, 0);
    meter_->setTextVisible(false);
    meter_->setMaximumHeight(10);
    meter_->setToolTip(tr("Input level (dBFS)"));
    keep_->setEnabled(false);
    keep_->setToolTip(tr("Save the last few seconds as a WAV file and add it to the workspace "
                         "with its captions"));
    status_->setWordWrap(true);
    captions_->setPlaceholderText(
        tr("Captions of the last five seconds appear here about once a second."));
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Microphone:")));
    top->addWidget(devices_, 1);
    top->addWidget(startStop_);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(meter_);
    layout->addWidget(captions_, 1);
    auto* bottom = new QHBoxLayout;
    bottom->addWidget(status_, 1);
    bottom->addWidget(keep_);
    layout->addLayout(bottom);

    refreshDevices();
    connect(startStop_, &QPushButton::clicked, this, [this] {
        if (listener_.listening())
            stopListening();
        else
            startMicrophone();
    });
    connect(keep_, &QPushButton::clicked, this, &LiveListenPanel::keepClip);
    connect(&listener_, &LiveListener::level, this,
            [this](double db) { meter_->setValue(int(std::clamp(db, -60.0, 0.0))); });
    connect(&listener_, &LiveListener::windowReady, this, [this](const SoundClip& clip) {
        if (!engine_->bundleReady()) {
            listener_.setBusy(false);
            status_->setText(tr("Listening, but no model is loaded."));
            return;
        }
        lastClip_ = clip;
        sentAt_.start();
        request_ = engine_->captionSoundNow(clip, styles_(), settings_());
    });
    connect(engine_, &EngineClient::captionFinished, this,
            [this](quint64 id, const CaptionOutcome& o) {
                if (id != request_) return;
                listener_.setBusy(false);
                showOutcome(o);
            });
    connect(engine_, &EngineClient::bundleLoaded, this, [this](const BundleInfo& info) {
        if (info.ok && !info.audio)
            status_->setText(tr("The bundle '%1' has no audio encoder, so it cannot caption "
                                "sound. Open a bundle whose esper.json names \"audio\".")
                                 .arg(info.name));
    });
}

LiveListenPanel::~LiveListenPanel() {
    stopListening();
}

void LiveListenPanel::refreshDevices() {
    devices_->clear();
    for (const auto& d : QMediaDevices::audioInputs())
        devices_->addItem(d.description(), QVariant::fromValue(d));
    const bool any = devices_->count() > 0;
    devices_->setEnabled(any);
    startStop_->setText(tr("Start"));
    startStop_->setEnabled(any);
    if (!any)
        status_->setText(tr("No microphone found. Connect one, or drop sound files into the "
                            "gallery instead."));
}

void LiveListenPanel::startMicrophone() {
    const auto device = devices_->currentData().value<QAudioDevice>();
    if (device.isNull()) return;
    QAudioFormat format;
    format.setSampleRate(16000);
    format.setChannelCount(1);
    format.setSampleFormat(QAudioFormat::Int16);
    if (!device.isFormatSupported(format)) format = device.preferredFormat();
    delete source_;
    source_ = new QAudioSource(device, format, this);
    QIODevice* io = source_->start();
    if (!io) {
        status_->setText(tr("The microphone '%1' could not be opened.").arg(device.description()));
        return;
    }
    listener_.start(io, format);
    startStop_->setText(tr("Stop"));
    status_->setText(tr("Listening to %1…").arg(device.description()));
}

void LiveListenPanel::listenTo(QIODevice* device, const QAudioFormat& format) {
    listener_.start(device, format);
    startStop_->setText(tr("Stop"));
    startStop_->setEnabled(true);
    status_->setText(tr("Listening…"));
}

void LiveListenPanel::stopListening() {
    listener_.stop();
    if (source_) {
        source_->stop();
        source_->deleteLater();
        source_ = nullptr;
    }
    startStop_->setText(tr("Start"));
    startStop_->setEnabled(devices_->count() > 0);
}

void LiveListenPanel::showOutcome(const CaptionOutcome& o) {
    lastLatencyMs_ = double(sentAt_.nsecsElapsed()) / 1e6;
    if (!o.error.isEmpty()) {
        captions_->setPlainText(o.error);
        return;
    }
    lastOutcome_ = o;
    QString html;
    for (const auto& c : o.captions)
        html +=
            QStringLiteral("<p><b>%1</b> %2 <span style='color:gray'>audio CLIP-S %3</span></p>")
                .arg(c.styleId.toHtmlEscaped(), c.text.toHtmlEscaped())
                .arg(c.clipS, 0, 'f', 2);
    captions_->setHtml(html);
    keep_->setEnabled(true);
    status_->setText(tr("%1 s heard · caption %2 ms after the sound · %3 window(s) dropped while "
                        "the model was busy")
                         .arg(listener_.seconds(), 0, 'f', 0)
                         .arg(lastLatencyMs_, 0, 'f', 0)
                         .arg(listener_.windowsDropped()));
}

QString LiveListenPanel::captionsText() const {
    return captions_->toPlainText();
}

void LiveListenPanel::keepClip() {
    if (lastClip_.samples.isEmpty()) return;
    QDir().mkpath(keepFolder_);
    const QString path = keepFolder_ + "/live-" +
                         QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss-zzz") + ".wav";
    AudioClip clip{{lastClip_.samples.begin(), lastClip_.samples.end()}, lastClip_.sampleRate};
    if (auto ok = media::writeWavFile(clip, path.toStdString()); !ok) {
        emit message(tr("The clip could not be kept: %1").arg(QString::fromStdString(ok.error())));
        return;
    }
    CaptionOutcome captions = lastOutcome_;
    captions.imagePath = path;
    emit kept(path, captions);
    emit message(tr("Kept %1").arg(QDir::toNativeSeparators(path)));
}

} // namespace esper::ui
