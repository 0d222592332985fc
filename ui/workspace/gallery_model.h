// The images and sounds of the workspace, with thumbnails made lazily on a thread pool: only rows
// the view asks to paint are loaded, so a 10,000-image folder opens at once.
#pragma once

#include "thumbnail_cache.h"

#include <QAbstractListModel>
#include <QHash>
#include <QSet>
#include <QStringList>

namespace esper::ui {

class GalleryModel final : public QAbstractListModel {
    Q_OBJECT

public:
    static constexpr int kThumbSize = 112;
    enum Roles { PathRole = Qt::UserRole + 1, ErrorRole };

    explicit GalleryModel(QObject* parent = nullptr);
    // Adds files and (recursively) the images in folders; returns how many were new.
    int addPaths(const QStringList& paths);
    void clear();
    QString path(int row) const { return paths_.value(row); }
    QStringList paths() const { return paths_; }
    int indexOf(const QString& path) const { return paths_.indexOf(path); }
    void setError(const QString& path, const QString& error);
    int thumbnailsLoaded() const { return int(thumbs_->made()); }

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;

    // Images and sounds, by extension (for picking files out of folders).
    static bool isMediaFile(const QString& path);

private:
    QStringList paths_;
    QSet<QString> known_;
    QHash<QString, QString> errors_;
    ThumbnailCache* thumbs_;
};

} // namespace esper::ui
