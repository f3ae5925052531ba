// linear.h: Linear, y = x W^T, with W stored (out_features, in_features) as in PyTorch, no bias
// (the CS336 layout).
//
// Initialisation (CS336 handout): W ~ N(0, sigma^2) truncated to [-3 sigma, 3 sigma], with
// sigma^2 = 2 / (in_features + out_features), drawn from the Generator passed in.
#pragma once

#include "autograd/variable.h"
#include "nn/module.h"
#include "tensor/random.h"

namespace strata {

class Linear : public Module {
 public:
  // gen = nullptr draws from default_generator().
  Linear(int64_t in_features, int64_t out_features, Generator* gen = nullptr, DType dtype = DType::f32);
  std::string type_name() const override { return "Linear"; }

  // x (..., in_features) -> (..., out_features)
  Variable forward(const Variable& x) const;
  Variable operator()(const Variable& x) const { return forward(x); }

  int64_t in_features, out_features;
  Variable weight;  // (out_features, in_features)
};

}  // namespace strata
