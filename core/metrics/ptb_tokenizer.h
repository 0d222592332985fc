// Caption tokenisation as the COCO caption toolkit applies it: Stanford's PTBTokenizer
// (CoreNLP 3.4.1, -preserveLines -lowerCase) followed by pycocoevalcap's punctuation filter.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace esper {

// PTBTokenizer's tokens for one line, before lowercasing and filtering (e.g. "is", "n't",
// "-LRB-", "``").
std::vector<std::string> ptbTokenize(std::string_view line);

// One caption as pycocoevalcap tokenises it: PTB tokens, lowercased, with the punctuation list
// removed, joined by single spaces.
std::string cocoTokenize(std::string_view caption);

// A batch as pycocoevalcap's wrapper processes it: captions joined by newlines into one file.
// Like the Java tool, \r, form feed and U+2028/U+2029 inside a caption also end a line, so
// later captions shift to the wrong slot and the overflow is dropped (a verified quirk kept for
// exact parity; `captionLineBreaks` counts how many captions carried such a break).
std::vector<std::string> cocoTokenizeBatch(const std::vector<std::string>& captions,
                                           size_t* captionLineBreaks = nullptr);

} // namespace esper
