#include "models/device_list.h"

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>

namespace esper {

std::vector<std::string> availableDevices() {
    std::vector<std::string> out{"cpu"};
    if (at::hasCUDA())
        for (int i = 0; i < at::detail::getCUDAHooks().getNumGPUs(); ++i)
            out.push_back("cuda:" + std::to_string(i));
    return out;
}

} // namespace esper
