// function_helpers.h: pieces shared by the op implementations (functions_*.cpp), the tape and
// gradcheck; not a public API.
//
// sum_to undoes broadcasting in a gradient: if y = f(x) broadcast x from `shape` to a larger
// shape, every copy of an element of x contributed to y, so dL/dx is the sum of the gradient over
// the broadcast dimensions (the leading dims x lacked, and the dims where x has size 1).
#pragma once

#include "autograd/functions.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"

#include <utility>
#include <vector>

namespace strata::detail {

using Grads = std::vector<Tensor>;

// Sums `grad` over the dimensions that broadcasting added to `shape`, giving a tensor of `shape`.
Tensor sum_to(const Tensor& grad, const Shape& shape);

// `dims` of a reduction over an `ndim`-d tensor, wrapped and sorted (empty = all dims).
Dims reduced_dims(const Dims& dims, int64_t ndim, const char* op);

// The gradient of a reduction output, reshaped so it broadcasts against the input: the reduced
// dimensions come back as size 1 (a no-op when keepdim was set).
Tensor unsqueeze_reduced(const Tensor& grad, int64_t ndim, const Dims& dims, bool keepdim);

// The row-major multi-index of flat element `flat` in `shape` (anomaly messages, gradcheck).
Dims unravel(int64_t flat, const Shape& shape);

// Calls body(lo, hi) on parallel chunks of [0, n): the flat loops of the fused kernels.
template <class F>
void parallel_elements(int64_t n, F&& body) {
  constexpr int64_t kGrain = 1 << 14;
  parallel_for(0, n, kGrain, std::forward<F>(body));
}

}  // namespace strata::detail
