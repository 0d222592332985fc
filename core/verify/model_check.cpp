#include "verify/model_check.h"

#include "models/causal_lm.h"
#include "models/clip.h"
#include "models/torch_guard.h"
#include "models/weight_source.h"

#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>

namespace esper {

Result<ModelSummary> inspectModel(const std::string& dir, const std::string& device,
                                  const std::string& dtype) {
    return guardTorch("'" + dir + "' could not be loaded", [&]() -> Result<ModelSummary> {
        c10::InferenceMode guard;
        auto compute = parseComputeOptions(device, dtype);
        ESPER_TRY(compute);
        auto config = readModelConfig(dir);
        ESPER_TRY(config);
        auto weights = FileWeights::open(dir + "/model.safetensors", compute.value());
        ESPER_TRY(weights);
        if (const auto* c = std::get_if<ClipConfig>(&config.value())) {
            auto clip = ClipModel::create(*c, *weights.value());
            ESPER_TRY(clip);
        } else {
            auto lm = makeCausalLm(config.value(), *weights.value());
            ESPER_TRY(lm);
        }
        ModelSummary s;
        s.family = familyName(config.value());
        s.device = describe(compute.value());
        for (const auto& t : weights.value()->file().tensors()) {
            ++s.tensors;
            s.parameters += t.numel();
        }
        return s;
    });
}

} // namespace esper
