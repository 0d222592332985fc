#include "decode/prefix_decoder.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <mutex>
#include <numeric>

namespace esper {
namespace {

constexpr float kBanned = -std::numeric_limits<float>::infinity();

std::string trim(const std::string& s) {
    const size_t a = s.find_first_not_of(" \t\n\r");
    if (a == std::string::npos) return "";
    return s.substr(a, s.find_last_not_of(" \t\n\r") - a + 1);
}

} // namespace

void banRepeatedNgrams(float* data, int64_t vocab, const std::vector<int>& seq, int n) {
    if (n <= 0 || static_cast<int>(seq.size()) + 1 < n) return;
    // Tokens that would complete an n-gram already present (HF's NoRepeatNGramLogitsProcessor).
    const size_t tail = seq.size() - static_cast<size_t>(n - 1);
    for (size_t i = 0; i + static_cast<size_t>(n) <= seq.size(); ++i) {
        bool same = true;
        for (int k = 0; k < n - 1 && same; ++k)
            same = seq[i + k] == seq[tail + k];
        const int token = seq[i + n - 1];
        if (same && token >= 0 && token < vocab) data[token] = kBanned;
    }
}

void banTokens(float* data, int64_t vocab, const std::vector<int64_t>& ids) {
    for (int64_t id : ids)
        if (id >= 0 && id < vocab) data[id] = kBanned;
}

void banRepeatedNgrams(at::Tensor& logits, const std::vector<int>& seq, int n) {
    banRepeatedNgrams(logits.data_ptr<float>(), logits.size(0), seq, n);
}

void banTokens(at::Tensor& logits, const std::vector<int64_t>& ids) {
    banTokens(logits.data_ptr<float>(), logits.size(0), ids);
}

int sampleToken(const float* logits, int64_t vocab, const DecodeOptions& o, at::Generator& gen) {
    std::vector<float> scores(logits, logits + vocab);
    for (auto& s : scores)
        s = static_cast<float>(s / o.temperature);
    if (o.topK > 0 && o.topK < vocab) {
        // HF's TopKLogitsWarper: everything below the k-th largest score goes (ties stay).
        std::vector<float> sorted(scores);
        std::nth_element(sorted.begin(), sorted.begin() + (o.topK - 1), sorted.end(),
                         std::greater<float>());
        const float kth = sorted[static_cast<size_t>(o.topK - 1)];
        for (auto& s : scores)
            if (s < kth) s = kBanned;
    }
    const float top = *std::max_element(scores.begin(), scores.end());
    std::vector<double> probs(scores.size());
    double total = 0;
    for (size_t i = 0; i < scores.size(); ++i)
        total += probs[i] = std::isinf(scores[i]) ? 0.0 : std::exp(double(scores[i] - top));
    for (auto& p : probs)
        p /= total;
    if (o.topP < 1.0) {
        // HF: sort ascending, drop the tokens whose cumulative probability stays <= 1 - top_p,
        // always keeping the most likely one.
        std::vector<size_t> order(probs.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return probs[a] < probs[b]; });
        double cumulative = 0, kept = 0;
        for (size_t j = 0; j < order.size(); ++j) {
            cumulative += probs[order[j]];
            if (cumulative <= 1.0 - o.topP && j + 1 < order.size()) probs[order[j]] = 0;
            kept += probs[order[j]];
        }
        for (auto& p : probs)
            p /= kept;
    }
    double u;
    {
        auto* g = at::check_generator<at::CPUGeneratorImpl>(gen);
        const std::lock_guard<std::mutex> lock(gen.mutex());
        u = double(g->random64() >> 11) * 0x1.0p-53; // uniform in [0, 1)
    }
    size_t last = 0;
    for (size_t i = 0; i < probs.size(); ++i) {
        if (probs[i] <= 0) continue;
        last = i;
        if (u < probs[i]) return static_cast<int>(i);
        u -= probs[i];
    }
    return static_cast<int>(last); // rounding left u past the end: the last possible token
}

int sampleToken(const at::Tensor& logits, const DecodeOptions& o, at::Generator& gen) {
    const at::Tensor row = logits.to(at::kFloat).contiguous();
    return sampleToken(row.data_ptr<float>(), row.size(0), o, gen);
}

std::pair<std::string, bool> PrefixDecoder::cutText(const std::vector<int>& tokens,
                                                    const DecodeOptions& o) const {
    if (!tok_) return {"", false};
    std::string text = tok_->decode(tokens);
    size_t cut = std::string::npos;
    for (const auto& s : o.stopStrings)
        if (!s.empty()) cut = std::min(cut, text.find(s));
    const bool stopped = cut != std::string::npos;
    if (stopped) text.resize(cut);
    return {trim(text), stopped};
}

