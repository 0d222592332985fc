// Which bundle to use when none is named: $ESPER_BUNDLE, else the bundled demo model (installed
// beside the program, or in the source tree for a build that is not installed).
#pragma once

#include <string>

namespace esper {

// Empty when there is none.
std::string defaultBundleDir();

} // namespace esper
