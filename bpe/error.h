// error.h: the exception the bpe library throws, and helpers that build its message with fmt.
//
// bpe stands beside the tensor layers and may include only its own headers (tests/check_layers.sh),
// so it cannot use tensor/error.h. BpeError plays the same role: every message names the
// operation, the file/line/value involved and, where it helps, a hint:
//   "load_merges: tok/merges.txt line 12: token 'Ġxy' is not in the vocabulary; hint: ..."
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace strata::bpe {

class BpeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws BpeError with a fmt-formatted message.
template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw BpeError(fmt::format(format, std::forward<Args>(args)...));
}

// Throws BpeError with a fmt-formatted message when `condition` is false.
template <class... Args>
void check(bool condition, fmt::format_string<Args...> format, Args&&... args) {
  if (!condition) throw BpeError(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace strata::bpe
