// Decoding rules and strategies on the tiny reference GPT-2 (engine internals, so this test
// includes ATen): each option has a check that fails when the option is ignored.
// Torch headers first: Qt's `slots` keyword macro would break them (ivalue.h has slots()).
#include "decode/prefix_decoder.h"
#include "decode/response_scoring.h"
#include "decode/tensor_choice.h"
#include "models/causal_lm.h"
#include "models/mapper.h"
#include "text/gpt2_tokenizer.h"
#include "util/file_util.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "test_support.h"

#include <QDir>
#include <QTemporaryDir>
#include <set>

using namespace esper;

namespace {

bool hasRepeatedNgram(const std::vector<int>& seq, size_t n) {
    std::set<std::vector<int>> seen;
    for (size_t i = 0; i + n <= seq.size(); ++i)
        if (!seen.insert(std::vector<int>(seq.begin() + i, seq.begin() + i + n)).second)
            return true;
    return false;
}

std::vector<int> concat(std::vector<int> a, const std::vector<int>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

} // namespace

class TestDecoding : public QObject {
    Q_OBJECT

    std::unique_ptr<CausalLm> lm_;
    std::unique_ptr<Gpt2Tokenizer> tok_;
    at::Tensor prefix_; // [1, 4, 64]
    std::vector<int> prompt_;

    DecodeOptions plain(int tokens) {
        DecodeOptions o;
        o.maxNewTokens = tokens;
        o.noRepeatNgram = 0;
        o.stopStrings.clear();
        return o;
    }
    std::vector<DecodedText> run(const DecodeOptions& o, std::vector<std::vector<int>> prompts = {},
                                 const CausalLm* lm = nullptr) {
        if (prompts.empty()) prompts = {prompt_};
        const int64_t rows = static_cast<int64_t>(prompts.size());
        auto out = PrefixDecoder(lm ? *lm : *lm_, tok_.get())
                       .run(prefix_.expand({rows, 4, 64}), prompts, o);
        if (!out) qFatal("decoding was cancelled");
        return *out;
    }

private slots:
    void initTestCase() {
        auto lm =
            loadCausalLm((esper::test::referenceDir() + "/models/gpt2-tiny").toStdString(), {});
        ESPER_VERIFY_OK(lm);
        lm_ = std::move(lm.value());
        auto tok = Gpt2Tokenizer::fromDirectory(
            (esper::test::dataDir() + "/tokenizers/gpt2-tiny").toStdString());
        QVERIFY(tok.ok());
        tok_ = std::move(tok.value());
        at::manual_seed(3);
        prefix_ = at::randn({1, 4, 64});
        prompt_ = tok_->encode("caption:");
        QVERIFY(!prompt_.empty());
    }

    void mapperIsClipCapsMlp() {
        // x / sqrt(k·E / C) -> Linear -> tanh -> Linear -> (k, E), for a 32-d CLIP and E = 64.
        const MapperShape shape{32, 64, 5};
        const auto m = Mapper::randomInit(shape, {}, 4);
        const at::Tensor x = at::randn({3, 32});
        const auto named = m->namedTensors();
        QCOMPARE(named[0].first, std::string("clip_project.model.0.weight"));
        QCOMPARE(named[0].second.sizes().vec(), (std::vector<int64_t>{160, 32})); // k·E/2 = 160
        const at::Tensor h =
            at::tanh(at::linear(x / std::sqrt(5.0 * 64 / 32), named[0].second, named[1].second));
        const at::Tensor want = at::linear(h, named[2].second, named[3].second).view({3, 5, 64});
        QVERIFY(at::allclose(m->forward(x), want, 1e-6, 1e-6));
        // PyTorch's default Linear initialisation bound: 1/sqrt(fan_in).
        QVERIFY(named[0].second.abs().max().item<double>() <= 1 / std::sqrt(32.0));
        QVERIFY(named[2].second.abs().max().item<double>() <= 1 / std::sqrt(160.0));
    }

