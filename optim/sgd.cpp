// sgd.cpp: SGD's step for one parameter: one fused SIMD pass (see sgd.h for the math and
// optim/fused.h for the loop).
#include "optim/sgd.h"

#include "optim/fused.h"

namespace strata {

namespace {

// The update of one batch of lanes, rounding like torch's _single_tensor_sgd: each `add(x, alpha)`
// of torch is one fma here.
template <class T>
struct SGDKernel {
  using V = simd::batch<T>;
  bool weight_decay_on, nesterov, first_step;
  V weight_decay, momentum, one_minus_dampening, neg_lr;

  // d = g + wd*p                                  d_p.add(param, alpha=wd)
  V decayed(const V& p, const V& g) const { return weight_decay_on ? simd::fma(p, weight_decay, g) : g; }

  // Without momentum: p <- p - lr*d               param.add_(d_p, alpha=-lr)
  void operator()(V& p, const V& g) const { p = simd::fma(decayed(p, g), neg_lr, p); }

  // With momentum buffer b.
  void operator()(V& p, const V& g, V& b) const {
    V d = decayed(p, g);
    b = first_step ? d : simd::fma(d, one_minus_dampening, b * momentum);  // buf.mul_(mu).add_(d, alpha=1-tau)
    d = nesterov ? simd::fma(b, momentum, d) : b;                           // d_p.add(buf, alpha=mu)
    p = simd::fma(d, neg_lr, p);
  }
};

}  // namespace

SGD::SGD(std::vector<Variable> params, SGDOptions options)
    : Optimizer("SGD", std::move(params), options.lr), options_(options) {
  check_options();
}

SGD::SGD(const NamedVariables& params, SGDOptions options)
    : Optimizer("SGD", params, options.lr), options_(options) {
  check_options();
}

void SGD::check_options() const {
  check_non_negative(kind(), "momentum", options_.momentum);
  check_non_negative(kind(), "dampening", options_.dampening);
  check_non_negative(kind(), "weight_decay", options_.weight_decay);
  check(!options_.nesterov || (options_.momentum > 0 && options_.dampening == 0),
        "SGD: Nesterov momentum needs momentum > 0 and dampening == 0 (got momentum {}, dampening {})",
        options_.momentum, options_.dampening);
}

SGDOptions SGD::options() const {
  SGDOptions out = options_;
  out.lr = lr();
  return out;
}

std::vector<std::string> SGD::buffer_names() const {
  if (options_.momentum == 0) return {};
  return {"momentum_buffer"};
}

void SGD::update(Tensor& param, const Tensor& grad, ParamState& state) {
  visit_floating(param.dtype(), "SGD.step", [&]<class T>() {
    using V = simd::batch<T>;
    const bool has_momentum = options_.momentum != 0;
    Tensor* buffer = has_momentum ? &state.buffers["momentum_buffer"] : nullptr;
    const bool first_step = has_momentum && !buffer->defined();
    if (first_step) *buffer = zeros(param.shape(), param.dtype());  // the kernel sets it to d
    const SGDKernel<T> kernel{options_.weight_decay != 0, options_.nesterov,  first_step,
                              V(T(options_.weight_decay)), V(T(options_.momentum)),
                              V(T(1 - options_.dampening)), V(T(-lr()))};
    const T* g = grad.data<T>();  // read only: fused_pass writes back only the non-const arrays
    if (has_momentum) detail::fused_pass<T>(param.numel(), kernel, param.data<T>(), g, buffer->data<T>());
    else detail::fused_pass<T>(param.numel(), kernel, param.data<T>(), g);
  });
}

}  // namespace strata
