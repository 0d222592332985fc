// The project's small GPT-2, trained on the synthetic world's "style: text" lines only: the
// stand-in for pretrained GPT-2 and ESPER-Style's style generator. Saved as a Hugging Face GPT-2
// folder with its sentencepiece tokenizer.
#pragma once

#include "training/framework/train_loop.h"

#include <string>

namespace esper {

struct LmPretrainOptions {
    std::string outDir;        // config.json, model.safetensors, tokenizer.model, train.jsonl
    std::string tokenizerPath; // a sentencepiece model (e.g. the one `pretrain clip` trained)
    uint64_t worldSeed = 1;
    uint64_t trainScenes = 50000;
    uint64_t heldOutFirst = 1000000;
    int embd = 128, layers = 4, heads = 4, positions = 64;
    // Weights start N(0, initStd) (GPT-2's initializer_range, 0.02, is meant for width 768;
    // at width 64 it kept the loss on its plateau for thousands of steps).
    double initStd = 0.06;
    // This share of the documents opens with summaryPositions object summaries (0: none).
    int summaryPositions = 10;
    double summaryShare = 0.5;
    // Where it trains (fp32): "cpu" is bit-for-bit deterministic for a seed; "cuda[:N]" is fast
    // and close to, not identical with, the CPU's result.
    std::string device = "cpu";
    TrainSettings train;
};

struct LmPretrainReport : TrainSummary {
    double heldOutPerplexity = 0; // per token, on 7 x 100 held-out lines
    // Per-token loss of a held-out scene's text after another text about the same scene, and
    // after one about a different scene: the gap is what the model takes from its context.
    double contextLoss = 0, otherContextLoss = 0;
    // Greedy `caption:` after a held-out text about the scene, read by the caption checker:
    // how much of a scene the model carries from its context into a caption, the mark a
    // mapper on this frozen LM is read against (a prefix, not bound to words, can beat it).
    double copyF1 = 0, copySizeAccuracy = 0, copyMispaired = 0;
    // Greedy `caption:` after held-out scenes' object summaries (with summaryPositions > 0).
    double summaryF1 = 0, summaryMispaired = 0;
};

Result<LmPretrainReport> pretrainLm(const LmPretrainOptions& options);

} // namespace esper
