#include "training/esper/esper_config.h"

#include "util/file_util.h"
#include "util/json_text.h"

#include <cmath>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>

namespace esper {
namespace {

using Json = nlohmann::ordered_json;

// One entry per config field: its JSON name, how to read it (an error names what it wanted)
// and how to write it. Reading and writing share the table, so a field cannot be written under
// one name and read under another.
struct Field {
    const char* name;
    std::function<std::string(const Json&)> read; // returns what was wrong, or empty
    std::function<Json()> write;
};

Field number(const char* name, double& v) {
    return {name,
            [&v](const Json& j) -> std::string {
                if (!j.is_number()) return "a number";
                v = j.get<double>();
                return {};
            },
            [&v] { return Json(v); }};
}

Field integer(const char* name, int& v) {
    return {
        name,
        [&v](const Json& j) -> std::string {
            if (!j.is_number_integer() ||
                (!j.is_number_unsigned() && j.get<int64_t>() < std::numeric_limits<int>::min()) ||
                (j.is_number_unsigned() ? j.get<uint64_t>()
                                        : uint64_t(std::max<int64_t>(0, j.get<int64_t>()))) >
                    uint64_t(std::numeric_limits<int>::max()))
                return "a whole number that fits 32 bits";
            v = j.get<int>();
            return {};
        },
        [&v] { return Json(v); }};
}

Field flag(const char* name, bool& v) {
    return {name,
            [&v](const Json& j) -> std::string {
                if (!j.is_boolean()) return "true or false";
                v = j.get<bool>();
                return {};
            },
            [&v] { return Json(v); }};
}

Field text(const char* name, std::string& v) {
    return {name,
            [&v](const Json& j) -> std::string {
                if (!j.is_string()) return "a string";
                v = j.get<std::string>();
                return {};
            },
            [&v] { return Json(v); }};
}

Field texts(const char* name, std::vector<std::string>& v) {
    return {name,
            [&v](const Json& j) -> std::string {
                if (!j.is_array()) return "a list of strings";
                std::vector<std::string> out;
                for (const auto& e : j) {
                    if (!e.is_string()) return "a list of strings";
                    out.push_back(e.get<std::string>());
                }
                v = std::move(out);
                return {};
            },
            [&v] { return Json(v); }};
}

template <class T> Field optional(const char* name, std::optional<T>& v, bool whole) {
    return {name,
            [&v, whole](const Json& j) -> std::string {
                if (j.is_null()) {
                    v.reset();
                    return {};
                }
                if (whole ? !j.is_number_integer() : !j.is_number())
                    return whole ? "a whole number or null" : "a number or null";
                v = j.get<T>();
                return {};
            },
            [&v] { return v ? Json(*v) : Json(nullptr); }};
}

std::vector<Field> fields(EsperConfig& c) {
    return {text("mode", c.mode),
            texts("styles", c.styles),
            text("sent_init", c.sentInit),
            integer("sent_init_top", c.sentInitTop),
            text("extra_prompt", c.extraPrompt),
            number("extra_prompt_divisor", c.extraPromptDivisor),
            text("dialogue_init", c.dialogueInit),
            integer("batch_size", c.batchSize),
            integer("samples_per_image", c.samplesPerImage),
            integer("response_length", c.responseLength),
            number("temperature", c.temperature),
            integer("top_k", c.topK),
            number("top_p", c.topP),
            integer("no_repeat_ngram", c.noRepeatNgram),
            text("end_of_text", c.endOfText),
            number("kl_coef", c.klCoef),
            optional("reward_gain", c.rewardGain, false),
            optional("reward_bias", c.rewardBias, false),
            integer("calibration_batches", c.calibrationBatches),
            number("fluency_threshold", c.fluencyThreshold),
            number("fluency_coef", c.fluencyCoef),
            number("fluency_bias", c.fluencyBias),
            number("repetition_penalty", c.repetitionPenalty),
            integer("goal_from", c.goalFrom),
            text("goal", c.goal),
            flag("control_other_image", c.controlOtherImage),
            text("advantage", c.advantage),
            integer("minibatches", c.minibatches),
            integer("ppo_epochs", c.ppoEpochs),
            number("gamma", c.gamma),
            number("lambda", c.lambda),
            number("clip_range", c.clipRange),
            number("value_clip_range", c.valueClipRange),
            number("pg_coef", c.pgCoef),
            number("vf_coef", c.vfCoef),
            flag("whiten_rewards", c.whitenRewards),
            flag("whiten_sqrt_std", c.whitenSqrtStd),
            optional("supervised_kl", c.supervisedKl, false),
            number("supervised_kl_coef", c.supervisedKlCoef),
            flag("entropy_loss", c.entropyLoss),
            number("entropy_threshold", c.entropyThreshold),
            number("entropy_coef", c.entropyCoef),
            optional("reference_rollouts_until", c.referenceRolloutsUntil, true),
            optional("kl_only_until", c.klOnlyUntil, true),
            number("learning_rate", c.learningRate),
            optional("value_learning_rate", c.valueLearningRate, false),
            number("weight_decay", c.weightDecay),
            integer("warmup_iterations", c.warmupIterations),
            number("total_episodes", c.totalEpisodes),
            number("max_grad_norm", c.maxGradNorm),
            flag("train_value_lm", c.trainValueLm),
            integer("eval_every", c.evalEvery),
            integer("eval_scenes", c.evalScenes),
            flag("parallel", c.parallel),
            integer("parts", c.parts)};
}

} // namespace

int EsperConfig::referenceUntil() const {
    return referenceRolloutsUntil.value_or(mode == "style" ? 0 : 50);
}

int EsperConfig::klOnly() const {
    return klOnlyUntil.value_or(mode == "style" ? 10 : 50);
}

int EsperConfig::scheduleIterations() const {
    return std::max(1, static_cast<int>(std::ceil(totalEpisodes / batchSize)));
}

Result<void> EsperConfig::validate() const {
    if (mode != "free" && mode != "style")
        return fail("mode must be \"free\" or \"style\", not \"" + mode + "\"");
    if (mode == "style" && styles.empty()) return fail("style mode needs at least one style");
    if (mode == "free" && sentInit == "none")
        return fail("free mode needs sentence-initial words (sent_init \"none\" leaves a query "
                    "empty)");
    if (goal != "clip" && goal != "clip_contrastive" && goal != "world_object_f1")
        return fail("goal must be \"clip\", \"clip_contrastive\" or \"world_object_f1\", not "
                    "\"" +
                    goal + "\"");
    if (advantage != "gae" && advantage != "group")
        return fail("advantage must be \"gae\" or \"group\", not \"" + advantage + "\"");
    if (advantage == "group" && samplesPerImage < 2)
        return fail("the \"group\" advantage compares the responses to one image: "
                    "samples_per_image must be at least 2");
    if (endOfText != "ban" && endOfText != "allow" && endOfText != "bundle")
        return fail("end_of_text must be \"ban\", \"allow\" or \"bundle\"");
    if (batchSize < 2 || minibatches < 1 || batchSize % minibatches || batchSize / minibatches < 2)
        return fail("batch_size (" + std::to_string(batchSize) + ") must be a multiple of " +
                    "minibatches (" + std::to_string(minibatches) + ") with at least 2 rows in " +
                    "each");
    if (samplesPerImage < 1 || batchSize % samplesPerImage)
        return fail("batch_size must be a multiple of samples_per_image");
    if (responseLength < 1 || ppoEpochs < 1 || sentInitTop < 1 || calibrationBatches < 1)
        return fail("response_length, ppo_epochs, sent_init_top and calibration_batches must be "
                    "at least 1");
    if (temperature <= 0 || topK < 0 || topP <= 0 || topP > 1 || noRepeatNgram < 0)
        return fail("temperature must be positive, top_k at least 0, top_p in (0, 1] and "
                    "no_repeat_ngram at least 0");
    if (rewardGain.has_value() != rewardBias.has_value())
        return fail("give both reward_gain and reward_bias, or neither (then they are "
                    "calibrated)");
    if (learningRate <= 0 || valueRate() <= 0 || totalEpisodes < batchSize)
        return fail("the learning rates must be positive and total_episodes at least one batch");
    if (parts < 1 || parts > minibatchSize())
        return fail("parts (" + std::to_string(parts) + ") must be between 1 and a minibatch's " +
                    "rows (batch_size / minibatches = " + std::to_string(minibatchSize()) +
                    "), so that every part of every minibatch holds rows");
    if (evalEvery < 0 || evalScenes < 1) return fail("eval_every must be >= 0, eval_scenes >= 1");
    return {};
}

Result<void> EsperConfig::validateWorkers(int workers) const {
    if (parts % workers == 0) return {};
    return fail("the config's parts (" + std::to_string(parts) +
                ") must be a multiple of the number of workers (" + std::to_string(workers) +
                "): --set parts=" + std::to_string(workers) +
                " (or a multiple), in every run that is to take the same steps");
}

std::string EsperConfig::json() const {
    EsperConfig copy = *this;
    Json j = Json::object();
    for (const auto& f : fields(copy))
        j[f.name] = f.write();
    return dumpJson(j, 2) + "\n";
}

Result<void> applyEsperConfigJson(const std::string& text, EsperConfig& config,
                                  const std::string& origin) {
    auto parsed = parseOrderedJsonText(text, origin);
    ESPER_TRY(parsed);
    const Json& j = parsed.value();
    if (!j.is_object()) return fail(origin + " must hold a JSON object of ESPER settings");
    EsperConfig next = config;
    auto table = fields(next);
    for (const auto& [key, value] : j.items()) {
        const Field* field = nullptr;
        for (const auto& f : table)
            if (key == f.name) field = &f;
        if (!field) return fail(origin + ": unknown setting \"" + key + "\"");
        if (auto wanted = field->read(value); !wanted.empty())
            return fail(origin + ": \"" + key + "\" must be " + wanted + ", not " +
                        dumpJson(value));
    }
    if (auto ok = next.validate(); !ok) return fail(origin + ": " + ok.error());
    config = next;
    return {};
}

Result<EsperConfig> readEsperConfig(const std::string& path) {
    auto text = readTextFile(path);
    ESPER_TRY(text);
    EsperConfig config;
    ESPER_TRY(applyEsperConfigJson(text.value(), config, path));
    return config;
}

} // namespace esper
