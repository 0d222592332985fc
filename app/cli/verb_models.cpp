#include "args.h"
#include "verbs.h"

#include "bundle/checkpoint_import.h"

#include <cstdio>
#include <cstring>

namespace esper::cli {

namespace {
const char* kHelp =
    "usage: esper models download REPO [--revision R] [--endpoint URL] [--models-dir DIR]\n"
    "                                [--no-cache] [--json]\n"
    "       esper models size REPO [--revision R] [--endpoint URL] [--json]\n"
    "       esper models list [--json] | path REPO | remove REPO [--models-dir DIR]\n"
    "       esper models import FILE|FOLDER --out DIR [--as KIND] [--heads N] [--link]\n"
    "                             [--clip ID|DIR] [--tokenizer ID|DIR] [--mapper-input M]\n\n"
    "download: a model from the Hugging Face hub ({endpoint}/{repo}/resolve/{revision}/{file};\n"
    "        --endpoint or $HF_ENDPOINT, $HF_TOKEN for gated models) into the models folder\n"
    "        (--models-dir, $ESPER_MODELS_DIR or ~/.local/share/esper-studio/models): the\n"
    "        registry's files for a model it knows, else config, safetensors weights and\n"
    "        tokenizer files. Resumes FILE.incomplete after a dropped connection or a restart,\n"
    "        checks the sha256 the hub gives for large files (else the size), retries transient\n"
    "        failures. A model already in your Hugging Face cache is used in place. A model\n"
    "        that arrives as a PyTorch checkpoint (Wav2CLIP) is converted to safetensors.\n"
    "        Progress goes to stderr; --json prints one object on stdout at the end:\n"
    "        {id, path, source, files: [{name, bytes, verified}], converted?}.\n"
    "size:   the memory its weights need, read from the safetensors headers (a few KB);\n"
    "        --json: {id, weight_bytes}.\n"
    "list:   the models folder's models, their sizes and unfinished downloads (--json: an\n"
    "        array of {id, path, bytes, partial}).\n"
    "path:   where a model lives (the models folder, else the Hugging Face cache).\n"
    "remove: a model from the models folder.\n"
    "import: turns a PyTorch checkpoint (.pt, .pth, .ckpt; the ZIP or the legacy torch.save\n"
    "        format) into the project's own files, without running anything in it: code a\n"
    "        checkpoint would run when loaded in Python is refused by name.\n"
    "  --as clipcap   ClipCap's gpt.* + clip_project.* (also an ESPER checkpoint's\n"
    "                 policy.model.*): DIR/lm (a GPT-2 folder, config.json inferred from the\n"
    "                 shapes), DIR/mapper.safetensors and DIR/esper.json, so DIR is a bundle\n"
    "    --clip ID|DIR        the bundle's CLIP model (default: openai/clip-vit-base-patch32\n"
    "                         when the mapper reads 512-d features)\n"
    "    --tokenizer ID|DIR   GPT-2's tokenizer (default: gpt2)\n"
    "    --mapper-input raw|scaled  whether the mapper divides its input by sqrt(k*E/C) as\n"
    "                         ESPER does (default: raw for a bare ClipCap state dict, scaled\n"
    "                         for an ESPER checkpoint)\n"
    "  --as wav2clip  Wav2CLIP's audio_encoder.* + audio_transform.* (the released\n"
    "                 Lightning checkpoint): a Wav2CLIP folder (model.safetensors,\n"
    "                 config.json) to name as a bundle's \"audio\"\n"
    "  --as mapper    a checkpoint holding a mapper under any prefix (a Lightning checkpoint's\n"
    "                 model.mapper.): DIR/mapper.safetensors\n"
    "  --as raw       the state dict as DIR/model.safetensors, tensors and dtypes as they are\n"
    "  --as auto      (default) whichever of these the tensors' names say\n"
    "  --heads N      GPT-2's head count, for a width other than the released sizes\n"
    "  FOLDER         a Hugging Face model folder: its config, safetensors and tokenizer\n"
    "                 files copied into DIR (--link: linked instead)\n";
} // namespace

int runModels(int argc, char** argv) {
    for (const char* sub : {"download", "size", "list", "where", "path", "remove"})
        if (argc >= 3 && !std::strcmp(argv[2], sub)) {
#ifdef ESPER_WITH_MEDIA
            return runModelsHub(argc, argv, kHelp);
#else
            return report("models", "this build has no network support (ESPER_ENGINE_ONLY)", 2);
#endif
        }
    if (argc < 3 || std::strcmp(argv[2], "import")) {
        if (argc >= 3 && !std::strcmp(argv[2], "--help")) {
            std::fputs(kHelp, stdout);
            return 0;
        }
        return report("models", "say download, size, list, path, remove or import", 2, kHelp);
    }
    Args args;
    if (auto stop = args.parseVerb(argc - 1, argv + 1, "models import", kHelp,
                                   {{"out", true, false, true},
                                    {"as"},
                                    {"heads"},
                                    {"link", false},
                                    {"clip"},
                                    {"tokenizer"},
                                    {"mapper-input"}},
                                   1, "give exactly one checkpoint file"))
        return *stop;
    ImportOptions options;
    auto kind = parseImportKind(args.get("as", "auto"));
    if (!kind) return report("models import", kind.error(), 2);
    options.kind = kind.value();
    options.heads = args.integer("heads", 0, 1, 4096);
    options.link = args.has("link");
    options.clip = args.get("clip");
    options.tokenizer = args.get("tokenizer", options.tokenizer);
    const std::string input = args.get("mapper-input", "auto");
    if (input != "auto" && input != "raw" && input != "scaled")
        return report("models import", "--mapper-input is raw, scaled or auto, not " + input, 2);
    options.mapperInput = input == "raw"      ? MapperInput::Raw
                          : input == "scaled" ? MapperInput::Scaled
                                              : MapperInput::Auto;
    if (!args.problem().empty()) return report("models import", args.problem(), 2);
    auto imported = importCheckpoint(args.positional()[0], args.get("out"), options);
    if (!imported) return report("models import", imported.error(), 1);
    std::printf("imported %s as %s\n", args.positional()[0].c_str(),
                importKindName(imported->kind));
    for (const auto& path : imported->written)
        std::printf("  wrote %s\n", path.c_str());
    for (const auto& note : imported->notes)
        std::printf("  %s\n", note.c_str());
    return 0;
}

} // namespace esper::cli
