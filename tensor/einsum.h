// einsum.h: torch.einsum and einops-style rearrange / repeat / reduce.
//
// Both work in two steps: a pure *plan* function from the pattern and the input shapes to a list
// of view operations (and, for einsum, one batched GEMM), tested without any data; then the
// execution of that plan on tensors. Errors quote the pattern and the offending axis.
//
//   einsum("bij,bjk->bik", {a, b})            batch matmul (one batched GEMM)
//   einsum("ii", {a})                          trace; "ii->i" diagonal; "...ij->...ji" ellipsis
//   rearrange(x, "b t (h d) -> b h t d", {{"h", 16}})
//   repeat(x, "h w -> h w c", {{"c", 3}})
//   reduce(x, "b t c -> b c", "mean")
#pragma once

#include "tensor/tensor.h"

#include <map>
#include <string>
#include <vector>

namespace strata {

Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands);

using AxisSizes = std::map<std::string, int64_t>;
Tensor rearrange(const Tensor& x, const std::string& pattern, const AxisSizes& sizes = {});
Tensor repeat(const Tensor& x, const std::string& pattern, const AxisSizes& sizes = {});
// reduction: "sum", "mean", "max", "min".
Tensor reduce(const Tensor& x, const std::string& pattern, const std::string& reduction,
              const AxisSizes& sizes = {});

}  // namespace strata
