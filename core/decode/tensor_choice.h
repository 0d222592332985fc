// The next token chosen with tensor operations only, on the logits' own device: the same rules
// as the host loop in prefix_decoder.cpp (no repeated n-gram, end-of-text banned, greedy or
// sampled with temperature, top-k and top-p), but with every shape fixed by the batch and no
// value read back by the host, so a CUDA graph can record a whole decode step.
#pragma once

#include "decode/decode_options.h"

#include <ATen/core/Tensor.h>
#include <vector>

namespace esper {

// What the choice reads and keeps between steps; every tensor lives on the decoding device.
struct ChoiceState {
    // Each row's prompt and generated tokens [B, S], right-aligned so that every row's next
    // token goes to the same column `end`; `known` marks the columns that hold a token.
    at::Tensor history, known;
    at::Tensor end;  // [1] long: the column the next token goes to
    at::Tensor step; // [1] long: how many tokens have been generated
    at::Tensor eos;  // [n] long: the end-of-text ids
    // [new tokens, B] double uniform draws in [0, 1) for sampling, one per step and row, drawn
    // when a decode starts from a CPU generator seeded with options.seed: no step draws (a
    // graph holds no generator) and the same seed draws the same on every device.
    at::Tensor uniforms;

    // The history's width for `prompts` and options.maxNewTokens more tokens.
    static int64_t widthFor(const std::vector<std::vector<int>>& prompts,
                            const DecodeOptions& options);
    // Room for `rows` histories of `width`, on `device`; end-of-text ids outside the
    // vocabulary are left out, as the host loop does.
    static ChoiceState allocate(int64_t rows, int64_t width, int newTokens,
                                const std::vector<int64_t>& eos, int64_t vocab, c10::Device device);
    // Starts a decode of `prompts` (host rows of any lengths) in place, so that a recorded step
    // keeps reading the same tensors.
    void start(const std::vector<std::vector<int>>& prompts, const DecodeOptions& options);
    // allocate and start in one.
    static ChoiceState create(const std::vector<std::vector<int>>& prompts,
                              const DecodeOptions& options, const std::vector<int64_t>& eos,
                              int64_t vocab, c10::Device device);
};

// Bans what the options ban (in place, in `logits` [B, V] float) and picks each row's token:
// the first maximum when greedy; when sampling, inverse-CDF with the step's uniform draws.
at::Tensor chooseTokens(at::Tensor& logits, const DecodeOptions& options, const ChoiceState& state);

// Appends `tokens` [B] to the history and moves end and step on by one.
void recordTokens(const at::Tensor& tokens, ChoiceState& state);

} // namespace esper
