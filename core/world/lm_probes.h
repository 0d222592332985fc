// What a world language model carries from its context into a caption, measured on held-out
// scenes: the mark a mapper on that frozen LM is read against. It is not a hard ceiling, since a
// prefix is not bound to words (the demo's mapper reaches F1 0.54 on an LM that copies 0.52).
#pragma once

#include "util/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace esper {
class CausalLm;
class SentencePieceTokenizer;
} // namespace esper

namespace esper::world {

// The standard probe size, so `pretrain lm`, `world eval` and `build-demo` measure alike.
constexpr int kCopyScenes = 200;

// Two-text documents about held-out scenes firstScene, firstScene + 1, ...: `sameScene[i]` is
// a text about scene i then another text about scene i; `otherScene[i]` has the same second
// text after a text about scene i + 1. The styles and wording are drawn from the world seed
// alone, so every probe of every model reads the same documents.
struct ContextDocuments {
    std::vector<std::vector<std::string>> sameScene, otherScene;
};
ContextDocuments contextDocuments(uint64_t worldSeed, uint64_t firstScene, int scenes);

struct LmCopySample {
    uint64_t scene = 0;
    std::string context; // the text about the scene the LM was given
    std::string caption; // what it wrote after "caption:"
    double f1 = 0;       // objects (colour + shape) against the scene
};

struct LmCopyProbe {
    double f1 = 0;           // mean object F1 of the captions
    double sizeAccuracy = 0; // of the sizes the captions state
    double mispaired = 0;    // share of the objects named (CaptionCheck::mispaired)
    int scenes = 0;
    std::vector<LmCopySample> samples;
};

// Greedy `caption:` after the first text of each document (as `contextDocuments` builds them
// from firstScene on), read back by the caption checker.
Result<LmCopyProbe> lmCopyProbe(const CausalLm& lm, const SentencePieceTokenizer& tokenizer,
                                const std::vector<std::vector<std::string>>& documents,
                                uint64_t worldSeed, uint64_t firstScene);
// The same for a world LM folder (config.json, model.safetensors, tokenizer.model).
Result<LmCopyProbe> lmCopyProbe(const std::string& lmDir, uint64_t worldSeed, uint64_t firstScene,
                                int scenes = kCopyScenes, const std::string& device = "cpu");

} // namespace esper::world