    void ngramBanMatchesHuggingFace() {
        at::Tensor logits = at::zeros({10});
        banRepeatedNgrams(logits, {5, 6, 7, 5, 6}, 3); // (5,6) was followed by 7
        QVERIFY(std::isinf(logits[7].item<float>()));
        QCOMPARE(int(at::isinf(logits).sum().item<int64_t>()), 1);
        logits = at::zeros({10});
        banRepeatedNgrams(logits, {1, 2, 3, 2}, 2); // after 2: 3 was seen
        QVERIFY(std::isinf(logits[3].item<float>()));
        logits = at::zeros({10});
        banRepeatedNgrams(logits, {4, 8}, 1); // unigrams: everything seen
        QCOMPARE(int(at::isinf(logits).sum().item<int64_t>()), 2);
        logits = at::zeros({10});
        banRepeatedNgrams(logits, {4}, 3); // too short to complete a trigram
        QCOMPARE(int(at::isinf(logits).sum().item<int64_t>()), 0);
    }

    void samplingWarpers() {
        auto gen = at::detail::createCPUGenerator(1);
        const at::Tensor logits = at::tensor({0.0f, 2.0f, 1.0f, -1.0f});
        DecodeOptions o;
        o.strategy = DecodeStrategy::Sample;
        o.topK = 1;
        for (int i = 0; i < 50; ++i)
            QCOMPARE(sampleToken(logits, o, gen), 1);
        o.topK = 0;
        o.topP = 0.3; // the top token alone already covers 30 %
        for (int i = 0; i < 50; ++i)
            QCOMPARE(sampleToken(logits, o, gen), 1);
        o.topP = 1.0;
        o.topK = 2;
        std::set<int> seen;
        for (int i = 0; i < 200; ++i)
            seen.insert(sampleToken(logits, o, gen));
        QCOMPARE(seen, (std::set<int>{1, 2}));
        // Temperature: P(1) = e^2 / (e^2 + e^1) at T=1 (top-k 2); at T=100 nearly 1/2.
        o.temperature = 100;
        int ones = 0;
        for (int i = 0; i < 4000; ++i)
            ones += sampleToken(logits, o, gen) == 1;
        QVERIFY2(ones > 1800 && ones < 2200, qPrintable(QString::number(ones)));
    }

    void greedyIsDeterministicAndTopK1EqualsIt() {
        const auto greedy = run(plain(12));
        QCOMPARE(greedy[0].tokens.size(), size_t(12));
        QCOMPARE(run(plain(12))[0].tokens, greedy[0].tokens);
        auto o = plain(12);
        o.strategy = DecodeStrategy::Sample;
        o.topK = 1;
        o.seed = 99;
        QCOMPARE(run(o)[0].tokens, greedy[0].tokens);
    }

    void samplingIsReproducibleForASeed() {
        auto o = plain(16);
        o.strategy = DecodeStrategy::Sample;
        o.seed = 7;
        const auto a = run(o), b = run(o);
        QCOMPARE(a[0].tokens, b[0].tokens);
        o.seed = 8;
        QVERIFY(run(o)[0].tokens != a[0].tokens);
        QVERIFY(a[0].tokens != run(plain(16))[0].tokens); // sampling is not greedy
    }

    void noRepeatNgramReallyBlocks() {
        const auto free = run(plain(40));
        // The tiny random model loops, so without the rule bigrams repeat...
        QVERIFY(hasRepeatedNgram(concat(prompt_, free[0].tokens), 2));
        for (int n : {1, 2, 3}) {
            auto o = plain(40);
            o.noRepeatNgram = n;
            const auto out = run(o);
            QVERIFY2(!hasRepeatedNgram(concat(prompt_, out[0].tokens), size_t(n)),
                     qPrintable(QString("n=%1").arg(n)));
        }
    }

    // The fixture model with another end-of-text id, written to `dir`.
    std::unique_ptr<CausalLm> endingWith(int eos, const QTemporaryDir& dir) {
        const QString src = esper::test::referenceDir() + "/models/gpt2-tiny";
        QFile::copy(src + "/model.safetensors", dir.path() + "/model.safetensors");
        auto config = readTextFile((src + "/config.json").toStdString());
        if (!config.ok()) return nullptr;
        std::string text = config.value();
        const std::string key = "\"eos_token_id\": 50256";
        if (text.find(key) == std::string::npos) return nullptr;
        text.replace(text.find(key), key.size(), "\"eos_token_id\": " + std::to_string(eos));
        if (!writeFileAtomic((dir.path() + "/config.json").toStdString(), text).ok())
            return nullptr;
        auto lm = loadCausalLm(dir.path().toStdString(), {});
        return lm.ok() ? std::move(lm.value()) : nullptr;
    }

