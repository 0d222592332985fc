// PrefixDecoder's fixed-shape loop. After the prefill (the prefix and prompts, as the host loop
// runs it), every step has the same shapes: the KV cache is allocated for the whole caption,
// the step's inputs (token embeddings, positions, key mask) are written in place, and the next
// token is chosen on the device (tensor_choice.h). The host reads the tokens back every few
// steps, to stream them, cut stop strings and stop once every row is done. So a step is a fixed
// sequence of kernels with no host synchronisation, which StepReplay records as a CUDA graph,
// and which a DecodeWorkspace keeps for the next decode of the same shape.
#include "decode/prefix_decoder.h"
#include "decode/step_replay.h"
#include "decode/tensor_choice.h"

#include <ATen/ATen.h>
#include <algorithm>
#include <sstream>

namespace esper {

struct DecodeWorkspace::Buffers {
    std::string shape; // what they were made and the step recorded for
    KvCache cache;     // fixed-shape
    LmInput step;      // the step's input: embeddings, positions and key mask, written in place
    ChoiceState choice;
    at::Tensor tokens, logprobs; // [B, new tokens]: what each step chose
    std::unique_ptr<StepReplay> replay;
};

DecodeWorkspace::DecodeWorkspace() = default;
DecodeWorkspace::~DecodeWorkspace() = default;
DecodeWorkspace::DecodeWorkspace(DecodeWorkspace&&) noexcept = default;
DecodeWorkspace& DecodeWorkspace::operator=(DecodeWorkspace&&) noexcept = default;

namespace {

// Everything a recorded step depends on: the model, every shape, and every rule it applies.
std::string shapeOf(const CausalLm& lm, const KvCache& prefilled, int64_t historyWidth,
                    const DecodeOptions& o) {
    std::ostringstream s;
    s << &lm << ' ' << lm.options().device << ' ' << lm.options().dtype << ' '
      << prefilled.keys.size() << ' ';
    if (!prefilled.keys.empty()) s << prefilled.keys[0].sizes() << prefilled.values[0].sizes();
    s << ' ' << historyWidth << ' ' << o.maxNewTokens << ' ' << int(o.strategy) << ' '
      << o.noRepeatNgram << ' ' << o.banEos << ' ' << o.minNewTokens << ' ' << std::hexfloat
      << o.temperature << ' ' << o.topK << ' ' << o.topP;
    return s.str();
}

} // namespace

Result<std::vector<DecodedText>>
PrefixDecoder::decodeFixedShape(LmInput in, std::vector<std::vector<int>> sequences,
                                const DecodeOptions& o, const TokenCallback& onToken,
                                const std::atomic<bool>* cancel, KvCache cache) const {
    const auto dev = lm_.options().device;
    const int64_t rows = in.embeds.size(0);
    sequences.resize(static_cast<size_t>(rows));
    if (cancel && cancel->load()) return cancelledError();
    DecodeWorkspace local;
    DecodeWorkspace& space = workspace_ ? *workspace_ : local;
    try {
        const DecodeStream stream(dev);
        const auto onDevice = at::TensorOptions().device(dev);

        // The prefill, with the cache growing as in the host loop.
        in.lastLogitsOnly = true;
        const int64_t t = in.embeds.size(1);
        const at::Tensor positions = positionsOf(in, cache.length(), dev);
        const at::Tensor prefillMask =
            in.attentionMask.defined()
                ? in.attentionMask.to(dev).to(at::kLong)
                : at::ones({rows, cache.length() + t}, onDevice.dtype(at::kLong));
        const at::Tensor firstLogits = lm_.forward(in, &cache).select(1, 0);

        // Every later step reads and writes these in place: made for this shape, or kept from
        // the last decode of it.
        const int64_t filled = cache.length();
        const int64_t capacity = filled + o.maxNewTokens - 1;
        const int64_t historyWidth = ChoiceState::widthFor(sequences, o);
        const auto eos = lm_.eosTokenIds();
        const std::string shape = shapeOf(lm_, cache, historyWidth, o);
        if (!space.buffers || space.buffers->shape != shape) {
            space.buffers.reset(); // the old recording and buffers go before new ones are made
            auto b = std::make_unique<DecodeWorkspace::Buffers>();
            b->shape = shape;
            b->cache = cache.fixedShape(capacity);
            b->step = {at::zeros({rows, 1, lm_.hiddenSize()}, onDevice.dtype(lm_.options().dtype)),
                       at::zeros({rows, 1}, onDevice.dtype(at::kLong)),
                       at::zeros({rows, capacity}, onDevice.dtype(at::kLong)), true};
            b->choice = ChoiceState::allocate(rows, historyWidth, o.maxNewTokens, eos,
                                              lm_.vocabSize(), dev);
            b->tokens = at::zeros({rows, o.maxNewTokens}, onDevice.dtype(at::kLong));
            b->logprobs = at::zeros({rows, o.maxNewTokens}, onDevice.dtype(at::kFloat));
            b->replay = std::make_unique<StepReplay>(dev);
            space.buffers = std::move(b);
        } else {
            space.buffers->cache.refill(cache);
        }
        DecodeWorkspace::Buffers& b = *space.buffers;
        cache.clear();
        b.step.positionIds.copy_(positions.narrow(1, t - 1, 1));
        b.step.attentionMask.zero_();
        b.step.attentionMask.narrow(1, 0, filled).copy_(prefillMask);
        b.choice.start(sequences, o);

        auto choose = [&b, &o, rows, this](const at::Tensor& logits) {
            at::Tensor scores = logits.to(at::kFloat);
            // The recorded log-probability is of the unprocessed distribution, as in the host
            // loop.
            const at::Tensor logp = at::log_softmax(scores, -1);
            const at::Tensor next = chooseTokens(scores, o, b.choice);
            b.tokens.index_copy_(1, b.choice.step, next.view({rows, 1}));
            b.logprobs.index_copy_(1, b.choice.step, logp.gather(1, next.view({rows, 1})));
            recordTokens(next, b.choice);
            b.step.embeds.copy_(lm_.embed(next.view({rows, 1})));
            b.step.positionIds.add_(1);
        };
        auto oneStep = [&b, &choose, this] {
            b.step.attentionMask.index_fill_(1, b.cache.slot, 1);
            choose(lm_.forward(b.step, &b.cache).select(1, 0));
            b.cache.slot.add_(1);
        };

        std::vector<DecodedText> out(static_cast<size_t>(rows));
        std::vector<bool> done(static_cast<size_t>(rows), false);
        int read = 0;
        auto readTokens = [&](int upTo) {
            const at::Tensor idsHere = b.tokens.narrow(1, read, upTo - read).to(at::kCPU);
            const at::Tensor lpsHere = b.logprobs.narrow(1, read, upTo - read).to(at::kCPU);
            const auto ids = idsHere.accessor<int64_t, 2>();
            const auto lps = lpsHere.accessor<float, 2>();
            for (int k = 0; k < upTo - read; ++k)
                for (int64_t r = 0; r < rows; ++r) {
                    const size_t i = static_cast<size_t>(r);
                    if (done[i]) continue;
                    const int token = static_cast<int>(ids[r][k]);
                    done[i] = accept(token, lps[r][k], o, eos, out[i], sequences[i]);
                    if (onToken) onToken(i, token, out[i].text);
                }
            read = upTo;
            return std::all_of(done.begin(), done.end(), [](bool d) { return d; });
        };

        choose(firstLogits);
        int made = 1;
        for (; made < o.maxNewTokens; ++made) {
            if (made % kFixedShapeReadEvery == 0 && readTokens(made)) break;
            if (cancel && cancel->load()) return cancelledError();
            b.replay->run(oneStep);
        }
        if (read < made) readTokens(made);
        return out;
    } catch (const std::exception& e) {
        space.buffers.reset(); // whatever was recorded may be half done
        return fail("decoding on " + dev.str() + " failed: " + e.what());
    }
}

} // namespace esper
