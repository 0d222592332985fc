// The few Unicode facts the tokenizers need, as Python's `regex` module sees them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace esper::unicode {

// Decodes UTF-8; invalid bytes become U+FFFD so no input can make a tokenizer fail.
std::vector<char32_t> decode(std::string_view utf8);
std::string encode(char32_t cp);
std::string encode(const std::vector<char32_t>& cps, size_t begin, size_t end);

bool isLetter(char32_t cp);     // \p{L}
bool isNumber(char32_t cp);     // \p{N}
bool isWhitespace(char32_t cp); // \s: the Unicode White_Space property

std::string nfc(std::string_view utf8);
// Python's str.lower(): full lowercase mapping, including final sigma.
std::string lower(std::string_view utf8);

} // namespace esper::unicode
