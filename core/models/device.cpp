#include "models/device.h"

#include "kernels/weight_kernels.h"

#include <ATen/Context.h>
#include <torch/cuda.h>

namespace esper {

Result<c10::Device> parseDevice(const std::string& text) {
    if (text.empty() || text == "cpu") return c10::Device(c10::kCPU);
    if (text.rfind("cuda", 0) == 0) {
        int index = 0;
        if (text.size() > 4) {
            if (text[4] != ':' || text.size() == 5) return fail("bad device '" + text + "'");
            try {
                index = std::stoi(text.substr(5));
            } catch (...) {
                return fail("bad device '" + text + "'");
            }
        }
        if (!at::hasCUDA())
            return fail("device '" + text +
                        "' asked for, but this build has no CUDA support "
                        "or no CUDA device is visible");
        const auto count = static_cast<int>(torch::cuda::device_count());
        if (index < 0 || index >= count)
            return fail("device '" + text + "' asked for, but only " + std::to_string(count) +
                        " CUDA device(s) are visible (cuda:0 to cuda:" + std::to_string(count - 1) +
                        ")");
        return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    return fail("unknown device '" + text + "' (use cpu, cuda or cuda:N)");
}

Result<c10::ScalarType> parseDType(const std::string& text) {
    if (text.empty() || text == "fp32" || text == "float32") return c10::kFloat;
    if (text == "fp16" || text == "float16") return c10::kHalf;
    if (text == "bf16" || text == "bfloat16") return c10::kBFloat16;
    return fail("unknown precision '" + text + "' (use fp32, fp16, bf16 or, on the CPU, int8)");
}

Result<ComputeOptions> parseComputeOptions(const std::string& device, const std::string& dtype) {
    auto d = parseDevice(device);
    ESPER_TRY(d);
    if (dtype == "int8") {
        if (!d->is_cpu()) return fail("int8 weights are a CPU mode; on CUDA use fp16 or bf16");
        return ComputeOptions{d.value(), c10::kFloat, WeightFormat::Int8};
    }
    auto t = parseDType(dtype);
    ESPER_TRY(t);
    // LibTorch's fp16 and bf16 arithmetic on the CPU is slow outside the matrix products (and
    // fp16's inside them too): there they mean fp16 or bf16 weights, the rest in fp32.
    if (d->is_cpu() && t.value() == c10::kHalf)
        return ComputeOptions{d.value(), c10::kFloat, WeightFormat::Half};
    if (d->is_cpu() && t.value() == c10::kBFloat16)
        return ComputeOptions{d.value(), c10::kFloat, WeightFormat::BFloat16};
    return ComputeOptions{d.value(), t.value()};
}

std::string describe(const ComputeOptions& options) {
    const char* weights = options.weights == WeightFormat::Int8       ? " (int8 weights)"
                          : options.weights == WeightFormat::Half     ? " (fp16 weights)"
                          : options.weights == WeightFormat::BFloat16 ? " (bf16 weights)"
                                                                      : "";
    return options.device.str() + "/" + std::string(c10::toString(options.dtype)) + weights;
}

WeightFormat clipWeights(const ComputeOptions& options) {
    if (!options.device.is_cpu() || options.dtype != c10::kFloat) return WeightFormat::Dense;
    if (options.weights == WeightFormat::BFloat16 ||
        (options.weights != WeightFormat::Dense && kernels::fastBf16Products()))
        return WeightFormat::BFloat16;
    return kernels::activeIsa() == kernels::Isa::Generic ? WeightFormat::Dense
                                                         : WeightFormat::FloatPanels;
}

} // namespace esper
