// format.h: printing tensors with fmt, in PyTorch's style:
//   tensor([[ 1.5000, -2.0000],
//           [ 3.0000,  4.2500]], shape=[2, 2], dtype=float32)
// Whole numbers print as "1." and widely spread values in scientific notation, as torch does
// (rules in format.cpp). Large tensors are elided with "..." (first and last 3 entries per
// dimension), like torch.
#pragma once

#include "tensor/tensor.h"

#include <fmt/format.h>

#include <iosfwd>
#include <string>

namespace strata {
std::string to_string(const Tensor& t);
std::ostream& operator<<(std::ostream& os, const Tensor& t);
}  // namespace strata

template <>
struct fmt::formatter<strata::Tensor> : fmt::formatter<std::string_view> {
  auto format(const strata::Tensor& t, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(strata::to_string(t), ctx);
  }
};