bool PrefixDecoder::accept(int token, float logprob, const DecodeOptions& o,
                           const std::vector<int64_t>& eos, DecodedText& out,
                           std::vector<int>& sequence) const {
    out.tokens.push_back(token);
    out.tokenLogprobs.push_back(logprob);
    out.logprob += logprob;
    sequence.push_back(token);
    bool stopped = false;
    if (tok_) {
        auto [text, cut] = cutText(out.tokens, o);
        out.text = std::move(text);
        stopped = cut;
    }
    return stopped || std::find(eos.begin(), eos.end(), token) != eos.end();
}

at::Tensor PrefixDecoder::promptEmbeds(const std::vector<int>& prompt) const {
    const auto ids = at::tensor(std::vector<int64_t>(prompt.begin(), prompt.end()), at::kLong);
    return lm_.embed(ids.unsqueeze(0)).squeeze(0);
}

Result<std::vector<DecodedText>> PrefixDecoder::run(const at::Tensor& prefixes,
                                                    const std::vector<std::vector<int>>& prompts,
                                                    const DecodeOptions& o,
                                                    const TokenCallback& onToken,
                                                    const std::atomic<bool>* cancel) const {
    if (o.strategy != DecodeStrategy::Beam || o.beamWidth == 1) {
        // Left padding: each row is [pad...][prefix][prompt], masked and positioned as if alone.
        const auto dev = lm_.options().device;
        const auto dtype = lm_.options().dtype;
        const int64_t rows = static_cast<int64_t>(prompts.size());
        const int64_t p = prefixes.size(1), e = prefixes.size(2);
        size_t longest = 0;
        for (const auto& pr : prompts)
            longest = std::max(longest, pr.size());
        // One prefix given for every row (expanded, as the captioner gives one image's) runs
        // once.
        if (rows > 1 && longest > 0 && p > 0 && prefixes.stride(0) == 0)
            return runSharedPrefix(prefixes.narrow(0, 0, 1), prompts, o, onToken, cancel);
        const int64_t total = p + static_cast<int64_t>(longest);
        at::Tensor embeds =
            at::zeros({rows, total, e}, at::TensorOptions().dtype(dtype).device(dev));
        at::Tensor mask =
            at::zeros({rows, total}, at::TensorOptions().dtype(at::kLong).device(dev));
        for (int64_t r = 0; r < rows; ++r) {
            const auto& pr = prompts[static_cast<size_t>(r)];
            const int64_t pad = total - p - static_cast<int64_t>(pr.size());
            embeds[r].narrow(0, pad, p).copy_(prefixes[r].to(dev, dtype));
            if (!pr.empty()) {
                embeds[r]
                    .narrow(0, pad + p, static_cast<int64_t>(pr.size()))
                    .copy_(promptEmbeds(pr));
            }
            mask[r].narrow(0, pad, total - pad).fill_(1);
        }
        const bool padded = mask.eq(0).any().item<bool>();
        LmInput start{embeds, (mask.cumsum(1) - 1).clamp_min(0), padded ? mask : at::Tensor(),
                      true};
        return decodeFrom(std::move(start), prompts, o, onToken, cancel);
    }
    std::vector<DecodedText> out;
    for (size_t r = 0; r < prompts.size(); ++r) {
        auto best = runBeam(prefixes.narrow(0, static_cast<int64_t>(r), 1), prompts[r], o, cancel);
        ESPER_TRY(best);
        if (onToken)
            for (size_t k = 0; k < best->tokens.size(); ++k) {
                std::vector<int> partial(best->tokens.begin(), best->tokens.begin() + k + 1);
                onToken(r, best->tokens[k], cutText(partial, o).first);
            }
        out.push_back(std::move(*best));
    }
    return out;
}

