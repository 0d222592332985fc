// Turns a LibTorch exception escaping a block of engine code into an error value, so that no
// exception crosses the engine's API. Out-of-memory keeps its own code: a caller may offer a
// smaller batch or another device instead of reporting a failure.
#pragma once

#include "util/result.h"

#include <c10/util/Exception.h>
#include <new>
#include <string>

namespace esper {

// Runs `body` (returning a Result) and returns its result, or "`what`: <LibTorch's message>".
template <class Body> auto guardTorch(const std::string& what, Body&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const c10::OutOfMemoryError& e) {
        return fail(ErrorCode::OutOfMemory,
                    what + ": out of memory (" + std::string(e.what_without_backtrace()) + ")");
    } catch (const c10::Error& e) {
        return fail(what + ": " + std::string(e.what_without_backtrace()));
    } catch (const std::bad_alloc&) {
        return fail(ErrorCode::OutOfMemory, what + ": out of host memory");
    } catch (const std::exception& e) {
        return fail(what + ": " + e.what());
    }
}

} // namespace esper
