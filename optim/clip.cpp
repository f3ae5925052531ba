// clip.cpp: global-norm gradient clipping (formula in clip.h).
#include "optim/clip.h"

#include "tensor/ops.h"

#include <cmath>
#include <map>

namespace strata {

namespace {

// sum of g[i]^2 over the elements of a contiguous float tensor, in double. Eight independent
// partial sums, added at the end, let the compiler keep them in SIMD registers; the order of the
// additions is fixed, so the result does not depend on the machine's vector width.
double sum_of_squares(const Tensor& g) {
  return visit_floating(g.dtype(), "clip_grad_norm_", [&]<class T>() {
    const T* x = g.data<T>();
    const int64_t n = g.numel();
    constexpr int64_t K = 8;
    double partial[K] = {};
    int64_t i = 0;
    for (; i + K <= n; i += K)
      for (int64_t k = 0; k < K; ++k) partial[k] += double(x[i + k]) * double(x[i + k]);
    for (; i < n; ++i) partial[i % K] += double(x[i]) * double(x[i]);
    double sum = 0;
    for (double p : partial) sum += p;
    return sum;
  });
}

}  // namespace

double clip_grad_norm_(const std::vector<Variable>& params, double max_norm) {
  check(max_norm >= 0, "clip_grad_norm_: max_norm must be >= 0, got {}", max_norm);
  std::vector<Variable> with_grad;
  double total = 0;
  for (const Variable& p : params) {
    if (!p.grad().defined()) continue;
    with_grad.push_back(p);
    total += sum_of_squares(p.grad().contiguous());
  }
  const double norm = std::sqrt(total);
  if (!(norm > max_norm)) return norm;

  const double scale = max_norm / (norm + 1e-6);
  // Scale in place, like torch (a tensor that holds the gradient sees the change), unless that
  // could scale an element twice: a gradient that is not a plain dense array (e.g. expanded, stride
  // 0) or whose storage also holds another gradient gets a scaled copy instead, and its storage is
  // only read.
  std::map<const Storage*, int> uses;
  for (const Variable& p : with_grad) ++uses[p.grad().storage().get()];
  for (Variable& p : with_grad) {
    Tensor g = p.grad();
    if (g.is_contiguous() && uses[g.storage().get()] == 1) g.mul_(scale);
    else p.set_grad(mul(g, scale));
  }
  return norm;
}

}  // namespace strata
