// The tokenizer of a language-model folder: sentencepiece (LLaMA models, the project's own
// GPT-2) or GPT-2's byte-level BPE (vocab.json + merges.txt).
#pragma once

#include "io/model_config.h"
#include "text/tokenizer.h"

#include <memory>
#include <string>

namespace esper {

Result<std::unique_ptr<Tokenizer>> loadLmTokenizer(const ModelConfig& config,
                                                   const std::string& dir);

} // namespace esper