    // Decodes with the host loop and with the fixed-shape loop: the same tokens, texts and
    // streamed (row, token, text) calls, and log-probabilities within float rounding.
    void compareLoops(DecodeOptions o, const std::vector<std::vector<int>>& prompts,
                      const at::Tensor& prefixes, const CausalLm& lm, const QString& what,
                      bool withText = true) {
        const Tokenizer* tok = withText ? tok_.get() : nullptr;
        using Call = std::tuple<size_t, int, std::string>;
        std::vector<Call> hostCalls, fixedCalls;
        o.loop = DecodeLoop::Host;
        const auto host =
            PrefixDecoder(lm, tok_.get())
                .run(prefixes, prompts, o, [&](size_t r, int t, const std::string& s) {
                    hostCalls.emplace_back(r, t, s);
                });
        o.loop = DecodeLoop::FixedShape;
        const auto fixed =
            PrefixDecoder(lm, tok_.get())
                .run(prefixes, prompts, o, [&](size_t r, int t, const std::string& s) {
                    fixedCalls.emplace_back(r, t, s);
                });
        ESPER_VERIFY_OK(host);
        ESPER_VERIFY_OK(fixed);
        for (size_t r = 0; r < prompts.size(); ++r) {
            const auto& a = (*host)[r];
            const auto& b = (*fixed)[r];
            QVERIFY2(a.tokens == b.tokens, qPrintable(what + QString(": row %1").arg(r)));
            QCOMPARE(b.text, a.text);
            QCOMPARE(b.tokenLogprobs.size(), a.tokenLogprobs.size());
            for (size_t k = 0; k < a.tokenLogprobs.size(); ++k)
                QVERIFY2(std::abs(a.tokenLogprobs[k] - b.tokenLogprobs[k]) < 1e-5,
                         qPrintable(what + QString(": row %1 token %2").arg(r).arg(k)));
            QVERIFY(std::abs(a.logprob - b.logprob) < 1e-4);
        }
        QVERIFY2(hostCalls == fixedCalls, qPrintable(what + ": streamed tokens differ"));
    }

    void endOfTextBanAndMinimumHold() {
        // A copy of the model whose end-of-text id is a token greedy decoding first emits at
        // step k >= 2 (the tiny model loops, so earlier steps may repeat it).
        auto base = plain(12);
        base.noRepeatNgram = 2; // keeps the looping model from repeating itself
        const auto greedy = run(base);
        size_t k = 2;
        auto seenBefore = [&](size_t i) {
            return std::find(greedy[0].tokens.begin(), greedy[0].tokens.begin() + i,
                             greedy[0].tokens[i]) != greedy[0].tokens.begin() + i;
        };
        while (k < greedy[0].tokens.size() && seenBefore(k))
            ++k;
        QVERIFY(k < greedy[0].tokens.size());
        const int eos = greedy[0].tokens[k];
        QTemporaryDir dir;
        auto lm = endingWith(eos, dir);
        QVERIFY(lm);

        auto allowed = base;
        allowed.banEos = false;
        const auto stopped = run(allowed, {}, lm.get());
        QCOMPARE(stopped[0].tokens.size(), k + 1); // ends at the end-of-text token
        QCOMPARE(stopped[0].tokens.back(), eos);

        const auto banned = run(base, {}, lm.get()); // banEos is the default
        QCOMPARE(banned[0].tokens.size(), size_t(12));
        for (int t : banned[0].tokens)
            QVERIFY(t != eos);

        allowed.minNewTokens = static_cast<int>(k) + 2;
        const auto late = run(allowed, {}, lm.get());
        QVERIFY(late[0].tokens.size() > k + 1);
        for (size_t i = 0; i < k + 2 && i < late[0].tokens.size(); ++i)
            QVERIFY(late[0].tokens[i] != eos);
    }

