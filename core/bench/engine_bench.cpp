#include "bench/engine_bench.h"

#include "bench/metrics_bench.h"
#include "decode/prefix_decoder.h"
#include "decode/step_replay.h"
#include "kernels/weight_kernels.h"
#include "models/causal_lm.h"
#include "models/clip.h"
#include "models/device.h"
#include "models/gpt2.h"
#include "models/mapper.h"
#include "models/torch_guard.h"
#include "models/wav2clip.h"
#include "util/json_text.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <algorithm>
#include <c10/core/InferenceMode.h>
#include <chrono>
#include <nlohmann/json.hpp>

namespace esper {
namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Reading a value back to the host waits for any queued device work.
void sync(const at::Tensor& t) {
    (void)t.sum().item<double>();
}

// The batch sizes measured: ours, and on CUDA also the peer's (.devkit/bench_hf.py runs GPT-2 at
// 1 and 64, CLIP at 1 and 256) so the two can be set side by side from one run.
std::vector<int64_t> batchesFor(const std::vector<int64_t>& asked, const ComputeOptions& o,
                                std::vector<int64_t> cpu, int64_t peerLarge) {
    if (!asked.empty()) return asked;
    if (o.device.is_cuda()) cpu.push_back(peerLarge);
    return cpu;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// The median time of `repeats` runs of `work` (after one warm-up run), each waited for.
template <class Work> double medianMs(int repeats, const Work& work) {
    std::vector<double> times;
    for (int r = 0; r <= repeats; ++r) {
        const auto t0 = Clock::now();
        sync(work());
        if (r > 0) times.push_back(msSince(t0));
    }
    return median(times);
}

nlohmann::ordered_json benchGpt2(const ComputeOptions& o, const BenchOptions& opt) {
    RandomWeights w(o, 0);
    auto lm = Gpt2Model::create(Gpt2Config{}, w);
    nlohmann::ordered_json runs = nlohmann::ordered_json::array();
    for (int64_t batch : batchesFor(opt.gpt2Batches, o, {1, 8}, 64)) {
        std::vector<double> prefill, step;
        for (int r = 0; r <= opt.repeats; ++r) { // the first run warms up and is not counted
            const auto prefix = at::randn({batch, 10, 768}).to(o.device, o.dtype);
            const auto prompt =
                at::randint(50257, {batch, 3}, at::TensorOptions().dtype(at::kLong));
            KvCache cache;
            sync(prefix);
            auto t0 = Clock::now();
            LmInput in{at::cat({prefix, lm.value()->embed(prompt)}, 1), {}, {}, true};
            at::Tensor next = lm.value()->forward(in, &cache).select(1, 0).argmax(-1);
            sync(next);
            const double pre = msSince(t0);
            t0 = Clock::now();
            // Queued without a per-step wait, as a decoder that checks for an end token every few
            // steps runs; the one wait at the end is counted.
            for (int s = 0; s < opt.decodeSteps; ++s) {
                LmInput d{lm.value()->embed(next.unsqueeze(1)), {}, {}, true};
                next = lm.value()->forward(d, &cache).select(1, 0).argmax(-1);
            }
            sync(next);
            if (r == 0) continue;
            prefill.push_back(pre);
            step.push_back(msSince(t0) / opt.decodeSteps);
        }
        const double stepMs = median(step), prefillMs = median(prefill);
        runs.push_back({{"batch", batch},
                        {"prefix_embeddings", 10},
                        {"prompt_tokens", 3},
                        {"decode_steps", opt.decodeSteps},
                        {"prefill_ms", prefillMs},
                        {"ms_per_decode_step", stepMs},
                        {"ms_per_token", stepMs / batch},
                        // the peer's figure: one prefill and 19 steps give 20 greedy tokens
                        {"greedy20_ms", prefillMs + 19 * stepMs},
                        {"captions_per_s", batch * 1000.0 / (prefillMs + 19 * stepMs)}});
    }
    return {{"model", "gpt2-124M (random weights)"}, {"runs", runs}};
}

nlohmann::ordered_json benchClip(const ComputeOptions& o, const BenchOptions& opt) {
    ClipConfig c; // defaults are ViT-B/32
    RandomWeights w(o, 0);
    auto clip = ClipModel::create(c, w);
    nlohmann::ordered_json runs = nlohmann::ordered_json::array();
    for (int64_t batch : batchesFor(opt.clipBatches, o, {1, 16}, 256)) {
        // Pixels wait on the device, as they do once preprocessing has uploaded them.
        const auto pixels = at::randn({batch, 3, 224, 224}).to(o.device, o.dtype);
        sync(pixels);
        const double ms =
            medianMs(opt.repeats, [&] { return clip.value()->encodeImage(pixels).features; });
        runs.push_back({{"batch", batch},
                        {"ms_per_batch", ms},
                        {"ms_per_image", ms / batch},
                        {"images_per_s", batch * 1000.0 / ms}});
    }
    // What the products ran in, and by whom: on the CPU, as clipWeights chose for this machine.
    const WeightFormat f = clipWeights(o);
    const std::string products =
        !o.device.is_cpu()            ? c10::toString(o.dtype)
        : f == WeightFormat::BFloat16 ? "bf16 (oneDNN)"
        : f == WeightFormat::FloatPanels
            ? std::string("fp32 (esper ") + kernels::isaName(kernels::activeIsa()) + ")"
            : "fp32 (LibTorch)";
    return {{"model", "clip-vit-base-patch32 image tower (random weights)"},
            {"products", products},
            {"runs", runs}};
}

// ESPER's caption decoding as the benchmarks run it: its defaults, 20 new tokens, and no stop
// string (no text without a tokenizer), so every run decodes all 20.
DecodeOptions captionDecoding() {
    DecodeOptions d;
    d.maxNewTokens = 20;
    d.stopStrings.clear();
    return d;
}

// Wav2CLIP at the released size (ResNet-18, MLP 512-512-512) on 5 s of sound: a 257 x 227
// spectrogram, as a live window or one ESC-50 clip is encoded.
nlohmann::ordered_json benchWav2Clip(const ComputeOptions& o, const BenchOptions& opt) {
    RandomWeights w(o, 2);
    auto model = Wav2Clip::create(Wav2ClipConfig{}, w);
    const auto wave = (at::randn({1, 5 * 16000}) * 0.1).to(o.device);
    sync(wave);
    return {{"model", "wav2clip resnet-18 (random weights)"},
            {"seconds_of_sound", 5},
            {"spectrogram", {257, 227}},
            {"ms", medianMs(opt.repeats, [&] { return model.value()->encode(wave).embedding; })}};
}

// One image x 7 styles as `esper caption` runs it: CLIP image encoding, the mapper, 7 prompts
// decoded as one batch (20 tokens, ESPER's greedy rules) and the 7 captions encoded by CLIP's
// text tower for their scores. Token ids are random: tokenizers cost microseconds and real
// vocabularies are not shipped.
// With `sound`, a live window instead: 5 s through Wav2CLIP (ResNet-18) in place of the image,
// in `styles` styles; what the engine adds to a live caption's delay at full size.
nlohmann::ordered_json benchEndToEnd(const ComputeOptions& o, const BenchOptions& opt,
                                     int styles = 7, bool sound = false) {
    RandomWeights w(o, 1);
    auto clip = ClipModel::create(ClipConfig{}, w);
    auto lm = Gpt2Model::create(Gpt2Config{}, w);
    // Made only when measured: a ResNet-18 of random weights is no small allocation.
    auto audio = sound ? Wav2Clip::create(Wav2ClipConfig{}, w)
                       : Result<std::unique_ptr<Wav2Clip>>(std::unique_ptr<Wav2Clip>());
    const auto mapper = Mapper::randomInit({512, 768, 10}, o, 1);
    DecodeWorkspace workspace; // kept across captions, as the captioner keeps it
    const PrefixDecoder decoder(*lm.value(), nullptr, &workspace);
    const DecodeOptions d = captionDecoding();
    std::vector<std::vector<int>> prompts;
    for (int s = 0; s < styles; ++s)
        prompts.push_back({1000 + s, 25}); // "word:"-like prompts
    std::vector<double> enc, dec, sc;
    for (int r = 0; r <= opt.repeats; ++r) {
        auto t0 = Clock::now();
        const auto features =
            sound ? audio.value()->encode((at::randn({1, 5 * 16000}) * 0.1).to(o.device)).embedding
                  : clip.value()->encodeImage(at::randn({1, 3, 224, 224})).features;
        const auto prefix = mapper->forward(features);
        sync(prefix);
        const double e = msSince(t0);
        t0 = Clock::now();
        const auto out = decoder.run(prefix.expand({styles, 10, 768}), prompts, d);
        const double g = msSince(t0);
        t0 = Clock::now();
        at::Tensor ids = at::full({styles, 22}, 49407, at::kLong);
        ids.narrow(1, 0, 21).random_(0, 49406);
        const auto text = clip.value()->encodeText(ids).features;
        sync(at::matmul(text, features.t()));
        const double s = msSince(t0);
        if (r == 0 || !out) continue;
        enc.push_back(e);
        dec.push_back(g);
        sc.push_back(s);
    }
    const double total = median(enc) + median(dec) + median(sc);
    return {{"model", sound ? "Wav2CLIP ResNet-18 on 5 s + mapper + GPT-2 124M (random weights)"
                            : "ViT-B/32 + mapper + GPT-2 124M (random weights)"},
            {"styles", styles},
            {"new_tokens", 20},
            {"encode_ms", median(enc)},
            {"decode_ms", median(dec)},
            {"score_ms", median(sc)},
            {"total_ms", total},
            {"target_ms", 1000}}; // an image feels live within a second; a window comes each second
}

// ESPER's caption decoding through the decoder, as captioning runs it (greedy, 20 tokens, no
// repeated bigram, end of text banned; a 10-embedding prefix and a 2-token prompt per row), in
// both loops side by side: the host loop, which reads every step's logits back, and the
// fixed-shape loop, which chooses on the device and, on CUDA, replays each step as a graph. On
// CUDA the batches reach past the peer's 64 to what a batched captioning run would use.
nlohmann::ordered_json benchDecodeLoops(const ComputeOptions& o, const BenchOptions& opt) {
    RandomWeights w(o, 0);
    auto lm = Gpt2Model::create(Gpt2Config{}, w);
    // Kept across runs, as the captioner keeps it: repeated captions of one shape.
    DecodeWorkspace workspace;
    const PrefixDecoder decoder(*lm.value(), nullptr, &workspace);
    std::vector<int64_t> batches = opt.gpt2Batches;
    if (batches.empty())
        batches =
            o.device.is_cuda() ? std::vector<int64_t>{1, 64, 1024} : std::vector<int64_t>{1, 8};
    nlohmann::ordered_json runs = nlohmann::ordered_json::array();
    for (int64_t batch : batches) {
        const auto prefix = at::randn({batch, 10, 768}).to(o.device, o.dtype);
        const std::vector<std::vector<int>> prompts(static_cast<size_t>(batch), {1000, 25});
        nlohmann::ordered_json run{{"batch", batch}};
        double hostMs = 0, fixedMs = 0;
        for (DecodeLoop loop : {DecodeLoop::Host, DecodeLoop::FixedShape}) {
            DecodeOptions d = captionDecoding();
            d.loop = loop;
            // The decoder hands back host vectors, so each run has waited for its device work.
            const double ms = medianMs(opt.repeats, [&] {
                (void)decoder.run(prefix, prompts, d);
                return at::zeros({1});
            });
            const char* name = loop == DecodeLoop::Host ? "host_loop" : "fixed_shape_loop";
            run[std::string(name) + "_ms"] = ms;
            run[std::string(name) + "_captions_per_s"] = batch * 1000.0 / ms;
            (loop == DecodeLoop::Host ? hostMs : fixedMs) = ms;
        }
        run["fixed_shape_speedup"] = hostMs / fixedMs;
        runs.push_back(run);
    }
    return {{"model", "gpt2-124M (random weights), 20 greedy tokens with ESPER's rules"},
            {"graphs", o.device.is_cuda() && StepReplay::graphsCompiledIn()},
            {"runs", runs}};
}

} // namespace

Result<std::string> runEngineBench(const BenchOptions& options) {
    return guardTorch("benchmark failed", [&]() -> Result<std::string> {
        c10::InferenceMode guard;
        auto compute = parseComputeOptions(options.device, options.dtype);
        ESPER_TRY(compute);
        nlohmann::ordered_json j;
        j["device"] = describe(compute.value());
        j["torch_threads"] = at::get_num_threads();
        if (options.gpt2) j["gpt2"] = benchGpt2(compute.value(), options);
        if (options.clip) j["clip"] = benchClip(compute.value(), options);
        if (options.endToEnd) {
            j["end_to_end"] = benchEndToEnd(compute.value(), options);
            // One caption alone: the latency a single dropped image sees.
            j["one_caption"] = benchEndToEnd(compute.value(), options, 1);
            j["decode_loops"] = benchDecodeLoops(compute.value(), options);
        }
        if (options.audio) {
            j["wav2clip"] = benchWav2Clip(compute.value(), options);
            // A live window, captioned in one style: due once a second.
            j["live_window"] = benchEndToEnd(compute.value(), options, 1, true);
        }
        if (options.metrics) {
            const auto m = benchTextMetrics(5000, 5, options.repeats);
            j["metrics"] = {{"images", m.images},      {"references_per_image", m.references},
                            {"bleu_ms", m.bleuMs},     {"rouge_l_ms", m.rougeMs},
                            {"cider_d_ms", m.ciderMs}, {"total_ms", m.totalMs()}};
        }
        return dumpJson(j, 2);
    });
}

} // namespace esper
