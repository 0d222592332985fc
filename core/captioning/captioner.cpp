#include "captioning/captioner.h"

#include "audio/resample.h"
#include "decode/prefix_decoder.h"
#include "models/causal_lm.h"
#include "models/mapper.h"
#include "models/torch_guard.h"
#include "models/wav2clip.h"
#include "styles/style_presets.h"
#include "text/lm_tokenizer.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <list>
#include <mutex>
#include <sstream>

namespace esper {
namespace {

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

} // namespace

CaptionStyle styleFromName(const std::string& nameOrPrompt) {
    if (const auto* p = findStylePreset(nameOrPrompt)) return {p->id, p->prompt};
    return {nameOrPrompt, nameOrPrompt};
}

struct Captioner::Impl {
    BundleManifest bundle;
    ComputeOptions compute;
    std::string precision; // as asked, or the bundle's cpu_weights
    std::unique_ptr<ClipScorer> scorer;
    std::unique_ptr<CausalLm> lm;
    std::unique_ptr<Tokenizer> tokenizer;
    std::unique_ptr<Mapper> mapper;
    std::string family;
    int64_t lmParameters = 0;
    std::unique_ptr<Wav2Clip> audio;
    // Recent audio embeddings by cache key (oldest first), so a new style on the same clip
    // does not encode it again.
    std::list<std::pair<std::string, std::vector<float>>> audioCache;
    // The fixed-shape decoding loop's buffers and recorded step, kept from one caption to the
    // next (a decode of the same styles reuses them). A caption made while another holds them
    // decodes without.
    std::mutex workspaceLock;
    DecodeWorkspace workspace;
};

Captioner::Captioner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Captioner::~Captioner() = default;

Result<std::unique_ptr<Captioner>> Captioner::loadBundle(const std::string& dir,
                                                         const std::string& modelsDir,
                                                         const std::string& device,
                                                         const std::string& dtype) {
    auto manifest = readBundleManifest(dir, modelsDir);
    ESPER_TRY(manifest);
    return load(manifest.value(), device, dtype);
}

Result<std::unique_ptr<Captioner>>
Captioner::load(const BundleManifest& bundle, const std::string& device, const std::string& dtype) {
    return guardTorch(
        "the bundle could not be loaded", [&]() -> Result<std::unique_ptr<Captioner>> {
            c10::InferenceMode guard;
            auto where = parseDevice(device);
            ESPER_TRY(where);
            const std::string chosen = !dtype.empty() ? dtype
                                       : where->is_cpu() && !bundle.cpuWeights.empty()
                                           ? bundle.cpuWeights
                                           : "fp32";
            auto compute = parseComputeOptions(device, chosen);
            ESPER_TRY(compute);
            auto impl = std::make_unique<Impl>();
            impl->bundle = bundle;
            impl->compute = compute.value();
            impl->precision = chosen;
            auto scorer = ClipScorer::load(bundle.clip.path, bundle.clip.tokenizer, device, chosen);
            ESPER_TRY(scorer);
            impl->scorer = std::move(scorer.value());

            auto config = readModelConfig(bundle.lm.path);
            ESPER_TRY(config);
            if (std::holds_alternative<ClipConfig>(config.value()))
                return fail("the bundle's language model at " + bundle.lm.path +
                            " is a CLIP model");
            impl->family = familyName(config.value());
            auto weights = FileWeights::open(bundle.lm.path + "/model.safetensors", impl->compute);
            ESPER_TRY(weights);
            for (const auto& t : weights.value()->file().tensors())
                impl->lmParameters += t.numel();
            auto lm = makeCausalLm(config.value(), *weights.value());
            ESPER_TRY(lm);
            impl->lm = std::move(lm.value());
            auto tok = loadLmTokenizer(config.value(), bundle.lm.tokenizer);
            ESPER_TRY(tok);
            impl->tokenizer = std::move(tok.value());
            if (static_cast<int64_t>(impl->tokenizer->vocabSize()) > impl->lm->vocabSize())
                return fail("the language model's tokenizer in " + bundle.lm.tokenizer + " has " +
                            std::to_string(impl->tokenizer->vocabSize()) +
                            " tokens, more than the model's " +
                            std::to_string(impl->lm->vocabSize()));

            const MapperShape shape{impl->scorer->embeddingSize(), impl->lm->hiddenSize(),
                                    bundle.prefixLength, bundle.mapperScaledInput};
            auto mapperWeights = FileWeights::open(bundle.mapperPath, impl->compute);
            ESPER_TRY(mapperWeights);
            auto mapper = Mapper::create(shape, *mapperWeights.value());
            if (!mapper)
                return fail("the mapper " + bundle.mapperPath + " does not fit this bundle (CLIP " +
                            std::to_string(shape.clipDim) + "-d, language model " +
                            std::to_string(shape.lmDim) + "-d, prefix " +
                            std::to_string(shape.prefixLength) + "): " + mapper.error());
            impl->mapper = std::move(mapper.value());
            if (!bundle.audio.spec.empty()) {
                auto audio = Wav2Clip::load(bundle.audio.path, impl->compute);
                ESPER_TRY(audio);
                if (audio.value()->config().embeddingSize() != shape.clipDim)
                    return fail("the bundle's audio encoder at " + bundle.audio.path + " makes " +
                                std::to_string(audio.value()->config().embeddingSize()) +
                                "-d embeddings, but its CLIP model's are " +
                                std::to_string(shape.clipDim) + "-d");
                impl->audio = std::move(audio.value());
            }
            return std::unique_ptr<Captioner>(new Captioner(std::move(impl)));
        });
}

Result<CaptionResult> Captioner::caption(const RgbImage& image, const std::string& cacheKey,
                                         const std::vector<CaptionStyle>& styles,
                                         const CaptionOptions& options, const CaptionStream& stream,
                                         const std::atomic<bool>* cancel) {
    return captionWith(
        "captioning failed",
        [&]() -> Result<std::vector<float>> {
            auto features = impl_->scorer->imageFeatures({&image}, {cacheKey});
            ESPER_TRY(features);
            return std::move(features.value()[0]);
        },
        [&](const std::vector<std::string>& texts) {
            return score(image, cacheKey, texts, options.references, options.photoPrefix);
        },
        styles, options, stream, cancel);
}

Result<CaptionResult> Captioner::captionAudio(const AudioClip& clip, const std::string& cacheKey,
                                              const std::vector<CaptionStyle>& styles,
                                              const CaptionOptions& options,
                                              const CaptionStream& stream,
                                              const std::atomic<bool>* cancel) {
    return captionWith(
        "captioning the sound failed", [&] { return audioFeatures(clip, cacheKey); },
        [&](const std::vector<std::string>& texts) {
            return scoreAudio(clip, cacheKey, texts, options.references);
        },
        styles, options, stream, cancel);
}

Result<CaptionResult>
Captioner::captionWith(const char* what, const FeatureSource& encode, const TextScorer& scoreTexts,
                       const std::vector<CaptionStyle>& styles, const CaptionOptions& options,
                       const CaptionStream& stream, const std::atomic<bool>* cancel) {
    if (styles.empty()) return fail("no style to caption with");
    ESPER_TRY(options.decode.validate());
    return guardTorch(what, [&]() -> Result<CaptionResult> {
        c10::InferenceMode guard;
        const auto start = Clock::now();
        auto f = encode();
        ESPER_TRY(f);
        return decodeAndScore(f.value(), start, scoreTexts, styles, options, stream, cancel);
    });
}

Result<CaptionResult> Captioner::decodeAndScore(
    const std::vector<float>& f, std::chrono::steady_clock::time_point encodeStart,
    const TextScorer& scoreTexts, const std::vector<CaptionStyle>& styles,
    const CaptionOptions& options, const CaptionStream& stream, const std::atomic<bool>* cancel) {
    CaptionResult result;
    const at::Tensor prefix =
        impl_->mapper->forward(at::tensor(f, at::kFloat).view({1, -1}).to(impl_->compute.device));
    result.timing.encodeMs = msSince(encodeStart);

    auto t0 = Clock::now();
    const bool bestOf =
        options.decode.strategy == DecodeStrategy::Sample && options.decode.bestOf > 1;
    const size_t samples = bestOf ? static_cast<size_t>(options.decode.bestOf) : 1;
    std::vector<std::vector<int>> prompts;
    for (const auto& s : styles) {
        const auto ids = impl_->tokenizer->encode(s.prompt);
        for (size_t k = 0; k < samples; ++k)
            prompts.push_back(ids);
    }
    const int64_t rows = static_cast<int64_t>(prompts.size());
    std::unique_lock<std::mutex> ownWorkspace(impl_->workspaceLock, std::try_to_lock);
    PrefixDecoder decoder(*impl_->lm, impl_->tokenizer.get(),
                          ownWorkspace.owns_lock() ? &impl_->workspace : nullptr);
    TokenCallback onToken;
    if (stream)
        onToken = [&](size_t row, int token, const std::string& text) {
            if (row % samples == 0) stream(row / samples, token, text);
        };
    auto decoded = decoder.run(prefix.expand({rows, prefix.size(1), prefix.size(2)}), prompts,
                               options.decode, onToken, cancel);
    ESPER_TRY(decoded);
    result.timing.decodeMs = msSince(t0);

    t0 = Clock::now();
    std::vector<std::string> texts;
    for (const auto& d : decoded.value())
        texts.push_back(d.text);
    auto scores = scoreTexts(texts);
    ESPER_TRY(scores);
    for (size_t s = 0; s < styles.size(); ++s) {
        size_t best = s * samples;
        for (size_t k = 1; k < samples; ++k)
            if (scores.value()[s * samples + k].clipS > scores.value()[best].clipS)
                best = s * samples + k;
        const auto& d = decoded.value()[best];
        StyledCaption c{styles[s], d.text, d.tokens, d.logprob, scores.value()[best], {}};
        if (samples > 1)
            for (size_t k = 0; k < samples; ++k)
                c.alternatives.emplace_back(decoded.value()[s * samples + k].text,
                                            scores.value()[s * samples + k].clipS);
        result.captions.push_back(std::move(c));
    }
    result.timing.scoreMs = msSince(t0);
    return result;
}

Result<std::vector<ClipScore>> Captioner::score(const RgbImage& image, const std::string& cacheKey,
                                                const std::vector<std::string>& captions,
                                                const std::vector<std::string>& references,
                                                bool photoPrefix) {
    auto img = impl_->scorer->embedImages({&image}, {cacheKey});
    ESPER_TRY(img);
    return scoreAgainst(img.value()[0], captions, references, photoPrefix);
}

Result<std::vector<ClipScore>> Captioner::scoreAudio(const AudioClip& clip,
                                                     const std::string& cacheKey,
                                                     const std::vector<std::string>& captions,
                                                     const std::vector<std::string>& references) {
    return guardTorch("scoring against the sound failed", [&]() -> Result<std::vector<ClipScore>> {
        c10::InferenceMode guard;
        auto features = audioFeatures(clip, cacheKey);
        ESPER_TRY(features);
        Embedding e = features.value();
        double norm = 0;
        for (float v : e)
            norm += double(v) * v;
        norm = std::sqrt(norm);
        if (!(norm > 0)) return fail("the sound's embedding is zero; it cannot be scored");
        for (float& v : e)
            v = static_cast<float>(v / norm);
        return scoreAgainst(e, captions, references, false);
    });
}

Result<std::vector<ClipScore>> Captioner::scoreAgainst(const Embedding& target,
                                                       const std::vector<std::string>& captions,
                                                       const std::vector<std::string>& references,
                                                       bool photoPrefix) {
    const std::string prefix = photoPrefix ? ClipScorer::kPhotoPrefix : "";
    std::vector<std::string> texts;
    for (const auto& c : captions)
        texts.push_back(prefix + c);
    for (const auto& r : references)
        texts.push_back(prefix + r);
    auto emb = impl_->scorer->embedTexts(texts);
    ESPER_TRY(emb);
    std::vector<ClipScore> out;
    for (size_t i = 0; i < captions.size(); ++i) {
        std::optional<double> best;
        for (size_t r = 0; r < references.size(); ++r) {
            const double c = ClipScorer::cosine(emb.value()[i], emb.value()[captions.size() + r]);
            if (!best || c > *best) best = c;
        }
        out.push_back(ClipScorer::combine(ClipScorer::cosine(target, emb.value()[i]), best));
    }
    return out;
}

Result<std::vector<float>> Captioner::audioFeatures(const AudioClip& clip,
                                                    const std::string& cacheKey) {
    if (!impl_->audio)
        return fail(ErrorCode::InvalidInput,
                    "the bundle '" + impl_->bundle.name +
                        "' has no audio encoder (its esper.json names no \"audio\"), so it "
                        "captions images only");
    auto& cache = impl_->audioCache;
    if (!cacheKey.empty())
        for (auto it = cache.begin(); it != cache.end(); ++it)
            if (it->first == cacheKey) {
                cache.splice(cache.end(), cache, it);
                return cache.back().second;
            }
    const int rate = impl_->audio->config().sampleRate;
    const std::vector<float> samples =
        clip.sampleRate == rate ? clip.samples : resample(clip.samples, clip.sampleRate, rate);
    if (static_cast<int64_t>(samples.size()) < impl_->audio->minimumSamples())
        return fail(ErrorCode::InvalidInput,
                    "the sound is too short to caption (" + std::to_string(clip.seconds()) + " s)");
    const at::Tensor wave = at::from_blob(const_cast<float*>(samples.data()),
                                          {1, static_cast<int64_t>(samples.size())}, at::kFloat);
    at::Tensor e = impl_->audio->encode(wave).embedding.to(at::kCPU, at::kFloat).flatten();
    if (const double norm = impl_->audio->config().clipFeatureNorm; norm > 0)
        e = e * (norm / e.norm().clamp_min(1e-12));
    std::vector<float> features(e.data_ptr<float>(), e.data_ptr<float>() + e.numel());
    if (!cacheKey.empty()) {
        cache.emplace_back(cacheKey, features);
        if (cache.size() > 64) cache.pop_front();
    }
    return features;
}

bool Captioner::hasAudio() const {
    return impl_->audio != nullptr;
}

const BundleManifest& Captioner::bundle() const {
    return impl_->bundle;
}
ClipScorer& Captioner::scorer() {
    return *impl_->scorer;
}

std::vector<CaptionStyle> Captioner::bundleStyles() const {
    std::vector<CaptionStyle> out;
    for (const auto& s : impl_->bundle.styles)
        out.push_back(styleFromName(s));
    if (out.empty()) out.push_back(styleFromName("caption"));
    return out;
}

const std::string& Captioner::precision() const {
    return impl_->precision;
}

std::string Captioner::computeDescription() const {
    const ComputeOptions& c = impl_->compute;
    // CLIP's products may run otherwise than the language model's weights say; never silently.
    const bool clipOwn = c.weights != WeightFormat::BFloat16 && clipWeights(c) != c.weights &&
                         clipWeights(c) == WeightFormat::BFloat16;
    return esper::describe(c) + (clipOwn ? ", CLIP in bf16 products" : "");
}

std::string Captioner::describe() const {
    std::ostringstream s;
    const auto& b = impl_->bundle;
    s << "bundle:   " << b.name << " (" << b.dir << ")\n"
      << "clip:     " << b.clip.path << " (" << impl_->scorer->embeddingSize() << "-d embeddings)\n"
      << "lm:       " << b.lm.path << " (" << impl_->family << ", "
      << impl_->lmParameters / 1000000.0 << "M parameters, hidden " << impl_->lm->hiddenSize()
      << ", vocabulary " << impl_->lm->vocabSize() << ")\n"
      << (impl_->audio ? "audio:    " + b.audio.path + " (Wav2CLIP, " +
                             std::to_string(impl_->audio->config().embeddingSize()) + "-d)\n"
                       : std::string())
      << "mapper:   " << b.mapperPath << " (prefix " << b.prefixLength << " x "
      << impl_->lm->hiddenSize() << ")\n"
      << "device:   " << esper::describe(impl_->compute) << "\n"
      << "styles:   ";
    for (const auto& st : bundleStyles())
        s << "'" << st.prompt << "' ";
    s << "\ndecoding: " << decodeOptionsJson(b.decoding) << "\n";
    if (!b.trainingJson.empty()) s << "training: " << b.trainingJson << "\n";
    return s.str();
}

} // namespace esper
