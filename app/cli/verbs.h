// One function per `esper` verb; each returns the process exit code. A verb about to run models
// calls ensureBlasCoreType(argv) first (blas_tuning.h), which may restart the process once.
#pragma once

namespace esper::cli {

int runTokenize(int argc, char** argv);
int runVerifyReference(int argc, char** argv);
int runBench(int argc, char** argv);
int runMetrics(int argc, char** argv);
int runQuality(int argc, char** argv);
int runEval(int argc, char** argv);
int runBundle(int argc, char** argv);
int runPretrain(int argc, char** argv);
int runTrain(int argc, char** argv);
// The kinds of `esper train` (verb_train*.cpp), dispatched by runTrain.
int runTrainEsper(int argc, char** argv);
int runTrainStyleGenerator(int argc, char** argv);
int runTrainSentInit(int argc, char** argv);
#ifdef ESPER_WITH_MEDIA
int runPreprocess(int argc, char** argv);
int runCaption(int argc, char** argv);
int runWorld(int argc, char** argv);
int runScore(int argc, char** argv);
// `train supervised --bundle START --pairs DATASET`: fine-tuning on the user's captions.
int runTrainSupervisedPairs(int argc, char** argv);
#endif

} // namespace esper::cli
