#include "workspace_widget.h"

#include "audio_preview.h"
#include "decoding_panel.h"
#include "gallery_model.h"
#include "image_preview.h"
#include "media_kind.h"
#include "style_panel.h"

#include <QFileInfo>
#include <QLabel>
#include <QListView>
#include <QSplitter>
#include <QStackedWidget>
#include <QVBoxLayout>
#include <cmath>

namespace esper::ui {

WorkspaceWidget::WorkspaceWidget(EngineClient* engine, QWidget* parent)
    : QWidget(parent), engine_(engine), gallery_(new GalleryModel(this)),
      galleryView_(new QListView), preview_(new ImagePreview), audioPreview_(new AudioPreview),
      previews_(new QStackedWidget), styles_(new StylePanel), decoding_(new DecodingPanel),
      banner_(new QLabel) {
    galleryView_->setModel(gallery_);
    galleryView_->setViewMode(QListView::IconMode);
    galleryView_->setIconSize({GalleryModel::kThumbSize, GalleryModel::kThumbSize});
    galleryView_->setGridSize({GalleryModel::kThumbSize + 16, GalleryModel::kThumbSize + 30});
    galleryView_->setResizeMode(QListView::Adjust);
    galleryView_->setMovement(QListView::Static);
    galleryView_->setUniformItemSizes(true);
    galleryView_->setLayoutMode(QListView::Batched); // lays out big folders in steps
    galleryView_->setMinimumWidth(GalleryModel::kThumbSize + 40);
    banner_->setWordWrap(true);
    banner_->setTextFormat(Qt::RichText);
    banner_->setMargin(8);

    auto* right = new QWidget;
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->addWidget(banner_);
    rightLayout->addWidget(styles_, 1);
    rightLayout->addWidget(decoding_);
    auto* split = new QSplitter;
    split->addWidget(galleryView_);
    previews_->addWidget(preview_);
    previews_->addWidget(audioPreview_);
    split->addWidget(previews_);
    split->addWidget(right);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    split->setStretchFactor(2, 3);
    split->setSizes({270, 560, 450});
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(split);
    preview_->showMessage(tr("Drop images, sounds or folders here\n\nor use File → Open "
                             "images… (Ctrl+O), paste an image (Ctrl+V), or listen live "
                             "(Ctrl+L)"));

    debounce_.setSingleShot(true);
    debounce_.setInterval(350);
    connect(&debounce_, &QTimer::timeout, this, &WorkspaceWidget::requestCaption);
    connect(galleryView_->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex& index) {
                current_ = gallery_->path(index.row());
                engine_->cancelTimeline(); // the previous item's
                if (media::mediaKindOfFile(current_.toStdString()) == media::MediaKind::Audio) {
                    audioPreview_->showSound(current_);
                    previews_->setCurrentWidget(audioPreview_);
                } else {
                    audioPreview_->stop();
                    preview_->showImage(current_);
                    previews_->setCurrentWidget(preview_);
                }
                requestCaption(); // selection is deliberate: no pause needed
            });
    // A recording longer than a window also gets a timeline, once its length is known.
    connect(audioPreview_, &AudioPreview::peaksReady, this, [this](const QString& path) {
        const double seconds = audioPreview_->peaks().seconds;
        if (path != current_ || seconds <= kTimelineWindowSeconds) return;
        if (!engine_->bundleReady() || styles_->count() == 0) return;
        audioPreview_->setTimelineNote(tr("Captioning %1 windows of %2 s with the %3 style…")
                                           .arg(int(std::ceil(seconds / kTimelineWindowSeconds)))
                                           .arg(kTimelineWindowSeconds)
                                           .arg(styles_->card(0)->style().label));
        timelineRequest_ = engine_->captionTimeline(path, {styles_->card(0)->style()},
                                                    decoding_->settings(), kTimelineWindowSeconds);
    });
    connect(engine_, &EngineClient::timelineWindow, this,
            [this](quint64 id, double start, double end, const CaptionOutcome& o) {
                if (id != timelineRequest_) return;
                if (!o.error.isEmpty())
                    audioPreview_->addTimelineWindow(start, end, o.error, -1);
                else if (!o.captions.isEmpty())
                    audioPreview_->addTimelineWindow(start, end, o.captions.first().text,
                                                     o.captions.first().clipS);
            });
    connect(engine_, &EngineClient::timelineFinished, this,
            [this](quint64 id, const QString& error) {
                if (id != timelineRequest_) return;
                audioPreview_->setTimelineNote(error);
            });
    connect(styles_, &StylePanel::stylesChanged, this, [this] { debounce_.start(); });
    connect(decoding_, &DecodingPanel::changed, this, [this] { debounce_.start(); });
    connect(styles_, &StylePanel::resampleRequested, this, [this](int) {
        auto d = decoding_->settings();
        d.sample = true;
        d.seed = resampleSeed_++;
        if (current_.isEmpty() || !engine_->bundleReady()) return;
        for (int i = 0; i < styles_->count(); ++i)
            styles_->card(i)->setWaiting();
        currentRequest_ = engine_->captionNow(current_, styles_->styles(), d);
    });
    connect(styles_, &StylePanel::acceptRequested, this, [this](int card) {
        auto* c = styles_->card(card);
        if (!c || current_.isEmpty() || c->captionText().isEmpty()) return;
        emit accepted(current_, c->style().id, c->captionText(), c->clipScore());
        emit message(tr("Accepted the %1 caption of %2")
                         .arg(c->style().label, QFileInfo(current_).fileName()));
    });
    connect(engine_, &EngineClient::captionToken, this,
            [this](quint64 id, int style, const QString& text) {
                if (id != currentRequest_) return;
                if (auto* c = styles_->card(style)) c->setStreaming(text);
            });
    connect(engine_, &EngineClient::captionFinished, this,
            [this](quint64 id, const CaptionOutcome& o) {
                if (o.imagePath.isEmpty()) return; // live sound: the listening panel's
                results_[o.imagePath] = o;
                if (!o.error.isEmpty()) gallery_->setError(o.imagePath, o.error);
                if (id == currentRequest_ && o.imagePath == current_) showOutcome(o);
                emit latency(o.milliseconds);
            });
    connect(engine_, &EngineClient::backgroundFinished, this,
            [this](quint64, const CaptionOutcome& o) {
                results_[o.imagePath] = o;
                if (!o.error.isEmpty()) gallery_->setError(o.imagePath, o.error);
                if (o.imagePath == current_) showOutcome(o);
                ++allDone_;
                const double perItem = allTimer_.elapsed() / 1000.0 / std::max(1, allDone_);
                emit progress(allDone_, allTotal_, perItem * (allTotal_ - allDone_));
                if (allDone_ >= allTotal_) allTotal_ = 0;
            });
    setBundleState(false, {});
}

