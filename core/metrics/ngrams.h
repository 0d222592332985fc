// N-grams as dense integer ids, counted in first-occurrence order: pycocoevalcap sums
// floating-point terms in its dicts' insertion order, and reproducing its last bits needs the
// same order; integer ids keep 5,000-image sets well under a second.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace esper {

// Python's str.split(): runs of whitespace separate, no empty tokens.
std::vector<std::string> splitWhitespace(std::string_view s);

// Gives every distinct n-gram of a set one id; an n-gram's id is keyed by (its prefix's id, its
// last token's id), so no n-gram text is ever built.
class NgramVocabulary {
public:
    int token(const std::string& word);
    int extend(int prefix, int token);
    int order(int ngram) const { return orders_[static_cast<size_t>(ngram)]; }
    size_t size() const { return orders_.size(); }

    // Per-n-gram scratch slot for countNgrams (-1 when unused), so counting needs no map.
    std::vector<int>& scratch() {
        scratch_.resize(orders_.size(), -1);
        return scratch_;
    }

private:
    void grow();

    std::unordered_map<std::string, int> tokens_;
    // Open addressing (linear probing) from (prefix, token) keys to ids: the hot path of every
    // metric, where std::unordered_map's node allocations dominated.
    std::vector<uint64_t> keys_;
    std::vector<int> values_;
    size_t used_ = 0;
    std::vector<uint8_t> orders_;
    std::vector<int> scratch_;
};

struct NgramCounts {
    std::vector<std::pair<int, int>> entries; // (n-gram id, count), first-occurrence order
};

// All n-grams of orders 1..n: for k = 1..n, positions left to right (precook's loop order).
NgramCounts countNgrams(std::string_view sentence, int n, NgramVocabulary& vocab);

} // namespace esper
