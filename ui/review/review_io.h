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
// Which items and captions an export writes.
struct ExportSelection {
    bool onlyReviewed = false;  // accepted and edited items only
    bool allCandidates = false; // every candidate, the active caption first; else the active one
};
// IMAGE.txt / IMAGE.caption beside an image (`extension` ".txt" or ".caption"), and whether an
// image has either.
QString sidecarPath(const QString& imagePath, const QString& extension);
bool hasSidecar(const QString& imagePath);
// A sidecar beside each image; with every candidate, one caption per line (the line-per-caption
// convention trainers such as OneTrainer sample from).
ExportReport exportSidecars(const QVector<ReviewItem>& items, const QString& extension,
                            SidecarPolicy policy, const ExportSelection& which);
// With the review's fields: source, status, CLIP-S, the quality checks' flags and every
// candidate with its origin; allCandidates puts every caption among the references too.
Result<void> exportJsonl(const QVector<ReviewItem>& items, const QString& path,
                         const ExportSelection& which, const QualityOptions& quality = {});
// One annotation per caption written.
Result<void> exportCoco(const QVector<ReviewItem>& items, const QString& path,
                        const ExportSelection& which);

} // namespace esper::ui
