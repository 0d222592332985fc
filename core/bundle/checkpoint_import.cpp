#include "bundle/checkpoint_import.h"

#include "io/safetensors.h"
#include "io/torch_checkpoint.h"
#include "util/file_util.h"
#include "util/json_text.h"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

namespace esper {

namespace {

namespace fs = std::filesystem;
using Named = std::map<std::string, const CheckpointTensor*>;

const char* const kMapperKeys[] = {"model.0.weight", "model.0.bias", "model.2.weight",
                                   "model.2.bias"};

// The prefix under which the weights hold one mapper ("clip_project.", "model.mapper.", ""),
// if they do.
std::optional<std::string> mapperPrefix(const Named& weights) {
    for (const auto& [name, t] : weights) {
        const std::string suffix = "model.0.weight";
        if (!name.ends_with(suffix)) continue;
        const std::string prefix = name.substr(0, name.size() - suffix.size());
        bool all = true;
        for (const char* key : kMapperKeys)
            all = all && weights.count(prefix + key);
        if (all) return prefix;
    }
    return std::nullopt;
}

Result<std::string>
writeTensors(const std::string& path,
             const std::vector<std::pair<std::string, const CheckpointTensor*>>& tensors,
             const std::string& from) {
    std::vector<TensorBytes> out;
    for (const auto& [name, t] : tensors)
        out.push_back({name, t->dtype, t->shape, t->bytes.data()});
    ESPER_TRY(writeSafetensors(path, out, {{"format", "pt"}, {"esper", "imported from " + from}}));
    return path;
}

Result<void> writeMapper(const Named& weights, const std::string& prefix, const std::string& dir,
                         const std::string& from, ImportReport& report) {
    std::vector<std::pair<std::string, const CheckpointTensor*>> tensors;
    for (const char* key : kMapperKeys)
        tensors.emplace_back(key, weights.at(prefix + key));
    const auto& first = weights.at(prefix + "model.0.weight")->shape;
    const auto& second = weights.at(prefix + "model.2.weight")->shape;
    if (first.size() != 2 || second.size() != 2 || second[1] != first[0])
        return fail(ErrorCode::InvalidInput,
                    "'" + from + "': the mapper's two layers do not fit together");
    auto path = writeTensors((fs::path(dir) / "mapper.safetensors").string(), tensors, from);
    ESPER_TRY(path);
    report.written.push_back(path.value());
    report.notes.push_back("the mapper" + (prefix.empty() ? "" : " under '" + prefix + "'") +
                           " maps " + std::to_string(first[1]) + "-d CLIP features to " +
                           std::to_string(second[0]) +
                           " values (prefix length × the language model's width)");
    return {};
}

int64_t gpt2Heads(int64_t width) {
    switch (width) {
    case 768:
        return 12;
    case 1024:
        return 16;
    case 1280:
        return 20;
    case 1600:
        return 25;
    default:
        return 0;
    }
}

Result<void> writeClipCap(const Named& weights, const std::string& dir, const std::string& from,
                          const ImportOptions& options, ImportReport& report) {
    auto bad = [&](const std::string& why) {
        return fail(ErrorCode::InvalidInput, "'" + from + "': " + why);
    };
    const std::string gpt = "gpt.transformer.";
    const auto* wte = weights.count(gpt + "wte.weight") ? weights.at(gpt + "wte.weight") : nullptr;
    const auto* wpe = weights.count(gpt + "wpe.weight") ? weights.at(gpt + "wpe.weight") : nullptr;
    if (!wte || !wpe || wte->shape.size() != 2 || wpe->shape.size() != 2)
        return bad("the GPT-2 embeddings are missing");
    int64_t layers = 0;
    while (weights.count(gpt + "h." + std::to_string(layers) + ".ln_1.weight"))
        ++layers;
    const int64_t width = wte->shape[1];
    const int64_t heads = options.heads > 0 ? options.heads : gpt2Heads(width);
    if (heads <= 0)
        return bad("a GPT-2 " + std::to_string(width) +
                   " wide is not one of the released sizes, so its head count cannot be known; "
                   "give it with --heads");
    if (width % heads)
        return bad(std::to_string(heads) + " heads do not divide " + std::to_string(width));
    nlohmann::ordered_json config{{"model_type", "gpt2"},
                                  {"architectures", {"GPT2LMHeadModel"}},
                                  {"vocab_size", wte->shape[0]},
                                  {"n_positions", wpe->shape[0]},
                                  {"n_embd", width},
                                  {"n_layer", layers},
                                  {"n_head", heads},
                                  {"activation_function", "gelu_new"},
                                  {"layer_norm_epsilon", 1e-5},
                                  {"tie_word_embeddings", true}};
    if (const auto it = weights.find(gpt + "h.0.mlp.c_fc.weight");
        it != weights.end() && it->second->shape.size() == 2 && it->second->shape[1] != 4 * width)
        config["n_inner"] = it->second->shape[1];
    // GPT-2 ties its head to the token embeddings; ClipCap saves the tie as a second name.
    std::vector<std::pair<std::string, const CheckpointTensor*>> tensors;
    for (const auto& [name, t] : weights) {
        if (name == "gpt.lm_head.weight") {
            if (t->bytes != wte->bytes)
                return bad("its lm_head differs from the token embeddings, and GPT-2 ties them");
            continue;
        }
        if (name.starts_with("gpt.")) tensors.emplace_back(name.substr(4), t);
    }
    const std::string lm = (fs::path(dir) / "lm").string();
    std::error_code ec;
    fs::create_directories(lm, ec);
    if (ec) return bad("cannot create " + lm + ": " + ec.message());
    ESPER_TRY(writeFileAtomic((fs::path(lm) / "config.json").string(), dumpJson(config, 2) + "\n"));
    auto model = writeTensors((fs::path(lm) / "model.safetensors").string(), tensors, from);
    ESPER_TRY(model);
    report.written.push_back((fs::path(lm) / "config.json").string());
    report.written.push_back(model.value());
    report.notes.push_back("GPT-2: " + std::to_string(layers) + " layers, " +
                           std::to_string(width) + " wide, " + std::to_string(heads) + " heads" +
                           (options.heads > 0 ? " (as given)" : " (from its width)") +
                           ", vocabulary " + std::to_string(wte->shape[0]) +
                           "; its tokenizer is GPT-2's (the registry's \"gpt2\")");
    return writeMapper(weights, "clip_project.", dir, from, report);
}

} // namespace

namespace {
constexpr std::pair<ImportKind, const char*> kImportKinds[] = {{ImportKind::Auto, "auto"},
                                                               {ImportKind::ClipCap, "clipcap"},
                                                               {ImportKind::Mapper, "mapper"},
                                                               {ImportKind::Raw, "raw"},
                                                               {ImportKind::Folder, "folder"}};
} // namespace

Result<ImportKind> parseImportKind(const std::string& name) {
    for (const auto& [kind, text] : kImportKinds)
        if (name == text) return kind;
    return fail(ErrorCode::InvalidInput,
                "'" + name + "' is not an import kind (auto, clipcap, mapper, raw)");
}

const char* importKindName(ImportKind kind) {
    for (const auto& [k, text] : kImportKinds)
        if (k == kind) return text;
    return "auto";
}

// A Hugging Face folder: what a model folder needs, copied or linked; weights must be
// safetensors (a pytorch_model.bin is imported with `esper models import FILE`).
Result<ImportReport> importFolder(const std::string& dir, const std::string& outDir, bool link) {
    std::error_code ec;
    if (!fs::exists(fs::path(dir) / "config.json", ec))
        return fail(ErrorCode::InvalidInput, "'" + dir +
                                                 "' is a folder without config.json: not a "
                                                 "Hugging Face model folder");
    fs::create_directories(outDir, ec);
    if (ec) return fail("cannot create " + outDir + ": " + ec.message());
    ImportReport report;
    report.kind = ImportKind::Folder;
    bool weights = false;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        const bool wanted = name == "config.json" || name.ends_with(".safetensors") ||
                            name == "model.safetensors.index.json" || name == "vocab.json" ||
                            name == "merges.txt" || name.starts_with("tokenizer") ||
                            name == "special_tokens_map.json" || name == "generation_config.json" ||
                            name == "preprocessor_config.json";
        if (!wanted || !entry.is_regular_file(ec)) continue;
        weights = weights || name.ends_with(".safetensors");
        const fs::path target = fs::path(outDir) / name;
        fs::remove(target, ec);
        if (link)
            fs::create_symlink(fs::absolute(entry.path()), target, ec);
        else
            fs::copy_file(entry.path(), target, ec);
        if (ec)
            return fail("cannot " + std::string(link ? "link " : "copy ") + name + ": " +
                        ec.message());
        report.written.push_back(target.string());
    }
    if (!weights)
        report.notes.push_back("no safetensors weights: convert its .bin with esper models import "
                               "FILE --as raw first");
    report.notes.push_back(std::string(link ? "linked" : "copied") + " from " + dir);
    return report;
}

