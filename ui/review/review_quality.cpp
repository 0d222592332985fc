#include "review_quality.h"

namespace esper::ui {

ReviewQuality qualityOf(const QVector<ReviewItem>& items, const QualityOptions& options) {
    std::vector<CaptionToCheck> captions;
    captions.reserve(size_t(items.size()));
    for (const auto& it : items) {
        CaptionToCheck c;
        c.text = it.caption.toStdString();
        if (it.clipS >= 0) c.clipS = it.clipS;
        captions.push_back(std::move(c));
    }
    const auto results = checkCaptions(captions, options);
    ReviewQuality q{QVector<QStringList>(items.size()), QVector<QStringList>(items.size())};
    for (size_t i = 0; i < results.size(); ++i) {
        if (items[int(i)].status != ReviewStatus::Unreviewed) continue;
        for (size_t k = 0; k < results[i].flags.size(); ++k) {
            q.flags[int(i)] << QString(qualityFlagName(results[i].flags[k]))
                                   .replace("clip_s", "CLIP-S")
                                   .replace('_', ' ');
            q.reasons[int(i)] << QString::fromStdString(results[i].reasons[k]);
        }
    }
    return q;
}

} // namespace esper::ui
