// --bundle / --models-dir / --device / --dtype, shared by the verbs that load a bundle.
#pragma once

#include "args.h"
#include "captioning/captioner.h"

#include <memory>
#include <string>
#include <vector>

namespace esper::cli {

std::vector<OptionSpec> bundleFlagSpecs();
extern const char* const kBundleFlagsHelp;
// Loads `bundleDir`, else the --bundle one, else the default; on failure prints the reason and
// returns null with `exitCode` set.
std::unique_ptr<Captioner> loadBundleFromFlags(const char* verb, const Args& args, int& exitCode,
                                               const std::string& bundleDir = "");

} // namespace esper::cli
