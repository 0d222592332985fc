// One function per `esper` verb; each returns the process exit code. A verb about to run models
// calls ensureBlasCoreType(argv) first (blas_tuning.h), which may restart the process once.
#pragma once

namespace esper::cli {

using Verb = int(int argc, char** argv);

// Models, text, metrics and datasets.
Verb runTokenize, runVerifyReference, runBench, runMetrics, runQuality, runEval, runBundle,
    runModels;
// Several workers of one command on this machine (verb_launch.cpp).
Verb runLaunch;
// Training; the kinds of `esper train` (verb_train*.cpp) are dispatched by runTrain.
Verb runPretrain, runTrain, runTrainEsper, runTrainStyleGenerator, runTrainSentInit;
#ifdef ESPER_WITH_MEDIA
// The verbs that read image files, `train supervised --bundle START --pairs DATASET` among them.
Verb runPreprocess, runCaption, runWorld, runScore, runTrainSupervisedPairs;
// esper models download|size|list|where|remove (Qt Network); `help` is the verb's usage.
int runModelsHub(int argc, char** argv, const char* help);
#endif

} // namespace esper::cli
