#include "args.h"
#include "verbs.h"

#include "blas_tuning.h"

#include "bench/engine_bench.h"
#include "bench/mode_quality.h"

#include <cstdio>
#include <string>
#include <vector>

namespace esper::cli {

namespace {
const char* kHelp =
    "usage: esper bench [--device cpu|cuda[:N]] [--dtype fp32|fp16|bf16|int8] [--only "
    "gpt2|clip|metrics|caption|audio]\n"
    "                   [--repeats N] [--steps N] [--gpt2-batches N,N..] [--clip-batches "
    "N,N..]\n"
    "       esper bench --quality BUNDLE [--modes fp16,int8] [--scenes N] [--models-dir DIR]\n\n"
    "Measures full-size models with random weights and prints JSON: GPT-2 124M decoding with a\n"
    "10-embedding prefix (batch 1 and 8, ms per step) and CLIP ViT-B/32 image encoding (batch 1\n"
    "and 16, ms per image), and BLEU/ROUGE-L/CIDEr-D over a synthetic 5,000-image x 5-reference\n"
    "set (ms), and end to end one image x 7 styles (CLIP encode, 20 decoded tokens per style\n"
    "as one batch, CLIP scores) and for one style alone, ESPER's caption decoding through\n"
    "both decoding loops (the host loop and the fixed-shape one CUDA takes), and Wav2CLIP\n"
    "(ResNet-18) encoding 5 s of sound (a 257 x 227 spectrogram). Medians over --repeats runs\n"
    "(after one warm-up for models).\n"
    "tools/bench_audio_peer.py runs the same Wav2CLIP in PyTorch eager (Debian's python3-torch).\n"
    "On CUDA the batches also include the large ones the Hugging Face peer measures (GPT-2 64,\n"
    "CLIP 256); --gpt2-batches and --clip-batches choose others.\n"
    "On the CPU, --dtype int8 and fp16 keep the large matrices compressed (int8 with a scale\n"
    "per output channel, or fp16) and compute in fp32; tools/bench_cpu.sh runs fp32, fp16,\n"
    "int8 and the PyTorch peers in one go.\n"
    "--quality: what int8 and fp16 cost against fp32 on BUNDLE's captions of the synthetic\n"
    "world's held-out scenes: the largest logit difference, the share of token-identical\n"
    "captions, and the CLIP-S difference.\n";

// {"1", "8", "64"} -> {1, 8, 64}; empty when any item is not a positive whole number.
std::vector<int64_t> batchList(const std::vector<std::string>& items) {
    std::vector<int64_t> out;
    for (const auto& item : items) {
        const auto batch = parseWhole(item);
        if (!batch || *batch < 1 || *batch > 100000) return {};
        out.push_back(*batch);
    }
    return out;
}
} // namespace

int runBench(int argc, char** argv) {
    Args args;
    if (auto stop = args.parseVerb(argc, argv, "bench", kHelp,
                                   {{"device"},
                                    {"dtype"},
                                    {"only"},
                                    {"repeats"},
                                    {"steps"},
                                    {"gpt2-batches"},
                                    {"clip-batches"},
                                    {"quality"},
                                    {"modes"},
                                    {"scenes"},
                                    {"models-dir"}},
                                   0))
        return *stop;
    if (args.has("quality")) {
        ensureBlasCoreType(argv);
        ModeQualityOptions q;
        q.bundleDir = args.get("quality");
        q.modelsDir = args.get("models-dir");
        if (args.has("modes")) q.modes = args.items("modes");
        q.scenes = static_cast<int>(args.integer("scenes", q.scenes, 1, 100000));
        if (!args.problem().empty()) return report("bench", args.problem(), 2, kHelp);
        auto out = runModeQuality(q);
        if (!out) return report("bench", out.error(), 1);
        std::printf("%s\n", out->c_str());
        return 0;
    }
    const std::string only = args.get("only");
    if (!only.empty() && only != "gpt2" && only != "clip" && only != "metrics" &&
        only != "caption" && only != "audio")
        return report("bench", "--only takes gpt2, clip, metrics, caption or audio", 2, kHelp);
    ensureBlasCoreType(argv); // models run from here on
    BenchOptions options;
    options.device = args.get("device", "cpu");
    options.dtype = args.get("dtype", "fp32");
    options.gpt2 = only.empty() || only == "gpt2";
    options.clip = only.empty() || only == "clip";
    options.metrics = only.empty() || only == "metrics";
    options.endToEnd = only.empty() || only == "caption";
    options.audio = only.empty() || only == "audio";
    options.repeats = static_cast<int>(args.integer("repeats", options.repeats, 1, 1000));
    options.decodeSteps = static_cast<int>(args.integer("steps", options.decodeSteps, 1, 1000));
    if (!args.problem().empty()) return report("bench", args.problem(), 2, kHelp);
    for (auto [flag, into] : {std::pair{"gpt2-batches", &options.gpt2Batches},
                              std::pair{"clip-batches", &options.clipBatches}}) {
        if (!args.has(flag)) continue;
        *into = batchList(args.items(flag));
        if (into->empty())
            return report("bench", std::string("--") + flag + " takes batch sizes such as 1,8,64",
                          2, kHelp);
    }
    auto out = runEngineBench(options);
    if (!out) return report("bench", out.error(), 1);
    std::printf("%s\n", out->c_str());
    return 0;
}

} // namespace esper::cli