    void stopStringsEndAndCutTheText() {
        const auto free = run(plain(12));
        // Stop at the text of the 5th token: decoding ends there and the text is cut before it.
        std::string piece = tok_->decode({free[0].tokens[4]});
        piece.erase(0, piece.find_first_not_of(' '));
        QVERIFY(!piece.empty());
        const std::string full = tok_->decode(free[0].tokens);
        auto o = plain(12);
        o.stopStrings = {piece};
        const auto stopped = run(o);
        QVERIFY(stopped[0].tokens.size() <= 5);
        QVERIFY(stopped[0].text.find(piece) == std::string::npos);
        QVERIFY(full.find(stopped[0].text) != std::string::npos);
    }

    void beamSearch() {
        auto o = plain(8);
        o.strategy = DecodeStrategy::Beam;
        o.beamWidth = 1;
        const auto greedy = run(plain(8));
        QCOMPARE(run(o)[0].tokens, greedy[0].tokens); // width 1 is greedy
        o.beamWidth = 4;
        const auto beam = run(o);
        QCOMPARE(beam[0].tokens.size(), size_t(8));
        QVERIFY2(beam[0].logprob >= greedy[0].logprob - 1e-6,
                 qPrintable(QString("%1 < %2").arg(beam[0].logprob).arg(greedy[0].logprob)));
        QCOMPARE(run(o)[0].tokens, beam[0].tokens);
    }

    void batchedRowsEqualSingleRows() {
        const std::vector<std::vector<int>> prompts = {
            tok_->encode("caption:"), tok_->encode("news: the city"), tok_->encode("dialogue: A:")};
        auto o = plain(10);
        o.noRepeatNgram = 2;
        const auto together = run(o, prompts);
        for (size_t i = 0; i < prompts.size(); ++i) {
            const auto alone = run(o, {prompts[i]});
            QCOMPARE(together[i].tokens, alone[0].tokens);
            QVERIFY(std::abs(together[i].logprob - alone[0].logprob) < 1e-3);
        }
    }

    // ESPER's PPO recomputes each sampled token's log-probability in one teacher-forced pass:
    // it must give what the decoder saw at each step, for rows of different query lengths in one
    // batch (left-padded queries, right-padded responses), with and without a prefix.
    void teacherForcedScoresEqualTheDecodersSteps() {
        const std::vector<std::vector<int>> queries{tok_->encode("caption:"), tok_->encode("a"),
                                                    tok_->encode("news: the big")};
        DecodeOptions o = plain(9);
        o.strategy = DecodeStrategy::Sample;
        o.temperature = 0.7;
        o.topK = 50;
        o.seed = 5;
        for (bool withPrefix : {true, false}) {
            const int64_t rows = static_cast<int64_t>(queries.size());
            at::Tensor prefixes = withPrefix ? at::randn({rows, 4, 64}) : at::zeros({rows, 0, 64});
            auto decoded = PrefixDecoder(*lm_, nullptr).run(prefixes, queries, o);
            ESPER_VERIFY_OK(decoded);
            std::vector<std::vector<int>> responses;
            for (const auto& d : *decoded)
                responses.push_back(d.tokens);
            const auto batch = ResponseBatch::build(queries, responses, 0);
            const auto scores = scoreResponses(*lm_, withPrefix ? prefixes : at::Tensor(), batch);
            for (size_t r = 0; r < responses.size(); ++r) {
                QCOMPARE((*decoded)[r].tokenLogprobs.size(), responses[r].size());
                for (size_t t = 0; t < responses[r].size(); ++t) {
                    const double want = (*decoded)[r].tokenLogprobs[t];
                    const double got = scores.logprobs[int64_t(r)][int64_t(t)].item<double>();
                    QVERIFY2(
                        std::abs(want - got) < 1e-4,
                        qPrintable(
                            QString("row %1 token %2: %3 vs %4").arg(r).arg(t).arg(want).arg(got)));
                }
            }
            // Entropy of each distribution: positive, at most log(V).
            QVERIFY(scores.entropy.min().item<double>() > 0);
            QVERIFY(scores.entropy.max().item<double>() <= std::log(double(lm_->vocabSize())));
        }
    }

