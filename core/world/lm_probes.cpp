#include "world/lm_probes.h"

#include "decode/prefix_decoder.h"
#include "models/causal_lm.h"
#include "text/sentencepiece_tokenizer.h"
#include "world/captions.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <c10/util/Exception.h>
#include <filesystem>
#include <random>

namespace esper::world {

ContextDocuments contextDocuments(uint64_t worldSeed, uint64_t firstScene, int scenes) {
    const auto& styles = worldStyles();
    ContextDocuments d;
    std::mt19937_64 rng(worldSeed + 17);
    for (uint64_t i = 0; i < static_cast<uint64_t>(scenes); ++i) {
        const auto scene = generateScene(worldSeed, firstScene + i);
        const auto next = generateScene(worldSeed, firstScene + i + 1);
        const auto& first = styles[rng() % styles.size()];
        const auto& second = styles[rng() % styles.size()];
        const std::string text = second + ": " + describeScene(scene, second, rng);
        d.sameScene.push_back({first + ": " + describeScene(scene, first, rng), text});
        d.otherScene.push_back({first + ": " + describeScene(next, first, rng), text});
    }
    return d;
}

Result<LmCopyProbe> lmCopyProbe(const CausalLm& lm, const SentencePieceTokenizer& tok,
                                const std::vector<std::vector<std::string>>& documents,
                                uint64_t worldSeed, uint64_t firstScene) {
    try {
        const c10::NoGradGuard noGrad;
        std::vector<std::vector<int>> prompts;
        for (const auto& d : documents) {
            std::vector<int> p{tok.bosId()};
            for (int id : tok.encode(d.front()))
                p.push_back(id);
            p.push_back(tok.eosId());
            for (int id : tok.encode("caption:"))
                p.push_back(id);
            prompts.push_back(std::move(p));
        }
        DecodeOptions greedy;
        greedy.maxNewTokens = 40;
        greedy.noRepeatNgram = 3; // as the demo bundle decodes
        greedy.banEos = false;
        const auto out = PrefixDecoder(lm, &tok).run(
            at::zeros({static_cast<int64_t>(prompts.size()), 0, lm.hiddenSize()}), prompts, greedy);
        if (!out) return fail("the copy probe was cancelled");
        LmCopyProbe probe;
        probe.scenes = static_cast<int>(documents.size());
        int sizes = 0, sizesRight = 0, named = 0, mispaired = 0;
        for (size_t i = 0; i < out->size(); ++i) {
            const auto c = checkCaption((*out)[i].text, generateScene(worldSeed, firstScene + i));
            probe.f1 += c.f1();
            sizes += c.sizesMentioned;
            sizesRight += c.sizesCorrect;
            named += c.mentioned;
            mispaired += c.mispaired;
            probe.samples.push_back({firstScene + i, documents[i].front(), (*out)[i].text, c.f1()});
        }
        probe.f1 /= double(std::max<size_t>(documents.size(), 1));
        probe.sizeAccuracy = sizes ? double(sizesRight) / sizes : 0.0;
        probe.mispaired = named ? double(mispaired) / named : 0.0;
        return probe;
    } catch (const c10::Error& e) {
        return fail("the copy probe failed: " + std::string(e.what_without_backtrace()));
    }
}

Result<LmCopyProbe> lmCopyProbe(const std::string& lmDir, uint64_t worldSeed, uint64_t firstScene,
                                int scenes, const std::string& device) {
    const std::string tokPath = (std::filesystem::path(lmDir) / "tokenizer.model").string();
    if (!std::filesystem::exists(tokPath))
        return fail("the copy probe needs a world LM with its sentencepiece tokenizer; '" +
                    tokPath + "' does not exist");
    auto tok = SentencePieceTokenizer::load(tokPath);
    if (!tok) return fail(tok.error());
    auto compute = parseComputeOptions(device, "fp32");
    if (!compute) return fail(compute.error());
    auto lm = loadCausalLm(lmDir, compute.value());
    if (!lm) return fail(lm.error());
    const auto documents = contextDocuments(worldSeed, firstScene, scenes);
    return lmCopyProbe(*lm.value(), *tok.value(), documents.sameScene, worldSeed, firstScene);
}

} // namespace esper::world
