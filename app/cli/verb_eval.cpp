#include "args.h"
#include "verbs.h"

#include "blas_tuning.h"

#include "datasets/caption_dataset.h"
#include "evaluation/dataset_eval.h"
#include "text/gpt2_tokenizer.h"
#include "util/file_util.h"
#ifdef ESPER_WITH_MEDIA
#include "image_decoder.h"
#endif

#include <cstdio>

namespace esper::cli {

namespace {
const char* kHelp =
    "usage: esper eval --references PATH --candidates PATH [options]\n\n"
    "Scores candidate captions against references as the COCO caption toolkit does: BLEU-1..4,\n"
    "ROUGE-L and CIDEr-D, plus METEOR and SPICE when their jars are given. One row per style\n"
    "(ESP data and `esper caption` output carry styles).\n\n"
    "  --references PATH        COCO captions JSON, Karpathy dataset_coco.json, ESP JSON,\n"
    "                           evaluation-set JSON, JSONL, or an image folder with .txt/.caption\n"
    "  --candidates PATH        the same formats, or COCO results [{image_id, caption}]\n"
    "  --format F               references' format when the guess is wrong: coco, karpathy,\n"
    "                           esp, evalset, jsonl, folder (candidates: --candidates-format)\n"
    "  --split S                Karpathy: only images of this split (e.g. test)\n"
    "  --style S                only this candidate style (repeatable)\n"
    "  --no-ptb                 captions are already tokenised; score them as they are\n"
    "  --truncate-refs N        cut references to their first N GPT-2 tokens (ESPER's ESP\n"
    "  --gpt2-vocab DIR         protocol uses 20); DIR holds vocab.json + merges.txt\n"
    "  --meteor-jar FILE        meteor-1.5.jar (needs Java)\n"
    "  --spice-jar FILE         spice-1.0.jar (needs Java and its lib/ folder)\n"
    "  --java PATH              the Java runtime (default: java on PATH)\n"
    "  --clip DIR               also CLIP-S and RefCLIP-S with this CLIP model folder (its\n"
    "                           tokenizer files beside it, or --clip-tokenizer DIR)\n"
    "  --images DIR             where the references' relative image paths start\n"
    "  --photo-prefix           prefix captions with \"A photo depicts \" as clipscore.py does\n"
    "  --device cpu|cuda[:N]    where CLIP runs\n"
    "  --per-image FILE.jsonl   also write every image's scores\n"
    "  --json                   print JSON instead of the table\n";
} // namespace

int runEval(int argc, char** argv) {
    Args args;
    if (auto stop = args.parseVerb(argc, argv, "eval", kHelp,
                                   {{"references"},
                                    {"candidates"},
                                    {"format"},
                                    {"candidates-format"},
                                    {"split"},
                                    {"style", true, true},
                                    {"no-ptb", false},
                                    {"truncate-refs"},
                                    {"gpt2-vocab"},
                                    {"meteor-jar"},
                                    {"spice-jar"},
                                    {"java"},
                                    {"per-image"},
                                    {"clip"},
                                    {"clip-tokenizer"},
                                    {"images"},
                                    {"photo-prefix", false},
                                    {"device"},
                                    {"json", false}},
                                   0))
        return *stop;
    if (!args.has("references") || !args.has("candidates"))
        return report("eval", "--references and --candidates are required", 2, kHelp);
    auto refFormat = parseFormatName(args.get("format", "auto"));
    auto candFormat = parseFormatName(args.get("candidates-format", "auto"));
    if (!refFormat) return report("eval", refFormat.error(), 2);
    if (!candFormat) return report("eval", candFormat.error(), 2);
    auto refs = readDataset(args.get("references"), refFormat.value());
    if (!refs) return report("eval", refs.error(), 2);
    auto cands = readDataset(args.get("candidates"), candFormat.value());
    if (!cands) return report("eval", cands.error(), 2);

    EvalOptions options;
    options.ptb = !args.has("no-ptb");
    options.split = args.get("split");
    options.styles = args.all("style");
    std::unique_ptr<Gpt2Tokenizer> gpt2;
    if (args.has("truncate-refs")) {
        const auto n = args.integer("truncate-refs", 20, 1, 100000);
        if (!args.problem().empty()) return report("eval", args.problem(), 2);
        if (!args.has("gpt2-vocab"))
            return report("eval", "--truncate-refs needs --gpt2-vocab DIR (GPT-2's tokenizer)", 2);
        auto t = Gpt2Tokenizer::fromDirectory(args.get("gpt2-vocab"));
        if (!t) return report("eval", t.error(), 2);
        gpt2 = std::move(t.value());
        const size_t keep = static_cast<size_t>(n);
        options.truncateReference = [&gpt2, keep](const std::string& ref) {
            auto ids = gpt2->encode(ref);
            if (ids.size() > keep) ids.resize(keep);
            return gpt2->decode(ids);
        };
    }
    options.java = {args.get("java"), args.get("meteor-jar"), args.get("spice-jar")};
    options.meteor = args.has("meteor-jar");
    options.spice = args.has("spice-jar");

    std::unique_ptr<ClipScorer> clip;
    if (args.has("clip")) {
#ifdef ESPER_WITH_MEDIA
        ensureBlasCoreType(argv); // CLIP runs from here on
        auto scorer = ClipScorer::load(args.get("clip"), args.get("clip-tokenizer"),
                                       args.get("device", "cpu"));
        if (!scorer) return report("eval", scorer.error(), 2);
        clip = std::move(scorer.value());
        options.clip = clip.get();
        options.loadImage = [](const std::string& path) { return media::decodeImageFile(path); };
        options.imageRoot = args.get("images");
        options.photoPrefix = args.has("photo-prefix");
#else
        return report("eval", "--clip needs image decoding, which this engine-only build lacks", 2);
#endif
    }
    auto result = evaluateDatasets(refs.value(), cands.value(), options);
    if (!result) return report("eval", result.error(), 1);
    if (args.has("per-image"))
        if (auto ok = writeFileAtomic(args.get("per-image"), perImageJsonl(result.value())); !ok)
            return report("eval", ok.error(), 1);
    if (args.has("json"))
        std::printf("%s\n", evaluationJson(result.value()).c_str());
    else
        std::fputs(evaluationTable(result.value()).c_str(), stdout);
    std::string absent;
    if (!options.meteor) absent += "METEOR (--meteor-jar)";
    if (!options.spice)
        absent += std::string(absent.empty() ? "" : " and ") + "SPICE (--spice-jar)";
    if (!absent.empty())
        std::fprintf(stderr, "esper eval: %s not computed: they need their jars and Java\n",
                     absent.c_str());
    return 0;
}

} // namespace esper::cli
