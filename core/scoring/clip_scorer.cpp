#include "scoring/clip_scorer.h"

#include "image/clip_preprocess.h"
#include "models/clip.h"
#include "models/torch_guard.h"
#include "text/clip_tokenizer.h"
#include "text/sentencepiece_tokenizer.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>
#include <cmath>
#include <filesystem>
#include <list>
#include <mutex>
#include <unordered_map>

namespace esper {
namespace {

constexpr size_t kCacheCapacity = 4096; // raw features; 4096 x 512 floats: 8 MB

Embedding toEmbedding(const at::Tensor& row) {
    const at::Tensor f = row.to(at::kCPU, at::kFloat).contiguous();
    return Embedding(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
}

at::Tensor normalise(const at::Tensor& x) {
    return x / x.norm(2, -1, true);
}

} // namespace

struct ClipScorer::Impl {
    std::unique_ptr<ClipModel> model;
    // OpenAI's BPE (real CLIP checkpoints) or a sentencepiece model (the project's own CLIP).
    std::unique_ptr<ClipTokenizer> bpe;
    std::unique_ptr<SentencePieceTokenizer> spm;
    int endId = 0;
    size_t vocab = 0;
    std::vector<int> encode(const std::string& text, int context) const {
        return bpe ? bpe->encodeForModel(text, context)
                   : clipSequence(spm->encode(text), spm->bosId(), spm->eosId(), context);
    }
    ClipPreprocessConfig preprocess;
    mutable std::mutex mutex; // guards the cache
    std::list<std::pair<std::string, Embedding>> lru;
    std::unordered_map<std::string, std::list<std::pair<std::string, Embedding>>::iterator> byKey;

