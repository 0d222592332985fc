// Python's pickle format, read without executing anything. The opcodes that build values
// (numbers, strings, lists, tuples, dicts, sets, the memo) are honoured; a global is only ever
// a name. What a call would have made is decided by the caller's hooks for the few callables it
// knows (rebuilding tensors, OrderedDict); any other call becomes an inert placeholder that
// records its name and arguments, and globals that exist to run code (os.system, eval, ...) are
// refused by name. Values live in the machine's arena, so a cyclic or deeply nested pickle is
// freed without recursion.
#pragma once

#include "util/result.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace esper {

struct PickleValue {
    enum class Kind {
        None,
        Bool,
        Int,
        Float,
        Str,
        Bytes,
        List,
        Tuple,
        Dict,
        Set,
        Global,     // a module.name, never resolved
        Call,       // a placeholder for a call that was not made: callee, args, state
        Persistent, // what a persistent id stands for (the caller's hook decides)
        Opaque      // anything else the caller's hooks make (a tensor, ...): `handle`
    };
    Kind kind = Kind::None;
    int64_t integer = 0;             // Int, Bool
    bool hugeInteger = false;        // an Int beyond 64 bits (its value is not kept)
    double real = 0;                 // Float
    std::string text;                // Str, Bytes; Global: "module.name"
    std::vector<PickleValue*> items; // List, Tuple, Set; Call: args
    std::vector<std::pair<PickleValue*, PickleValue*>> entries; // Dict
    PickleValue* callee = nullptr;                              // Call
    PickleValue* state = nullptr;                               // Call: what BUILD gave it
    size_t handle = 0; // Persistent, Opaque: the caller's index
};

class PickleMachine {
public:
    // A call of `global` (e.g. "collections.OrderedDict") with `args` (a Tuple). Returns the
    // value it stands for, or nullptr to leave an inert placeholder; an error stops reading.
    using CallHook =
        std::function<Result<PickleValue*>(const std::string& global, PickleValue* args)>;
    // A persistent id (`pid`, any value): what it stands for.
    using PersistentHook = std::function<Result<PickleValue*>(PickleValue* pid)>;

    PickleMachine(CallHook call, PersistentHook persistent)
        : call_(std::move(call)), persistent_(std::move(persistent)) {}

    // Runs one pickle from the start of `bytes` to its STOP; `consumed` says how many bytes it
    // took (several pickles may follow one another, as in torch.save's legacy format).
    Result<PickleValue*> run(std::string_view bytes, const std::string& origin, size_t* consumed);
    PickleValue* make(PickleValue::Kind kind);

private:
    std::deque<PickleValue> arena_;
    CallHook call_;
    PersistentHook persistent_;
};

// Whether a global exists only to run code or reach the system (os.system, builtins.eval,
// subprocess.Popen, ...): a checkpoint never needs one, so a pickle naming one is refused.
bool isDangerousGlobal(std::string_view module, std::string_view name);

} // namespace esper
