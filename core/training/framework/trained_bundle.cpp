#include "training/framework/trained_bundle.h"

#include "training/framework/trainable_weights.h"
#include "util/file_util.h"

#include <filesystem>

namespace esper {
namespace {

namespace fs = std::filesystem;

// A bundle reference to `ref` as seen from `outDir`: registry ids stay ids, paths become
// relative to the new bundle.
std::string referenceFrom(const ModelReference& ref, const std::string& startDir,
                          const std::string& outDir) {
    const fs::path spec(ref.spec);
    const bool isPath = spec.is_absolute() || ref.spec.rfind("./", 0) == 0 ||
                        ref.spec.rfind("../", 0) == 0 || fs::exists(fs::path(startDir) / spec);
    if (!isPath || spec.is_absolute()) return ref.spec;
    std::error_code ec;
    const auto rel = fs::relative(ref.path, fs::absolute(outDir), ec);
    // Beside each other (models/demo and models/demo-supervised): a relative path that moves
    // with both; far apart: an absolute one.
    int climbs = 0;
    for (const auto& part : rel)
        climbs += part == "..";
    if (ec || rel.empty() || climbs > 1) return fs::absolute(ref.path).string();
    const std::string text = rel.string();
    return text.rfind("..", 0) == 0 ? text : "./" + text;
}

} // namespace

Result<void> writeTrainedBundle(const TrainedBundle& b) {
    const fs::path out(b.outDir);
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) return fail("cannot create " + b.outDir + ": " + ec.message());
    ESPER_TRY(b.mapper->save((out / "mapper.safetensors").string(), {{"esper", b.mapperNote}}));
    for (const auto& [name, text] : b.extraFiles)
        ESPER_TRY(writeFileAtomic((out / name).string(), text));
    BundleManifest m = *b.start;
    m.clip.spec = referenceFrom(m.clip, m.dir, b.outDir);
    m.lm.spec = referenceFrom(m.lm, m.dir, b.outDir);
    if (!m.audio.spec.empty()) m.audio.spec = referenceFrom(m.audio, m.dir, b.outDir);
    m.mapperPath = (out / "mapper.safetensors").string();
    if (b.styles) m.styles = *b.styles;
    m.description = b.description;
    m.trainingJson = b.trainingJson;
    return writeBundleManifest(m, b.outDir);
}

} // namespace esper