    std::optional<std::vector<float>> lookup(const std::string& key);
    void remember(const std::string& key, const std::vector<float>& e) {
        std::lock_guard lock(mutex);
        if (byKey.count(key)) return;
        lru.emplace_front(key, e);
        byKey[key] = lru.begin();
        if (lru.size() > kCacheCapacity) {
            byKey.erase(lru.back().first);
            lru.pop_back();
        }
    }
};

ClipScorer::ClipScorer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClipScorer::~ClipScorer() = default;

Result<std::unique_ptr<ClipScorer>> ClipScorer::load(const std::string& modelDir,
                                                     const std::string& tokenizerDir,
                                                     const std::string& device,
                                                     const std::string& dtype) {
    return guardTorch("CLIP could not be loaded", [&]() -> Result<std::unique_ptr<ClipScorer>> {
        auto options = parseComputeOptions(device, dtype);
        ESPER_TRY(options);
        auto impl = std::make_unique<Impl>();
        auto model = ClipModel::load(modelDir, options.value());
        ESPER_TRY(model);
        impl->model = std::move(model.value());
        const std::string tokDir = tokenizerDir.empty() ? modelDir : tokenizerDir;
        if (std::filesystem::exists(tokDir + "/tokenizer.model")) {
            auto tok = SentencePieceTokenizer::load(tokDir + "/tokenizer.model");
            ESPER_TRY(tok);
            impl->spm = std::move(tok.value());
            impl->endId = impl->spm->eosId();
            impl->vocab = impl->spm->vocabSize();
        } else {
            auto tok = ClipTokenizer::fromDirectory(tokDir);
            ESPER_TRY(tok);
            impl->bpe = std::move(tok.value());
            impl->endId = impl->bpe->endOfTextId();
            impl->vocab = impl->bpe->vocabSize();
        }
        if (static_cast<int64_t>(impl->vocab) != impl->model->config().vocabSize)
            return fail("the CLIP tokenizer has " + std::to_string(impl->vocab) +
                        " tokens but the model in '" + modelDir + "' expects " +
                        std::to_string(impl->model->config().vocabSize));
        impl->preprocess.size = static_cast<int>(impl->model->config().imageSize);
        return std::unique_ptr<ClipScorer>(new ClipScorer(std::move(impl)));
    });
}

bool ClipScorer::hasCachedImage(const std::string& key) const {
    std::lock_guard lock(impl_->mutex);
    return impl_->byKey.count(key) > 0;
}

std::optional<std::vector<float>> ClipScorer::Impl::lookup(const std::string& key) {
    std::lock_guard lock(mutex);
    auto it = byKey.find(key);
    if (it == byKey.end()) return std::nullopt;
    lru.splice(lru.begin(), lru, it->second);
    return it->second->second;
}

Result<std::vector<std::vector<float>>>
ClipScorer::imageFeatures(const std::vector<const RgbImage*>& images,
                          const std::vector<std::string>& keys) {
    return guardTorch(
        "CLIP image encoding failed", [&]() -> Result<std::vector<std::vector<float>>> {
            c10::InferenceMode guard;
            std::vector<std::vector<float>> out(images.size());
            std::vector<size_t> pending;
            for (size_t i = 0; i < images.size(); ++i) {
                if (i < keys.size() && !keys[i].empty())
                    if (auto hit = impl_->lookup(keys[i])) {
                        out[i] = std::move(*hit);
                        continue;
                    }
                pending.push_back(i);
            }
            if (pending.empty()) return out;
            const int64_t s = impl_->preprocess.size;
            at::Tensor pixels = at::empty({static_cast<int64_t>(pending.size()), 3, s, s});
            for (size_t n = 0; n < pending.size(); ++n) {
                const auto values = clipPreprocess(*images[pending[n]], impl_->preprocess);
                std::copy(values.begin(), values.end(), pixels[n].data_ptr<float>());
            }
            const at::Tensor features = impl_->model->encodeImage(pixels).features;
            for (size_t n = 0; n < pending.size(); ++n) {
                out[pending[n]] = toEmbedding(features[n]);
                if (pending[n] < keys.size() && !keys[pending[n]].empty())
                    impl_->remember(keys[pending[n]], out[pending[n]]);
            }
            return out;
        });
}

Result<std::vector<Embedding>> ClipScorer::embedImages(const std::vector<const RgbImage*>& images,
                                                       const std::vector<std::string>& keys) {
    auto features = imageFeatures(images, keys);
    ESPER_TRY(features);
    for (auto& f : features.value()) {
        double norm = 0;
        for (float v : f)
            norm += double(v) * v;
        norm = std::sqrt(norm);
        for (float& v : f)
            v = static_cast<float>(v / norm);
    }
    return features;
}

Result<std::vector<Embedding>> ClipScorer::embedTexts(const std::vector<std::string>& texts) {
    return guardTorch("CLIP text encoding failed", [&]() -> Result<std::vector<Embedding>> {
        c10::InferenceMode guard;
        if (texts.empty()) return std::vector<Embedding>{};
        const int context = static_cast<int>(impl_->model->config().maxPositions);
        std::vector<std::vector<int>> ids;
        size_t longest = 0;
        for (const auto& t : texts) {
            ids.push_back(impl_->encode(t, context));
            longest = std::max(longest, ids.back().size());
        }
        // Padded with end-of-text: pooling reads the first one, and the causal mask keeps what
        // follows it from mattering.
        at::Tensor batch =
            at::full({static_cast<int64_t>(ids.size()), static_cast<int64_t>(longest)},
                     impl_->endId, at::kLong);
        auto cells = batch.accessor<int64_t, 2>();
        for (size_t i = 0; i < ids.size(); ++i)
            for (size_t j = 0; j < ids[i].size(); ++j)
                cells[static_cast<int64_t>(i)][static_cast<int64_t>(j)] = ids[i][j];
        const at::Tensor features = normalise(impl_->model->encodeText(batch).features);
        std::vector<Embedding> out;
        for (int64_t i = 0; i < features.size(0); ++i)
            out.push_back(toEmbedding(features[i]));
        return out;
    });
}

double ClipScorer::cosine(const Embedding& a, const Embedding& b) {
    double dot = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
        dot += double(a[i]) * b[i];
    return dot;
}

ClipScore ClipScorer::combine(double cosine, std::optional<double> refCosine) {
    ClipScore s;
    s.cosine = cosine;
    s.clipS = 2.5 * std::max(cosine, 0.0);
    if (refCosine) {
        // clipscore.py takes the harmonic mean without clamping the reference cosine.
        s.refCosine = refCosine;
        s.refClipS = 2 * s.clipS * *refCosine / (s.clipS + *refCosine);
    }
    return s;
}

size_t ClipScorer::cacheSize() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->lru.size();
}

double ClipScorer::logitScale() const {
    return impl_->model->logitScale().exp().item<double>();
}

int64_t ClipScorer::embeddingSize() const {
    return impl_->model->config().projectionDim;
}

} // namespace esper
