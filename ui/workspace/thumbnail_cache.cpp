#include "thumbnail_cache.h"

#include "media_kind.h"
#include "waveform.h"

#include <QCoreApplication>
#include <QImageReader>
#include <QPointer>
#include <QThreadPool>

namespace esper::ui {

ThumbnailCache::ThumbnailCache(int size, QObject* parent) : QObject(parent), size_(size) {}

const QPixmap* ThumbnailCache::get(const QString& path) {
    if (auto* cached = cache_.object(path)) return cached;
    if (pending_.contains(path)) return nullptr;
    pending_.insert(path);
    QPointer<ThumbnailCache> self(this);
    const int size = size_;
    QThreadPool::globalInstance()->start([self, path, size] {
        QImage img;
        QString error;
        if (media::mediaKindOfFile(path.toStdString()) == media::MediaKind::Audio) {
            // A sound's thumbnail is its waveform (decoding runs here, off the UI thread).
            const auto peaks = readWaveformPeaks(path, size);
            error = peaks.error;
            if (error.isEmpty())
                img = drawWaveform(peaks, {size, size * 3 / 4}, QColor(70, 150, 230),
                                   QColor(30, 34, 40));
        } else {
            QImageReader reader(path);
            reader.setAutoTransform(true); // EXIF orientation
            const QSize full = reader.size();
            if (full.isValid()) reader.setScaledSize(full.scaled(size, size, Qt::KeepAspectRatio));
            img = reader.read();
            if (img.isNull()) error = reader.errorString();
        }
        // Posted through the application object: the cache may be gone by the time it runs.
        QMetaObject::invokeMethod(qApp, [self, path, img, error] {
            if (!self) return;
            self->pending_.remove(path);
            ++self->made_;
            if (!error.isEmpty()) {
                emit self->failed(path, error);
                return;
            }
            self->cache_.insert(path, new QPixmap(QPixmap::fromImage(img)));
            emit self->ready(path);
        });
    });
    return nullptr;
}

} // namespace esper::ui
