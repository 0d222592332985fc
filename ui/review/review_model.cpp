#include "review_model.h"

#include "caption_origin.h"

#include "workspace/thumbnail_cache.h"

#include <QBrush>
#include <QColor>
#include <QFileInfo>
#include <QJsonArray>

namespace esper::ui {

QString statusName(ReviewStatus s) {
    switch (s) {
    case ReviewStatus::Unreviewed:
        return "unreviewed";
    case ReviewStatus::Accepted:
        return "accepted";
    case ReviewStatus::Edited:
        return "edited";
    case ReviewStatus::Rejected:
        return "rejected";
    }
    return {};
}

ReviewStatus statusFromName(const QString& name) {
    for (auto s : {ReviewStatus::Accepted, ReviewStatus::Edited, ReviewStatus::Rejected})
        if (statusName(s) == name) return s;
    return ReviewStatus::Unreviewed;
}

QString ReviewItem::activeCandidate() const {
    if (source == "human") return {};
    // The source names the style ("bundle · style"); several candidates may share a text.
    const QString style = source.section(" · ", -1);
    if (generated.value(style) == caption && generated.contains(style)) return style;
    for (auto g = generated.begin(); g != generated.end(); ++g)
        if (g.value() == caption) return g.key();
    return {};
}

QStringList ReviewItem::allCaptions() const {
    QStringList out;
    if (!caption.isEmpty()) out << caption;
    for (const auto& g : generated)
        if (!g.isEmpty() && !out.contains(g)) out << g;
    return out;
}

QJsonObject ReviewItem::toJson() const {
    QJsonObject gen, sc, orig;
    for (auto it = generated.begin(); it != generated.end(); ++it)
        gen[it.key()] = it.value();
    for (auto it = scores.begin(); it != scores.end(); ++it)
        sc[it.key()] = it.value();
    for (auto it = origins.begin(); it != origins.end(); ++it)
        orig[it.key()] = it.value();
    QJsonObject o{{"image", imagePath},     {"references", QJsonArray::fromStringList(references)},
                  {"generated", gen},       {"scores", sc},
                  {"caption", caption},     {"clip_s", clipS},
                  {"ref_clip_s", refClipS}, {"status", statusName(status)},
                  {"error", error},         {"source", source}};
    if (!orig.isEmpty()) o["origins"] = orig;
    return o;
}

ReviewItem ReviewItem::fromJson(const QJsonObject& o) {
    ReviewItem r;
    r.imagePath = o["image"].toString();
    for (const auto& v : o["references"].toArray())
        r.references << v.toString();
    const auto gen = o["generated"].toObject();
    for (auto it = gen.begin(); it != gen.end(); ++it)
        r.generated[it.key()] = it.value().toString();
    const auto sc = o["scores"].toObject();
    for (auto it = sc.begin(); it != sc.end(); ++it)
        r.scores[it.key()] = it.value().toDouble();
    r.caption = o["caption"].toString();
    r.clipS = o["clip_s"].toDouble(-1);
    r.refClipS = o["ref_clip_s"].toDouble(-1);
    r.status = statusFromName(o["status"].toString());
    r.error = o["error"].toString();
    r.source = o["source"].toString();
    const auto orig = o["origins"].toObject();
    for (auto it = orig.begin(); it != orig.end(); ++it)
        r.origins[it.key()] = it.value().toObject();
    return r;
}

ReviewModel::ReviewModel(QObject* parent)
    : QAbstractTableModel(parent), thumbs_(new ThumbnailCache(48, this)) {
    connect(thumbs_, &ThumbnailCache::ready, this, [this](const QString& path) {
        const int row = rowOf(path);
        if (row >= 0)
            emit dataChanged(index(row, ImageColumn), index(row, ImageColumn),
                             {Qt::DecorationRole});
    });
}

QHash<QString, int> ReviewModel::buildIndex(const QVector<ReviewItem>& items) {
    QHash<QString, int> index;
    index.reserve(items.size());
    for (int i = 0; i < items.size(); ++i)
        if (!index.contains(items[i].imagePath)) index.insert(items[i].imagePath, i); // first row
    return index;
}

void ReviewModel::setItems(QVector<ReviewItem> items, QHash<QString, int> index) {
    if (index.size() == 0 && !items.isEmpty()) index = buildIndex(items);
    beginResetModel();
    items_ = std::move(items);
    rowOf_ = std::move(index);
    flags_.clear();
    reasons_.clear();
    endResetModel();
    emit modified();
}

int ReviewModel::rowOf(const QString& imagePath) const {
    return rowOf_.value(imagePath, -1);
}

int ReviewModel::addGenerated(const QString& imagePath, const QString& style,
                              const QString& caption, double clipS, const QString& model,
                              const QJsonObject& origin) {
    int row = rowOf(imagePath);
    if (row < 0) {
        row = int(items_.size());
        beginInsertRows({}, row, row);
        ReviewItem fresh;
        fresh.imagePath = imagePath;
        items_.push_back(fresh);
        rowOf_.insert(imagePath, row);
        endInsertRows();
    }
    auto& it = items_[row];
    const QString active = it.activeCandidate(); // before this candidate changes
    it.generated[style] = caption;
    it.scores[style] = clipS;
    if (!origin.isEmpty()) it.origins[style] = origin;
    // An unreviewed item's caption is its first style's (the run's styles arrive in order),
    // not whichever came last; one from a dataset gives way to the model's.
    if (it.status == ReviewStatus::Unreviewed &&
        (it.caption.isEmpty() || it.source.isEmpty() || active == style ||
         (active.isEmpty() && it.source != "human"))) {
        it.caption = caption;
        it.clipS = clipS;
        it.source = model.isEmpty() ? style : model + " · " + style;
    }
    emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
    emit modified();
    return row;
}

void ReviewModel::setStatus(int row, ReviewStatus status) {
    items_[row].status = status;
    emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
    emit modified();
}

void ReviewModel::setScores(int row, double clipS, double refClipS) {
    items_[row].clipS = clipS;
    items_[row].refClipS = refClipS;
    emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
    emit modified();
}

void ReviewModel::setCaption(int row, const QString& caption, const QString& source) {
    items_[row].caption = caption;
    items_[row].source = source;
    emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
    emit modified();
}

int ReviewModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(items_.size());
}
int ReviewModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ReviewModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid()) return {};
    const ReviewItem& it = items_[index.row()];
    if (role == StatusRole) return statusName(it.status);
    if (role == FlaggedRole) return flagged(index.row());
    if (role == Qt::ToolTipRole && index.column() == FlagsColumn && flagged(index.row()))
        return reasons_[index.row()].join("\n");
    if (role == PathRole) return it.imagePath;
    if (role == Qt::ToolTipRole && index.column() == CaptionColumn && !it.source.isEmpty()) {
        const QString origin = describeOrigin(it.origins.value(it.activeCandidate()));
        return tr("written by %1").arg(origin.isEmpty() ? it.source : origin);
    }
    if (role == Qt::ToolTipRole)
        return it.error.isEmpty() ? it.imagePath : it.imagePath + "\n" + it.error;
    if (role == Qt::ForegroundRole && !it.error.isEmpty()) return QBrush(QColor(192, 57, 43));
    if (role == Qt::DecorationRole && index.column() == ImageColumn)
        if (const QPixmap* thumb = thumbs_->get(it.imagePath)) return *thumb;
    if (role == Qt::BackgroundRole && index.column() == FlagsColumn && flagged(index.row()))
        return QBrush(QColor(230, 126, 34, 70));
    if (role == Qt::BackgroundRole && index.column() == StatusColumn) {
        switch (it.status) {
        case ReviewStatus::Accepted:
            return QBrush(QColor(39, 174, 96, 70));
        case ReviewStatus::Edited:
            return QBrush(QColor(41, 128, 185, 70));
        case ReviewStatus::Rejected:
            return QBrush(QColor(192, 57, 43, 70));
        default:
            return {};
        }
    }
    if (role != Qt::DisplayRole && role != Qt::EditRole && role != SortRole) return {};
    switch (index.column()) {
    case ImageColumn:
        // Sorted by the whole path (folder, then name): no file-name parsing per comparison.
        if (role == SortRole) return it.imagePath;
        return QFileInfo(it.imagePath).fileName();
    case StatusColumn:
        return statusName(it.status);
    case CaptionColumn:
        return it.error.isEmpty() ? it.caption : it.error;
    case ScoreColumn:
        if (role == SortRole) return it.clipS;
        return it.clipS < 0 ? QVariant() : QVariant(QString::number(it.clipS, 'f', 3));
    case RefScoreColumn:
        if (role == SortRole) return it.refClipS;
        return it.refClipS < 0 ? QVariant() : QVariant(QString::number(it.refClipS, 'f', 3));
    case GeneratedColumn: {
        QStringList parts;
        for (auto g = it.generated.begin(); g != it.generated.end(); ++g) {
            const double score = it.scores.value(g.key(), -1);
            parts
                << (score < 0
                        ? QString("%1: %2").arg(g.key(), g.value())
                        : QString("%1 (%2): %3").arg(g.key()).arg(score, 0, 'f', 2).arg(g.value()));
        }
        return parts.join("\n");
    }
    case ReferenceColumn:
        return it.references.join("\n");
    case FlagsColumn:
        if (role == SortRole) return flagged(index.row()) ? int(flags_[index.row()].size()) : 0;
        return flagged(index.row()) ? flags_[index.row()].join(", ") : QVariant();
    }
    return {};
}

QVariant ReviewModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[] = {"Image",      "Status",    "Caption",
                                  "CLIP-S",     "RefCLIP-S", "Generated by style",
                                  "References", "Flags"};
    return tr(names[section]);
}

void ReviewModel::setQuality(const QVector<QStringList>& flags,
                             const QVector<QStringList>& reasons) {
    if (flags.size() != items_.size()) return; // stale: a newer check follows
    flags_ = flags;
    reasons_ = reasons;
    if (!items_.isEmpty())
        emit dataChanged(index(0, FlagsColumn), index(int(items_.size()) - 1, FlagsColumn));
}

bool ReviewModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (role != Qt::EditRole || index.column() != CaptionColumn) return false;
    emit editRequested(index.row(), value.toString());
    return true;
}

Qt::ItemFlags ReviewModel::flags(const QModelIndex& index) const {
    auto f = QAbstractTableModel::flags(index);
    if (index.column() == CaptionColumn) f |= Qt::ItemIsEditable;
    return f;
}

} // namespace esper::ui
