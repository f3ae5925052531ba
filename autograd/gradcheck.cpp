// gradcheck.cpp: compares backward's gradients with finite differences.
//
// For a function y = f(x_1, ..., x_n) with any output shape, gradcheck reduces to a scalar with
// fixed random weights, L = sum(y * w), so every output element matters and errors cannot cancel.
// backward gives dL/dx (seeded with grad_output = w, so the check needs no other op). For sampled
// elements x_e, the central difference
//   (L(x_e + eps) - L(x_e - eps)) / (2 eps) = dL/dx_e + O(eps^2)
// is the reference. In f64 with eps = 1e-6 the truncation error (~eps^2 * f''') and the rounding
// error (~1e-16 |L| / eps) are both around 1e-10 for well-scaled functions.
#include "autograd/function_helpers.h"
#include "autograd/functions.h"
#include "tensor/ops.h"
#include "tensor/random.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace strata {

namespace {

// L = sum(fn(inputs) * w), evaluated without recording.
double weighted_sum(const std::function<Variable(const std::vector<Variable>&)>& fn,
                    const std::vector<Variable>& inputs, const Tensor& w) {
  NoGradGuard no_grad;
  return sum(mul(fn(inputs).data(), w)).item<double>();
}

}  // namespace

GradcheckResult gradcheck(const std::function<Variable(const std::vector<Variable>&)>& fn,
                          const std::vector<Variable>& inputs, GradcheckOptions options) {
  for (size_t i = 0; i < inputs.size(); ++i)
    check(inputs[i].dtype() == DType::f64 && inputs[i].requires_grad() && inputs[i].is_leaf(),
          "gradcheck: input {} must be a float64 leaf that requires grad, got {}{}; hint: "
          "Variable(t.to(DType::f64), true)",
          i, inputs[i].dtype(), inputs[i].requires_grad() ? "" : " without requires_grad");

  Variable out = fn(inputs);
  check(out.dtype() == DType::f64, "gradcheck: the function returned {}, expected float64", out.dtype());
  Generator gen(options.seed);
  Tensor w = randn(out.shape(), DType::f64, &gen);
  std::vector<Tensor> analytic = grad(out, inputs, w);

  GradcheckResult result{true, 0.0, ""};
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i].data();
    const int64_t n = x.numel();
    // Which elements to probe: all, or a seeded sample without repeats.
    std::vector<int64_t> probe(n);
    std::iota(probe.begin(), probe.end(), 0);
    if (n > options.max_samples) {
      Tensor keys = rand({n}, DType::f64, &gen);
      std::vector<double> k = keys.to_vector<double>();
      std::partial_sort(probe.begin(), probe.begin() + options.max_samples, probe.end(),
                        [&](int64_t a, int64_t b) { return k[a] < k[b]; });
      probe.resize(options.max_samples);
    }
    double* base = x.data<double>();
    for (int64_t e : probe) {
      const Dims index = detail::unravel(e, x.shape());
      int64_t offset = 0;  // of element `index` in x's storage
      for (int64_t d = 0; d < x.dim(); ++d) offset += index[d] * x.stride(d);
      double& xe = base[offset];
      const double saved = xe;
      xe = saved + options.eps;
      x.bump_version();
      const double plus = weighted_sum(fn, inputs, w);
      xe = saved - options.eps;
      x.bump_version();
      const double minus = weighted_sum(fn, inputs, w);
      xe = saved;
      x.bump_version();
      const double numeric = (plus - minus) / (2 * options.eps);
      const double a = analytic[i].at<double>(index);
      const double err = std::abs(a - numeric);
      result.max_abs_error = std::max(result.max_abs_error, std::isnan(err) ? INFINITY : err);
      if (!(err <= options.atol + options.rtol * std::abs(numeric)) && result.ok) {
        result.ok = false;
        result.message = fmt::format(
            "gradcheck: input {} (shape {}) element {}: backward gives {:.10g}, central differences give {:.10g} "
            "(|error| {:.3g} > atol {} + rtol {} * |numeric|)",
            i, x.shape(), index, a, numeric, err, options.atol, options.rtol);
      }
    }
  }
  return result;
}

}  // namespace strata
