// The devices this build can compute on: "cpu" and one "cuda:N" per visible GPU.
#pragma once

#include <string>
#include <vector>

namespace esper {

std::vector<std::string> availableDevices();

} // namespace esper
