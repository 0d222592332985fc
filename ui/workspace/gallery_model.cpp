#include "gallery_model.h"

#include "media_kind.h"

#include <QDirIterator>
#include <QFileInfo>
#include <QIcon>
#include <QPainter>

namespace esper::ui {

namespace {
QPixmap placeholder(const QColor& color) {
    QPixmap p(GalleryModel::kThumbSize, GalleryModel::kThumbSize);
    p.fill(color);
    return p;
}
} // namespace

GalleryModel::GalleryModel(QObject* parent)
    : QAbstractListModel(parent), thumbs_(new ThumbnailCache(kThumbSize, this)) {
    connect(thumbs_, &ThumbnailCache::ready, this, [this](const QString& p) {
        const int r = int(paths_.indexOf(p));
        if (r >= 0) emit dataChanged(index(r), index(r), {Qt::DecorationRole});
    });
    connect(thumbs_, &ThumbnailCache::failed, this, [this](const QString& p, const QString& error) {
        setError(p, tr("Cannot read this file: %1").arg(error));
    });
}

bool GalleryModel::isMediaFile(const QString& path) {
    const std::string p = path.toStdString();
    return media::hasImageExtension(p) || media::hasAudioExtension(p);
}

int GalleryModel::addPaths(const QStringList& paths) {
    QStringList fresh;
    auto take = [&](const QString& p) {
        const QString abs = QFileInfo(p).absoluteFilePath();
        if (!known_.contains(abs)) {
            known_.insert(abs);
            fresh << abs;
        }
    };
    for (const auto& p : paths) {
        const QFileInfo info(p);
        if (info.isDir()) {
            QStringList found;
            QDirIterator it(p, QDir::Files, QDirIterator::Subdirectories);
            while (it.hasNext()) {
                const QString f = it.next();
                if (isMediaFile(f)) found << f;
            }
            found.sort();
            for (const auto& f : found)
                take(f);
        } else if (info.isFile()) {
            take(p); // a named file is shown even if it turns out not to decode
        }
    }
    if (fresh.isEmpty()) return 0;
    beginInsertRows({}, int(paths_.size()), int(paths_.size() + fresh.size() - 1));
    paths_ += fresh;
    endInsertRows();
    return int(fresh.size());
}

void GalleryModel::clear() {
    beginResetModel();
    paths_.clear();
    known_.clear();
    errors_.clear();
    thumbs_->clear();
    endResetModel();
}

void GalleryModel::setError(const QString& path, const QString& error) {
    errors_.insert(path, error);
    const int row = int(paths_.indexOf(path));
    if (row >= 0) emit dataChanged(index(row), index(row));
}

int GalleryModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(paths_.size());
}

QVariant GalleryModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= paths_.size()) return {};
    const QString& p = paths_[index.row()];
    switch (role) {
    case Qt::DisplayRole:
        return QFileInfo(p).fileName();
    case Qt::ToolTipRole:
        return errors_.contains(p) ? p + "\n" + errors_.value(p) : p;
    case PathRole:
        return p;
    case ErrorRole:
        return errors_.value(p);
    case Qt::DecorationRole: {
        if (errors_.contains(p))
            return QIcon::fromTheme("dialog-error", QIcon(placeholder(QColor(170, 60, 60))));
        if (const QPixmap* thumb = thumbs_->get(p)) return *thumb;
        return placeholder(QColor(70, 70, 78));
    }
    default:
        return {};
    }
}

} // namespace esper::ui