Result<std::vector<DecodedText>> PrefixDecoder::runSharedPrefix(
    const at::Tensor& prefix, const std::vector<std::vector<int>>& prompts, const DecodeOptions& o,
    const TokenCallback& onToken, const std::atomic<bool>* cancel) const {
    const auto dev = lm_.options().device;
    const auto dtype = lm_.options().dtype;
    const int64_t rows = static_cast<int64_t>(prompts.size());
    const int64_t p = prefix.size(1), e = prefix.size(2);
    KvCache cache;
    (void)lm_.hidden({prefix.to(dev, dtype), {}, {}, true}, &cache);
    for (size_t l = 0; l < cache.keys.size(); ++l) {
        cache.keys[l] = cache.keys[l].expand({rows, -1, -1, -1});
        cache.values[l] = cache.values[l].expand({rows, -1, -1, -1});
    }
    size_t longest = 0;
    for (const auto& pr : prompts)
        longest = std::max(longest, pr.size());
    const int64_t length = static_cast<int64_t>(longest);
    at::Tensor embeds = at::zeros({rows, length, e}, at::TensorOptions().dtype(dtype).device(dev));
    at::Tensor mask =
        at::ones({rows, p + length}, at::TensorOptions().dtype(at::kLong).device(dev));
    for (int64_t r = 0; r < rows; ++r) {
        const auto& pr = prompts[static_cast<size_t>(r)];
        const int64_t pad = length - static_cast<int64_t>(pr.size());
        mask[r].narrow(0, p, pad).zero_();
        if (pr.empty()) continue;
        embeds[r].narrow(0, pad, static_cast<int64_t>(pr.size())).copy_(promptEmbeds(pr));
    }
    const bool padded = mask.eq(0).any().item<bool>();
    const at::Tensor positions = (mask.cumsum(1) - 1).clamp_min(0).narrow(1, p, length);
    LmInput start{embeds, positions, padded ? mask : at::Tensor(), true};
    return decodeFrom(std::move(start), prompts, o, onToken, cancel, std::move(cache));
}

Result<std::vector<DecodedText>>
PrefixDecoder::decodeFrom(LmInput in, std::vector<std::vector<int>> sequences,
                          const DecodeOptions& o, const TokenCallback& onToken,
                          const std::atomic<bool>* cancel, KvCache cache) const {
    const auto dev = lm_.options().device;
    if (usesFixedShapeLoop(o, dev.is_cuda()))
        return decodeFixedShape(std::move(in), std::move(sequences), o, onToken, cancel,
                                std::move(cache));
    const int64_t rows = in.embeds.size(0);
    in.lastLogitsOnly = true;
    at::Tensor positions = positionsOf(in, 0, dev);
    at::Tensor mask =
        in.attentionMask.defined() ? in.attentionMask.to(dev).to(at::kLong) : at::Tensor();
    const bool padded = mask.defined();
    std::vector<DecodedText> out(static_cast<size_t>(rows));
    std::vector<bool> done(static_cast<size_t>(rows), false);
    sequences.resize(static_cast<size_t>(rows));
    auto gen = at::detail::createCPUGenerator(o.seed);
    const auto eos = lm_.eosTokenIds();
    for (int step = 0; step < o.maxNewTokens; ++step) {
        if (cancel && cancel->load()) return cancelledError();
        const at::Tensor logits =
            lm_.forward(in, &cache).select(1, 0).to(at::kCPU, at::kFloat).contiguous();
        const at::Tensor logprobs = at::log_softmax(logits, -1);
        const int64_t vocab = logits.size(1);
        const float* allLogits = logits.data_ptr<float>();
        const float* allLogprobs = logprobs.data_ptr<float>();
        std::vector<int64_t> next(static_cast<size_t>(rows), 0);
        std::vector<float> row(static_cast<size_t>(vocab));
        for (int64_t r = 0; r < rows; ++r) {
            const size_t i = static_cast<size_t>(r);
            if (done[i]) continue; // finished rows ride along; their outputs are ignored
            std::copy(allLogits + r * vocab, allLogits + (r + 1) * vocab, row.begin());
            banRepeatedNgrams(row.data(), vocab, sequences[i], o.noRepeatNgram);
            if (o.banEos || step < o.minNewTokens) banTokens(row.data(), vocab, eos);
            const int token =
                o.strategy == DecodeStrategy::Sample
                    ? sampleToken(row.data(), vocab, o, gen)
                    : static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin());
            next[i] = token;
            done[i] = accept(token, allLogprobs[r * vocab + token], o, eos, out[i], sequences[i]);
            if (onToken) onToken(i, token, out[i].text);
        }
        if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
        const auto nextIds = at::tensor(next, at::kLong).view({rows, 1});
        in.embeds = lm_.embed(nextIds);
        positions = positions.narrow(1, positions.size(1) - 1, 1) + 1;
        in.positionIds = positions;
        if (padded) {
            mask = at::cat({mask, at::ones({rows, 1}, mask.options())}, 1);
            in.attentionMask = mask;
        }
    }
    return out;
}

