// The quality checks (core/quality) applied to review items: what the Flags column shows and
// what JSONL export records. Items a person accepted or wrote are not flagged.
#pragma once

#include "review_model.h"

#include "quality/caption_quality.h"

#include <QStringList>
#include <QVector>

namespace esper::ui {

struct ReviewQuality {
    QVector<QStringList> flags;   // per item, for people: "repetition", "low CLIP-S", ...
    QVector<QStringList> reasons; // per item, one per flag
};

ReviewQuality qualityOf(const QVector<ReviewItem>& items, const QualityOptions& options = {});

} // namespace esper::ui
