// Byte-level BPE as GPT-2 and CLIP define it: bytes mapped to printable symbols, then pairs
// merged by rank. The two tokenizers differ only in pre-tokenisation and CLIP's `</w>` suffix.
#pragma once

#include "util/result.h"

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace esper {

class ByteLevelBpe {
public:
    using Merge = std::pair<std::string, std::string>;

    ByteLevelBpe(std::vector<Merge> merges, std::unordered_map<std::string, int> vocab,
                 std::string endOfWord);

    // The 256 printable symbols that stand for bytes 0..255 (`bytes_to_unicode`).
    static const std::array<std::string, 256>& byteSymbols();
    // The same symbols in `bytes_to_unicode` order (printable bytes first), as vocabularies
    // built from merges number them.
    static std::vector<std::string> byteSymbolsInVocabOrder();
    // Parses merges text ("a b" per line) after its first (header) line; blank lines skipped.
    static std::vector<Merge> parseMerges(std::string_view text, size_t maxMerges = SIZE_MAX);

    void encodePiece(std::string_view utf8Piece, std::vector<int>& out) const;
    // Joins the tokens' bytes, decoding invalid UTF-8 with U+FFFD; `</w>` becomes a space.
    std::string decode(const std::vector<int>& ids) const;

    int tokenId(const std::string& token) const;
    size_t vocabSize() const { return idToToken_.size(); }

private:
    std::vector<std::string> bpe(const std::string& symbols) const;

    std::unordered_map<std::string, int> ranks_;
    std::unordered_map<std::string, int> vocab_;
    std::vector<std::string> idToToken_;
    std::unordered_map<std::string, unsigned char> symbolToByte_;
    std::string endOfWord_;
    struct Cache {
        std::mutex mutex;
        std::unordered_map<std::string, std::vector<int>> pieces;
    };
    std::unique_ptr<Cache> cache_ = std::make_unique<Cache>(); // a pointer keeps the class movable
};

// A Hugging Face tokenizer's vocab.json (token -> id) and merges.txt, read and parsed;
// `maxMerges` as parseMerges. Fails when either file is unreadable or holds nothing usable.
struct BpeFiles {
    std::unordered_map<std::string, int> vocab;
    std::vector<ByteLevelBpe::Merge> merges;
};
Result<BpeFiles> readBpeFiles(const std::string& vocabPath, const std::string& mergesPath,
                              size_t maxMerges = SIZE_MAX);

} // namespace esper
