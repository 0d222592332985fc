// A sentencepiece model (`tokenizer.model`, as LLaMA-family checkpoints ship it).
#pragma once

#include "text/tokenizer.h"
#include "util/result.h"

#include <memory>
#include <string>

namespace esper {

class SentencePieceTokenizer : public Tokenizer {
public:
    static Result<std::unique_ptr<SentencePieceTokenizer>> load(const std::string& modelPath);
    // Trains a model (unigram unless `extraArgs` says otherwise) from a text file, one sentence
    // per line, and writes PREFIX.model / PREFIX.vocab.
    static Result<void> train(const std::string& inputPath, const std::string& modelPrefix,
                              int vocabSize, const std::string& extraArgs = "");
    ~SentencePieceTokenizer() override;

    std::vector<int> encode(std::string_view text) const override;
    // LLaMA-style: optional BOS, and "<s>" / "</s>" in the text become their ids rather than
    // characters (sentencepiece itself never parses them).
    std::vector<int> encodeWithSpecials(std::string_view text, bool addBos) const;
    std::string decode(const std::vector<int>& ids) const override;
    size_t vocabSize() const override;
    int bosId() const;
    int eosId() const;
    int unkId() const;

private:
    struct Impl;
    explicit SentencePieceTokenizer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace esper
