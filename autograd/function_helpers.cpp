// function_helpers.cpp: undoing broadcasting and reductions in gradients, and flat indices (see
// function_helpers.h).
#include "autograd/function_helpers.h"

#include <algorithm>

namespace strata::detail {

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const int64_t lead = grad.dim() - shape.size();
  check(lead >= 0, "sum_to: a gradient of shape {} cannot be reduced to the larger shape {}", grad.shape(), shape);
  Dims dims;
  for (int64_t d = 0; d < grad.dim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && grad.size(d) != 1)) dims.push_back(d);
  // keepdim leaves the leading dims as size 1; the reshape drops them.
  Tensor summed = dims.empty() ? grad : sum(grad, dims, /*keepdim=*/true);
  return summed.reshape(shape);
}

Dims reduced_dims(const Dims& dims, int64_t ndim, const char* op) {
  Dims out;
  if (dims.empty()) {
    for (int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) out.push_back(wrap_dim(d, ndim, op));
  std::sort(out.begin(), out.end());
  return out;
}

Tensor unsqueeze_reduced(const Tensor& grad, int64_t ndim, const Dims& dims, bool keepdim) {
  if (keepdim) return grad;
  Tensor g = grad;
  for (int64_t d : reduced_dims(dims, ndim, "unsqueeze_reduced")) g = g.unsqueeze(d);  // ascending order
  return g;
}

Dims unravel(int64_t flat, const Shape& shape) {
  Dims index = Dims::filled(shape.size(), 0);
  for (int64_t d = shape.size() - 1; d >= 0; --d) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return index;
}

}  // namespace strata::detail
