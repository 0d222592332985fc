// The large preview: fit to the window or 100 %, Ctrl+wheel to zoom, drag to pan.
#pragma once

#include <QScrollArea>

class QLabel;

namespace esper::ui {

class ImagePreview final : public QScrollArea {
    Q_OBJECT

public:
    explicit ImagePreview(QWidget* parent = nullptr);
    void showImage(const QString& path);
    void showMessage(const QString& text);
    void setFit(bool fit);
    void zoomBy(double factor);
    double zoom() const { return zoom_; }
    bool fitting() const { return fit_; }

protected:
    void wheelEvent(QWheelEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void relayout();
    QLabel* label_;
    QPixmap pixmap_;
    double zoom_ = 1.0;
    bool fit_ = true;
};

} // namespace esper::ui
