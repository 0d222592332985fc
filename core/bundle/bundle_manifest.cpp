#include "bundle/bundle_manifest.h"

#include "bundle/hf_cache.h"
#include "bundle/model_registry.h"
#include "util/file_util.h"
#include "util/json_text.h"

#include <filesystem>
#include <nlohmann/json.hpp>

namespace esper {
namespace {

namespace fs = std::filesystem;

Result<ModelReference> resolve(const nlohmann::json& v, const std::string& what,
                               const fs::path& bundleDir, const std::string& modelsDir,
                               const std::string& origin) {
    ModelReference ref;
    std::string tokenizer;
    if (v.is_string()) {
        ref.spec = v.get<std::string>();
    } else if (v.is_object() && v.contains("path") && v["path"].is_string()) {
        ref.spec = v["path"].get<std::string>();
        if (v.contains("tokenizer") && v["tokenizer"].is_string())
            tokenizer = v["tokenizer"].get<std::string>();
    } else {
        return fail(origin + ": \"" + what + "\" must be a model id, a path, or {\"path\": ...}");
    }
    // Non-throwing filesystem calls: a path the system cannot even look up (too long, say)
    // is simply not there.
    auto locate = [&](const std::string& spec) {
        const fs::path p(spec);
        if (p.is_absolute()) return p;
        std::error_code ec;
        if (spec.rfind("./", 0) == 0 || spec.rfind("../", 0) == 0 ||
            fs::exists(bundleDir / p, ec)) {
            const auto canonical = fs::weakly_canonical(bundleDir / p, ec);
            return ec ? bundleDir / p : canonical;
        }
        // A hub id: the models folder, else the user's Hugging Face cache (used in place).
        const fs::path local = fs::path(modelsDir) / p;
        if (!fs::exists(local, ec))
            if (const std::string cached = findInHfCache(spec); !cached.empty())
                return fs::path(cached);
        return local;
    };
    ref.path = locate(ref.spec).string();
    ref.tokenizer = tokenizer.empty() ? ref.path : locate(tokenizer).string();
    ref.tokenizerSpec = tokenizer;
    const char* role = what == "clip"    ? "CLIP model"
                       : what == "audio" ? "audio encoder"
                                         : "language model";
    // A Wav2CLIP folder converted from the released checkpoint may have weights and no config.
    const bool configNeeded = what != "audio";
    std::error_code ec;
    if (configNeeded && !fs::exists(fs::path(ref.path) / "config.json", ec))
        return fail("The bundle '" + bundleDir.string() + "' needs the " + role + " '" + ref.spec +
                    "', which is not at " + ref.path + ". " + howToGet(ref.spec, ref.path));
    if (!fs::exists(fs::path(ref.path) / "model.safetensors", ec))
        return fail("The " + std::string(role) + " at " + ref.path +
                    " has no model.safetensors (only safetensors weights are read). " +
                    howToGet(ref.spec, ref.path));
    return ref;
}

} // namespace

Result<BundleManifest> readBundleManifest(const std::string& dir, const std::string& modelsDir) {
    const fs::path base = fs::absolute(dir);
    const std::string origin = (base / "esper.json").string();
    std::error_code ec;
    if (!fs::exists(base / "esper.json", ec))
        return fail("'" + dir + "' is not an ESPER bundle: it has no esper.json");
    auto text = readTextFile(origin);
    ESPER_TRY(text);
    auto parsed = parseJsonText(text.value(), origin);
    ESPER_TRY(parsed);
    nlohmann::json j = std::move(parsed.value());
    if (!j.is_object()) return fail(origin + " must hold a JSON object");
    // Another program's JSON saved as esper.json is refused, not read as far as it happens to
    // fit; manifests from before "format" existed have none and are read.
    if (j.contains("format") && j["format"] != "esper-bundle")
        return fail(origin + " is not an ESPER bundle manifest: its \"format\" is " +
                    dumpJson(j["format"]).substr(0, 60) + ", not \"esper-bundle\"");
    BundleManifest m;
    m.dir = base.string();
    const std::string models = modelsDir.empty() ? defaultModelsDir() : modelsDir;
    try {
        m.name = j.value("name", base.filename().string());
        m.description = j.value("description", "");
        for (const char* key : {"clip", "lm", "mapper"})
            if (!j.contains(key)) return fail(origin + " lacks \"" + std::string(key) + "\"");
        auto clip = resolve(j["clip"], "clip", base, models, origin);
        ESPER_TRY(clip);
        m.clip = clip.value();
        auto lm = resolve(j["lm"], "lm", base, models, origin);
        ESPER_TRY(lm);
        m.lm = lm.value();
        if (j.contains("audio") && !j["audio"].is_null()) {
            auto audio = resolve(j["audio"], "audio", base, models, origin);
            ESPER_TRY(audio);
            m.audio = audio.value();
        }
        const fs::path mapper = base / j["mapper"].get<std::string>();
        if (!fs::exists(mapper, ec))
            return fail("The bundle '" + dir + "' names mapper weights " + mapper.string() +
                        ", which do not exist; the bundle is incomplete (copy it again, or "
                        "train a mapper with `esper train`)");
        m.mapperPath = mapper.string();
        // A whole number: 2.7 must not quietly become 2.
        if (j.contains("prefix_length") && !j["prefix_length"].is_number_integer())
            return fail(origin + ": prefix_length must be a whole number, not " +
                        dumpJson(j["prefix_length"]).substr(0, 60));
        m.prefixLength = j.value("prefix_length", int64_t{10});
        if (m.prefixLength < 1 || m.prefixLength > kMaxPrefixLength)
            return fail(origin + ": prefix_length must be 1.." + std::to_string(kMaxPrefixLength));
        if (j.contains("mapper_input")) {
            const auto& v = j["mapper_input"];
            if (v != "scaled" && v != "raw")
                return fail(origin +
                            ": mapper_input must be \"scaled\" (ESPER) or \"raw\" "
                            "(ClipCap), not " +
                            dumpJson(v).substr(0, 60));
            m.mapperScaledInput = v == "scaled";
        }
        if (j.contains("cpu_weights")) {
            const auto& v = j["cpu_weights"];
            if (v != "fp32" && v != "fp16" && v != "int8")
                return fail(origin + ": cpu_weights must be \"fp32\", \"fp16\" or \"int8\", not " +
                            dumpJson(v).substr(0, 60));
            m.cpuWeights = v.get<std::string>();
        }
        if (j.contains("styles")) m.styles = j["styles"].get<std::vector<std::string>>();
        if (j.contains("training")) {
            if (!j["training"].is_object())
                return fail(origin + ": \"training\" must be an object");
            m.trainingJson = dumpJson(j["training"]);
        }
        if (j.contains("decoding")) {
            ESPER_TRY(applyDecodeJson(dumpJson(j["decoding"]), m.decoding, origin + " decoding"));
        }
    } catch (const nlohmann::json::exception& e) {
        return fail(origin + ": a field has the wrong type: " + e.what());
    }
    return m;
}

Result<void> writeBundleManifest(const BundleManifest& m, const std::string& dir) {
    nlohmann::ordered_json j;
    j["format"] = "esper-bundle";
    j["version"] = 1;
    j["name"] = m.name;
    if (!m.description.empty()) j["description"] = m.description;
    auto ref = [&](const ModelReference& r) {
        nlohmann::ordered_json o;
        o["path"] = r.spec;
        const std::string& t = r.tokenizerSpec;
        if (!t.empty() && t[0] != '/' && t.rfind("./", 0) != 0 && t.rfind("../", 0) != 0) {
            o["tokenizer"] = t; // a registry id
        } else if (!r.tokenizer.empty() && r.tokenizer != r.path) {
            std::error_code ec;
            const auto rel = fs::relative(r.tokenizer, dir, ec);
            const std::string text = rel.string();
            o["tokenizer"] = ec || text.empty()         ? r.tokenizer
                             : text.rfind("..", 0) == 0 ? text
                                                        : "./" + text;
        }
        return o;
    };
    j["clip"] = ref(m.clip);
    j["lm"] = ref(m.lm);
    if (!m.audio.spec.empty()) j["audio"] = ref(m.audio);
    j["mapper"] = fs::path(m.mapperPath).filename().string();
    j["prefix_length"] = m.prefixLength;
    if (!m.mapperScaledInput) j["mapper_input"] = "raw";
    if (!m.cpuWeights.empty()) j["cpu_weights"] = m.cpuWeights;
    j["styles"] = m.styles;
    j["decoding"] = nlohmann::ordered_json::parse(decodeOptionsJson(m.decoding));
    if (!m.trainingJson.empty()) j["training"] = nlohmann::ordered_json::parse(m.trainingJson);
    return writeFileAtomic((fs::path(dir) / "esper.json").string(), dumpJson(j, 2) + "\n");
}

} // namespace esper
