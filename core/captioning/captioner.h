// ESPER inference: an image through CLIP, the mapper's prefix embeddings, the language model
// continuing each style's prompt, and each caption's CLIP score. The one engine API the studio
// and the command line share; no torch type appears here.
#pragma once

#include "audio/audio_clip.h"
#include "bundle/bundle_manifest.h"
#include "decode/decode_options.h"
#include "image/rgb_image.h"
#include "scoring/clip_scorer.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace esper {

struct CaptionStyle {
    std::string id;     // preset id or a name the user gave
    std::string prompt; // text after the prefix, e.g. "caption:"
};

struct StyledCaption {
    CaptionStyle style;
    std::string text;        // the caption: generated text cut at the first stop string
    std::vector<int> tokens; // generated token ids
    double logprob = 0;
    ClipScore score;
    // Best-of-N: every sample that competed, with its CLIP-S (empty for a single decode).
    std::vector<std::pair<std::string, double>> alternatives;
};

struct CaptionTiming {
    double encodeMs = 0, decodeMs = 0, scoreMs = 0;
    double totalMs() const { return encodeMs + decodeMs + scoreMs; }
};

struct CaptionResult {
    std::vector<StyledCaption> captions; // in the order of the requested styles
    CaptionTiming timing;
};

struct CaptionOptions {
    DecodeOptions decode;
    bool photoPrefix = false;            // score with clipscore.py's "A photo depicts " prefix
    std::vector<std::string> references; // when given, RefCLIP-S too
};

// (style index, token id, caption text so far): called as tokens are produced.
using CaptionStream = std::function<void(size_t style, int token, const std::string& text)>;

class Captioner {
public:
    // dtype empty: the bundle's cpu_weights on the CPU, else fp32.
    static Result<std::unique_ptr<Captioner>> load(const BundleManifest& bundle,
                                                   const std::string& device = "cpu",
                                                   const std::string& dtype = "fp32");
    static Result<std::unique_ptr<Captioner>> loadBundle(const std::string& dir,
                                                         const std::string& modelsDir = "",
                                                         const std::string& device = "cpu",
                                                         const std::string& dtype = "fp32");
    ~Captioner();

    // All styles decode as one batch. `cacheKey` names the image for the embedding cache, so a
    // new style or setting on the same image does not re-encode it. Returns an error when
    // cancelled (checked before every decoding step) or when something fails.
    Result<CaptionResult> caption(const RgbImage& image, const std::string& cacheKey,
                                  const std::vector<CaptionStyle>& styles,
                                  const CaptionOptions& options, const CaptionStream& stream = {},
                                  const std::atomic<bool>* cancel = nullptr);
    // CLIP scores for captions someone already has.
    Result<std::vector<ClipScore>> score(const RgbImage& image, const std::string& cacheKey,
                                         const std::vector<std::string>& captions,
                                         const std::vector<std::string>& references = {},
                                         bool photoPrefix = false);

    // Sound through the bundle's audio encoder into CLIP's image-embedding space, then the same
    // mapper and language model. Scores have CLIP-S's form, 2.5 · max(cos, 0), between the
    // audio embedding and each caption's CLIP text embedding (audio CLIP-S). A clip at another
    // rate is resampled first. Errors when the bundle has no audio encoder.
    Result<CaptionResult> captionAudio(const AudioClip& clip, const std::string& cacheKey,
                                       const std::vector<CaptionStyle>& styles,
                                       const CaptionOptions& options,
                                       const CaptionStream& stream = {},
                                       const std::atomic<bool>* cancel = nullptr);
    Result<std::vector<ClipScore>> scoreAudio(const AudioClip& clip, const std::string& cacheKey,
                                              const std::vector<std::string>& captions,
                                              const std::vector<std::string>& references = {});
    bool hasAudio() const;

    const BundleManifest& bundle() const;
    // The styles the bundle was trained with, as presets where they are known.
    std::vector<CaptionStyle> bundleStyles() const;
    ClipScorer& scorer();
    std::string describe() const; // families, sizes, device; for `esper bundle check`
    // The device and precision the models run in, e.g. "cpu/Float (int8 weights)".
    std::string computeDescription() const;
    // The precision it runs in, as asked or as the bundle's cpu_weights chose: "fp32", "int8"...
    const std::string& precision() const;

private:
    struct Impl;
    explicit Captioner(std::unique_ptr<Impl> impl);
    // Either modality: `encode` gives the CLIP-space features (inside the torch guard, `what`
    // naming the failure), the mapper's prefix follows, every style decodes as one batch, and
    // `scoreTexts` scores each candidate.
    using FeatureSource = std::function<Result<std::vector<float>>()>;
    using TextScorer =
        std::function<Result<std::vector<ClipScore>>(const std::vector<std::string>&)>;
    Result<CaptionResult> captionWith(const char* what, const FeatureSource& encode,
                                      const TextScorer& scoreTexts,
                                      const std::vector<CaptionStyle>& styles,
                                      const CaptionOptions& options, const CaptionStream& stream,
                                      const std::atomic<bool>* cancel);
    Result<CaptionResult> decodeAndScore(const std::vector<float>& features,
                                         std::chrono::steady_clock::time_point encodeStart,
                                         const TextScorer& scoreTexts,
                                         const std::vector<CaptionStyle>& styles,
                                         const CaptionOptions& options, const CaptionStream& stream,
                                         const std::atomic<bool>* cancel);
    Result<std::vector<ClipScore>> scoreAgainst(const Embedding& target,
                                                const std::vector<std::string>& captions,
                                                const std::vector<std::string>& references,
                                                bool photoPrefix);
    Result<std::vector<float>> audioFeatures(const AudioClip& clip, const std::string& cacheKey);
    std::unique_ptr<Impl> impl_;
};

// A style from a preset id ("news") or, failing that, the text itself as the prompt.
CaptionStyle styleFromName(const std::string& nameOrPrompt);

} // namespace esper
