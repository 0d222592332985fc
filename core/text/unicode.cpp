#include "text/unicode.h"

#include <cstdlib>
#include <utf8proc.h>

namespace esper::unicode {

namespace {
// Bytes to replace by one U+FFFD at an invalid sequence: its maximal valid prefix (at least one
// byte), which is how Python's errors="replace" counts them.
utf8proc_ssize_t invalidSpan(const utf8proc_uint8_t* p, utf8proc_ssize_t left) {
    const unsigned b0 = p[0];
    int need = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF)
        need = 1;
    else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    }
    utf8proc_ssize_t n = 1;
    for (int k = 0; k < need && n < left; ++k, ++n) {
        const unsigned b = p[n];
        if (b < (k == 0 ? lo : 0x80u) || b > (k == 0 ? hi : 0xBFu)) break;
    }
    return n;
}
} // namespace

std::vector<char32_t> decode(std::string_view utf8) {
    std::vector<char32_t> out;
    out.reserve(utf8.size());
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(utf8.data());
    utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(utf8.size());
    while (left > 0) {
        utf8proc_int32_t cp = 0;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) {
            out.push_back(0xFFFD);
            n = invalidSpan(p, left);
        } else {
            out.push_back(static_cast<char32_t>(cp));
        }
        p += n;
        left -= n;
    }
    return out;
}

std::string encode(char32_t cp) {
    utf8proc_uint8_t buf[4];
    utf8proc_ssize_t n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buf);
    return std::string(reinterpret_cast<char*>(buf), static_cast<size_t>(n));
}

std::string encode(const std::vector<char32_t>& cps, size_t begin, size_t end) {
    std::string out;
    for (size_t i = begin; i < end; ++i)
        out += encode(cps[i]);
    return out;
}

bool isLetter(char32_t cp) {
    switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        return true;
    default:
        return false;
    }
}

bool isNumber(char32_t cp) {
    switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return true;
    default:
        return false;
    }
}

bool isWhitespace(char32_t cp) {
    // utf8proc has no White_Space property; the set is small and fixed by the standard.
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

std::string nfc(std::string_view utf8) {
    const std::string copy(utf8);
    utf8proc_uint8_t* out = utf8proc_NFC(reinterpret_cast<const utf8proc_uint8_t*>(copy.c_str()));
    if (!out) return copy;
    std::string result(reinterpret_cast<char*>(out));
    std::free(out);
    return result;
}

namespace {
bool isCased(char32_t cp) {
    const auto c = static_cast<utf8proc_int32_t>(cp);
    return utf8proc_tolower(c) != c || utf8proc_toupper(c) != c ||
           utf8proc_category(c) == UTF8PROC_CATEGORY_LT;
}
bool isCaseIgnorable(char32_t cp) {
    switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK:
        return true;
    default:
        return cp == U'\'' || cp == U'.' || cp == U':' || cp == 0x2019 || cp == 0xB7;
    }
}
} // namespace

std::string lower(std::string_view utf8) {
    const auto cps = decode(utf8);
    std::string out;
    out.reserve(utf8.size());
    for (size_t i = 0; i < cps.size(); ++i) {
        const char32_t cp = cps[i];
        if (cp == 0x130) { // İ lowercases to i + combining dot above
            out += "i\xCC\x87";
            continue;
        }
        if (cp == 0x3A3) { // Σ is ς at the end of a word (Unicode's Final_Sigma condition)
            auto casedBefore = [&] {
                for (size_t j = i; j-- > 0;) {
                    if (isCaseIgnorable(cps[j])) continue;
                    return isCased(cps[j]);
                }
                return false;
            };
            auto casedAfter = [&] {
                for (size_t j = i + 1; j < cps.size(); ++j) {
                    if (isCaseIgnorable(cps[j])) continue;
                    return isCased(cps[j]);
                }
                return false;
            };
            out += encode(casedBefore() && !casedAfter() ? 0x3C2 : 0x3C3);
            continue;
        }
        out += encode(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
    }
    return out;
}

} // namespace esper::unicode
