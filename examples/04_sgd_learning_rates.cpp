// 04_sgd_learning_rates.cpp: writing your own optimizer, and what the learning rate does.
//
// Build and run:   ninja -C build && ./build/examples/04_sgd_learning_rates
//
// The CS336 handout's toy problem: a 10x10 weight initialised as 5 * randn, and the loss
//
//   L(w) = mean(w^2) = (1/100) sum_ij w_ij^2,   so   dL/dw = 2w / 100 = w / 50.
//
// The optimizer is the handout's SGD variant whose step size decays as 1/sqrt(t+1):
//
//   w <- w - lr / sqrt(t + 1) * dL/dw        (t = 0, 1, 2, ... counts this parameter's steps)
//
// 1. Writing an optimizer: derive from strata::Optimizer and implement update(param, grad, state)
//    for one parameter, plus buffer_names() (the per-parameter tensors you keep; none here). The
//    base class skips parameters without a gradient, counts state.step (1 on the first step, so
//    t = state.step - 1), runs under NoGradGuard and gives you state_dict()/load_state_dict().
// 2. What the learning rate does. Because the gradient is w/50, each step multiplies every weight
//    (and so sqrt(L)) by the same factor 1 - lr / (50 sqrt(t+1)):
//      lr = 10:   0.8, 0.86, 0.88, ...  the loss shrinks steadily, more slowly as the step decays;
//      lr = 100:  -1, -0.41, -0.15, 0   the first step overshoots to -w (same loss), then the
//                                       loss collapses; at t = 3 the factor is 0 and the loss
//                                       drops to rounding level;
//      lr = 1000: -19, -13, -10.5, ...  every step overshoots further: the loss explodes.
//    A learning rate that is too large does not just learn slowly; it diverges.
#include "autograd/functions.h"
#include "optim/optimizer.h"
#include "tensor/ops.h"
#include "tensor/random.h"

#include <fmt/core.h>

#include <cmath>

using namespace strata;

// The handout's SGD with a 1/sqrt(t+1) decaying step.
class DecayingSGD : public Optimizer {
 public:
  DecayingSGD(std::vector<Variable> params, double lr) : Optimizer("DecayingSGD", std::move(params), lr) {}

 protected:
  void update(Tensor& param, const Tensor& grad, ParamState& state) override {
    const double t = double(state.step - 1);
    param.add_(grad, -lr() / std::sqrt(t + 1));  // p <- p - lr/sqrt(t+1) * g
  }
  std::vector<std::string> buffer_names() const override { return {}; }
};

int main() {
  const int steps = 10;
  for (double lr : {1e1, 1e2, 1e3}) {
    Generator gen(0);  // the same initial weights for every learning rate
    Variable weights(mul(randn({10, 10}, DType::f32, &gen), 5.0), /*requires_grad=*/true);
    DecayingSGD opt({weights}, lr);
    fmt::print("lr = {:g}\n", lr);
    for (int t = 0; t < steps; ++t) {
      opt.zero_grad();
      Variable loss = mean(square(weights));
      fmt::print("  step {}: loss {:.6g}\n", t, loss.item<float>());
      backward(loss);
      opt.step();
    }
  }
}
