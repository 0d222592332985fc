#include "verbs.h"

#include "models/runtime.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

namespace {

struct Verb {
    const char* name;
    int (*run)(int, char**);
    const char* summary;
};

const Verb kVerbs[] = {
    {"bundle", esper::cli::runBundle, "check a bundle, or create one with a fresh mapper"},
    {"models", esper::cli::runModels,
     "import PyTorch checkpoints (ClipCap, Lightning, state dicts) without running them"},
    {"verify-reference", esper::cli::runVerifyReference,
     "check a model folder against a reference io.safetensors"},
    {"tokenize", esper::cli::runTokenize, "print token ids (GPT-2, CLIP, sentencepiece)"},
#ifdef ESPER_WITH_MEDIA
    {"caption", esper::cli::runCaption, "caption images in one or more styles, with CLIP scores"},
    {"world", esper::cli::runWorld, "render the synthetic world's scenes and its text corpus"},
    {"score", esper::cli::runScore, "CLIP-S / RefCLIP-S for existing captions"},
    {"preprocess", esper::cli::runPreprocess, "decode an image and show CLIP's preprocessing"},
#endif
    {"eval", esper::cli::runEval,
     "score captions against a dataset's references (BLEU, ROUGE-L, "
     "CIDEr-D, METEOR, SPICE, CLIP-S)"},
    {"pretrain", esper::cli::runPretrain,
     "train the project's small CLIP or GPT-2 on the synthetic world"},
    {"train", esper::cli::runTrain,
     "train a mapper with ESPER (RL, no captions) or supervised; a style generator"},
    {"metrics", esper::cli::runMetrics, "BLEU, ROUGE-L and CIDEr-D of an evaluation set"},
    {"quality", esper::cli::runQuality,
     "flag captions that need review (loops, cut off, short, low CLIP-S, near duplicates)"},
    {"bench", esper::cli::runBench, "measure GPT-2 decoding and CLIP image encoding"},
    {"launch", esper::cli::runLaunch,
     "run N workers of an esper command on this machine (torchrun's environment)"},
};

void usage(FILE* out) {
    std::fprintf(out, "esper - ESPER Studio's command line: style-prompted image captioning with "
                      "CLIP and a frozen language model\n\nusage: esper VERB [options]\n\n");
    for (const auto& v : kVerbs)
        std::fprintf(out, "  %-18s %s\n", v.name, v.summary);
    std::fprintf(out, "\n'esper VERB --help' describes a verb's options.\n");
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
        !std::strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    for (const auto& v : kVerbs) {
        if (std::string(argv[1]) != v.name) continue;
        esper::configureRuntime();
        // Over a file-size limit (ulimit -f), a write then fails with EFBIG and is reported
        // like a full disk, instead of the signal killing the process mid-file.
        std::signal(SIGXFSZ, SIG_IGN);
        // The last resort: whatever escapes a verb becomes one line that says what was being
        // done, and a failure status, never an abort.
        try {
            const int code = v.run(argc, argv);
            // Output that never arrived (a full disk, a closed pipe) is a failure whatever the
            // verb thought: it printed its results into nothing.
            if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
                std::fprintf(stderr, "esper %s: cannot write to standard output: %s\n", v.name,
                             std::strerror(errno));
                return 1;
            }
            return code;
        } catch (const std::exception& e) {
            // Cut: a message may quote a path thousands of characters long.
            std::fprintf(stderr, "esper %s: failed unexpectedly: %.400s\n", v.name, e.what());
        } catch (...) {
            std::fprintf(stderr, "esper %s: failed unexpectedly\n", v.name);
        }
        return 1;
    }
    std::fprintf(stderr, "esper: unknown verb '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
