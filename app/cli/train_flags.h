// The training flags every training verb shares (steps, batch, rate, warmup, seeds, log,
// checkpoints and resume), and the progress line they print.
#pragma once

#include "args.h"
#include "training/framework/train_loop.h"

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace esper::cli {

std::vector<OptionSpec> trainFlagSpecs();
extern const char* const kTrainFlagsHelp;
// `defaults` supplies the values of flags that are absent. The log and checkpoint default to
// `dir`/train.jsonl and `dir`/checkpoint.safetensors. Returns a usage problem, or empty.
std::string applyTrainFlags(const Args& args, const std::string& dir, TrainSettings& settings);
// {steps, resumed_from, first_loss, last_loss}: what every training verb prints first.
nlohmann::ordered_json summaryJson(const TrainSummary& summary);
// Makes the first Ctrl+C set this flag (a training then stops after its step with a checkpoint
// written) and a second one end the process.
const std::atomic<bool>* interruptFlag();
// Whether Ctrl+C stopped the training (its checkpoint is then written for --resume).
bool trainingInterrupted();
// Adds `seconds` to `out` and prints it as the verb's result. After Ctrl+C it also says where
// the run stopped and how to go on ("esper VERB: interrupted after STOPPED_AT; RESUME") and
// returns 130; otherwise 0.
int finishTraining(const char* verb, nlohmann::ordered_json& out, double seconds,
                   const std::string& stoppedAt, const std::string& resume);
// The same for a verb that writes a bundle: adds "bundle" and the images it could not read.
int finishBundleTraining(const char* verb, nlohmann::ordered_json& out, double seconds,
                         const std::string& stoppedAt, const std::string& bundleDir,
                         const std::vector<std::string>& skippedImages);

} // namespace esper::cli