    // One image in several styles: its prefix, given once for every row, runs once and serves
    // them all, and each row comes out as the padded batch (and so as alone) gives it.
    void aSharedPrefixRunsOnceWithTheSameResult() {
        const std::vector<std::vector<int>> prompts{tok_->encode("caption:"), tok_->encode("a"),
                                                    tok_->encode("news: the big")};
        const at::Tensor one = at::randn({1, 4, 64});
        const int64_t rows = int64_t(prompts.size());
        DecodeOptions o = plain(8);
        auto shared = PrefixDecoder(*lm_, nullptr).run(one.expand({rows, 4, 64}), prompts, o);
        auto copies = PrefixDecoder(*lm_, nullptr).run(one.repeat({rows, 1, 1}), prompts, o);
        ESPER_VERIFY_OK(shared);
        ESPER_VERIFY_OK(copies);
        for (size_t r = 0; r < prompts.size(); ++r) {
            QCOMPARE((*shared)[r].tokens, (*copies)[r].tokens);
            QVERIFY(std::abs((*shared)[r].logprob - (*copies)[r].logprob) < 1e-4);
        }
    }

    // A growing cache writes each step's entry into room kept ahead (no copy of the sequence),
    // holds what concatenation would, and never writes into what a copy of it, or a view it
    // handed out before, still reads.
    void theKvCacheGrowsInPlaceAndKeepsCopiesApart() {
        const auto entry = [](int64_t t, float from) {
            return at::arange(from, from + float(2 * 3 * t * 4)).view({2, 3, t, 4});
        };
        KvCache cache;
        cache.append(0, 1, entry(5, 0), entry(5, 100));
        at::Tensor want = cache.keys[0].clone();
        cache.append(0, 1, entry(1, 1000), entry(1, 2000));
        want = at::cat({want, entry(1, 1000)}, 2);
        const void* room = cache.keys[0].data_ptr();
        for (int step = 0; step < 40; ++step) {
            const auto [k, v] = cache.append(0, 1, entry(1, float(step)), entry(1, -float(step)));
            want = at::cat({want, entry(1, float(step))}, 2);
            QVERIFY(at::equal(k, want));
            QCOMPARE(v.size(2), want.size(2));
        }
        QCOMPARE(cache.keys[0].data_ptr(), room); // 42 entries fit the room made at 6
        QCOMPARE(cache.length(), int64_t(46));

        // A copy shares the rooms: whichever appends first, the other's entries stay its own.
        KvCache copy = cache;
        const at::Tensor kept = cache.keys[0].clone();
        copy.append(0, 1, entry(1, 7), entry(1, 7));
        cache.append(0, 1, entry(1, 9), entry(1, 9));
        QVERIFY(at::equal(copy.keys[0], at::cat({kept, entry(1, 7)}, 2)));
        QVERIFY(at::equal(cache.keys[0], at::cat({kept, entry(1, 9)}, 2)));

        // Cut back (as a caller may), the cache goes on in a new room: what was handed out of
        // the old one stays as it was.
        const at::Tensor seen = cache.keys[0];
        const at::Tensor before = seen.clone();
        cache.keys[0] = cache.keys[0].narrow(2, 0, 10);
        cache.values[0] = cache.values[0].narrow(2, 0, 10);
        cache.append(0, 1, entry(1, 5), entry(1, 5));
        QVERIFY(at::equal(seen, before));
        QVERIFY(at::equal(cache.keys[0], at::cat({before.narrow(2, 0, 10), entry(1, 5)}, 2)));
    }

    void cancellationStopsWithinOneStep() {
        std::atomic<bool> cancel{false};
        int calls = 0;
        const std::vector<std::vector<int>> prompts = {prompt_, prompt_};
        auto out = PrefixDecoder(*lm_, tok_.get())
                       .run(
                           prefix_.expand({2, 4, 64}), prompts, plain(20),
                           [&](size_t, int, const std::string&) {
                               ++calls;
                               cancel = true;
                           },
                           &cancel);
        QVERIFY(out.cancelled());
        // The step in flight finished its rows and no further step ran; the fixed-shape loop
        // hands over its tokens (and so meets the flag) a few steps at a time.
        QCOMPARE(calls, usesFixedShapeLoop(plain(20), false) ? 2 * kFixedShapeReadEvery : 2);
    }

