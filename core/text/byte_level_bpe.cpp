#include "text/byte_level_bpe.h"

#include "text/unicode.h"

#include "util/file_util.h"
#include "util/json_text.h"
#include <climits>

#include <nlohmann/json.hpp>

namespace esper {
namespace {
// Bytes that bytes_to_unicode maps to themselves; the rest map to U+0100 onwards.
bool isPrintableByte(int b) {
    return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
}
} // namespace

const std::array<std::string, 256>& ByteLevelBpe::byteSymbols() {
    static const std::array<std::string, 256> table = [] {
        std::array<std::string, 256> t;
        int extra = 0;
        for (int b = 0; b < 256; ++b)
            t[b] = unicode::encode(static_cast<char32_t>(isPrintableByte(b) ? b : 256 + extra++));
        return t;
    }();
    return table;
}

std::vector<std::string> ByteLevelBpe::byteSymbolsInVocabOrder() {
    const auto& table = byteSymbols();
    std::vector<std::string> printableFirst, rest;
    for (int b = 0; b < 256; ++b) {
        (isPrintableByte(b) ? printableFirst : rest).push_back(table[b]);
    }
    printableFirst.insert(printableFirst.end(), rest.begin(), rest.end());
    return printableFirst;
}

std::vector<ByteLevelBpe::Merge> ByteLevelBpe::parseMerges(std::string_view text,
                                                           size_t maxMerges) {
    std::vector<Merge> merges;
    size_t pos = 0;
    bool first = true;
    while (pos < text.size() && merges.size() < maxMerges) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (first) { // every reader (encoder.py, simple_tokenizer.py, HF) drops line 0 unread
            first = false;
            continue;
        }
        const size_t sp = line.find(' ');
        if (line.empty() || sp == std::string_view::npos) continue;
        merges.emplace_back(std::string(line.substr(0, sp)), std::string(line.substr(sp + 1)));
    }
    return merges;
}

ByteLevelBpe::ByteLevelBpe(std::vector<Merge> merges, std::unordered_map<std::string, int> vocab,
                           std::string endOfWord)
    : vocab_(std::move(vocab)), endOfWord_(std::move(endOfWord)) {
    for (size_t i = 0; i < merges.size(); ++i)
        ranks_.emplace(merges[i].first + ' ' + merges[i].second, static_cast<int>(i));
    int maxId = -1;
    for (const auto& [tok, id] : vocab_)
        maxId = std::max(maxId, id);
    idToToken_.resize(static_cast<size_t>(maxId + 1));
    for (const auto& [tok, id] : vocab_)
        if (id >= 0) idToToken_[static_cast<size_t>(id)] = tok;
    const auto& symbols = byteSymbols();
    for (int b = 0; b < 256; ++b)
        symbolToByte_[symbols[b]] = static_cast<unsigned char>(b);
}

std::vector<std::string> ByteLevelBpe::bpe(const std::string& symbols) const {
    // Split into one symbol per code point; the last one carries the end-of-word marker.
    std::vector<std::string> word;
    for (size_t i = 0; i < symbols.size();) {
        size_t len = 1;
        const unsigned char c = static_cast<unsigned char>(symbols[i]);
        if (c >= 0xF0)
            len = 4;
        else if (c >= 0xE0)
            len = 3;
        else if (c >= 0xC0)
            len = 2;
        word.push_back(symbols.substr(i, len));
        i += len;
    }
    if (word.empty()) return word;
    word.back() += endOfWord_;
    while (word.size() > 1) {
        int bestRank = INT_MAX;
        size_t best = 0;
        for (size_t i = 0; i + 1 < word.size(); ++i) {
            auto it = ranks_.find(word[i] + ' ' + word[i + 1]);
            if (it != ranks_.end() && it->second < bestRank) {
                bestRank = it->second;
                best = i;
            }
        }
        if (bestRank == INT_MAX) break;
        const std::string first = word[best], second = word[best + 1];
        std::vector<std::string> merged;
        merged.reserve(word.size());
        for (size_t i = 0; i < word.size();) {
            if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
                merged.push_back(first + second);
                i += 2;
            } else {
                merged.push_back(word[i++]);
            }
        }
        word.swap(merged);
    }
    return word;
}

