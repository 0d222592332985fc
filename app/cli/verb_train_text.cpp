// The text-side preparations of ESPER: a style generator (`esper train style-generator`) and a
// list of sentence-initial words for ESPER-Free's queries (`esper train sent-init`).
#include "args.h"
#include "train_flags.h"
#include "verbs.h"

#include "blas_tuning.h"
#include "training/esper/queries.h"
#include "training/trainers/style_generator.h"
#include "util/file_util.h"
#include "util/json_text.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace esper::cli {

namespace {
const char* kStyleHelp =
    "usage: esper train style-generator --lm DIR --texts FILE --out DIR [--tokenizer DIR]\n"
    "                                   [--max-length N] [--no-balance] [--with-bos]\n"
    "                                   [--with-eos] [--device D] [training flags]\n\n"
    "ESPER-Style's first stage: fine-tunes the language model in DIR on FILE's\n"
    "'label: text' lines (one per line; the label one word), so that 'label:' steers it to\n"
    "that style. The official settings are the defaults: AdamW at 1e-5, 1,000 warm-up steps\n"
    "then linear decay over --steps (default 100,000), batches of 32, lines cut at\n"
    "--max-length tokens (50), every token scored, and the labels balanced by keeping as\n"
    "many lines of each as the rarest has (--no-balance keeps all). --with-bos / --with-eos\n"
    "frame each line with the model's begin / end-of-text token, as a model whose documents\n"
    "are framed so expects. Writes a model folder (config.json, model.safetensors, the\n"
    "tokenizer files) and prints JSON: {steps, first_loss, last_loss, lines_per_label,\n"
    "lines_used}.\n\n";

const char* kSentInitHelp =
    "usage: esper train sent-init --corpus FILE --out FILE.json [--top N]\n\n"
    "Counts the first word of every sentence of a text corpus (sentences end at '. ', '! ',\n"
    "'? ' or a line's end; those under 10 characters are skipped) and writes the N most\n"
    "frequent (default 300) as {word: frequency}: ESPER-Free's query words for a language\n"
    "model of another language or domain (`--set sent_init=FILE.json`). The built-in English\n"
    "list was made this way from WikiText-2.\n";
} // namespace

int runTrainStyleGenerator(int argc, char** argv) {
    const char* verb = "train style-generator";
    const std::string help = std::string(kStyleHelp) + kTrainFlagsHelp;
    auto specs = trainFlagSpecs();
    for (const char* name : {"lm", "texts", "out"})
        specs.push_back({.name = name, .required = true});
    for (const char* name : {"max-length", "device", "tokenizer"})
        specs.push_back({name});
    for (const char* name : {"no-balance", "with-bos", "with-eos"})
        specs.push_back({name, false});
    Args args;
    if (auto stop = args.parseVerb(argc - 1, argv + 1, verb, help.c_str(), specs, 0)) return *stop;
    StyleGeneratorOptions o;
    o.lmDir = args.get("lm");
    o.tokenizerDir = args.get("tokenizer");
    o.textsPath = args.get("texts");
    o.outDir = args.get("out");
    o.device = args.get("device", "cpu");
    o.balance = !args.has("no-balance");
    o.withBos = args.has("with-bos");
    o.withEos = args.has("with-eos");
    readWhole(args, "max-length", o.maxLength, 2, 1000000);
    if (!args.problem().empty()) return report(verb, args.problem(), 2);
    if (auto problem = applyTrainFlags(args, o.outDir, o.train); !problem.empty())
        return report(verb, problem, 2);
    if (!args.has("log")) o.train.logPath = o.outDir + "/style-generator-train.jsonl";
    if (!args.has("checkpoint"))
        o.train.checkpointPath = o.outDir + "/style-generator-checkpoint.safetensors";
    std::error_code ec;
    std::filesystem::create_directories(o.outDir, ec);
    if (ec) return report(verb, "cannot create " + o.outDir + ": " + ec.message(), 1);
    ensureBlasCoreType(argv);
    auto r = trainStyleGenerator(o);
    if (!r) return report(verb, r.error(), 1);
    auto out = summaryJson(r.value());
    out["lines_per_label"] = r->linesPerLabel;
    out["lines_used"] = r->linesUsed;
    return finishTraining(verb, out, r->seconds, "step " + std::to_string(r->steps),
                          "the same command with --resume continues from " +
                              o.train.checkpointPath);
}

int runTrainSentInit(int argc, char** argv) {
    const char* verb = "train sent-init";
    Args args;
    if (auto stop = args.parseVerb(argc - 1, argv + 1, verb, kSentInitHelp,
                                   {{"corpus"}, {"out"}, {"top"}}, 0))
        return *stop;
    if (!args.has("corpus") || !args.has("out"))
        return report(verb, "--corpus and --out are required", 2, kSentInitHelp);
    size_t top = 300;
    readWhole(args, "top", top, 1, 1000000);
    if (!args.problem().empty()) return report(verb, args.problem(), 2);
    auto text = readTextFile(args.get("corpus"));
    if (!text) return report(verb, text.error(), 2);
    const auto counts = countSentenceInitials(text.value());
    std::vector<std::pair<std::string, double>> ranked(counts.begin(), counts.end());
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    double total = 0;
    for (const auto& r : ranked)
        total += r.second;
    if (ranked.size() > top) ranked.resize(top);
    if (ranked.empty()) return report(verb, args.get("corpus") + " holds no sentence to count", 2);
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (const auto& [word, count] : ranked)
        out[word] = count / total;
    if (auto ok = writeFileAtomic(args.get("out"), dumpJson(out, 1) + "\n"); !ok)
        return report(verb, ok.error(), 1);
    std::printf("%zu sentence-initial words of %.0f sentences written to %s\n", ranked.size(),
                total, args.get("out").c_str());
    return 0;
}

} // namespace esper::cli
