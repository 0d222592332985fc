// What the language-model code needs from any tokenizer (GPT-2 BPE or sentencepiece).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace esper {

class Tokenizer {
public:
    virtual ~Tokenizer() = default;
    // Plain text to ids, without start/end tokens; special-token strings are encoded as text.
    virtual std::vector<int> encode(std::string_view text) const = 0;
    virtual std::string decode(const std::vector<int>& ids) const = 0;
    virtual size_t vocabSize() const = 0;
};

} // namespace esper
