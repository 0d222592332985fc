#include "verify/model_check.h"

#include "models/causal_lm.h"
#include "models/clip.h"
#include "models/weight_source.h"

#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>

namespace esper {

Result<ModelSummary> inspectModel(const std::string& dir, const std::string& device,
                                  const std::string& dtype) {
    try {
        c10::InferenceMode guard;
        auto compute = parseComputeOptions(device, dtype);
        if (!compute) return fail(compute.error());
        auto config = readModelConfig(dir);
        if (!config) return fail(config.error());
        auto weights = FileWeights::open(dir + "/model.safetensors", compute.value());
        if (!weights) return fail(weights.error());
        if (const auto* c = std::get_if<ClipConfig>(&config.value())) {
            auto clip = ClipModel::create(*c, *weights.value());
            if (!clip) return fail(clip.error());
        } else {
            auto lm = makeCausalLm(config.value(), *weights.value());
            if (!lm) return fail(lm.error());
        }
        ModelSummary s;
        s.family = familyName(config.value());
        s.device = describe(compute.value());
        for (const auto& t : weights.value()->file().tensors()) {
            ++s.tensors;
            s.parameters += t.numel();
        }
        return s;
    } catch (const c10::Error& e) {
        return fail("'" + dir + "' could not be loaded: " + e.what_without_backtrace());
    }
}

} // namespace esper