Result<ImportReport> importCheckpoint(const std::string& file, const std::string& outDir,
                                      const ImportOptions& options) {
    std::error_code isDir;
    if (fs::is_directory(file, isDir)) return importFolder(file, outDir, options.link);
    auto checkpoint = readTorchCheckpoint(file);
    ESPER_TRY(checkpoint);
    Named weights;
    for (const auto& [name, t] : stateDictOf(checkpoint.value()))
        weights[name] = t;
    if (weights.empty())
        return fail(ErrorCode::InvalidInput, "'" + file + "' holds no tensors to import");
    const bool clipCap =
        weights.count("gpt.transformer.wte.weight") && weights.count("clip_project.model.0.weight");
    const auto prefix = mapperPrefix(weights);
    ImportReport report;
    report.kind = options.kind != ImportKind::Auto ? options.kind
                  : clipCap                        ? ImportKind::ClipCap
                  : prefix                         ? ImportKind::Mapper
                                                   : ImportKind::Raw;
    std::error_code ec;
    fs::create_directories(outDir, ec);
    if (ec) return fail("cannot create " + outDir + ": " + ec.message());
    for (const auto& skipped : checkpoint->skipped)
        report.notes.push_back("not imported: " + skipped);
    switch (report.kind) {
    case ImportKind::ClipCap:
        if (!clipCap)
            return fail(ErrorCode::InvalidInput, "'" + file +
                                                     "' is not a ClipCap checkpoint "
                                                     "(no gpt.* and clip_project.*)");
        ESPER_TRY(writeClipCap(weights, outDir, file, options, report));
        break;
    case ImportKind::Mapper:
        if (!prefix)
            return fail(ErrorCode::InvalidInput,
                        "'" + file + "' holds no mapper (model.0 and model.2 weights and biases)");
        ESPER_TRY(writeMapper(weights, *prefix, outDir, file, report));
        break;
    default: {
        std::vector<std::pair<std::string, const CheckpointTensor*>> all(weights.begin(),
                                                                         weights.end());
        auto path = writeTensors((fs::path(outDir) / "model.safetensors").string(), all, file);
        ESPER_TRY(path);
        report.written.push_back(path.value());
        report.notes.push_back(std::to_string(all.size()) + " tensors, as they were");
    }
    }
    return report;
}

} // namespace esper
