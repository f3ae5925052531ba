// rmsnorm.h: RMSNorm (Zhang & Sennrich 2019), the normalisation of the CS336 Transformer:
//
//   RMSNorm(x)_i = x_i / RMS(x) * g_i,   RMS(x) = sqrt(mean_j(x_j^2) + eps)
//
// over the last dimension, with a learned gain g (d_model,) initialised to 1. The mean of squares
// is accumulated in double for float32 inputs (the handout asks for at least float32).
#pragma once

#include "autograd/variable.h"
#include "nn/module.h"

namespace strata {

class RMSNorm : public Module {
 public:
  explicit RMSNorm(int64_t d_model, double eps = 1e-5, DType dtype = DType::f32);
  std::string type_name() const override { return "RMSNorm"; }

  // x (..., d_model) -> (..., d_model)
  Variable forward(const Variable& x) const;
  Variable operator()(const Variable& x) const { return forward(x); }

  int64_t d_model;
  double eps;
  Variable weight;  // (d_model,), the gain g
};

}  // namespace strata
