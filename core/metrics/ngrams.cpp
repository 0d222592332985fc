#include "metrics/ngrams.h"

#include <algorithm>

namespace esper {

std::vector<std::string> splitWhitespace(std::string_view s) {
    std::vector<std::string> out;
    size_t i = 0;
    auto isSpace = [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    };
    while (i < s.size()) {
        while (i < s.size() && isSpace(s[i]))
            ++i;
        size_t j = i;
        while (j < s.size() && !isSpace(s[j]))
            ++j;
        if (j > i) out.emplace_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

int NgramVocabulary::token(const std::string& word) {
    auto [it, fresh] = tokens_.emplace(word, static_cast<int>(tokens_.size()));
    return extend(-1, it->second);
}

namespace {
constexpr uint64_t kEmpty = ~uint64_t{0};
size_t slotOf(uint64_t key, size_t mask) {
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 20) & mask;
}
} // namespace

void NgramVocabulary::grow() {
    std::vector<uint64_t> oldKeys(std::max<size_t>(1024, keys_.size() * 2), kEmpty);
    std::vector<int> oldValues(oldKeys.size(), -1);
    oldKeys.swap(keys_);
    oldValues.swap(values_);
    const size_t mask = keys_.size() - 1;
    for (size_t i = 0; i < oldKeys.size(); ++i) {
        if (oldKeys[i] == kEmpty) continue;
        size_t s = slotOf(oldKeys[i], mask);
        while (keys_[s] != kEmpty)
            s = (s + 1) & mask;
        keys_[s] = oldKeys[i];
        values_[s] = oldValues[i];
    }
}

int NgramVocabulary::extend(int prefix, int token) {
    // Keys never equal kEmpty: a token id is far below 2^32 - 1.
    const uint64_t key =
        (static_cast<uint64_t>(static_cast<uint32_t>(prefix)) << 32) | static_cast<uint32_t>(token);
    if ((used_ + 1) * 2 > keys_.size()) grow();
    const size_t mask = keys_.size() - 1;
    size_t s = slotOf(key, mask);
    while (keys_[s] != kEmpty) {
        if (keys_[s] == key) return values_[s];
        s = (s + 1) & mask;
    }
    keys_[s] = key;
    values_[s] = static_cast<int>(orders_.size());
    ++used_;
    orders_.push_back(static_cast<uint8_t>(prefix < 0 ? 1 : orders_[prefix] + 1));
    return values_[s];
}

NgramCounts countNgrams(std::string_view sentence, int n, NgramVocabulary& vocab) {
    const auto words = splitWhitespace(sentence);
    // ids[k][i]: the id of the (k+1)-gram starting at word i, built from the k-gram's id.
    std::vector<std::vector<int>> ids(static_cast<size_t>(n));
    std::vector<int> tokenIds;
    tokenIds.reserve(words.size());
    for (const auto& w : words)
        tokenIds.push_back(vocab.token(w));
    NgramCounts counts;
    for (int k = 0; k < n; ++k) {
        for (size_t i = 0; i + k < words.size(); ++i) {
            const int id = k == 0 ? tokenIds[i] : vocab.extend(ids[k - 1][i], tokenIds[i + k]);
            ids[k].push_back(id);
            auto& where = vocab.scratch();
            if (where[id] < 0) {
                where[id] = static_cast<int>(counts.entries.size());
                counts.entries.emplace_back(id, 1);
            } else {
                ++counts.entries[where[id]].second;
            }
        }
    }
    auto& where = vocab.scratch();
    for (const auto& [id, count] : counts.entries)
        where[id] = -1;
    return counts;
}

} // namespace esper
