#include "decode/tensor_choice.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <algorithm>
#include <limits>

namespace esper {
namespace {

constexpr double kBanned = -std::numeric_limits<double>::infinity();

// Hugging Face's NoRepeatNGramLogitsProcessor over whole rows at once: every window of n known
// tokens whose first n-1 equal the row's last n-1 bans its last token.
void banRepeatedNgrams(at::Tensor& logits, int n, const ChoiceState& s) {
    const int64_t vocab = logits.size(1);
    const at::Tensor windows = s.history.unfold(1, n, 1); // [B, W, n]
    at::Tensor match = s.known.unfold(1, n, 1).all(-1);   // [B, W]
    if (n > 1) {
        const at::Tensor last = at::arange(1 - n, 0, s.end.options()) + s.end; // [n-1]
        const at::Tensor tail = s.history.index_select(1, last);               // [B, n-1]
        // A row with fewer than n-1 tokens has nothing to repeat yet.
        const at::Tensor long_enough = s.known.index_select(1, last).all(-1, true);
        match = match & windows.narrow(2, 0, n - 1).eq(tail.unsqueeze(1)).all(-1) & long_enough;
    }
    const at::Tensor token = windows.select(2, n - 1);
    match = match & token.ge(0) & token.lt(vocab);
    const at::Tensor hits = at::zeros_like(logits).scatter_add_(1, token.clamp(0, vocab - 1),
                                                                match.to(logits.scalar_type()));
    logits.masked_fill_(hits.gt(0), kBanned);
}

void banEndOfText(at::Tensor& logits, const DecodeOptions& o, const ChoiceState& s) {
    if (s.eos.numel() == 0) return;
    if (o.banEos) {
        logits.index_fill_(1, s.eos, kBanned);
    } else if (o.minNewTokens > 0) {
        // The step count stays on the device, so the ban is a masked copy rather than a branch.
        const at::Tensor early = s.step.lt(o.minNewTokens);
        logits.index_copy_(1, s.eos, logits.index_select(1, s.eos).masked_fill(early, kBanned));
    }
}

// The host loop's sampler in tensors: temperature, top-k (ties at the k-th score kept), top-p
// over the ascending stable order, then the first token whose cumulative probability passes
// the step's uniform draw for the row.
at::Tensor sampleTokens(const at::Tensor& logits, const DecodeOptions& o, const ChoiceState& s) {
    const int64_t vocab = logits.size(1);
    at::Tensor scores = logits / o.temperature;
    if (o.topK > 0 && o.topK < vocab) {
        const at::Tensor kth = std::get<0>(scores.topk(o.topK, -1)).narrow(1, o.topK - 1, 1);
        scores = scores.masked_fill(scores.lt(kth), kBanned);
    }
    at::Tensor probs = at::softmax(scores.to(at::kDouble), -1);
    if (o.topP < 1.0) {
        const auto sorted = probs.sort(/*stable=*/true, -1, /*descending=*/false);
        at::Tensor drop = std::get<0>(sorted).cumsum(-1).le(1.0 - o.topP);
        drop.narrow(1, vocab - 1, 1).fill_(false); // the most likely token always stays
        probs = probs.masked_fill(at::zeros_like(drop).scatter_(1, std::get<1>(sorted), drop), 0.0);
    }
    const at::Tensor cumulative = probs.cumsum(-1);
    const at::Tensor target =
        s.uniforms.index_select(0, s.step).view({-1, 1}) * cumulative.narrow(1, vocab - 1, 1);
    const at::Tensor token =
        at::searchsorted(cumulative, target, /*out_int32=*/false, /*right=*/true).squeeze(1);
    // Rounding can leave the draw past the end: the last token with any probability then.
    const at::Tensor lastPossible = (vocab - 1) - probs.gt(0).flip({1}).to(at::kFloat).argmax(-1);
    return at::minimum(token, lastPossible);
}

// Leading columns that never hold a token, so that the last n-1 columns before `end` always
// exist, however short the prompt.
int64_t leadFor(const DecodeOptions& o) {
    return std::max(o.noRepeatNgram - 1, 0);
}

int64_t longestOf(const std::vector<std::vector<int>>& prompts) {
    size_t longest = 0;
    for (const auto& p : prompts)
        longest = std::max(longest, p.size());
    return static_cast<int64_t>(longest);
}

} // namespace

int64_t ChoiceState::widthFor(const std::vector<std::vector<int>>& prompts,
                              const DecodeOptions& o) {
    return leadFor(o) + longestOf(prompts) + o.maxNewTokens;
}

ChoiceState ChoiceState::allocate(int64_t rows, int64_t width, int newTokens,
                                  const std::vector<int64_t>& eos, int64_t vocab,
                                  c10::Device device) {
    std::vector<int64_t> ids;
    for (int64_t id : eos)
        if (id >= 0 && id < vocab) ids.push_back(id);
    const auto onDevice = at::TensorOptions().device(device);
    ChoiceState s;
    s.history = at::zeros({rows, width}, onDevice.dtype(at::kLong));
    s.known = at::zeros({rows, width}, onDevice.dtype(at::kBool));
    s.end = at::zeros({1}, onDevice.dtype(at::kLong));
    s.step = at::zeros({1}, onDevice.dtype(at::kLong));
    s.eos = at::tensor(ids, at::kLong).to(device);
    s.uniforms = at::zeros({newTokens, rows}, onDevice.dtype(at::kDouble));
    return s;
}

void ChoiceState::start(const std::vector<std::vector<int>>& prompts, const DecodeOptions& o) {
    const int64_t begin = leadFor(o) + longestOf(prompts);
    at::Tensor rows = at::zeros(history.sizes(), at::kLong);
    at::Tensor have = at::zeros(known.sizes(), at::kBool);
    for (int64_t r = 0; r < static_cast<int64_t>(prompts.size()); ++r) {
        const auto& p = prompts[static_cast<size_t>(r)];
        const int64_t n = static_cast<int64_t>(p.size());
        if (n == 0) continue;
        rows[r]
            .narrow(0, begin - n, n)
            .copy_(at::tensor(std::vector<int64_t>(p.begin(), p.end()), at::kLong));
        have[r].narrow(0, begin - n, n).fill_(true);
    }
    history.copy_(rows);
    known.copy_(have);
    end.fill_(begin);
    step.zero_();
    if (o.strategy == DecodeStrategy::Sample) {
        auto gen = at::detail::createCPUGenerator(o.seed);
        uniforms.copy_(at::rand(uniforms.sizes(), gen, at::kDouble));
    }
}

ChoiceState ChoiceState::create(const std::vector<std::vector<int>>& prompts,
                                const DecodeOptions& o, const std::vector<int64_t>& eos,
                                int64_t vocab, c10::Device device) {
    ChoiceState s = allocate(static_cast<int64_t>(prompts.size()), widthFor(prompts, o),
                             o.maxNewTokens, eos, vocab, device);
    s.start(prompts, o);
    return s;
}

at::Tensor chooseTokens(at::Tensor& logits, const DecodeOptions& o, const ChoiceState& s) {
    if (o.noRepeatNgram > 0) banRepeatedNgrams(logits, o.noRepeatNgram, s);
    banEndOfText(logits, o, s);
    if (o.strategy == DecodeStrategy::Sample) return sampleTokens(logits, o, s);
    return logits.argmax(-1);
}

void recordTokens(const at::Tensor& tokens, ChoiceState& s) {
    s.history.index_copy_(1, s.end, tokens.view({-1, 1}));
    s.known.index_fill_(1, s.end, true);
    s.end.add_(1);
    s.step.add_(1);
}

} // namespace esper
