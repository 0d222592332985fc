#include "audio_preview.h"

#include <QApplication>
#include <QAudioOutput>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QMediaPlayer>
#include <QMouseEvent>
#include <QPainter>
#include <QPointer>
#include <QStyle>
#include <QThreadPool>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace esper::ui {

namespace {
// m:ss, for the playback position and the timeline's windows.
QString clockText(double seconds) {
    return QString("%1:%2").arg(int(seconds) / 60).arg(int(seconds) % 60, 2, 10, QChar('0'));
}
} // namespace

// The waveform, redrawn to the widget's size, with the playback cursor.
class WaveformView final : public QWidget {
public:
    explicit WaveformView(QWidget* parent) : QWidget(parent) { setMinimumHeight(120); }
    void setPeaks(const WaveformPeaks* peaks) {
        peaks_ = peaks;
        cache_ = {};
        update();
    }
    void setPosition(double fraction) {
        position_ = fraction;
        update();
    }
    std::function<void(double)> onSeek;

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter p(this);
        const QColor background = palette().color(QPalette::Base);
        if (!peaks_ || peaks_->low.isEmpty()) {
            p.fillRect(rect(), background);
            p.setPen(palette().color(QPalette::PlaceholderText));
            p.drawText(rect(), Qt::AlignCenter,
                       peaks_ && !peaks_->error.isEmpty() ? peaks_->error : tr("Reading…"));
            return;
        }
        if (cache_.size() != size())
            cache_ =
                drawWaveform(*peaks_, size(), palette().color(QPalette::Highlight), background);
        p.drawImage(0, 0, cache_);
        p.setPen(QPen(palette().color(QPalette::Text), 2));
        const int x = int(position_ * width());
        p.drawLine(x, 0, x, height());
    }
    void mousePressEvent(QMouseEvent* e) override {
        if (onSeek && width() > 0) onSeek(std::clamp(e->position().x() / width(), 0.0, 1.0));
    }

private:
    const WaveformPeaks* peaks_ = nullptr;
    QImage cache_;
    double position_ = 0;
};

AudioPreview::AudioPreview(QWidget* parent)
    : QWidget(parent), wave_(new WaveformView(this)), play_(new QToolButton), time_(new QLabel),
      title_(new QLabel), timelineNote_(new QLabel), timeline_(new QTreeWidget),
      player_(new QMediaPlayer(this)), output_(new QAudioOutput(this)) {
    player_->setAudioOutput(output_);
    play_->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
    play_->setToolTip(tr("Play / pause (Space)"));
    play_->setShortcut(Qt::Key_Space);
    play_->setAutoRaise(true);
    play_->setIconSize({28, 28});
    title_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* controls = new QHBoxLayout;
    controls->addWidget(play_);
    controls->addWidget(time_);
    controls->addStretch(1);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(title_);
    layout->addWidget(wave_, 1);
    layout->addLayout(controls);
    timeline_->setColumnCount(3);
    // The caption last: the header stretches the last column over the width left.
    timeline_->setHeaderLabels({tr("time"), tr("audio CLIP-S"), tr("caption")});
    timeline_->setRootIsDecorated(false);
    timeline_->setUniformRowHeights(true);
    timeline_->setToolTip(tr("Each window of the recording with its caption; click one to play "
                             "from there"));
    timelineNote_->setWordWrap(true);
    layout->addWidget(timelineNote_);
    layout->addWidget(timeline_, 1);
    clearTimeline();
    connect(timeline_, &QTreeWidget::itemClicked, this, [this](QTreeWidgetItem* item) {
        player_->setPosition(qint64(item->data(0, Qt::UserRole).toDouble() * 1000));
        player_->play();
    });
    wave_->setPeaks(&peaks_);
    wave_->onSeek = [this](double f) {
        if (player_->duration() > 0) player_->setPosition(qint64(f * double(player_->duration())));
    };
    connect(play_, &QToolButton::clicked, this, [this] {
        if (player_->playbackState() == QMediaPlayer::PlayingState)
            player_->pause();
        else
            player_->play();
    });
    connect(player_, &QMediaPlayer::playbackStateChanged, this, [this](auto state) {
        play_->setIcon(style()->standardIcon(
            state == QMediaPlayer::PlayingState ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
    });
    connect(player_, &QMediaPlayer::positionChanged, this, [this] { updateTime(); });
    connect(player_, &QMediaPlayer::durationChanged, this, [this] { updateTime(); });
}

void AudioPreview::clearTimeline(const QString& note) {
    timeline_->clear();
    timeline_->setVisible(false);
    setTimelineNote(note);
}

void AudioPreview::setTimelineNote(const QString& note) {
    timelineNote_->setText(note);
    timelineNote_->setVisible(!note.isEmpty());
}

void AudioPreview::addTimelineWindow(double start, double end, const QString& caption,
                                     double clipS) {
    auto* item = new QTreeWidgetItem({clockText(start) + "–" + clockText(end),
                                      clipS >= 0 ? QString::number(clipS, 'f', 2) : "", caption});
    item->setData(0, Qt::UserRole, start);
    item->setToolTip(2, caption);
    timeline_->addTopLevelItem(item);
    timeline_->setVisible(true);
    if (timeline_->topLevelItemCount() == 1) {
        timeline_->resizeColumnToContents(0);
        timeline_->resizeColumnToContents(1);
    }
}

int AudioPreview::timelineRows() const {
    return timeline_->topLevelItemCount();
}

QString AudioPreview::timelineCaption(int row) const {
    auto* item = timeline_->topLevelItem(row);
    return item ? item->text(2) : QString();
}

bool AudioPreview::playing() const {
    return player_->playbackState() == QMediaPlayer::PlayingState;
}

void AudioPreview::stop() {
    player_->stop();
}

void AudioPreview::updateTime() {
    const double length = peaks_.seconds > 0 ? peaks_.seconds : player_->duration() / 1000.0;
    const double at = player_->position() / 1000.0;
    time_->setText(QString("%1 / %2").arg(clockText(at), clockText(length)));
    wave_->setPosition(length > 0 ? std::clamp(at / length, 0.0, 1.0) : 0.0);
}

void AudioPreview::showSound(const QString& path) {
    player_->stop();
    path_ = path;
    peaks_ = {};
    clearTimeline();
    wave_->setPeaks(&peaks_);
    title_->setText(QStringLiteral("<b>%1</b>").arg(QFileInfo(path).fileName().toHtmlEscaped()));
    player_->setSource(QUrl::fromLocalFile(path));
    updateTime();
    QPointer<AudioPreview> self(this);
    QThreadPool::globalInstance()->start([self, path] {
        auto peaks = readWaveformPeaks(path, 2000);
        QMetaObject::invokeMethod(qApp, [self, path, peaks] {
            if (!self || self->path_ != path) return; // another sound was chosen meanwhile
            self->peaks_ = peaks;
            self->wave_->setPeaks(&self->peaks_);
            self->updateTime();
            emit self->peaksReady(path);
        });
    });
}

} // namespace esper::ui
