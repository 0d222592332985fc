// CLIP-S and RefCLIP-S (Hessel et al., as clipscore.py computes them) from a CLIP model folder,
// with image embeddings cached so re-scoring an image with new captions does not re-encode it.
#pragma once

#include "image/rgb_image.h"
#include "util/result.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace esper {

using Embedding = std::vector<float>; // L2-normalised

struct ClipScore {
    double cosine = 0;               // image vs caption
    double clipS = 0;                // 2.5 * max(cosine, 0)
    std::optional<double> refCosine; // best caption vs reference cosine
    std::optional<double> refClipS;  // harmonic mean of clipS and refCosine
};

class ClipScorer {
public:
    // modelDir: config.json + model.safetensors; tokenizerDir (default modelDir): vocab.json +
    // merges.txt or bpe_simple_vocab_16e6.txt.gz.
    static Result<std::unique_ptr<ClipScorer>> load(const std::string& modelDir,
                                                    const std::string& tokenizerDir = "",
                                                    const std::string& device = "cpu",
                                                    const std::string& dtype = "fp32");
    ~ClipScorer();

    // CLIP's image features as the model outputs them (not normalised; ESPER's mapper reads
    // these), one batch. Entries with a non-empty key are cached under it and later served from
    // the cache (keys name the image's content, e.g. path + modification time).
    Result<std::vector<std::vector<float>>>
    imageFeatures(const std::vector<const RgbImage*>& images,
                  const std::vector<std::string>& keys = {});
    // The same, L2-normalised, for similarities.
    Result<std::vector<Embedding>> embedImages(const std::vector<const RgbImage*>& images,
                                               const std::vector<std::string>& keys = {});
    bool hasCachedImage(const std::string& key) const;
    // Texts as one batch, truncated to the model's context as clip.tokenize(truncate=True) does.
    Result<std::vector<Embedding>> embedTexts(const std::vector<std::string>& texts);

    // clipscore.py prefixes captions and references with "A photo depicts "; ESPER does not.
    static constexpr const char* kPhotoPrefix = "A photo depicts ";
    static ClipScore combine(double cosine, std::optional<double> refCosine);
    static double cosine(const Embedding& a, const Embedding& b);

    size_t cacheSize() const;
    int64_t embeddingSize() const;
    // exp(logit_scale): what CLIP multiplies cosines by before its softmax over candidates.
    double logitScale() const;

private:
    struct Impl;
    explicit ClipScorer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace esper
