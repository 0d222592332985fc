#include "bundle/checkpoint_import.h"

#include "bundle/bundle_manifest.h"
#include "io/safetensors.h"
#include "io/torch_checkpoint.h"
#include "models/wav2clip_config.h"
#include "util/file_util.h"
#include "util/json_text.h"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>

namespace esper {

namespace {

namespace fs = std::filesystem;
using Named = std::map<std::string, const CheckpointTensor*>;

const char* const kMapperKeys[] = {"model.0.weight", "model.0.bias", "model.2.weight",
                                   "model.2.bias"};

// The first prefix P (in name order) under which the weights hold P + every key, if any:
// "" for a bare state dict, "model.mapper." or "policy.model." inside Lightning's.
std::optional<std::string> prefixHolding(const Named& weights, std::span<const char* const> keys) {
    const std::string anchor = keys.front();
    for (const auto& [name, t] : weights) {
        if (!name.ends_with(anchor)) continue;
        const std::string prefix = name.substr(0, name.size() - anchor.size());
        bool all = true;
        for (const char* key : keys)
            all = all && weights.count(prefix + key);
        if (all) return prefix;
    }
    return std::nullopt;
}

std::optional<std::string> mapperPrefix(const Named& weights) {
    return prefixHolding(weights, kMapperKeys);
}
std::optional<std::string> clipCapPrefix(const Named& weights) {
    static const char* const keys[] = {"gpt.transformer.wte.weight", "clip_project.model.0.weight"};
    return prefixHolding(weights, keys);
}
std::optional<std::string> wav2ClipPrefix(const Named& weights) {
    static const char* const keys[] = {"audio_encoder.layer1.0.conv1.weight",
                                       "audio_encoder.conv1.weight"};
    return prefixHolding(weights, keys);
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

// esper.json for an imported ClipCap: the folder becomes a bundle `esper caption` reads.
Result<void> writeClipCapBundle(const Named& weights, const std::string& prefix,
                                const std::string& dir, const std::string& from, int64_t width,
                                const ImportOptions& options, ImportReport& report) {
    const auto& first = weights.at(prefix + "clip_project.model.0.weight")->shape;
    const auto& second = weights.at(prefix + "clip_project.model.2.weight")->shape;
    const int64_t clipDim = first[1];
    if (second[0] % width)
        return fail(ErrorCode::InvalidInput, "'" + from + "': the mapper makes " +
                                                 std::to_string(second[0]) +
                                                 " values, not a whole number of " +
                                                 std::to_string(width) + "-wide embeddings");
    const bool scaled = options.mapperInput == MapperInput::Auto
                            ? !prefix.empty()
                            : options.mapperInput == MapperInput::Scaled;
    report.notes.push_back(
        std::string("the mapper reads CLIP features ") +
        (scaled ? "divided by sqrt(k·E/C), as ESPER trains it" : "unscaled, as ClipCap trains it") +
        (options.mapperInput == MapperInput::Auto
             ? (prefix.empty() ? " (a bare ClipCap state dict)" : " (an ESPER checkpoint)")
             : " (as given)"));
    std::string clip = options.clip;
    if (clip.empty() && clipDim == 512) {
        clip = "openai/clip-vit-base-patch32";
        report.notes.push_back("CLIP: ViT-B/32, which makes the 512-d features the mapper reads "
                               "(another CLIP model of that size: give --clip)");
    }
    if (clip.empty()) {
        report.notes.push_back("no esper.json: the mapper reads " + std::to_string(clipDim) +
                               "-d features, and no CLIP model was given (--clip)");
        return {};
    }
    // Paths given on the command line are relative to where it ran; the manifest holds them
    // absolute. Ids stay ids.
    auto reference = [](const std::string& spec) {
        std::error_code ec;
        return fs::exists(spec, ec) ? fs::absolute(spec).string() : spec;
    };
    BundleManifest m;
    m.name = fs::path(from).stem().string();
    m.description = "imported from the ClipCap checkpoint " + fs::path(from).filename().string();
    m.clip.spec = reference(clip);
    m.lm.spec = "./lm";
    m.lm.path = (fs::path(dir) / "lm").string();
    const std::string tokenizer = reference(options.tokenizer);
    if (fs::path(tokenizer).is_absolute())
        m.lm.tokenizer = tokenizer;
    else
        m.lm.tokenizer = m.lm.tokenizerSpec = tokenizer;
    m.mapperPath = (fs::path(dir) / "mapper.safetensors").string();
    m.prefixLength = second[0] / width;
    m.mapperScaledInput = scaled;
    m.styles = {scaled ? "caption" : "plain"};
    ESPER_TRY(writeBundleManifest(m, dir));
    report.written.push_back((fs::path(dir) / "esper.json").string());
    return {};
}

Result<void> writeClipCap(const Named& weights, const std::string& prefix, const std::string& dir,
                          const std::string& from, const ImportOptions& options,
                          ImportReport& report) {
    auto bad = [&](const std::string& why) {
        return fail(ErrorCode::InvalidInput, "'" + from + "': " + why);
    };
    const std::string gpt = prefix + "gpt.transformer.";
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
    if (width <= 0 || width % heads)
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
    const std::string model = prefix + "gpt.";
    for (const auto& [name, t] : weights) {
        if (name == model + "lm_head.weight") {
            if (t->bytes != wte->bytes)
                return bad("its lm_head differs from the token embeddings, and GPT-2 ties them");
            continue;
        }
        if (name.starts_with(model)) tensors.emplace_back(name.substr(model.size()), t);
    }
    const std::string lm = (fs::path(dir) / "lm").string();
    std::error_code ec;
    fs::create_directories(lm, ec);
    if (ec) return bad("cannot create " + lm + ": " + ec.message());
    ESPER_TRY(writeFileAtomic((fs::path(lm) / "config.json").string(), dumpJson(config, 2) + "\n"));
    auto written = writeTensors((fs::path(lm) / "model.safetensors").string(), tensors, from);
    ESPER_TRY(written);
    report.written.push_back((fs::path(lm) / "config.json").string());
    report.written.push_back(written.value());
    report.notes.push_back("GPT-2: " + std::to_string(layers) + " layers, " +
                           std::to_string(width) + " wide, " + std::to_string(heads) + " heads" +
                           (options.heads > 0 ? " (as given)" : " (from its width)") +
                           ", vocabulary " + std::to_string(wte->shape[0]));
    ESPER_TRY(writeMapper(weights, prefix + "clip_project.", dir, from, report));
    return writeClipCapBundle(weights, prefix, dir, from, width, options, report);
}

// Wav2CLIP's encoder and its MLP into CLIP's space, under the names the engine reads; the
// distillation's image-side MLP and loss parameters only served training.
Result<void> writeWav2Clip(const Named& weights, const std::string& prefix, const std::string& dir,
                           const std::string& from, ImportReport& report) {
    std::vector<std::pair<std::string, const CheckpointTensor*>> tensors;
    size_t left = 0;
    for (const auto& [name, t] : weights) {
        const std::string inner = name.substr(std::min(prefix.size(), name.size()));
        if (name.starts_with(prefix) &&
            (inner.starts_with("audio_encoder.") || inner.starts_with("audio_transform.")))
            tensors.emplace_back(inner, t);
        else
            ++left;
    }
    const std::string model = (fs::path(dir) / "model.safetensors").string();
    ESPER_TRY(writeTensors(model, tensors, from));
    auto file = SafetensorsFile::open(model);
    ESPER_TRY(file);
    auto config = inferWav2ClipConfig(file.value());
    ESPER_TRY(config);
    const std::string configPath = (fs::path(dir) / "config.json").string();
    ESPER_TRY(writeFileAtomic(configPath, config->json()));
    report.written.push_back(model);
    report.written.push_back(configPath);
    std::string widths;
    for (const int64_t w : config->widths)
        widths += (widths.empty() ? "" : ", ") + std::to_string(w);
    report.notes.push_back(
        "Wav2CLIP: " + std::to_string(config->widths.size()) + " ResNet stages (" + widths +
        " channels), " + std::to_string(config->embeddingSize()) + "-d embeddings" +
        (left ? "; " + std::to_string(left) + " tensors used only in training left out" : ""));
    return {};
}

} // namespace

namespace {
constexpr std::pair<ImportKind, const char*> kImportKinds[] = {
    {ImportKind::Auto, "auto"},     {ImportKind::ClipCap, "clipcap"},
    {ImportKind::Mapper, "mapper"}, {ImportKind::Wav2Clip, "wav2clip"},
    {ImportKind::Raw, "raw"},       {ImportKind::Folder, "folder"}};
} // namespace

Result<ImportKind> parseImportKind(const std::string& name) {
    for (const auto& [kind, text] : kImportKinds)
        if (name == text) return kind;
    return fail(ErrorCode::InvalidInput,
                "'" + name + "' is not an import kind (auto, clipcap, mapper, wav2clip, raw)");
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
    const auto clipCap = clipCapPrefix(weights);
    const auto wav2Clip = wav2ClipPrefix(weights);
    const auto prefix = mapperPrefix(weights);
    ImportReport report;
    report.kind = options.kind != ImportKind::Auto ? options.kind
                  : clipCap                        ? ImportKind::ClipCap
                  : wav2Clip                       ? ImportKind::Wav2Clip
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
        ESPER_TRY(writeClipCap(weights, *clipCap, outDir, file, options, report));
        break;
    case ImportKind::Wav2Clip:
        if (!wav2Clip)
            return fail(ErrorCode::InvalidInput,
                        "'" + file +
                            "' holds no Wav2CLIP encoder (no audio_encoder.conv1 and "
                            "audio_encoder.layer1 weights)");
        ESPER_TRY(writeWav2Clip(weights, *wav2Clip, outDir, file, report));
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
