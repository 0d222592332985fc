#include "training/framework/trainable_models.h"

#include "util/file_util.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <filesystem>

namespace esper {

Result<TrainableMapper> trainableMapper(const MapperShape& shape, ComputeOptions options,
                                        uint64_t seed, const std::string& from) {
    ESPER_TRY(checkMapperShape(shape));
    std::unique_ptr<Mapper> initial;
    if (from.empty()) {
        initial = Mapper::randomInit(shape, {}, seed);
    } else {
        auto file = FileWeights::open(from, {});
        ESPER_TRY(file);
        auto loaded = Mapper::create(shape, *file.value());
        if (!loaded)
            return fail("the mapper " + from + " does not fit (CLIP " +
                        std::to_string(shape.clipDim) + "-d, language model " +
                        std::to_string(shape.lmDim) + "-d, prefix " +
                        std::to_string(shape.prefixLength) + "): " + loaded.error());
        initial = std::move(loaded.value());
    }
    TrainableMapper out;
    out.weights = std::make_unique<TrainableWeights>(options, seed, 0.0);
    auto mapper = Mapper::create(shape, *out.weights);
    ESPER_TRY(mapper);
    out.mapper = std::move(mapper.value());
    c10::NoGradGuard noGrad;
    for (const auto& [name, value] : initial->namedTensors())
        out.weights->named()
            .at(name.substr(std::string("clip_project.").size()))
            .copy_(value.to(options.device, options.dtype));
    return out;
}

Result<TrainableLm> trainableLmCopy(const std::string& dir, ComputeOptions options, uint64_t seed) {
    auto config = readModelConfig(dir);
    ESPER_TRY(config);
    TrainableLm out;
    out.weights = std::make_unique<TrainableWeights>(options, seed);
    auto made = makeCausalLm(config.value(), *out.weights);
    ESPER_TRY(made);
    out.lm = std::move(made.value());
    // The values through the loader's own reading of the file (key prefixes such as the hub's
    // "transformer.", stored dtypes), then copied into the parameters.
    auto file = FileWeights::open(dir + "/model.safetensors", options);
    ESPER_TRY(file);
    ESPER_TRY(makeCausalLm(config.value(), *file.value()));
    c10::NoGradGuard noGrad;
    for (auto& [name, param] : out.weights->named()) {
        const at::Tensor value = file.value()->get(name, param.sizes().vec());
        if (!value.defined()) return fail(file.value()->error());
        param.copy_(value);
    }
    return out;
}

Result<void> saveLmFolder(const TrainableLm& lm, const std::string& sourceDir,
                          const std::string& outDir, const std::string& producedBy,
                          const std::string& tokenizerDir) {
    namespace fs = std::filesystem;
    auto configText = readTextFile(sourceDir + "/config.json");
    ESPER_TRY(configText);
    std::error_code ec;
    fs::create_directories(outDir, ec);
    if (ec) return fail("cannot create " + outDir + ": " + ec.message());
    if (auto ok = lm.weights->saveModelFolder(outDir, configText.value(), producedBy); !ok)
        return ok;
    for (const char* name : {"tokenizer.model", "tokenizer.json", "tokenizer_config.json",
                             "vocab.json", "merges.txt", "special_tokens_map.json"}) {
        const fs::path from = fs::path(tokenizerDir.empty() ? sourceDir : tokenizerDir) / name;
        if (!fs::exists(from)) continue;
        if (auto ok = copyFileOver(from.string(), (fs::path(outDir) / name).string(),
                                   "the tokenizer file");
            !ok)
            return ok;
    }
    return {};
}

} // namespace esper
