// Review projects on disk (saved atomically), datasets opened for review, and the exports.
#pragma once

#include "quality/caption_quality.h"
#include "review_model.h"
#include "util/result.h"

#include <QJsonObject>
#include <QString>
#include <QVector>

namespace esper::ui {

// `history`: the undo steps ({"steps": [...], "done": N}), so undo works after reopening.
Result<void> saveProject(const QString& path, const QVector<ReviewItem>& items,
                         const QJsonObject& history = {});
struct ReviewProject {
    QVector<ReviewItem> items;
    QJsonObject history;
};
Result<ReviewProject> readProject(const QString& path);
Result<QVector<ReviewItem>> loadProject(const QString& path); // the items only
// A folder, COCO captions JSON, Karpathy file, ESP JSON or JSONL, as review items.
Result<QVector<ReviewItem>> importDataset(const QString& path);

enum class SidecarPolicy { Skip, Overwrite, Append, Prepend };
struct ExportReport {
    int written = 0, skipped = 0;
    QStringList errors;
};
// IMAGE.txt or IMAGE.caption beside each image. onlyReviewed: accepted and edited items only.
// IMAGE.txt / IMAGE.caption beside an image (`extension` ".txt" or ".caption"), and whether an
// image has either.
QString sidecarPath(const QString& imagePath, const QString& extension);
bool hasSidecar(const QString& imagePath);
ExportReport exportSidecars(const QVector<ReviewItem>& items, const QString& extension,
                            SidecarPolicy policy, bool onlyReviewed);
// With the review's fields: source, status, CLIP-S and the quality checks' flags.
Result<void> exportJsonl(const QVector<ReviewItem>& items, const QString& path, bool onlyReviewed,
                         const QualityOptions& quality = {});
Result<void> exportCoco(const QVector<ReviewItem>& items, const QString& path, bool onlyReviewed);

} // namespace esper::ui