    // The loop CUDA takes chooses on tensors what the host loop chooses on the host, for a
    // padded batch (an empty prompt among them) and a shared prefix, every n-gram rule, end of
    // text allowed or held back, stop strings, and step counts around its read interval.
    void theFixedShapeLoopGivesTheHostLoopsTokens() {
        const std::vector<std::vector<int>> prompts{
            tok_->encode("caption:"), {}, tok_->encode("news: the big city")};
        const int64_t rows = static_cast<int64_t>(prompts.size());
        const at::Tensor own = at::randn({rows, 4, 64});
        // A stop string that the first row's free text reaches at its 6th token.
        const auto free = run(plain(12), prompts);
        std::string piece = tok_->decode({free[0].tokens[5]});
        piece.erase(0, piece.find_first_not_of(' '));
        QVERIFY(!piece.empty());
        for (int n : {0, 1, 2, 3})
            for (int tokens : {1, 4, 5, 13})
                for (bool stop : {false, true}) {
                    auto o = plain(tokens);
                    o.noRepeatNgram = n;
                    if (stop) o.stopStrings = {piece};
                    const QString what =
                        QString("n=%1 tokens=%2 stop=%3").arg(n).arg(tokens).arg(stop);
                    compareLoops(o, prompts, prefix_.expand({rows, 4, 64}), *lm_, what + " shared");
                    compareLoops(o, prompts, own, *lm_, what);
                }
        // End of text: a token the model emits early, allowed, or held back for a while.
        QTemporaryDir dir;
        auto ending = endingWith(free[2].tokens[3], dir);
        QVERIFY(ending);
        auto o = plain(12);
        o.banEos = false;
        compareLoops(o, prompts, own, *ending, "end of text allowed");
        o.minNewTokens = 6;
        compareLoops(o, prompts, own, *ending, "end of text after 6");
        o.banEos = true;
        compareLoops(o, prompts, own, *ending, "end of text banned");

        // The other architecture (rotary positions, grouped keys and values), and compressed
        // weights.
        const QString models = esper::test::referenceDir() + "/models/";
        auto llama = loadCausalLm((models + "llama-tiny").toStdString(), {});
        ESPER_VERIFY_OK(llama);
        o = plain(9);
        o.noRepeatNgram = 2;
        o.banEos = false;
        compareLoops(o, {{5, 6, 7}, {}, {9}}, own, *llama.value(), "llama", false);
        ComputeOptions int8;
        int8.weights = WeightFormat::Int8;
        auto packed = loadCausalLm((models + "gpt2-tiny").toStdString(), int8);
        ESPER_VERIFY_OK(packed);
        compareLoops(plain(9), prompts, own, *packed.value(), "gpt-2 int8");
    }

    // A workspace kept between decodes gives what a fresh decode gives: for new inputs of the
    // same shape (its buffers refilled), for another shape (new buffers), after a cancelled
    // decode, and for sampling.
    void aKeptWorkspaceGivesWhatAFreshDecodeGives() {
        const std::vector<std::vector<int>> prompts{
            tok_->encode("caption:"), {}, tok_->encode("news: the big city")};
        const std::vector<std::vector<int>> others{tok_->encode("story:"),
                                                   tok_->encode("a b c d e f g h")};
        auto o = plain(11);
        o.noRepeatNgram = 2;
        o.loop = DecodeLoop::FixedShape;
        auto sampled = o;
        sampled.strategy = DecodeStrategy::Sample;
        sampled.topK = 20;
        sampled.seed = 4;
        DecodeWorkspace workspace;
        const PrefixDecoder kept(*lm_, tok_.get(), &workspace);
        const PrefixDecoder fresh(*lm_, tok_.get());
        auto same = [](const Result<std::vector<DecodedText>>& a,
                       const Result<std::vector<DecodedText>>& b) {
            if (!a || !b || a->size() != b->size()) return false;
            for (size_t r = 0; r < a->size(); ++r)
                if ((*a)[r].tokens != (*b)[r].tokens ||
                    (*a)[r].tokenLogprobs != (*b)[r].tokenLogprobs)
                    return false;
            return true;
        };
        std::atomic<bool> cancel{false};
        for (int round = 0; round < 3; ++round) {
            const at::Tensor three = at::randn({3, 4, 64}), two = at::randn({2, 4, 64});
            QVERIFY(same(kept.run(three, prompts, o), fresh.run(three, prompts, o)));
            QVERIFY(same(kept.run(three, prompts, sampled), fresh.run(three, prompts, sampled)));
            QVERIFY(same(kept.run(two, others, o), fresh.run(two, others, o)));
            // Cancelled part-way: the kept buffers hold a half-done decode.
            cancel = false;
            const auto stopped = kept.run(
                three, prompts, o, [&](size_t, int, const std::string&) { cancel = true; },
                &cancel);
            QVERIFY(stopped.cancelled());
            QVERIFY(same(kept.run(three, prompts, o), fresh.run(three, prompts, o)));
        }
    }

