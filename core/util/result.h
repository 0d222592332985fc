// Errors are values at the engine's API boundary: every fallible call returns a Result.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace esper {

struct Error {
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

private:
    std::optional<Error> err_;
};

inline Error fail(std::string message) {
    return Error{std::move(message)};
}

} // namespace esper
