#include "training/esper/esper_models.h"
#include "models/torch_guard.h"

#include "text/lm_tokenizer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>
#include <cmath>

namespace esper {

Result<EsperModels> EsperModels::load(const std::string& bundleDir, const std::string& modelsDir,
                                      const EsperConfig& config, bool randomMapper,
                                      const std::string& device, uint64_t seed) {
    return guardTorch("the bundle's models could not be loaded", [&]() -> Result<EsperModels> {
        auto manifest = readBundleManifest(bundleDir, modelsDir);
        ESPER_TRY(manifest);
        EsperModels m;
        m.bundle = manifest.value();
        auto compute = parseComputeOptions(device, "fp32");
        ESPER_TRY(compute);
        m.compute = compute.value();
        auto clip = ClipScorer::load(m.bundle.clip.path, m.bundle.clip.tokenizer, device, "fp32");
        ESPER_TRY(clip);
        m.clip = std::move(clip.value());
        auto lmConfig = readModelConfig(m.bundle.lm.path);
        ESPER_TRY(lmConfig);
        if (std::holds_alternative<ClipConfig>(lmConfig.value()))
            return fail("the bundle's language model at " + m.bundle.lm.path + " is a CLIP model");
        auto lm = loadCausalLm(m.bundle.lm.path, m.compute);
        ESPER_TRY(lm);
        m.lm = std::move(lm.value());
        auto tokenizer = loadLmTokenizer(lmConfig.value(), m.bundle.lm.tokenizer);
        ESPER_TRY(tokenizer);
        m.tokenizer = std::move(tokenizer.value());

        const MapperShape shape{m.clip->embeddingSize(), m.lm->hiddenSize(), m.bundle.prefixLength,
                                m.bundle.mapperScaledInput};
        auto policy =
            trainableMapper(shape, m.compute, seed, randomMapper ? "" : m.bundle.mapperPath);
        ESPER_TRY(policy);
        m.policy = std::move(policy.value());
        if (!config.usesValueModel()) {
            m.finish(config);
            return m;
        }
        // The official value model starts with a fresh mapper of its own.
        auto valueMapper = trainableMapper(shape, m.compute, seed + 1);
        ESPER_TRY(valueMapper);
        m.valueMapper = std::move(valueMapper.value());
        if (config.trainValueLm) {
            auto copy = trainableLmCopy(m.bundle.lm.path, m.compute, seed + 2);
            ESPER_TRY(copy);
            m.valueLm = std::move(copy.value());
        }
        // PyTorch's Linear(E, 1) initialisation: uniform within ±1/sqrt(E).
        auto gen = at::detail::createCPUGenerator(seed + 3);
        const int64_t e = m.lm->hiddenSize();
        const double bound = 1.0 / std::sqrt(double(e));
        m.valueHeadWeight = at::empty({1, e}).uniform_(-bound, bound, gen).to(m.compute.device);
        m.valueHeadBias = at::empty({1}).uniform_(-bound, bound, gen).to(m.compute.device);
        m.valueHeadWeight.requires_grad_(true);
        m.valueHeadBias.requires_grad_(true);

        m.banEos =
            config.endOfText == "ban" || (config.endOfText == "bundle" && m.bundle.decoding.banEos);
        // Ids beyond the vocabulary (a tiny test model keeps GPT-2's 50256) name no token.
        std::vector<int64_t> eos;
        for (int64_t id : m.lm->eosTokenIds())
            if (id >= 0 && id < m.lm->vocabSize()) eos.push_back(id);
        if (!eos.empty()) m.padId = static_cast<int>(eos.front());
        if (m.banEos) m.banned = eos;
        return m;
    });
}

void EsperModels::finish(const EsperConfig& config) {
    banEos = config.endOfText == "ban" || (config.endOfText == "bundle" && bundle.decoding.banEos);
    // Ids beyond the vocabulary (a tiny test model keeps GPT-2's 50256) name no token.
    std::vector<int64_t> eos;
    for (int64_t id : lm->eosTokenIds())
        if (id >= 0 && id < lm->vocabSize()) eos.push_back(id);
    if (!eos.empty()) padId = static_cast<int>(eos.front());
    if (banEos) banned = eos;
}

std::vector<ParamGroup> EsperModels::parameterGroups(const EsperConfig& config) const {
    if (!config.usesValueModel()) return {{"policy", policy.weights->parameters()}};
    ParamGroup value{"value", valueMapper.weights->parameters(),
                     config.valueRate() / config.learningRate};
    if (valueLm)
        for (const auto& p : valueLm->weights->parameters())
            value.params.push_back(p);
    value.params.push_back(valueHeadWeight);
    value.params.push_back(valueHeadBias);
    return {{"policy", policy.weights->parameters()}, value};
}

at::Tensor EsperModels::policyPrefixes(const at::Tensor& features) const {
    return policy.mapper->forward(features.to(compute.device));
}

ResponseScores EsperModels::policyScores(const at::Tensor& features,
                                         const ResponseBatch& batch) const {
    return scoreResponses(*lm, policyPrefixes(features), batch, banned);
}

at::Tensor EsperModels::values(const at::Tensor& features, const ResponseBatch& batch) const {
    const CausalLm& model = valueLm ? *valueLm->lm : *lm;
    const at::Tensor hidden =
        responseHidden(model, valueMapper.mapper->forward(features.to(compute.device)), batch);
    return at::linear(hidden, valueHeadWeight, valueHeadBias).squeeze(-1);
}

ResponseScores EsperModels::referenceScores(const ResponseBatch& batch) const {
    return scoreResponses(*lm, at::Tensor(), batch, banned);
}

} // namespace esper
