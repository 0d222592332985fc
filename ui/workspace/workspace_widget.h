// The captioning workspace: gallery, preview, style cards and decoding settings, wired to the
// engine client. Selecting an image, editing a prompt or a setting re-captions after a short
// pause; a newer request cancels the older one, whose late results never reach the cards.
#pragma once

#include "engine/engine_client.h"

#include <QElapsedTimer>
#include <QHash>
#include <QSet>
#include <QTimer>
#include <QWidget>

class QLabel;
class QListView;
class QStackedWidget;

namespace esper::ui {

class AudioPreview;
class DecodingPanel;
class GalleryModel;
class ImagePreview;
class StylePanel;

class WorkspaceWidget final : public QWidget {
    Q_OBJECT

public:
    WorkspaceWidget(EngineClient* engine, QWidget* parent = nullptr);

    int addPaths(const QStringList& paths);
    void selectRow(int row);
    QString currentImage() const { return current_; }
    // Captions every image of the gallery in the background, less those in `skip`.
    void captionAll(const QSet<QString>& skip = {});
    void cancelCaptionAll();
    bool captioningAll() const { return allTotal_ > 0; }
    void setBundleState(bool ready, const QString& message);

    GalleryModel* gallery() const { return gallery_; }
    QListView* galleryView() const { return galleryView_; }
    StylePanel* styles() const { return styles_; }
    DecodingPanel* decoding() const { return decoding_; }
    ImagePreview* preview() const { return preview_; }
    AudioPreview* audioPreview() const { return audioPreview_; }
    // The latest finished result per image (interactive and background).
    const QHash<QString, CaptionOutcome>& results() const { return results_; }

signals:
    void accepted(const QString& imagePath, const QString& style, const QString& caption,
                  double clipS);
    void progress(int done, int total, double secondsLeft);
    void latency(double milliseconds);
    void message(const QString& text);

private:
    void requestCaption();
    void showOutcome(const CaptionOutcome& outcome);

    EngineClient* engine_;
    GalleryModel* gallery_;
    QListView* galleryView_;
    ImagePreview* preview_;
    AudioPreview* audioPreview_;
    QStackedWidget* previews_;
    StylePanel* styles_;
    DecodingPanel* decoding_;
    QLabel* banner_;
    QTimer debounce_;
    QString current_;
    quint64 currentRequest_ = 0;
    quint64 timelineRequest_ = 0;
    // Recordings longer than this are also captioned window by window (the preview's timeline).
    static constexpr double kTimelineWindowSeconds = 5;
    QHash<QString, CaptionOutcome> results_;
    int allDone_ = 0, allTotal_ = 0;
    QElapsedTimer allTimer_;
    quint64 resampleSeed_ = 1;
};

} // namespace esper::ui
