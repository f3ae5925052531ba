// adamw.h: AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"), with exactly the
// update of torch.optim.AdamW (amsgrad=False, maximize=False).
//
// For a parameter p with gradient g at its step t = 1, 2, ... (lr, beta1, beta2, eps, wd):
//
//   p <- p * (1 - lr*wd)                          decoupled weight decay, before the Adam step
//   m <- beta1*m + (1 - beta1)*g                  first moment (exp_avg), m_0 = 0
//   v <- beta2*v + (1 - beta2)*g^2                second moment (exp_avg_sq), v_0 = 0
//   p <- p - lr/(1 - beta1^t) * m / (sqrt(v)/sqrt(1 - beta2^t) + eps)
//
// The 1 - beta^t factors undo the pull of the zero initial moments towards 0 (bias correction).
// Each parameter is updated in one fused SIMD pass that reads p, g, m, v once and writes p, m, v
// once, with no temporaries; the operations and their rounding follow torch's CPU kernels, so the
// results equal torch 1.13's bit for bit on a CPU with FMA (tests/optim/test_adamw.cpp).
// Walkthrough: docs/internals/adamw.md.
#pragma once

#include "optim/optimizer.h"

namespace strata {

// torch.optim.AdamW's defaults. Designated initializers read well: AdamW(params, {.lr = 3e-4}).
struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
};

class AdamW : public Optimizer {
 public:
  explicit AdamW(std::vector<Variable> params, AdamWOptions options = {});
  explicit AdamW(const NamedVariables& params, AdamWOptions options = {});

  // The options, with lr the current learning rate.
  AdamWOptions options() const;

 protected:
  void update(Tensor& param, const Tensor& grad, ParamState& state) override;
  std::vector<std::string> buffer_names() const override { return {"exp_avg", "exp_avg_sq"}; }

 private:
  void check_options() const;
  AdamWOptions options_;
};

}  // namespace strata
