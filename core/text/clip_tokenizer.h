// CLIP's tokenizer (OpenAI simple_tokenizer.py): cleaned, lowercased text, byte-level BPE whose
// words end in `</w>`, <|startoftext|> / <|endoftext|> around a 77-token context.
#pragma once

#include "text/byte_level_bpe.h"
#include "util/result.h"

#include <memory>
#include <string>
#include <vector>

namespace esper {

// ftfy is taken as NFC; then html.unescape twice, whitespace collapsed, stripped, lowercased.
std::string clipCleanText(std::string_view text);
// <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
std::vector<std::string> clipPreTokenize(std::string_view cleaned);

// [start] body [end], cut to `context` tokens with the last one the end token (openai's
// truncate=True); the model pools at the first end token.
std::vector<int> clipSequence(const std::vector<int>& body, int start, int end, int context);

class ClipTokenizer {
public:
    static constexpr int kDefaultContext = 77;

    // OpenAI's bpe_simple_vocab_16e6.txt.gz (or its uncompressed text).
    static Result<std::unique_ptr<ClipTokenizer>> loadOpenAi(const std::string& bpePath);
    // Hugging Face's vocab.json + merges.txt.
    static Result<std::unique_ptr<ClipTokenizer>> loadHf(const std::string& vocabPath,
                                                         const std::string& mergesPath);
    // Picks whichever of the two a folder holds.
    static Result<std::unique_ptr<ClipTokenizer>> fromDirectory(const std::string& dir);

    // Ids without start/end tokens.
    std::vector<int> encode(std::string_view text) const;
    // [sot] ids [eot], cut to `context` tokens with the last one set to eot (openai truncate=True).
    std::vector<int> encodeForModel(std::string_view text, int context = kDefaultContext) const;
    std::string decode(const std::vector<int>& ids) const;

    int startOfTextId() const { return sot_; }
    int endOfTextId() const { return eot_; }
    size_t vocabSize() const { return bpe_.vocabSize(); }

private:
    explicit ClipTokenizer(ByteLevelBpe bpe);
    ByteLevelBpe bpe_;
    int sot_ = -1, eot_ = -1;
};

} // namespace esper
