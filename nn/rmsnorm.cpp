// rmsnorm.cpp: RMSNorm through the fused autograd op rms_norm (whose hand-written backward is
// derived beside its forward in autograd/).
#include "nn/rmsnorm.h"

#include "autograd/functions.h"

namespace strata {

RMSNorm::RMSNorm(int64_t d_model, double eps, DType dtype) : d_model(d_model), eps(eps) {
  check(d_model > 0, "RMSNorm: d_model ({}) must be positive", d_model);
  weight = register_parameter("weight", ones({d_model}, dtype));
}

Variable RMSNorm::forward(const Variable& x) const {
  check(x.dim() >= 1 && x.size(-1) == d_model, "RMSNorm: input of shape {} does not end in d_model = {}", x.shape(),
        d_model);
  return rms_norm(x, weight, eps);
}

}  // namespace strata
