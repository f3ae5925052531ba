// sgd.h: stochastic gradient descent with optional momentum, dampening, Nesterov momentum and
// weight decay, with exactly the update of torch.optim.SGD (maximize=False).
//
// For a parameter p with gradient g (lr, momentum mu, dampening tau, weight_decay wd):
//
//   d <- g + wd*p                                  (when wd != 0: L2 penalty folded into the gradient)
//   b <- d on the first step, else mu*b + (1 - tau)*d     (when mu != 0: the momentum_buffer)
//   d <- d + mu*b if nesterov, else b              (when mu != 0)
//   p <- p - lr*d
//
// With momentum 0 this is plain gradient descent and no state is kept. Like AdamW, each parameter
// is updated in one fused SIMD pass, rounding like torch's kernels (tests/optim/test_sgd.cpp).
#pragma once

#include "optim/optimizer.h"

namespace strata {

struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;  // needs momentum > 0 and dampening == 0
};

class SGD : public Optimizer {
 public:
  explicit SGD(std::vector<Variable> params, SGDOptions options = {});
  explicit SGD(const NamedVariables& params, SGDOptions options = {});

  // The options, with lr the current learning rate.
  SGDOptions options() const;

 protected:
  void update(Tensor& param, const Tensor& grad, ParamState& state) override;
  std::vector<std::string> buffer_names() const override;

 private:
  void check_options() const;
  SGDOptions options_;
};

}  // namespace strata
