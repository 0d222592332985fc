#include "bundle/bundle_builder.h"

#include "bundle/model_registry.h"
#include "io/model_config.h"
#include "io/safetensors.h"
#include "models/causal_lm.h"
#include "models/mapper.h"
#include "models/torch_guard.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <filesystem>

namespace esper {

namespace fs = std::filesystem;

Result<BundleManifest> createBundle(const NewBundle& spec) {
    return guardTorch("the bundle could not be created", [&]() -> Result<BundleManifest> {
        std::error_code ec;
        fs::create_directories(spec.dir, ec);
        if (ec) return fail("cannot create '" + spec.dir + "': " + ec.message());
        if (fs::exists(fs::path(spec.dir) / "esper.json"))
            return fail("'" + spec.dir + "' already holds a bundle; choose another folder");
        const fs::path bundleDir = fs::absolute(spec.dir);
        // Model references resolve as readBundleManifest will: beside the bundle, as given, or
        // in the models folder.
        auto locate = [&](const std::string& s) {
            const fs::path p(s);
            if (p.is_absolute()) return p;
            if (fs::exists(bundleDir / p)) return fs::weakly_canonical(bundleDir / p);
            if (fs::exists(p)) return fs::absolute(p);
            return fs::path(spec.modelsDir.empty() ? defaultModelsDir() : spec.modelsDir) / p;
        };
        auto clipConfig = readModelConfig(locate(spec.clip).string());
        ESPER_TRY(clipConfig);
        if (!std::holds_alternative<ClipConfig>(clipConfig.value()))
            return fail("'" + spec.clip + "' is not a CLIP model");
        auto lmConfig = readModelConfig(locate(spec.lm).string());
        ESPER_TRY(lmConfig);
        if (std::holds_alternative<ClipConfig>(lmConfig.value()))
            return fail("'" + spec.lm + "' is not a language model");
        const int64_t lmDim = std::holds_alternative<Gpt2Config>(lmConfig.value())
                                  ? std::get<Gpt2Config>(lmConfig.value()).embd
                                  : std::get<LlamaConfig>(lmConfig.value()).hidden;
        const MapperShape shape{std::get<ClipConfig>(clipConfig.value()).projectionDim, lmDim,
                                spec.prefixLength};
        ESPER_TRY(checkMapperShape(shape));
        const auto mapper = Mapper::randomInit(shape, {}, spec.seed);
        std::vector<at::Tensor> keep;
        std::vector<TensorBytes> tensors;
        for (const auto& [name, t] : mapper->namedTensors()) {
            keep.push_back(t.to(at::kCPU, at::kFloat).contiguous());
            tensors.push_back(
                {name, DType::F32, keep.back().sizes().vec(), keep.back().data_ptr()});
        }
        const std::string mapperPath = (bundleDir / "mapper.safetensors").string();
        if (auto ok = writeSafetensors(mapperPath, tensors,
                                       {{"format", "pt"}, {"esper", "random-init mapper"}});
            !ok)
            return ok.failure();
        BundleManifest m;
        m.name = spec.name.empty() ? bundleDir.filename().string() : spec.name;
        // esper.json keeps registry ids as ids and paths relative to the bundle, so a bundle
        // moved together with its models still loads.
        auto reference = [&](const std::string& model, const std::string& tokenizer) {
            const fs::path path = locate(model);
            std::string spec = model;
            if (fs::exists(fs::path(model)) || fs::exists(bundleDir / model)) {
                const std::string rel = fs::relative(path, bundleDir, ec).string();
                spec = ec || rel.empty() ? path.string()
                                         : (rel.rfind("..", 0) == 0 ? rel : "./" + rel);
            }
            return ModelReference{
                spec, path.string(),
                tokenizer.empty() ? path.string() : fs::absolute(tokenizer).string(), ""};
        };
        m.clip = reference(spec.clip, spec.clipTokenizer);
        m.lm = reference(spec.lm, spec.lmTokenizer);
        m.mapperPath = mapperPath;
        m.prefixLength = spec.prefixLength;
        m.styles = spec.styles;
        m.decoding = spec.decoding;
        ESPER_TRY(writeBundleManifest(m, bundleDir.string()));
        return readBundleManifest(bundleDir.string(), spec.modelsDir);
    });
}

} // namespace esper
