#include "io/pickle_machine.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <unordered_map>

namespace esper {

namespace {

using Kind = PickleValue::Kind;
// A state dict of 10,000 tensors takes about 100,000.
constexpr size_t kMaxPickleValues = 4'000'000;

constexpr std::array<std::string_view, 24> kDangerousModules = {
    "os",          "posix",           "nt",     "subprocess", "sys",      "builtins",
    "__builtin__", "shutil",          "socket", "importlib",  "runpy",    "pickle",
    "_pickle",     "marshal",         "code",   "codeop",     "pty",      "webbrowser",
    "ctypes",      "multiprocessing", "signal", "commands",   "platform", "asyncio"};
constexpr std::array<std::string_view, 8> kDangerousNames = {
    "eval", "exec", "system", "popen", "compile", "__import__", "execfile", "getattr"};

} // namespace

bool isDangerousGlobal(std::string_view module, std::string_view name) {
    const std::string_view top = module.substr(0, module.find('.'));
    for (auto m : kDangerousModules)
        if (top == m) return true;
    for (auto n : kDangerousNames)
        if (name == n) return true;
    return false;
}

PickleValue* PickleMachine::make(Kind kind) {
    arena_.emplace_back();
    arena_.back().kind = kind;
    return &arena_.back();
}

Result<PickleValue*> PickleMachine::run(std::string_view b, const std::string& origin,
                                        size_t* consumed) {
    std::vector<PickleValue*> stack;
    std::vector<size_t> marks;
    std::unordered_map<uint64_t, PickleValue*> memo;
    size_t at = 0;
    auto bad = [&](const std::string& why) {
        return fail(ErrorCode::InvalidInput,
                    "'" + origin + "' is not a readable PyTorch checkpoint: " + why + " (at byte " +
                        std::to_string(at) + " of its pickle)");
    };
    auto need = [&](size_t n) { return n <= b.size() - at; };
    auto le = [&](size_t n) {
        uint64_t v = 0;
        for (size_t i = n; i-- > 0;)
            v = v << 8 | uint8_t(b[at + i]);
        at += n;
        return v;
    };
    auto line = [&](std::string_view& out) {
        const size_t nl = b.find('\n', at);
        if (nl == std::string_view::npos) return false;
        out = b.substr(at, nl - at);
        at = nl + 1;
        return true;
    };
    auto pop = [&]() -> PickleValue* {
        if (stack.empty()) return nullptr;
        PickleValue* v = stack.back();
        stack.pop_back();
        return v;
    };
    // The values since the last MARK, which is dropped.
    auto popMark = [&](std::vector<PickleValue*>& out) {
        if (marks.empty() || marks.back() > stack.size()) return false;
        out.assign(stack.begin() + long(marks.back()), stack.end());
        stack.resize(marks.back());
        marks.pop_back();
        return true;
    };
    auto text = [&](Kind kind, size_t length) -> PickleValue* {
        PickleValue* v = make(kind);
        v->text = std::string(b.substr(at, length));
        at += length;
        return v;
    };
    auto integer = [&](int64_t i) {
        PickleValue* v = make(Kind::Int);
        v->integer = i;
        return v;
    };
    // LONG1 / LONG4: little-endian two's complement of any length.
    auto longInteger = [&](size_t n) {
        PickleValue* v = make(Kind::Int);
        if (n > 8) {
            v->hugeInteger = true;
            at += n;
            return v;
        }
        uint64_t u = 0;
        for (size_t i = n; i-- > 0;)
            u = u << 8 | uint8_t(b[at + i]);
        if (n > 0 && n < 8 && (uint8_t(b[at + n - 1]) & 0x80)) u |= ~uint64_t(0) << (8 * n);
        at += n;
        v->integer = int64_t(u);
        return v;
    };
    // Where each dict's string and integer keys are, so a key set twice keeps the last value
    // (as Python does) without a search per item.
    std::unordered_map<const PickleValue*, std::unordered_map<std::string, size_t>> keysOf;
    auto setItems = [&](PickleValue* dict, const std::vector<PickleValue*>& kv) {
        if (dict->kind != Kind::Dict || kv.size() % 2) return false;
        auto& index = keysOf[dict];
        for (size_t i = 0; i < kv.size(); i += 2) {
            const PickleValue* key = kv[i];
            if (key->kind != Kind::Str && key->kind != Kind::Int) {
                dict->entries.emplace_back(kv[i], kv[i + 1]);
                continue;
            }
            const std::string id =
                key->kind == Kind::Str ? "s" + key->text : "i" + std::to_string(key->integer);
            const auto [it, fresh] = index.emplace(id, dict->entries.size());
            if (fresh)
                dict->entries.emplace_back(kv[i], kv[i + 1]);
            else
                dict->entries[it->second].second = kv[i + 1];
        }
        return true;
    };
    // A call: the hook's value, or an inert placeholder.
    auto callOf = [&](PickleValue* callee, PickleValue* args) -> Result<PickleValue*> {
        if (callee->kind == Kind::Global) {
            auto made = call_(callee->text, args);
            ESPER_TRY(made);
            if (made.value()) return made.value();
        }
        PickleValue* placeholder = make(Kind::Call);
        placeholder->callee = callee;
        if (args) placeholder->items = args->items;
        return placeholder;
    };

    const size_t arenaBefore = arena_.size();
    while (at < b.size()) {
        // Each value costs far more than the byte that made it: their number is capped so a
        // pickle of a million empty lists cannot take gigabytes.
        if (arena_.size() - arenaBefore > kMaxPickleValues)
            return bad("it makes more than " + std::to_string(kMaxPickleValues) +
                       " values, more than any checkpoint holds");
        const uint8_t op = uint8_t(b[at++]);
        switch (op) {
        case 0x80: // PROTO
            if (!need(1)) return bad("cut short");
            if (uint8_t(b[at]) > 5) return bad("pickle protocol " + std::to_string(b[at]));
            ++at;
            break;
        case 0x95: // FRAME: a length hint
            if (!need(8)) return bad("cut short");
            at += 8;
            break;
        case '.': { // STOP
            if (stack.size() != 1 || !marks.empty()) return bad("it ends with a malformed stack");
            if (consumed) *consumed = at;
            return stack.back();
        }
        case '(':
            marks.push_back(stack.size());
            break;
        case '0':
            if (!pop()) return bad("POP on an empty stack");
            break;
        case '1': {
            std::vector<PickleValue*> dropped;
            if (!popMark(dropped)) return bad("POP_MARK without a mark");
            break;
        }
        case '2':
            if (stack.empty()) return bad("DUP on an empty stack");
            stack.push_back(stack.back());
            break;
        case 'N':
            stack.push_back(make(Kind::None));
            break;
        case 0x88:
        case 0x89: {
            PickleValue* v = make(Kind::Bool);
            v->integer = op == 0x88;
            stack.push_back(v);
            break;
        }
        case 'J':
        case 'K':
        case 'M': { // BININT (4 bytes, signed), BININT1, BININT2 (unsigned)
            const size_t width = op == 'J' ? 4 : op == 'K' ? 1 : 2;
            if (!need(width)) return bad("cut short");
            const uint64_t v = le(width);
            stack.push_back(integer(op == 'J' ? int64_t(int32_t(uint32_t(v))) : int64_t(v)));
            break;
        }
        case 0x8a:
        case 0x8b: { // LONG1, LONG4: a length, then the number's bytes
            const size_t width = op == 0x8a ? 1 : 4;
            if (!need(width)) return bad("cut short");
            const size_t n = le(width);
            if (!need(n)) return bad("cut short");
            stack.push_back(longInteger(n));
            break;
        }
        case 'I':
        case 'L': { // INT / LONG in text (protocol 0); "00" and "01" are False and True
            std::string_view digits;
            if (!line(digits)) return bad("cut short");
            if (!digits.empty() && digits.back() == 'L') digits.remove_suffix(1);
            int64_t v = 0;
            const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
            PickleValue* value = integer(v);
            if (ec != std::errc() || end != digits.data() + digits.size())
                value->hugeInteger = true;
            if (op == 'I' && (digits == "00" || digits == "01")) {
                value->kind = Kind::Bool;
                value->integer = digits == "01";
            }
            stack.push_back(value);
            break;
        }
        case 'G': { // BINFLOAT, big-endian
            if (!need(8)) return bad("cut short");
            uint64_t u = 0;
            for (int i = 0; i < 8; ++i)
                u = u << 8 | uint8_t(b[at + size_t(i)]);
            at += 8;
            PickleValue* v = make(Kind::Float);
            std::memcpy(&v->real, &u, 8);
            stack.push_back(v);
            break;
        }
        case 'X':
        case 'T':
        case 'B':
        case 0x8c:
        case 'U':
        case 'C':
        case 0x8d:
        case 0x8e: { // strings and bytes with 1-, 4- or 8-byte lengths
            const size_t width = op == 0x8c || op == 'U' || op == 'C' ? 1
                                 : op == 0x8d || op == 0x8e           ? 8
                                                                      : 4;
            if (!need(width)) return bad("cut short");
            const uint64_t length = le(width);
            if (!need(length)) return bad("a string runs past the end");
            const bool bytes = op == 'B' || op == 'C' || op == 0x8e;
            stack.push_back(text(bytes ? Kind::Bytes : Kind::Str, length));
            break;
        }
        case '}':
            stack.push_back(make(Kind::Dict));
            break;
        case ']':
            stack.push_back(make(Kind::List));
            break;
        case ')':
            stack.push_back(make(Kind::Tuple));
            break;
        case 0x8f:
            stack.push_back(make(Kind::Set));
            break;
        case 'd':
        case 'l':
        case 't':
        case 0x91: { // DICT, LIST, TUPLE, FROZENSET from the values since the mark
            std::vector<PickleValue*> items;
            if (!popMark(items)) return bad("a collection without a mark");
            PickleValue* v = make(op == 'd'   ? Kind::Dict
                                  : op == 'l' ? Kind::List
                                  : op == 't' ? Kind::Tuple
                                              : Kind::Set);
            if (op == 'd') {
                if (!setItems(v, items)) return bad("DICT with an odd number of values");
            } else {
                v->items = std::move(items);
            }
            stack.push_back(v);
            break;
        }
        case 0x85:
        case 0x86:
        case 0x87: { // TUPLE1..3
            const size_t n = op - 0x84u;
            if (stack.size() < n) return bad("a tuple of values that are not there");
            PickleValue* v = make(Kind::Tuple);
            v->items.assign(stack.end() - long(n), stack.end());
            stack.resize(stack.size() - n);
            stack.push_back(v);
            break;
        }
        case 'a': { // APPEND
            PickleValue* item = pop();
            if (!item || stack.empty() || stack.back()->kind != Kind::List)
                return bad("APPEND to something that is not a list");
            stack.back()->items.push_back(item);
            break;
        }
        case 'e':
        case 0x90: { // APPENDS, ADDITEMS
            std::vector<PickleValue*> items;
            if (!popMark(items) || stack.empty()) return bad("APPENDS without a mark");
            PickleValue* target = stack.back();
            if (target->kind != (op == 'e' ? Kind::List : Kind::Set))
                return bad("APPENDS to something that is not a list or set");
            target->items.insert(target->items.end(), items.begin(), items.end());
            break;
        }
        case 's': { // SETITEM
            PickleValue* value = pop();
            PickleValue* key = pop();
            if (!key || stack.empty() || !setItems(stack.back(), {key, value}))
                return bad("SETITEM on something that is not a dict");
            break;
        }
        case 'u': { // SETITEMS
            std::vector<PickleValue*> kv;
            if (!popMark(kv) || stack.empty() || !setItems(stack.back(), kv))
                return bad("SETITEMS on something that is not a dict");
            break;
        }
        case 'q':
        case 'r':
        case 0x94:
        case 'p': { // BINPUT, LONG_BINPUT, MEMOIZE, PUT
            uint64_t index = memo.size();
            if (op == 'q' || op == 'r') {
                if (!need(op == 'q' ? 1 : 4)) return bad("cut short");
                index = le(op == 'q' ? 1 : 4);
            } else if (op == 'p') {
                std::string_view digits;
                if (!line(digits)) return bad("cut short");
                std::from_chars(digits.data(), digits.data() + digits.size(), index);
            }
            if (stack.empty()) return bad("memoising an empty stack");
            memo[index] = stack.back();
            break;
        }
        case 'h':
        case 'j':
        case 'g': { // BINGET, LONG_BINGET, GET
            uint64_t index = 0;
            if (op == 'g') {
                std::string_view digits;
                if (!line(digits)) return bad("cut short");
                std::from_chars(digits.data(), digits.data() + digits.size(), index);
            } else {
                if (!need(op == 'h' ? 1 : 4)) return bad("cut short");
                index = le(op == 'h' ? 1 : 4);
            }
            const auto it = memo.find(index);
            if (it == memo.end()) return bad("a memo entry that was never stored");
            stack.push_back(it->second);
            break;
        }
        case 'c':
        case 0x93: { // GLOBAL, STACK_GLOBAL: a name, never imported
            std::string module, name;
            if (op == 'c') {
                std::string_view m, n;
                if (!line(m) || !line(n)) return bad("cut short");
                module = m;
                name = n;
            } else {
                PickleValue* n = pop();
                PickleValue* m = pop();
                if (!n || !m || n->kind != Kind::Str || m->kind != Kind::Str)
                    return bad("STACK_GLOBAL without two names");
                module = m->text;
                name = n->text;
            }
            if (isDangerousGlobal(module, name))
                return fail(ErrorCode::InvalidInput,
                            "'" + origin + "' would call " + module + "." + name +
                                " when loaded in Python: a checkpoint never needs that, so it is "
                                "refused (nothing in it was run)");
            PickleValue* v = make(Kind::Global);
            v->text = module + "." + name;
            stack.push_back(v);
            break;
        }
        case 'R':
        case 0x81: { // REDUCE, NEWOBJ: callee and an argument tuple
            PickleValue* args = pop();
            PickleValue* callee = pop();
            if (!args || !callee || args->kind != Kind::Tuple)
                return bad("a call without a callee and arguments");
            auto v = callOf(callee, args);
            ESPER_TRY(v);
            stack.push_back(v.value());
            break;
        }
        case 0x92: { // NEWOBJ_EX: cls, args, kwargs
            PickleValue* kwargs = pop();
            PickleValue* args = pop();
            PickleValue* callee = pop();
            if (!kwargs || !args || !callee || args->kind != Kind::Tuple)
                return bad("NEWOBJ_EX without its three values");
            auto v = callOf(callee, args);
            ESPER_TRY(v);
            stack.push_back(v.value());
            break;
        }
        case 'b': { // BUILD: state for the object below, kept but never applied
            PickleValue* state = pop();
            if (!state || stack.empty()) return bad("BUILD without an object");
            if (stack.back()->kind == Kind::Call) stack.back()->state = state;
            break;
        }
        case 'Q': { // BINPERSID
            PickleValue* pid = pop();
            if (!pid) return bad("BINPERSID on an empty stack");
            auto v = persistent_(pid);
            ESPER_TRY(v);
            stack.push_back(v.value());
            break;
        }
        case 'P': { // PERSID: a text id
            std::string_view id;
            if (!line(id)) return bad("cut short");
            PickleValue* pid = make(Kind::Str);
            pid->text = id;
            auto v = persistent_(pid);
            ESPER_TRY(v);
            stack.push_back(v.value());
            break;
        }
        default: {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02x", op);
            --at;
            return bad(std::string("opcode ") + hex + " is not one a checkpoint uses");
        }
        }
    }
    return bad("it ends without STOP");
}

} // namespace esper
