#include "world/lm_probes.h"

#include "decode/prefix_decoder.h"
#include "models/causal_lm.h"
#include "models/torch_guard.h"
#include "text/sentencepiece_tokenizer.h"
#include "world/captions.h"

#include <ATen/ATen.h>
#include <algorithm>
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

Result<LmCopyProbe> captionProbe(const CausalLm& lm, const SentencePieceTokenizer& tok,
                                 const at::Tensor& prefixes,
                                 const std::vector<std::vector<int>>& prompts,
                                 const std::vector<std::string>& contexts, uint64_t worldSeed,
                                 uint64_t firstScene) {
    return guardTorch("the caption probe failed", [&]() -> Result<LmCopyProbe> {
        const c10::NoGradGuard noGrad;
        DecodeOptions greedy;
        greedy.maxNewTokens = 40;
        greedy.noRepeatNgram = 3; // as the demo bundle decodes
        greedy.banEos = false;
        const auto out = PrefixDecoder(lm, &tok).run(prefixes, prompts, greedy);
        ESPER_TRY(out);
        LmCopyProbe probe;
        probe.scenes = static_cast<int>(out->size());
        int sizes = 0, sizesRight = 0, named = 0, mispaired = 0;
        std::array<int, 3> byObjects{};
        for (size_t i = 0; i < out->size(); ++i) {
            const auto scene = generateScene(worldSeed, firstScene + i);
            const auto c = checkCaption((*out)[i].text, scene);
            probe.f1 += c.f1();
            const size_t objects = std::clamp<size_t>(scene.objects.size(), 1, 3) - 1;
            probe.f1ByObjects[objects] += c.f1();
            ++byObjects[objects];
            sizes += c.sizesMentioned;
            sizesRight += c.sizesCorrect;
            named += c.mentioned;
            mispaired += c.mispaired;
            probe.samples.push_back(
                {firstScene + i, i < contexts.size() ? contexts[i] : "", (*out)[i].text, c.f1()});
        }
        probe.f1 /= double(std::max<size_t>(out->size(), 1));
        for (size_t k = 0; k < 3; ++k)
            probe.f1ByObjects[k] /= std::max(byObjects[k], 1);
        probe.sizeAccuracy = sizes ? double(sizesRight) / sizes : 0.0;
        probe.mispaired = named ? double(mispaired) / named : 0.0;
        return probe;
    });
}

Result<BindingProbe> bindingProbe(const CausalLm& lm, const SentencePieceTokenizer& tok,
                                  const at::Tensor& prefixes, uint64_t worldSeed,
                                  uint64_t firstScene) {
    return guardTorch("the binding probe failed", [&]() -> Result<BindingProbe> {
        const c10::NoGradGuard noGrad;
        std::vector<std::vector<int>> prompts;
        std::vector<int64_t> rows;
        std::vector<SceneObject> probed;
        BindingProbe probe;
        for (int64_t s = 0; s < prefixes.size(0); ++s) {
            const auto scene = generateScene(worldSeed, firstScene + static_cast<uint64_t>(s));
            if (scene.objects.size() < 2) continue;
            std::vector<Shape> shapes;
            for (const auto& o : scene.objects)
                if (std::find(shapes.begin(), shapes.end(), o.shape) == shapes.end())
                    shapes.push_back(o.shape);
            for (const auto& o : scene.objects) {
                if (std::count_if(scene.objects.begin(), scene.objects.end(),
                                  [&](const auto& x) { return x.color == o.color; }) > 1)
                    continue;
                // Tokenised as the mapper's training texts are: the prompt, then " text".
                auto ids = tok.encode("caption:");
                for (int id : tok.encode(" a picture of a " + sizeNames()[int(o.size)] + " " +
                                         colorNames()[int(o.color)]))
                    ids.push_back(id);
                prompts.push_back(std::move(ids));
                rows.push_back(s);
                probed.push_back(o);
                probe.chance += 1.0 / double(shapes.size());
            }
        }
        probe.objects = static_cast<int>(probed.size());
        if (probed.empty()) return probe;
        DecodeOptions greedy;
        greedy.maxNewTokens = 4; // the shape word, in pieces
        greedy.noRepeatNgram = 0;
        greedy.banEos = false;
        const auto out = PrefixDecoder(lm, &tok).run(
            prefixes.index_select(0, at::tensor(rows, at::kLong).to(prefixes.device())), prompts,
            greedy);
        ESPER_TRY(out);
        for (size_t i = 0; i < probed.size(); ++i) {
            Scene alone;
            alone.objects = {probed[i]};
            const std::string named =
                "a " + colorNames()[int(probed[i].color)] + " " + (*out)[i].text;
            if (checkCaption(named, alone).correct > 0) probe.accuracy += 1;
        }
        probe.accuracy /= double(probed.size());
        probe.chance /= double(probed.size());
        return probe;
    });
}

Result<LmCopyProbe> lmCopyProbe(const CausalLm& lm, const SentencePieceTokenizer& tok,
                                const std::vector<std::vector<std::string>>& documents,
                                uint64_t worldSeed, uint64_t firstScene) {
    std::vector<std::vector<int>> prompts;
    std::vector<std::string> contexts;
    for (const auto& d : documents) {
        std::vector<int> p{tok.bosId()};
        for (int id : tok.encode(d.front()))
            p.push_back(id);
        p.push_back(tok.eosId());
        for (int id : tok.encode("caption:"))
            p.push_back(id);
        prompts.push_back(std::move(p));
        contexts.push_back(d.front());
    }
    return captionProbe(lm, tok,
                        at::zeros({static_cast<int64_t>(prompts.size()), 0, lm.hiddenSize()}),
                        prompts, contexts, worldSeed, firstScene);
}

Result<LmCopyProbe> lmCopyProbe(const std::string& lmDir, uint64_t worldSeed, uint64_t firstScene,
                                int scenes, const std::string& device) {
    const std::string tokPath = (std::filesystem::path(lmDir) / "tokenizer.model").string();
    if (!std::filesystem::exists(tokPath))
        return fail("the copy probe needs a world LM with its sentencepiece tokenizer; '" +
                    tokPath + "' does not exist");
    auto tok = SentencePieceTokenizer::load(tokPath);
    ESPER_TRY(tok);
    auto compute = parseComputeOptions(device, "fp32");
    ESPER_TRY(compute);
    auto lm = loadCausalLm(lmDir, compute.value());
    ESPER_TRY(lm);
    const auto documents = contextDocuments(worldSeed, firstScene, scenes);
    return lmCopyProbe(*lm.value(), *tok.value(), documents.sameScene, worldSeed, firstScene);
}

} // namespace esper::world
