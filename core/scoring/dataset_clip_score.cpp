#include "scoring/dataset_clip_score.h"

#include <cmath>

namespace esper {

Result<DatasetClipScores> scoreDataset(ClipScorer& scorer, const EvalSet& set,
                                       const std::vector<std::string>& imagePaths,
                                       const ImageLoader& load, bool photoPrefix,
                                       size_t batchSize) {
    DatasetClipScores out;
    const std::string prefix = photoPrefix ? ClipScorer::kPhotoPrefix : "";
    bool anyReferences = false;
    for (const auto& item : set)
        anyReferences |= !item.references.empty();
    double sumS = 0, sumRef = 0;
    size_t scored = 0;
    for (size_t start = 0; start < set.size(); start += batchSize) {
        const size_t end = std::min(set.size(), start + batchSize);
        std::vector<RgbImage> decoded;
        std::vector<size_t> which;
        decoded.reserve(end - start);
        for (size_t i = start; i < end; ++i) {
            auto image = load(imagePaths[i]);
            if (!image) {
                if (out.firstError.empty()) out.firstError = image.error();
                ++out.failedImages;
                continue;
            }
            decoded.push_back(std::move(image.value()));
            which.push_back(i);
        }
        std::vector<const RgbImage*> ptrs;
        std::vector<std::string> keys;
        for (size_t n = 0; n < decoded.size(); ++n) {
            ptrs.push_back(&decoded[n]);
            keys.push_back(imagePaths[which[n]]);
        }
        auto imageEmb = scorer.embedImages(ptrs, keys);
        ESPER_TRY(imageEmb);
        // Every caption and reference of the batch in one text batch.
        std::vector<std::string> texts;
        std::vector<size_t> firstRef;
        for (size_t i : which) {
            texts.push_back(prefix + set[i].candidate);
            firstRef.push_back(texts.size());
            for (const auto& r : set[i].references)
                texts.push_back(prefix + r);
        }
        auto textEmb = scorer.embedTexts(texts);
        ESPER_TRY(textEmb);
        size_t n = 0;
        std::vector<double> batchS(end - start, NAN), batchRef(end - start, NAN);
        for (size_t i : which) {
            const Embedding& cand = textEmb.value()[firstRef[n] - 1];
            std::optional<double> best;
            for (size_t r = 0; r < set[i].references.size(); ++r) {
                const double c = ClipScorer::cosine(cand, textEmb.value()[firstRef[n] + r]);
                if (!best || c > *best) best = c;
            }
            const ClipScore s =
                ClipScorer::combine(ClipScorer::cosine(imageEmb.value()[n], cand), best);
            batchS[i - start] = s.clipS;
            sumS += s.clipS;
            if (s.refClipS) {
                batchRef[i - start] = *s.refClipS;
                sumRef += *s.refClipS;
            }
            ++scored;
            ++n;
        }
        out.clipS.perImage.insert(out.clipS.perImage.end(), batchS.begin(), batchS.end());
        if (anyReferences)
            out.refClipS.perImage.insert(out.refClipS.perImage.end(), batchRef.begin(),
                                         batchRef.end());
    }
    if (scored == 0)
        return fail("no image could be read for CLIP scores" +
                    (out.firstError.empty() ? std::string() : ": " + out.firstError));
    out.clipS.corpus = sumS / static_cast<double>(scored);
    out.refClipS.corpus = anyReferences ? sumRef / static_cast<double>(scored) : NAN;
    return out;
}

} // namespace esper