void ByteLevelBpe::encodePiece(std::string_view utf8Piece, std::vector<int>& out) const {
    const std::string key(utf8Piece);
    {
        std::lock_guard lock(cache_->mutex);
        auto it = cache_->pieces.find(key);
        if (it != cache_->pieces.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    std::string symbols;
    const auto& table = byteSymbols();
    for (unsigned char b : utf8Piece)
        symbols += table[b];
    std::vector<int> ids;
    for (const auto& tok : bpe(symbols)) {
        auto it = vocab_.find(tok);
        if (it != vocab_.end()) {
            ids.push_back(it->second);
            continue;
        }
        // A vocabulary that lacks a merge result: fall back to the result's single symbols.
        const auto cps = unicode::decode(tok);
        for (char32_t cp : cps) {
            auto sym = vocab_.find(unicode::encode(cp));
            if (sym != vocab_.end()) ids.push_back(sym->second);
        }
    }
    {
        std::lock_guard lock(cache_->mutex);
        if (cache_->pieces.size() < 200000) cache_->pieces.emplace(key, ids);
    }
    out.insert(out.end(), ids.begin(), ids.end());
}

std::string ByteLevelBpe::decode(const std::vector<int>& ids) const {
    std::string joined;
    for (int id : ids)
        if (id >= 0 && static_cast<size_t>(id) < idToToken_.size()) joined += idToToken_[id];
    if (!endOfWord_.empty()) {
        for (size_t p = joined.find(endOfWord_); p != std::string::npos;
             p = joined.find(endOfWord_, p + 1))
            joined.replace(p, endOfWord_.size(), " ");
    }
    // Map symbols back to bytes; characters that are not byte symbols (e.g. the space that
    // replaced </w>, or special tokens) pass through as their own UTF-8.
    std::string bytes;
    const auto cps = unicode::decode(joined);
    for (char32_t cp : cps) {
        const std::string sym = unicode::encode(cp);
        auto it = symbolToByte_.find(sym);
        bytes += it != symbolToByte_.end() ? std::string(1, static_cast<char>(it->second)) : sym;
    }
    const auto decoded = unicode::decode(bytes);
    return unicode::encode(decoded, 0, decoded.size());
}

int ByteLevelBpe::tokenId(const std::string& token) const {
    auto it = vocab_.find(token);
    return it == vocab_.end() ? -1 : it->second;
}

namespace {
Result<std::unordered_map<std::string, int>> parseVocabJson(const std::string& text,
                                                            const std::string& origin) {
    auto parsed = parseJsonText(text, origin);
    ESPER_TRY(parsed);
    nlohmann::json j = std::move(parsed.value());
    if (!j.is_object()) return fail(origin + " is not a JSON object of token -> id");
    std::unordered_map<std::string, int> vocab;
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (!it.value().is_number_integer())
            return fail(origin + ": the id of token '" + it.key() + "' is not an integer");
        // Ids index a dense table: one of 10^9 would allocate gigabytes, and a negative one or
        // one past 2^31 would not fit an int.
        const auto& id = it.value();
        if ((id.is_number_unsigned() && id.get<uint64_t>() >= uint64_t(kMaxTokenId)) ||
            (!id.is_number_unsigned() &&
             (id.get<int64_t>() < 0 || id.get<int64_t>() >= kMaxTokenId)))
            return fail(ErrorCode::InvalidInput, origin + ": the id of token '" + it.key() +
                                                     "' is " + dumpJson(id) + ", outside 0.." +
                                                     std::to_string(kMaxTokenId - 1));
        vocab.emplace(it.key(), id.get<int>());
    }
    return vocab;
}
} // namespace

Result<BpeFiles> readBpeFiles(const std::string& vocabPath, const std::string& mergesPath,
                              size_t maxMerges) {
    auto vocabText = readTextFile(vocabPath);
    ESPER_TRY(vocabText);
    auto vocab = parseVocabJson(vocabText.value(), vocabPath);
    ESPER_TRY(vocab);
    auto mergesText = readTextFile(mergesPath);
    ESPER_TRY(mergesText);
    BpeFiles files{std::move(vocab.value()),
                   ByteLevelBpe::parseMerges(mergesText.value(), maxMerges)};
    if (files.merges.empty()) return fail(ErrorCode::InvalidInput, mergesPath + " holds no merges");
    return files;
}

} // namespace esper
