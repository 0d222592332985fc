// What a world language model carries from its context into a caption, measured on held-out
// scenes: the mark a mapper on that frozen LM is read against. It is not a hard ceiling, since a
// prefix is not bound to words (the demo's mapper reaches F1 0.53 on an LM that copies 0.52).
#pragma once

#include "util/result.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace at {
class Tensor;
}
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
    double f1 = 0;                       // mean object F1 of the captions
    std::array<double, 3> f1ByObjects{}; // over the scenes with one, two and three objects
    double sizeAccuracy = 0;             // of the sizes the captions state
    double mispaired = 0;                // share of the objects named (CaptionCheck::mispaired)
    int scenes = 0;
    std::vector<LmCopySample> samples;
};

// Greedy captions (as the demo bundle decodes) after each row's prefix [R, P, E] (P may be 0)
// and prompt, read back against scene firstScene + row; `contexts` name what each row was given.
Result<LmCopyProbe> captionProbe(const CausalLm& lm, const SentencePieceTokenizer& tokenizer,
                                 const at::Tensor& prefixes,
                                 const std::vector<std::vector<int>>& prompts,
                                 const std::vector<std::string>& contexts, uint64_t worldSeed,
                                 uint64_t firstScene);
struct BindingProbe {
    double accuracy = 0; // share of the probed objects whose shape was named
    double chance = 0;   // the same for naming one of the scene's shapes at random
    int objects = 0;
};
// For each object of a two- or three-object scene whose colour no other object there shares:
// after "caption: a picture of a <size> <colour>", does the greedy continuation name that
// object's shape? Row s of `prefixes` [S, P, E] is scene firstScene + s's. It asks for the
// binding alone, with the object chosen and its size and colour given.
Result<BindingProbe> bindingProbe(const CausalLm& lm, const SentencePieceTokenizer& tokenizer,
                                  const at::Tensor& prefixes, uint64_t worldSeed,
                                  uint64_t firstScene);
// Greedy `caption:` after the first text of each document (as `contextDocuments` builds them
// from firstScene on), read back by the caption checker.
Result<LmCopyProbe> lmCopyProbe(const CausalLm& lm, const SentencePieceTokenizer& tokenizer,
                                const std::vector<std::vector<std::string>>& documents,
                                uint64_t worldSeed, uint64_t firstScene);
// The same for a world LM folder (config.json, model.safetensors, tokenizer.model).
Result<LmCopyProbe> lmCopyProbe(const std::string& lmDir, uint64_t worldSeed, uint64_t firstScene,
                                int scenes = kCopyScenes, const std::string& device = "cpu");

} // namespace esper::world
