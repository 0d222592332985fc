#include "image_preview.h"

#include <QImageReader>
#include <QLabel>
#include <QScrollBar>
#include <QWheelEvent>

namespace esper::ui {

ImagePreview::ImagePreview(QWidget* parent) : QScrollArea(parent), label_(new QLabel) {
    label_->setAlignment(Qt::AlignCenter);
    label_->setWordWrap(true);
    setWidget(label_);
    setAlignment(Qt::AlignCenter);
    setWidgetResizable(false);
    setBackgroundRole(QPalette::Dark);
    showMessage(tr("Select an image in the gallery"));
}

void ImagePreview::showImage(const QString& path) {
    QImageReader reader(path);
    reader.setAutoTransform(true);
    const QImage img = reader.read();
    if (img.isNull()) return showMessage(tr("Cannot show %1:\n%2").arg(path, reader.errorString()));
    pixmap_ = QPixmap::fromImage(img);
    relayout();
}

void ImagePreview::showMessage(const QString& text) {
    pixmap_ = {};
    label_->setPixmap({});
    label_->setText(text);
    label_->resize(viewport()->size());
}

void ImagePreview::setFit(bool fit) {
    fit_ = fit;
    if (!fit) zoom_ = 1.0;
    relayout();
}

void ImagePreview::zoomBy(double factor) {
    if (pixmap_.isNull()) return;
    if (fit_) { // start zooming from the size that was on screen
        zoom_ = label_->pixmap().width() / double(std::max(1, pixmap_.width()));
        fit_ = false;
    }
    zoom_ = std::clamp(zoom_ * factor, 0.05, 16.0);
    relayout();
}

void ImagePreview::wheelEvent(QWheelEvent* event) {
    if (event->modifiers() & Qt::ControlModifier) {
        zoomBy(event->angleDelta().y() > 0 ? 1.25 : 0.8);
        event->accept();
        return;
    }
    QScrollArea::wheelEvent(event);
}

void ImagePreview::resizeEvent(QResizeEvent* event) {
    QScrollArea::resizeEvent(event);
    relayout();
}

void ImagePreview::relayout() {
    if (pixmap_.isNull()) {
        label_->resize(viewport()->size());
        return;
    }
    const QSize target = fit_ ? pixmap_.size().scaled(viewport()->size(), Qt::KeepAspectRatio)
                              : pixmap_.size() * zoom_;
    label_->setText({});
    label_->setPixmap(pixmap_.scaled(target, Qt::KeepAspectRatio, Qt::SmoothTransformation));
    label_->resize(std::max(target.width(), viewport()->width()),
                   std::max(target.height(), viewport()->height()));
}

} // namespace esper::ui
