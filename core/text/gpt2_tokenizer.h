// GPT-2's byte-level BPE tokenizer (OpenAI encoder.py / Hugging Face GPT2Tokenizer).
#pragma once

#include "text/byte_level_bpe.h"
#include "text/tokenizer.h"
#include "util/result.h"

#include <memory>

namespace esper {

// Splits text as GPT-2's pattern does:
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
std::vector<std::string> gpt2PreTokenize(std::string_view text);

class Gpt2Tokenizer : public Tokenizer {
public:
    static constexpr const char* kEndOfText = "<|endoftext|>";

    // vocab: vocab.json or encoder.json; merges: merges.txt or vocab.bpe.
    static Result<std::unique_ptr<Gpt2Tokenizer>> load(const std::string& vocabPath,
                                                       const std::string& mergesPath);
    // A model folder with vocab.json + merges.txt (or encoder.json + vocab.bpe).
    static Result<std::unique_ptr<Gpt2Tokenizer>> fromDirectory(const std::string& dir);

    std::vector<int> encode(std::string_view text) const override;
    // With allowSpecial, each "<|endoftext|>" in the text becomes its id instead of characters.
    std::vector<int> encode(std::string_view text, bool allowSpecial) const;
    std::string decode(const std::vector<int>& ids) const override;
    size_t vocabSize() const override { return bpe_.vocabSize(); }
    int endOfTextId() const { return bpe_.tokenId(kEndOfText); }

private:
    explicit Gpt2Tokenizer(ByteLevelBpe bpe) : bpe_(std::move(bpe)) {}
    ByteLevelBpe bpe_;
};

} // namespace esper
