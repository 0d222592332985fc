// PrefixDecoder's fixed-shape loop. After the prefill (the prefix and prompts, as the host loop
// runs it), every step has the same shapes: the KV cache is allocated for the whole caption,
// the step's inputs (token embeddings, positions, key mask) are written in place, and the next
// token is chosen on the device (tensor_choice.h). The host reads the tokens back every few
// steps, to stream them, cut stop strings and stop once every row is done. So a step is a fixed
// sequence of kernels with no host synchronisation, which StepReplay records as a CUDA graph.
#include "decode/prefix_decoder.h"
#include "decode/step_replay.h"
#include "decode/tensor_choice.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <algorithm>
#include <mutex>

namespace esper {
namespace {

// A seeded generator for the sampling draws on the decode's device.
at::Generator drawsFor(c10::Device device, uint64_t seed) {
    at::Generator gen = device.is_cuda() ? at::globalContext().defaultGenerator(device)
                                         : at::detail::createCPUGenerator(seed);
    if (device.is_cuda()) {
        const std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_current_seed(seed);
    }
    return gen;
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
    try {
        StepReplay replay(dev);
        ChoiceState choice =
            ChoiceState::create(sequences, o, lm_.eosTokenIds(), lm_.vocabSize(), dev);
        const bool sampling = o.strategy == DecodeStrategy::Sample;
        at::Generator draws = drawsFor(dev, o.seed);
        const auto onDevice = at::TensorOptions().device(dev);
        at::Tensor tokens = at::zeros({rows, o.maxNewTokens}, onDevice.dtype(at::kLong));
        at::Tensor logprobs = at::zeros({rows, o.maxNewTokens}, onDevice.dtype(at::kFloat));

        // The prefill, with the cache growing as in the host loop.
        in.lastLogitsOnly = true;
        const int64_t t = in.embeds.size(1);
        const at::Tensor positions = positionsOf(in, cache.length(), dev);
        const at::Tensor prefillMask =
            in.attentionMask.defined()
                ? in.attentionMask.to(dev).to(at::kLong)
                : at::ones({rows, cache.length() + t}, onDevice.dtype(at::kLong));
        const at::Tensor firstLogits = lm_.forward(in, &cache).select(1, 0);

        // Every later step writes into these in place.
        const int64_t filled = cache.length();
        KvCache fixed = cache.fixedShape(filled + o.maxNewTokens - 1);
        cache.clear();
        LmInput step{at::zeros({rows, 1, lm_.hiddenSize()}, onDevice.dtype(lm_.options().dtype)),
                     positions.narrow(1, t - 1, 1).clone(),
                     at::zeros({rows, filled + o.maxNewTokens - 1}, onDevice.dtype(at::kLong)),
                     true};
        step.attentionMask.narrow(1, 0, filled).copy_(prefillMask);

        auto choose = [&](const at::Tensor& logits) {
            at::Tensor scores = logits.to(at::kFloat);
            // The recorded log-probability is of the unprocessed distribution, as in the host loop.
            const at::Tensor logp = at::log_softmax(scores, -1);
            const at::Tensor next = chooseTokens(scores, o, choice);
            tokens.index_copy_(1, choice.step, next.view({rows, 1}));
            logprobs.index_copy_(1, choice.step, logp.gather(1, next.view({rows, 1})));
            recordTokens(next, choice);
            step.embeds.copy_(lm_.embed(next.view({rows, 1})));
            step.positionIds.add_(1);
        };
        auto oneStep = [&] {
            step.attentionMask.index_fill_(1, fixed.slot, 1);
            choose(lm_.forward(step, &fixed).select(1, 0));
            fixed.slot.add_(1);
        };

        std::vector<DecodedText> out(static_cast<size_t>(rows));
        std::vector<bool> done(static_cast<size_t>(rows), false);
        int read = 0;
        auto readTokens = [&](int upTo) {
            const at::Tensor idsHere = tokens.narrow(1, read, upTo - read).to(at::kCPU);
            const at::Tensor lpsHere = logprobs.narrow(1, read, upTo - read).to(at::kCPU);
            const auto ids = idsHere.accessor<int64_t, 2>();
            const auto lps = lpsHere.accessor<float, 2>();
            for (int k = 0; k < upTo - read; ++k)
                for (int64_t r = 0; r < rows; ++r) {
                    const size_t i = static_cast<size_t>(r);
                    if (done[i]) continue;
                    const int token = static_cast<int>(ids[r][k]);
                    done[i] = accept(token, lps[r][k], o, out[i], sequences[i]);
                    if (onToken) onToken(i, token, out[i].text);
                }
            read = upTo;
            return std::all_of(done.begin(), done.end(), [](bool d) { return d; });
        };

        if (sampling) choice.uniform.uniform_(0, 1, draws);
        choose(firstLogits);
        int made = 1;
        for (; made < o.maxNewTokens; ++made) {
            if (made % kFixedShapeReadEvery == 0 && readTokens(made)) break;
            if (cancel && cancel->load()) return cancelledError();
            if (sampling) choice.uniform.uniform_(0, 1, draws);
            replay.run(oneStep);
        }
        if (read < made) readTokens(made);
        return out;
    } catch (const std::exception& e) {
        return fail("decoding on " + dev.str() + " failed: " + e.what());
    }
}

} // namespace esper