void WorkspaceWidget::setBundleState(bool ready, const QString& message) {
    if (ready) {
        banner_->setVisible(false);
        if (!current_.isEmpty()) requestCaption();
        return;
    }
    banner_->setVisible(true);
    banner_->setText(
        message.isEmpty()
            ? tr("<b>No model loaded.</b> Open a bundle folder with <b>File → Open "
                 "bundle…</b>, or set the models directory in <b>File → Models "
                 "directory…</b>.")
            : tr("<b>The model could not be loaded.</b><br>%1").arg(message.toHtmlEscaped()));
}

int WorkspaceWidget::addPaths(const QStringList& paths) {
    const bool wasEmpty = gallery_->rowCount() == 0;
    const int added = gallery_->addPaths(paths);
    if (added > 0 && wasEmpty) selectRow(0);
    emit message(tr("%n file(s) added", "", added));
    return added;
}

void WorkspaceWidget::selectRow(int row) {
    galleryView_->setCurrentIndex(gallery_->index(row));
}

void WorkspaceWidget::requestCaption() {
    if (current_.isEmpty() || !engine_->bundleReady() || styles_->count() == 0) return;
    for (int i = 0; i < styles_->count(); ++i)
        styles_->card(i)->setWaiting();
    currentRequest_ = engine_->captionNow(current_, styles_->styles(), decoding_->settings());
}

void WorkspaceWidget::showOutcome(const CaptionOutcome& o) {
    if (!o.error.isEmpty()) {
        for (int i = 0; i < styles_->count(); ++i)
            styles_->card(i)->setError(o.error);
        return;
    }
    for (int i = 0; i < styles_->count() && i < o.captions.size(); ++i)
        styles_->card(i)->setResult(o.captions[i], o.audio);
}

void WorkspaceWidget::captionAll(const QSet<QString>& skip) {
    if (!engine_->bundleReady() || gallery_->rowCount() == 0) return;
    engine_->cancelBackground();
    allDone_ = 0;
    allTotal_ = 0;
    allTimer_.start();
    const auto styles = styles_->styles();
    const auto settings = decoding_->settings();
    for (const auto& p : gallery_->paths()) {
        if (skip.contains(p)) continue;
        engine_->captionInBackground(p, styles, settings);
        ++allTotal_;
    }
    if (allTotal_ == 0) return;
    emit progress(0, allTotal_, -1);
}

void WorkspaceWidget::cancelCaptionAll() {
    engine_->cancelBackground();
    const int total = allTotal_;
    allTotal_ = 0;
    emit progress(allDone_, total, 0);
    emit message(tr("Caption all cancelled after %1 of %2 images").arg(allDone_).arg(total));
}

} // namespace esper::ui
