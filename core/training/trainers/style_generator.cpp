#include "training/trainers/style_generator.h"

#include "models/torch_guard.h"
#include "text/lm_tokenizer.h"
#include "training/framework/teacher_forcing.h"
#include "training/framework/train_runner.h"
#include "training/framework/trainable_models.h"
#include "util/file_util.h"

#include <ATen/ATen.h>
#include <algorithm>
#include <c10/util/Exception.h>
#include <cctype>
#include <sstream>

namespace esper {

TrainSettings StyleGeneratorOptions::defaults() {
    TrainSettings t;
    t.steps = 100000;
    t.batchSize = 32;
    t.learningRate = 1e-5;
    t.warmupSteps = 1000;
    t.clipNorm = 0;
    return t;
}

Result<StyleGeneratorReport> trainStyleGenerator(const StyleGeneratorOptions& o) {
    return guardTorch("style-generator training failed", [&]() -> Result<StyleGeneratorReport> {
        auto text = readTextFile(o.textsPath);
        ESPER_TRY(text);
        // Lines by label, in file order.
        std::map<std::string, std::vector<std::string>> byLabel;
        std::istringstream lines(text.value());
        std::string line;
        int number = 0;
        while (std::getline(lines, line)) {
            ++number;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.find_first_not_of(" \t") == std::string::npos) continue;
            const size_t colon = line.find(':');
            std::string label = colon == std::string::npos ? "" : line.substr(0, colon);
            const bool plain =
                !label.empty() && std::all_of(label.begin(), label.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
                });
            if (!plain)
                return fail(o.textsPath + ":" + std::to_string(number) +
                            ": a line must read \"label: text\" (a one-word label, then a colon)");
            std::transform(label.begin(), label.end(), label.begin(), ::tolower);
            byLabel[label].push_back(label + ":" + line.substr(colon + 1));
        }
        if (byLabel.empty()) return fail(o.textsPath + " holds no \"label: text\" line");
        StyleGeneratorReport report;
        size_t rarest = SIZE_MAX;
        for (const auto& [label, texts] : byLabel) {
            report.linesPerLabel[label] = static_cast<int>(texts.size());
            rarest = std::min(rarest, texts.size());
        }
        std::mt19937_64 pick(o.train.seed);
        std::vector<std::string> used;
        for (auto& [label, texts] : byLabel) {
            if (o.balance && texts.size() > rarest) {
                for (size_t i = texts.size(); i > 1; --i)
                    std::swap(texts[i - 1], texts[static_cast<size_t>(pick() % i)]);
                texts.resize(rarest);
            }
            used.insert(used.end(), texts.begin(), texts.end());
        }
        report.linesUsed = static_cast<int>(used.size());

        auto config = readModelConfig(o.lmDir);
        ESPER_TRY(config);
        const std::string tokenizerDir = o.tokenizerDir.empty() ? o.lmDir : o.tokenizerDir;
        auto tokenizer = loadLmTokenizer(config.value(), tokenizerDir);
        ESPER_TRY(tokenizer);
        auto compute = parseComputeOptions(o.device, "fp32");
        ESPER_TRY(compute);
        auto lm = trainableLmCopy(o.lmDir, compute.value(), o.train.seed);
        ESPER_TRY(lm);
        int64_t bos = -1;
        if (const auto* g = std::get_if<Gpt2Config>(&config.value())) bos = g->bosTokenId;
        if (const auto* l = std::get_if<LlamaConfig>(&config.value())) bos = l->bosTokenId;
        const auto eos = lm->lm->eosTokenIds().front();
        if (o.withEos && eos >= lm->lm->vocabSize())
            return fail(o.lmDir + ": its end-of-text id " + std::to_string(eos) +
                        " lies outside its vocabulary of " + std::to_string(lm->lm->vocabSize()));
        std::vector<std::vector<int>> encoded;
        for (const auto& l : used) {
            std::vector<int> ids;
            if (o.withBos && bos >= 0) ids.push_back(static_cast<int>(bos));
            const auto body = tokenizer.value()->encode(l);
            ids.insert(ids.end(), body.begin(), body.end());
            if (o.withEos) ids.push_back(static_cast<int>(eos));
            if (ids.size() > size_t(o.maxLength)) ids.resize(size_t(o.maxLength));
            if (ids.size() >= 2) encoded.push_back(std::move(ids));
        }
        if (encoded.empty()) return fail(o.textsPath + " holds no line of two tokens or more");
        const CausalLm& model = *lm->lm;
        const auto trained =
            runTraining(lm->weights->parameters(), o.train, [&](int, std::mt19937_64& rng) {
                std::vector<std::vector<int>> rows;
                for (int b = 0; b < o.train.batchSize; ++b)
                    rows.push_back(encoded[rng() % encoded.size()]);
                // Padding is never scored; id 0 exists in every vocabulary.
                const auto batch = prefixedRows(rows, std::vector<size_t>(rows.size(), 0), 0, 0);
                return nextTokenLoss(
                    model.forward({model.embed(batch.ids), {}, {}, false}, nullptr), batch.labels);
            });
        auto summary = summaryOfRun(trained);
        ESPER_TRY(summary);
        static_cast<TrainSummary&>(report) = summary.value();
        ESPER_TRY(saveLmFolder(lm.value(), o.lmDir, o.outDir,
                               "fine-tuned as a style generator on " + o.textsPath, tokenizerDir));
        return report;
    });
}

} // namespace esper