Result<DecodedText> PrefixDecoder::runBeam(const at::Tensor& prefix, const std::vector<int>& prompt,
                                           const DecodeOptions& o,
                                           const std::atomic<bool>* cancel) const {
    const auto dev = lm_.options().device;
    const int64_t width = o.beamWidth;
    const auto eos = lm_.eosTokenIds();
    // All beams start identical; only the first is live at step 0 so it is not counted W times.
    at::Tensor embeds = prefix.to(dev, lm_.options().dtype);
    if (!prompt.empty()) {
        embeds = at::cat({embeds, promptEmbeds(prompt).unsqueeze(0)}, 1);
    }
    embeds = embeds.expand({width, embeds.size(1), embeds.size(2)}).contiguous();
    KvCache cache;
    LmInput in{embeds, {}, {}, true};
    std::vector<std::vector<int>> beams(static_cast<size_t>(width));
    std::vector<double> scores(static_cast<size_t>(width), 0.0);
    for (int64_t b = 1; b < width; ++b)
        scores[static_cast<size_t>(b)] = -1e30;
    struct Finished {
        std::vector<int> tokens;
        double logprob, score;
    };
    std::vector<Finished> finished;
    auto normalised = [&](double logprob, size_t length) {
        return logprob /
               std::pow(static_cast<double>(std::max<size_t>(length, 1)), o.lengthPenalty);
    };
    for (int step = 0; step < o.maxNewTokens; ++step) {
        if (cancel && cancel->load()) return cancelledError();
        at::Tensor logits = lm_.forward(in, &cache).select(1, 0).to(at::kCPU, at::kFloat);
        for (int64_t b = 0; b < width; ++b) {
            at::Tensor row = logits[b];
            std::vector<int> seq(prompt);
            seq.insert(seq.end(), beams[static_cast<size_t>(b)].begin(),
                       beams[static_cast<size_t>(b)].end());
            banRepeatedNgrams(row, seq, o.noRepeatNgram);
            if (o.banEos || step < o.minNewTokens) banTokens(row, eos);
        }
        const at::Tensor logprobs = at::log_softmax(logits, -1);
        at::Tensor total =
            logprobs + at::tensor(scores, at::kDouble).to(at::kFloat).view({width, 1});
        auto [topScores, topIdx] = at::topk(total.view({-1}), 2 * width);
        std::vector<std::vector<int>> nextBeams;
        std::vector<double> nextScores;
        std::vector<int64_t> source;
        const int64_t vocab = logits.size(1);
        for (int64_t k = 0; k < 2 * width && static_cast<int64_t>(nextBeams.size()) < width; ++k) {
            const double s = topScores[k].item<double>();
            if (!std::isfinite(s) || s < -1e29) continue;
            const int64_t flat = topIdx[k].item<int64_t>();
            const int64_t b = flat / vocab;
            const int token = static_cast<int>(flat % vocab);
            std::vector<int> seq = beams[static_cast<size_t>(b)];
            seq.push_back(token);
            const bool isEos = std::find(eos.begin(), eos.end(), token) != eos.end();
            if (isEos || cutText(seq, o).second) {
                finished.push_back({seq, s, normalised(s, seq.size())});
                continue;
            }
            nextBeams.push_back(std::move(seq));
            nextScores.push_back(s);
            source.push_back(b);
        }
        // Done when enough hypotheses finished and no live beam can still beat the worst of
        // the best `width` of them (HF's early_stopping=False rule).
        std::sort(finished.begin(), finished.end(),
                  [](const Finished& a, const Finished& b) { return a.score > b.score; });
        if (finished.size() > static_cast<size_t>(width))
            finished.resize(static_cast<size_t>(width));
        const bool enough = finished.size() == static_cast<size_t>(width);
        const double bestLive = nextScores.empty()
                                    ? -INFINITY
                                    : normalised(nextScores.front(), nextBeams.front().size());
        if (nextBeams.empty() || (enough && finished.back().score >= bestLive)) break;
        while (static_cast<int64_t>(nextBeams.size()) < width) { // keep the batch shape
            nextBeams.push_back(nextBeams.back());
            nextScores.push_back(-1e30);
            source.push_back(source.back());
        }
        const auto index = at::tensor(source, at::kLong).to(dev);
        for (size_t l = 0; l < cache.keys.size(); ++l) {
            cache.keys[l] = cache.keys[l].index_select(0, index);
            cache.values[l] = cache.values[l].index_select(0, index);
        }
        beams = std::move(nextBeams);
        scores = std::move(nextScores);
        std::vector<int64_t> last;
        for (const auto& bm : beams)
            last.push_back(bm.back());
        in.embeds = lm_.embed(at::tensor(last, at::kLong).view({width, 1}));
        in.positionIds = at::Tensor();
        if (step == o.maxNewTokens - 1)
            for (size_t b = 0; b < beams.size(); ++b)
                if (scores[b] > -1e29)
                    finished.push_back(
                        {beams[b], scores[b], normalised(scores[b], beams[b].size())});
    }
    if (finished.empty()) return DecodedText{};
    const auto best =
        std::max_element(finished.begin(), finished.end(),
                         [](const Finished& a, const Finished& b) { return a.score < b.score; });
    DecodedText d;
    d.tokens = best->tokens;
    d.logprob = best->logprob;
    d.text = cutText(d.tokens, o).first;
    return d;
}

} // namespace esper
