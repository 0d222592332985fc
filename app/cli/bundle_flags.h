// --bundle / --models-dir / --device / --dtype, shared by the verbs that load a bundle.
#pragma once

#include "args.h"
#include "captioning/captioner.h"
#include "distributed/world.h"

#include <memory>
#include <string>
#include <vector>

namespace esper::cli {

std::vector<OptionSpec> bundleFlagSpecs();
extern const char* const kBundleFlagsHelp;
// Loads `bundleDir`, else the --bundle one, else the default; on failure prints the reason and
// returns null with `exitCode` set.
// Among several workers (`world`), --device cuda is this worker's own GPU.
std::unique_ptr<Captioner> loadBundleFromFlags(const char* verb, const Args& args, int& exitCode,
                                               const std::string& bundleDir = "",
                                               const WorldOptions* world = nullptr);

} // namespace esper::cli
