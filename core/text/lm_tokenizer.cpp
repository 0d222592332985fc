#include "text/lm_tokenizer.h"

#include "text/gpt2_tokenizer.h"
#include "text/sentencepiece_tokenizer.h"

#include <filesystem>

namespace esper {

Result<std::unique_ptr<Tokenizer>> loadLmTokenizer(const ModelConfig& config,
                                                   const std::string& dir) {
    if (std::holds_alternative<LlamaConfig>(config) ||
        std::filesystem::exists(dir + "/tokenizer.model")) {
        auto t = SentencePieceTokenizer::load(dir + "/tokenizer.model");
        ESPER_TRY(t);
        return std::unique_ptr<Tokenizer>(std::move(t.value()));
    }
    auto t = Gpt2Tokenizer::fromDirectory(dir);
    ESPER_TRY(t);
    return std::unique_ptr<Tokenizer>(std::move(t.value()));
}

} // namespace esper
