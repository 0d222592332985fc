#include "models/weight_source.h"

#include <ATen/ATen.h>
#include <sstream>

namespace esper {
namespace {

std::string shapeText(at::IntArrayRef shape) {
    std::ostringstream s;
    s << "[";
    for (size_t i = 0; i < shape.size(); ++i)
        s << (i ? ", " : "") << shape[i];
    s << "]";
    return s.str();
}

c10::ScalarType scalarTypeOf(DType t) {
    switch (t) {
    case DType::Bool:
        return c10::kBool;
    case DType::U8:
        return c10::kByte;
    case DType::I8:
        return c10::kChar;
    case DType::I16:
        return c10::kShort;
    case DType::F16:
        return c10::kHalf;
    case DType::BF16:
        return c10::kBFloat16;
    case DType::I32:
        return c10::kInt;
    case DType::F32:
        return c10::kFloat;
    case DType::F64:
        return c10::kDouble;
    case DType::I64:
        return c10::kLong;
    default:
        return c10::ScalarType::Undefined;
    }
}

} // namespace

at::Tensor tensorFromFile(const SafetensorsFile& file, const TensorInfo& info) {
    const auto type = scalarTypeOf(info.dtype);
    if (type == c10::ScalarType::Undefined) return {};
    const unsigned char* bytes = file.bytes(info);
    auto keepAlive = file.mapping();
    auto options = at::TensorOptions().dtype(type);
    if (info.numel() == 0) return at::empty(info.shape, options);
    const size_t align = dtypeSize(info.dtype);
    at::Tensor t = at::from_blob(
        const_cast<unsigned char*>(bytes), info.shape, [keepAlive](void*) {}, options);
    return reinterpret_cast<uintptr_t>(bytes) % align == 0 ? t : t.clone();
}

at::Tensor WeightSource::get(const std::string& name, const std::vector<int64_t>& shape) {
    if (!contains(name)) {
        setError("'" + origin() + "' has no tensor '" + name + "'");
        return {};
    }
    return getOptional(name, shape);
}

at::Tensor WeightSource::getOptional(const std::string& name, const std::vector<int64_t>& shape) {
    if (!contains(name)) return {};
    at::Tensor t = fetch(name, shape);
    if (!t.defined()) {
        setError("'" + origin() + "': tensor '" + name + "' has a dtype models cannot use");
        return {};
    }
    if (t.sizes() != at::IntArrayRef(shape)) {
        setError("'" + origin() + "': tensor '" + name + "' has shape " + shapeText(t.sizes()) +
                 " but config.json implies " + shapeText(shape) +
                 "; the weights and config.json do not belong together");
        return {};
    }
    // NaN or infinite weights (a damaged file, a diverged training) would only come out as
    // "⁇" captions later: they are refused here, naming the tensor.
    if (at::isFloatingType(t.scalar_type()) && t.numel() > 0 &&
        !at::isfinite(t).all().item<bool>()) {
        setError("'" + origin() + "': tensor '" + name +
                 "' holds NaN or infinite values (a damaged file or a training that diverged)");
        return {};
    }
    const auto target = at::isFloatingType(t.scalar_type()) ? options_.dtype : t.scalar_type();
    return t.to(options_.device, target);
}

Result<std::unique_ptr<FileWeights>> FileWeights::open(const std::string& path,
                                                       ComputeOptions options) {
    auto file = SafetensorsFile::open(path);
    ESPER_TRY(file);
    return std::unique_ptr<FileWeights>(new FileWeights(std::move(file.value()), options));
}

const TensorInfo* FileWeights::lookup(const std::string& name) const {
    if (const auto* t = file_.find(name)) return t;
    return prefix_.empty() ? nullptr : file_.find(prefix_ + name);
}

bool FileWeights::contains(const std::string& name) const {
    return lookup(name) != nullptr;
}

at::Tensor FileWeights::fetch(const std::string& name, const std::vector<int64_t>&) {
    return tensorFromFile(file_, *lookup(name));
}

RandomWeights::RandomWeights(ComputeOptions options, uint64_t seed) : WeightSource(options) {
    at::manual_seed(seed);
}

at::Tensor RandomWeights::fetch(const std::string& name, const std::vector<int64_t>& shape) {
    const bool isNormWeight =
        shape.size() == 1 && name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0;
    if (isNormWeight) return at::ones(shape);
    if (shape.size() <= 1) return at::zeros(shape);
    return at::randn(shape) * 0.02;
}

} // namespace esper
