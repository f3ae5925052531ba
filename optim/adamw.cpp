// adamw.cpp: AdamW's step for one parameter: one fused SIMD pass (see adamw.h for the math and
// optim/fused.h for the loop).
#include "optim/adamw.h"

#include "optim/fused.h"

#include <cmath>

namespace strata {

namespace {

// The update of one batch of lanes. Every scalar is computed in double and rounded once to T, and
// the order of operations (with fma where torch uses vec::fmadd) is that of torch's
// _single_tensor_adamw, so each line rounds exactly like the torch op beside it.
template <class T>
struct AdamWKernel {
  using V = simd::batch<T>;
  V decay;                  // 1 - lr*wd
  V beta1, one_minus_beta1;
  V beta2, one_minus_beta2;
  V bias_correction2_sqrt;  // sqrt(1 - beta2^t)
  V eps;
  V neg_step_size;          // -lr / (1 - beta1^t)

  void operator()(V& p, const V& g, V& m, V& v) const {
    p = p * decay;                                        // param.mul_(1 - lr*wd)
    m = simd::fma(g, one_minus_beta1, m * beta1);       // exp_avg.mul_(b1).add_(g, alpha=1-b1)
    v = simd::fma(one_minus_beta2 * g, g, v * beta2);   // exp_avg_sq.mul_(b2).addcmul_(g, g, value=1-b2)
    V denom = simd::sqrt(v) / bias_correction2_sqrt + eps;  // (v.sqrt() / sqrt(bc2)).add_(eps)
    p = p + neg_step_size * m / denom;                    // param.addcdiv_(m, denom, value=-step_size)
  }
};

}  // namespace

AdamW::AdamW(std::vector<Variable> params, AdamWOptions options)
    : Optimizer("AdamW", std::move(params), options.lr), options_(options) {
  check_options();
}

AdamW::AdamW(const NamedVariables& params, AdamWOptions options)
    : Optimizer("AdamW", params, options.lr), options_(options) {
  check_options();
}

void AdamW::check_options() const {
  check_non_negative(kind(), "eps", options_.eps);
  check_non_negative(kind(), "weight_decay", options_.weight_decay);
  for (double beta : {options_.beta1, options_.beta2})
    check(beta >= 0 && beta < 1, "AdamW: invalid beta {} (betas must be in [0, 1)); hint: torch's defaults are "
          "beta1 = 0.9, beta2 = 0.999", beta);
}

AdamWOptions AdamW::options() const {
  AdamWOptions out = options_;
  out.lr = lr();
  return out;
}

void AdamW::update(Tensor& param, const Tensor& grad, ParamState& state) {
  Tensor& exp_avg = state.buffers["exp_avg"];
  Tensor& exp_avg_sq = state.buffers["exp_avg_sq"];
  if (!exp_avg.defined()) exp_avg = zeros(param.shape(), param.dtype());
  if (!exp_avg_sq.defined()) exp_avg_sq = zeros(param.shape(), param.dtype());

  const double lr = this->lr(), b1 = options_.beta1, b2 = options_.beta2;
  const double t = double(state.step);
  const double step_size = lr / (1 - std::pow(b1, t));
  const double bias_correction2_sqrt = std::sqrt(1 - std::pow(b2, t));
  visit_floating(param.dtype(), "AdamW.step", [&]<class T>() {
    using V = simd::batch<T>;
    const AdamWKernel<T> kernel{V(T(1 - lr * options_.weight_decay)), V(T(b1)), V(T(1 - b1)), V(T(b2)),
                                V(T(1 - b2)),  V(T(bias_correction2_sqrt)), V(T(options_.eps)),
                                V(T(-step_size))};
    const T* g = grad.data<T>();  // read only: fused_pass writes back only the non-const arrays
    detail::fused_pass<T>(param.numel(), kernel, param.data<T>(), g, exp_avg.data<T>(), exp_avg_sq.data<T>());
  });
}

}  // namespace strata
