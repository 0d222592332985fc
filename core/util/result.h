// Errors are values at the engine's API boundary: every fallible call returns a Result.
//
// An Error carries a code and a message a person can read. The code lets a caller act without
// comparing strings: a cancelled run is `ErrorCode::Cancelled` wherever it happens, and a bad
// input from the user is `InvalidInput` (the CLI exits 2 for it, 1 for the rest). Errors pass up
// unchanged with ESPER_TRY, or with context added by `withContext`.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace esper {

enum class ErrorCode {
    Failed,       // something went wrong; the message says what
    Cancelled,    // the caller's cancel flag was set; not a failure to report as one
    InvalidInput, // the request or a file named by the user is not acceptable
    NotFound,     // a named file, model or entry does not exist
    OutOfMemory,  // the device or the host ran out of memory
};

struct Error {
    ErrorCode code = ErrorCode::Failed;
    std::string message;
};

template <class T> class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    const std::string& error() const { return std::get<1>(v_).message; }
    const Error& failure() const { return std::get<1>(v_); }
    ErrorCode code() const { return ok() ? ErrorCode::Failed : failure().code; }
    bool cancelled() const { return !ok() && failure().code == ErrorCode::Cancelled; }

private:
    std::variant<T, Error> v_;
};

template <> class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : err_(std::move(error)) {}
    bool ok() const { return !err_.has_value(); }
    explicit operator bool() const { return ok(); }
    const std::string& error() const { return err_->message; }
    const Error& failure() const { return *err_; }
    ErrorCode code() const { return ok() ? ErrorCode::Failed : err_->code; }
    bool cancelled() const { return !ok() && err_->code == ErrorCode::Cancelled; }

private:
    std::optional<Error> err_;
};

inline Error fail(std::string message) {
    return Error{ErrorCode::Failed, std::move(message)};
}

inline Error fail(ErrorCode code, std::string message) {
    return Error{code, std::move(message)};
}

// The one way a cancelled operation reports itself; `what` may say how to continue.
inline Error cancelledError(std::string what = "cancelled") {
    return Error{ErrorCode::Cancelled, std::move(what)};
}

// The same error with `context` in front ("reading 'x.json': <message>"); the code is kept.
inline Error withContext(const Error& e, const std::string& context) {
    return Error{e.code, context + ": " + e.message};
}

} // namespace esper

// Returns the error of `expr` (a Result) from the enclosing function, code and message unchanged.
// `expr` is evaluated once; a named Result stays usable after the check.
#define ESPER_TRY(expr)                                                                            \
    do {                                                                                           \
        if (auto&& esper_try_result_ = (expr); !esper_try_result_)                                 \
            return esper_try_result_.failure();                                                    \
    } while (0)
