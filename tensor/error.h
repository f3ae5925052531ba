// error.h: the one exception type strata throws, and helpers that build its message with fmt.
//
// Every message names the operation, the shapes/dtypes/values involved and, where it helps, a hint:
//   "matmul: inner dimensions differ: a[4, 64, 768] @ b[512, 768]; hint: ..."
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace strata {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws Error with a fmt-formatted message.
template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

// Throws Error with a fmt-formatted message when `condition` is false.
template <class... Args>
void check(bool condition, fmt::format_string<Args...> format, Args&&... args) {
  if (!condition) throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace strata
