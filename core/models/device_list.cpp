#include "models/device_list.h"

#include <ATen/Context.h>
#include <torch/cuda.h>

namespace esper {

std::vector<std::string> availableDevices() {
    std::vector<std::string> out{"cpu"};
    if (at::hasCUDA())
        for (size_t i = 0; i < torch::cuda::device_count(); ++i)
            out.push_back("cuda:" + std::to_string(i));
    return out;
}

} // namespace esper
