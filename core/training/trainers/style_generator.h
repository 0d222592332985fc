// ESPER-Style's first stage: a language model fine-tuned on "label: text" lines, so that a
// label prompt steers it to that style of text. The official settings (text/code of
// JiwanChung/esper): AdamW at 1e-5 with 1,000 warm-up steps then linear decay, batches of 32,
// lines cut at 50 tokens, the loss on every token, and the styles balanced by keeping as many
// lines of each as the rarest has. The result is a model folder ESPER-Style then starts from.
#pragma once

#include "training/framework/train_loop.h"

#include <map>
#include <string>

namespace esper {

struct StyleGeneratorOptions {
    std::string lmDir;        // config.json and model.safetensors
    std::string tokenizerDir; // the tokenizer files (default: lmDir)
    std::string textsPath;    // one "label: text" line each; blank lines are skipped
    std::string outDir;       // the fine-tuned model folder
    int maxLength = 50;       // tokens per line, the rest cut
    bool balance = true;      // as many lines of each label as the rarest label has
    // Framing each line as the model's documents were: its begin-of-text token first, its
    // end-of-text token last (the world LM's documents are [bos] text [eos]). GPT-2's official
    // generator used neither.
    bool withBos = false, withEos = false;
    std::string device = "cpu";
    TrainSettings train = defaults();
    static TrainSettings defaults();
};

struct StyleGeneratorReport : TrainSummary {
    std::map<std::string, int> linesPerLabel; // as read
    int linesUsed = 0;                        // after balancing
};

Result<StyleGeneratorReport> trainStyleGenerator(const StyleGeneratorOptions& options);

} // namespace esper
