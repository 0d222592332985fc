// Thumbnails made on a thread pool when first asked for, kept in a bounded cache; the gallery
// and the review table share it.
#pragma once

#include <QCache>
#include <QObject>
#include <QPixmap>
#include <QSet>

namespace esper::ui {

class ThumbnailCache final : public QObject {
    Q_OBJECT

public:
    explicit ThumbnailCache(int size, QObject* parent = nullptr);
    // The thumbnail, or nothing yet (then it is being made and `ready` or `failed` follows).
    const QPixmap* get(const QString& path);
    int size() const { return size_; }
    qint64 made() const { return made_; }
    void clear() { cache_.clear(); }

signals:
    void ready(const QString& path);
    void failed(const QString& path, const QString& error);

private:
    int size_;
    QCache<QString, QPixmap> cache_{2000};
    QSet<QString> pending_;
    qint64 made_ = 0;
};

} // namespace esper::ui
