// Which bundle to use when none is named: $ESPER_BUNDLE, else the bundled demo model (installed
// beside the program, or in the source tree for a build that is not installed).
#pragma once

#include <string>
#include <vector>

namespace esper {

// Empty when there is none.
std::string defaultBundleDir();
// The bundles shipped beside the default one (the demo and the demo with the supervised
// mapper), the default first; empty when there is no default.
std::vector<std::string> shippedBundleDirs();

} // namespace esper
