// Every hyperparameter of ESPER's reinforcement learning in one JSON object. The defaults are the
// official trainer's (JiwanChung/esper: arguments.py overridden by configs/esper.yml, and by
// configs/esper_domain.yml for ESPER-Style); a small model's deviations are values in a config
// file, not forks in the code. A run writes the config it used beside its bundle.
#pragma once

#include "util/result.h"

#include <optional>
#include <string>
#include <vector>

namespace esper {

struct EsperConfig {
    // Queries. "free": a sentence-initial word alone (ESPER-Free, on plain GPT-2); "style":
    // "label: word" with the label uniform over `styles` (ESPER-Style, on a style generator).
    std::string mode = "free";
    std::vector<std::string> styles{"blog", "caption", "dialogue", "instruction",
                                    "news", "sns",     "story"};
    // The sentence-initial words: "english" (the project's list, counted on WikiText-2), a
    // .json {word: frequency} file, a text corpus to count them in, or "none" (style mode only:
    // the label alone). The `sentInitTop` most frequent are drawn by frequency, and
    // `extraPrompt` with weight (sum of theirs) / extraPromptDivisor.
    std::string sentInit = "english";
    int sentInitTop = 300;
    std::string extraPrompt = "The photo describes a";
    double extraPromptDivisor = 40;
    std::string dialogueInit = "A:"; // the init of the dialogue label

    // Rollouts.
    int batchSize = 128;
    int samplesPerImage = 1; // rollouts of one image in a batch (each with its own query)
    int responseLength = 20;
    double temperature = 0.7;
    int topK = 50; // implicit in the official code: Hugging Face's config default
    double topP = 1.0;
    int noRepeatNgram = 3;
    // "ban" (the official rule: every response is responseLength tokens), "allow" (a response
    // ends at end-of-text; the rewards after it are masked), or "bundle": as the starting
    // bundle decodes (its decoding.ban_eos), which bans it for GPT-2 bundles.
    std::string endOfText = "bundle";

    // Rewards: -klCoef·(log π - log π_ref) per token, the reference-fluency term, and at the last
    // token the goal gain·cos + bias (0 before `goalFrom`) plus the repetition penalty. Without a
    // gain and bias they are calibrated to mean 0 and deviation 1 over `calibrationBatches`
    // batches of the starting policy's samples (the official fallback).
    double klCoef = 0.15;
    std::optional<double> rewardGain = 50.0, rewardBias = -10.0;
    int calibrationBatches = 8;
    double fluencyThreshold = 70, fluencyCoef = 0.1, fluencyBias = 3.0;
    double repetitionPenalty = 0.025;
    int goalFrom = 50;
    // What the goal measures: "clip" (CLIP's image-text cosine, ESPER's reward),
    // "clip_contrastive" (how well CLIP picks the text's own image out of the batch's:
    // scale·cos(own) - log Σ_images exp(scale·cos), CLIP's own objective, which pays for what
    // tells an image from the others rather than for what all images share), or
    // "world_object_f1" (the synthetic world's ground truth read by the caption checker: a
    // perfect reward, which tests the PPO machinery apart from CLIP).
    std::string goal = "clip";
    // A control: the reward reads another image of the batch than the policy saw.
    bool controlOtherImage = false;

    // PPO. The advantage: "gae" (official: generalised advantage estimation from the value
    // model) or "group" (each response's return less the mean return of the other responses
    // to the same image, the same for each of its tokens, as GRPO and leave-one-out REINFORCE
    // estimate it; needs samples_per_image >= 2 and no value model is trained).
    std::string advantage = "gae";
    int minibatches = 16;
    int ppoEpochs = 4;
    double gamma = 1.0, lambda = 0.95;
    double clipRange = 0.2, valueClipRange = 0.2;
    double pgCoef = 1.0, vfCoef = 1.0;
    bool whitenRewards = true;
    bool whitenSqrtStd = true;                // the official whiten divides by sqrt(std)
    std::optional<double> supervisedKl = 0.1; // threshold of the time-axis KL loss; unset: off
    double supervisedKlCoef = 1.0;
    bool entropyLoss = true;
    double entropyThreshold = 70, entropyCoef = 0.2;
    // Warm-up phases, in iterations; unset: the official value for the mode (free 50 / 50,
    // style 0 / 10).
    std::optional<int> referenceRolloutsUntil, klOnlyUntil;

    // Optimisation: one AdamW over the policy's mapper and the value model.
    double learningRate = 1e-5;
    std::optional<double> valueLearningRate; // unset: learningRate
    double weightDecay = 0.01;
    int warmupIterations = 100;
    double totalEpisodes = 1e7; // the schedule decays to 0 over totalEpisodes / batchSize
    double maxGradNorm = 0;     // 0: no clipping (official)
    bool trainValueLm = true;   // the value model's own LM copy learns (unfix_value_model)

    // Measurement on the synthetic world: greedy `caption:` object F1 on held-out scenes every
    // `evalEvery` iterations (0: never), logged as eval_f1.
    int evalEvery = 0;
    int evalScenes = 200;
    // Two threads: the value model's passes beside the policy's, and each half of a rollout's
    // sampling and scoring beside the other. The halves are fixed, so a run gives the same
    // numbers with one thread or two.
    bool parallel = true;
    // The fixed parts of rows each rollout batch is sampled in (each with its own seed) and each
    // minibatch evaluated in: two threads take one part each, several workers (a number that
    // divides it) share them out. The numbers depend on the parts, not on who computes them.
    int parts = 2;

    int referenceUntil() const;
    int klOnly() const;
    int scheduleIterations() const;
    int minibatchSize() const { return batchSize / minibatches; }
    bool usesValueModel() const { return advantage == "gae"; }
    double valueRate() const { return valueLearningRate.value_or(learningRate); }

    // Checks the values (a batch that minibatches and samples per image divide, ...).
    Result<void> validate() const;
    // Whether `workers` data-parallel workers can share the parts out (they must divide them).
    Result<void> validateWorkers(int workers) const;
    std::string json() const;
};

// Applies a JSON object's fields to `config`; an unknown field or a value of the wrong type is
// an error that names it and `origin`.
Result<void> applyEsperConfigJson(const std::string& json, EsperConfig& config,
                                  const std::string& origin);
Result<EsperConfig> readEsperConfig(const std::string& path);

} // namespace esper
