// Decoding continuations of [prefix embeddings][prompt tokens] with a KV cache: greedy,
// sampling and beam search, several prompts at once as one left-padded batch whose rows give
// exactly what each would alone.
#pragma once

#include "decode/decode_options.h"
#include "decode/decode_workspace.h"
#include "models/causal_lm.h"
#include "text/tokenizer.h"
#include "util/result.h"

#include <ATen/core/Tensor.h>
#include <atomic>
#include <functional>

namespace esper {

struct DecodedText {
    std::vector<int> tokens; // generated tokens, up to and including the one that stopped it
    std::string text;        // decoded, cut before any stop string, trimmed
    double logprob = 0;      // sum of the model's log-probabilities of the tokens
    // Greedy and sampling: the model's log-probability of each token (of its unprocessed
    // distribution at temperature 1: no bans, no warping), as scoreResponses gives it.
    std::vector<float> tokenLogprobs;
};

// Called after each step for each row that produced a token: (row, token, text so far).
using TokenCallback = std::function<void(size_t row, int token, const std::string& text)>;

// The fixed-shape loop (DecodeLoop) hands tokens to the host, and checks stop strings and
// finished rows, every this many steps: long enough that the device runs ahead,
// short enough that captions still appear token by token and a finished batch stops soon.
constexpr int kFixedShapeReadEvery = 4;

class PrefixDecoder {
public:
    // Without a tokenizer there is no text: stop strings cannot apply and texts stay empty
    // (reference checks decode token ids only).
    // `workspace` (optional) keeps the fixed-shape loop's buffers and recorded step from one
    // decode to the next; it must serve this model only, one decode at a time.
    PrefixDecoder(const CausalLm& lm, const Tokenizer* tokenizer,
                  DecodeWorkspace* workspace = nullptr)
        : lm_(lm), tok_(tokenizer), workspace_(workspace) {}

    // prefixes: [R, P, E], one per row (rows may repeat an image); prompts: R token lists.
    // Greedy or sampling per `options.strategy` (beam falls back to beam search per row).
    // A cancelled error when `cancel` was set; it is checked before every step.
    Result<std::vector<DecodedText>> run(const at::Tensor& prefixes,
                                         const std::vector<std::vector<int>>& prompts,
                                         const DecodeOptions& options,
                                         const TokenCallback& onToken = {},
                                         const std::atomic<bool>* cancel = nullptr) const;

    // The greedy/sampling loop from any starting input (embeddings, and optionally the mask
    // and positions of a left-padded batch). `sequences` are the rows' token histories for the
    // n-gram rule; positions continue from each row's last one and the mask grows by ones.
    // `cache` holds what came before `start` (then `start` gives its positions and a mask over
    // cache and input).
    Result<std::vector<DecodedText>>
    decodeFrom(LmInput start, std::vector<std::vector<int>> sequences, const DecodeOptions& options,
               const TokenCallback& onToken = {}, const std::atomic<bool>* cancel = nullptr,
               KvCache cache = {}) const;

private:
    // A prompt's token embeddings, [tokens, E].
    at::Tensor promptEmbeds(const std::vector<int>& prompt) const;
    // Rows that share one prefix (one image in several styles): the prefix runs once and its
    // keys and values serve every row; each row is [prefix][pad...][prompt], masked and
    // positioned as if alone.
    Result<std::vector<DecodedText>> runSharedPrefix(const at::Tensor& prefix,
                                                     const std::vector<std::vector<int>>& prompts,
                                                     const DecodeOptions& options,
                                                     const TokenCallback& onToken,
                                                     const std::atomic<bool>* cancel) const;
    Result<DecodedText> runBeam(const at::Tensor& prefix, const std::vector<int>& prompt,
                                const DecodeOptions& options,
                                const std::atomic<bool>* cancel) const;
    // decodeFrom on fixed shapes with the tokens chosen on the device (fixed_shape_decode.cpp).
    Result<std::vector<DecodedText>>
    decodeFixedShape(LmInput start, std::vector<std::vector<int>> sequences,
                     const DecodeOptions& options, const TokenCallback& onToken,
                     const std::atomic<bool>* cancel, KvCache cache) const;
    // Takes a row's next token into its output and history; whether the row is now done (one
    // of the model's end-of-text ids `eos`, or a stop string in its text).
    bool accept(int token, float logprob, const DecodeOptions& options,
                const std::vector<int64_t>& eos, DecodedText& out,
                std::vector<int>& sequence) const;
    // Text of generated tokens cut before the first stop string; whether one was found.
    std::pair<std::string, bool> cutText(const std::vector<int>& tokens,
                                         const DecodeOptions& options) const;

    const CausalLm& lm_;
    const Tokenizer* tok_;
    DecodeWorkspace* workspace_;
};

// Logit processing shared by every strategy, in Hugging Face's order: no-repeat n-grams over
// prompt + generated tokens, then the end-of-text ban. `logits` [V] float, modified in place.
void banRepeatedNgrams(at::Tensor& logits, const std::vector<int>& sequence, int n);
void banTokens(at::Tensor& logits, const std::vector<int64_t>& ids);
// The same on a row of `vocab` floats: the decoding loop works on rows of one batched tensor.
void banRepeatedNgrams(float* logits, int64_t vocab, const std::vector<int>& sequence, int n);
void banTokens(float* logits, int64_t vocab, const std::vector<int64_t>& ids);
// Temperature, top-k, top-p (HF's warpers) then one draw from the distribution.
int sampleToken(const at::Tensor& logits, const DecodeOptions& options, at::Generator& gen);
int sampleToken(const float* logits, int64_t vocab, const DecodeOptions& options,
                at::Generator& gen);

} // namespace esper
