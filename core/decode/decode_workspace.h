// What the fixed-shape decoding loop keeps between decodes: its buffers (the KV cache for a
// whole caption, the step's inputs, the choice state) and, on CUDA, the step recorded on them.
// A decode of the same shape as the last one (rows, lengths, rules, model) refills them in place
// and replays at once, so a caption after the first allocates and records nothing.
// One decode at a time, with one model: whoever holds the model keeps its workspace beside it.
#pragma once

#include <memory>

namespace esper {

class DecodeWorkspace {
public:
    DecodeWorkspace();
    ~DecodeWorkspace();
    DecodeWorkspace(DecodeWorkspace&&) noexcept;
    DecodeWorkspace& operator=(DecodeWorkspace&&) noexcept;

    // Defined by the loop that fills it (fixed_shape_decode.cpp).
    struct Buffers;
    std::unique_ptr<Buffers> buffers;
};

} // namespace esper
