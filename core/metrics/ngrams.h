// N-gram counts in first-occurrence order: pycocoevalcap sums floating-point terms in its dicts'
// insertion order, and reproducing its last bits needs the same order.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace esper {

// Python's str.split(): runs of whitespace separate, no empty tokens.
std::vector<std::string> splitWhitespace(std::string_view s);

struct NgramCounts {
    std::vector<std::pair<std::string, int>> entries; // key: tokens joined by '\x1f'
    std::unordered_map<std::string, size_t> index;
    int order(size_t i) const; // 1..n, from the number of separators
    int count(const std::string& key) const {
        auto it = index.find(key);
        return it == index.end() ? 0 : entries[it->second].second;
    }
};

// All n-grams of orders 1..n, for k = 1..n and positions left to right (precook's loop order).
NgramCounts countNgrams(const std::vector<std::string>& words, int n);

} // namespace esper