    // The same draw gives the same token from the tensor sampler as from the host's, for
    // temperature, top-k and top-p, alone and together.
    void theTensorSamplerPicksWhatTheHostSamplerPicks() {
        struct Warp {
            double temperature;
            int topK;
            double topP;
        };
        const int64_t rows = 5, vocab = 300;
        at::manual_seed(17);
        for (const Warp w : {Warp{1, 0, 1}, Warp{0.7, 50, 1}, Warp{1, 0, 0.9}, Warp{0.7, 20, 0.8},
                             Warp{2, 1, 1}, Warp{0.3, 0, 0.5}}) {
            DecodeOptions o = plain(4);
            o.strategy = DecodeStrategy::Sample;
            o.banEos = false;
            o.temperature = w.temperature;
            o.topK = w.topK;
            o.topP = w.topP;
            const auto state =
                ChoiceState::create(std::vector<std::vector<int>>(rows), o, {}, vocab, at::kCPU);
            for (uint64_t trial = 0; trial < 40; ++trial) {
                const at::Tensor logits = at::randn({rows, vocab}) * 3;
                auto gen = at::detail::createCPUGenerator(trial);
                auto twin = at::detail::createCPUGenerator(trial);
                std::vector<double> draws;
                for (int64_t r = 0; r < rows; ++r) // as sampleToken draws them
                    draws.push_back(
                        double(at::check_generator<at::CPUGeneratorImpl>(twin)->random64() >> 11) *
                        0x1.0p-53);
                state.uniforms.select(0, 0).copy_(at::tensor(draws, at::kDouble)); // step 0
                at::Tensor scores = logits.clone();
                const at::Tensor picked = chooseTokens(scores, o, state);
                for (int64_t r = 0; r < rows; ++r)
                    QCOMPARE(picked[r].item<int64_t>(),
                             int64_t(sampleToken(logits[r].contiguous(), o, gen)));
            }
        }
    }

    // The tensor n-gram rule bans what the host's bans, on random histories with many repeats.
    void theTensorNgramBanMatchesTheHostBan() {
        at::manual_seed(23);
        const int64_t vocab = 12;
        for (int n : {1, 2, 3, 4})
            for (int trial = 0; trial < 20; ++trial) {
                std::vector<std::vector<int>> histories;
                for (int r = 0; r < 4; ++r) {
                    const int64_t length = at::randint(0, 9, {1}).item<int64_t>();
                    const at::Tensor ids = at::randint(0, 5, {length});
                    histories.emplace_back(ids.data_ptr<int64_t>(),
                                           ids.data_ptr<int64_t>() + length);
                }
                DecodeOptions o = plain(3);
                o.noRepeatNgram = n;
                o.banEos = false;
                const auto state = ChoiceState::create(histories, o, {}, vocab, at::kCPU);
                at::Tensor banned = at::zeros({4, vocab});
                (void)chooseTokens(banned, o, state);
                for (int r = 0; r < 4; ++r) {
                    at::Tensor want = at::zeros({vocab});
                    banRepeatedNgrams(want, histories[size_t(r)], n);
                    QVERIFY2(at::equal(banned[r], want),
                             qPrintable(QString("n=%1 trial %2 row %3").arg(n).arg(trial).arg(r)));
                }
            }
    }
};

QTEST_GUILESS_MAIN(TestDecoding)
#include "test_decoding.moc"
