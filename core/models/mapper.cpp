#include "models/mapper.h"

#include "util/input_limits.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <cmath>

namespace esper {

Result<std::unique_ptr<Mapper>> Mapper::create(const MapperShape& s, WeightSource& w) {
    if (auto* files = dynamic_cast<FileWeights*>(&w)) files->setAlternativePrefix("clip_project.");
    std::unique_ptr<Mapper> m(new Mapper());
    m->shape_ = s;
    const int64_t out = s.prefixLength * s.lmDim;
    m->w0_ = w.get("model.0.weight", {s.hidden(), s.clipDim});
    m->b0_ = w.get("model.0.bias", {s.hidden()});
    m->w2_ = w.get("model.2.weight", {out, s.hidden()});
    m->b2_ = w.get("model.2.bias", {out});
    if (!w.ok()) return fail(ErrorCode::InvalidInput, w.error());
    return m;
}

int64_t MapperShape::parameterCount() const {
    const int64_t out = prefixLength * lmDim;
    return clipDim * hidden() + hidden() + hidden() * out + out;
}

Result<void> checkMapperShape(const MapperShape& s) {
    if (s.prefixLength < 1 || s.prefixLength > kMaxPrefixLength)
        return fail(ErrorCode::InvalidInput,
                    "a prefix length of " + std::to_string(s.prefixLength) +
                        " is out of range (1.." + std::to_string(kMaxPrefixLength) + ")");
    if (s.clipDim < 1 || s.clipDim > kMaxModelDimension || s.lmDim < 1 ||
        s.lmDim > kMaxModelDimension)
        return fail(ErrorCode::InvalidInput, "a mapper from " + std::to_string(s.clipDim) + " to " +
                                                 std::to_string(s.lmDim) +
                                                 " dimensions is out of range");
    // In double: the count itself may not fit 64 bits for absurd shapes.
    const double k = double(s.prefixLength) * double(s.lmDim);
    const double params = double(s.clipDim) * k / 2 + k * k / 2;
    if (params > double(kMaxMapperParameters))
        return fail(ErrorCode::InvalidInput,
                    "a prefix of " + std::to_string(s.prefixLength) + " × " +
                        std::to_string(s.lmDim) + " dimensions makes a mapper of " +
                        std::to_string(int64_t(params / 1e6)) + " million parameters, more than " +
                        std::to_string(kMaxMapperParameters / 1'000'000) +
                        " million; use a shorter prefix");
    return {};
}

std::unique_ptr<Mapper> Mapper::randomInit(const MapperShape& s, ComputeOptions options,
                                           uint64_t seed) {
    auto gen = at::detail::createCPUGenerator(seed);
    auto uniform = [&](std::vector<int64_t> shape, int64_t fanIn) {
        const double bound = 1.0 / std::sqrt(double(fanIn));
        return at::empty(shape).uniform_(-bound, bound, gen).to(options.device, options.dtype);
    };
    std::unique_ptr<Mapper> m(new Mapper());
    m->shape_ = s;
    const int64_t out = s.prefixLength * s.lmDim;
    m->w0_ = uniform({s.hidden(), s.clipDim}, s.clipDim);
    m->b0_ = uniform({s.hidden()}, s.clipDim);
    m->w2_ = uniform({out, s.hidden()}, s.hidden());
    m->b2_ = uniform({out}, s.hidden());
    return m;
}

at::Tensor Mapper::forward(const at::Tensor& features) const {
    const double scale =
        shape_.scaledInput ? std::sqrt(double(shape_.prefixLength * shape_.lmDim) / shape_.clipDim)
                           : 1.0;
    const at::Tensor x = features.to(w0_.device(), w0_.scalar_type()) / scale;
    const at::Tensor h = at::tanh(at::linear(x, w0_, b0_));
    return at::linear(h, w2_, b2_).view({features.size(0), shape_.prefixLength, shape_.lmDim});
}

std::vector<std::pair<std::string, at::Tensor>> Mapper::namedTensors() const {
    return {{"clip_project.model.0.weight", w0_},
            {"clip_project.model.0.bias", b0_},
            {"clip_project.model.2.weight", w2_},
            {"clip_project.model.2.bias", b2_}};
}

} // namespace esper
