#include "models/mapper.h"

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
    const double scale = std::sqrt(double(shape_.prefixLength * shape_.lmDim) / shape_.clipDim);
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
