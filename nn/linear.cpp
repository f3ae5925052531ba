// linear.cpp: Linear, y = x W^T.
#include "nn/linear.h"

#include "autograd/functions.h"

#include <cmath>

namespace strata {

Linear::Linear(int64_t in_features, int64_t out_features, Generator* gen, DType dtype)
    : in_features(in_features), out_features(out_features) {
  check(in_features > 0 && out_features > 0, "Linear: in_features ({}) and out_features ({}) must be positive",
        in_features, out_features);
  const double sigma = std::sqrt(2.0 / double(in_features + out_features));
  weight = register_parameter(
      "weight", trunc_normal({out_features, in_features}, 0.0, sigma, -3 * sigma, 3 * sigma, dtype, gen));
}

Variable Linear::forward(const Variable& x) const {
  check(x.dim() >= 1 && x.size(-1) == in_features,
        "Linear: input of shape {} does not end in in_features = {} (weight {})", x.shape(), in_features,
        weight.shape());
  // (..., in) @ (in, out): the transposed view of W goes to BLAS as a transpose flag, not a copy.
  return matmul(x, mT(weight));
}

}  // namespace strata
