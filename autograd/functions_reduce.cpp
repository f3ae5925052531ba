// functions_reduce.cpp: reductions, softmax and log-softmax on Variables, and their backward.
//
// A reduction y = r(x over dims) sends each output gradient back to the elements it was computed
// from: the gradient g is reshaped with the reduced dims as size 1 (unsqueeze_reduced) and
// broadcast against x. For softmax and log-softmax, see docs/internals/softmax_cross_entropy.md.
#include "autograd/function_helpers.h"

namespace strata {

using detail::Grads;
using detail::reduced_dims;
using detail::unsqueeze_reduced;

namespace {

// Number of elements each output of a reduction over `dims` combines.
int64_t reduced_count(const Shape& shape, const Dims& dims, const char* op) {
  int64_t n = 1;
  for (int64_t d : reduced_dims(dims, shape.size(), op)) n *= shape[d];
  return n;
}

}  // namespace

// y = sum_i x_i: dx_i = g (broadcast back over the reduced dims)
Variable sum(const Variable& x, const Dims& dims, bool keepdim, Location loc) {
  return record("sum", loc, sum(x.data(), dims, keepdim), {x}, {},
                [sx = x.shape(), dims, keepdim](const BackwardInput& in) -> Grads {
                  return {unsqueeze_reduced(in.grad, sx.size(), dims, keepdim).expand(sx)};
                });
}

// y = (1/n) sum_i x_i: dx_i = g / n
Variable mean(const Variable& x, const Dims& dims, bool keepdim, Location loc) {
  const double n = double(reduced_count(x.shape(), dims, "mean"));
  return record("mean", loc, mean(x.data(), dims, keepdim), {x}, {},
                [sx = x.shape(), dims, keepdim, n](const BackwardInput& in) -> Grads {
                  return {(unsqueeze_reduced(in.grad, sx.size(), dims, keepdim) * (1.0 / n)).expand(sx)};
                });
}

// var = sum (x - mean)^2 / (n - correction), composed (its gradient 2 (x - mean) / (n - correction)
// follows from the parts).
Variable var(const Variable& x, const Dims& dims, int64_t correction, bool keepdim, Location loc) {
  const int64_t n = reduced_count(x.shape(), dims, "var");
  check(n - correction > 0, "var: {} elements per output with correction {} leaves no degrees of freedom", n,
        correction);
  Variable centered = sub(x, mean(x, dims, /*keepdim=*/true, loc), loc);
  return div(sum(square(centered, loc), dims, keepdim, loc), double(n - correction), loc);
}

// y = max_i x_i: dx_i = g / k for the k elements equal to the max, 0 elsewhere (like torch.amax)
Variable amax(const Variable& x, const Dims& dims, bool keepdim, Location loc) {
  Tensor y = amax(x.data(), dims, keepdim);
  return record("amax", loc, y, {x}, {x.data(), y}, [dims, keepdim](const BackwardInput& in) -> Grads {
    const Tensor& x = in.saved[0];
    const int64_t nd = x.dim();
    Tensor is_max = eq(x, unsqueeze_reduced(in.saved[1], nd, dims, keepdim)).to(x.dtype());
    Tensor count = sum(is_max, dims, /*keepdim=*/true);
    return {unsqueeze_reduced(in.grad, nd, dims, keepdim) / count * is_max};
  });
}

// min x = -max(-x)
Variable amin(const Variable& x, const Dims& dims, bool keepdim, Location loc) {
  return neg(amax(neg(x, loc), dims, keepdim, loc), loc);
}

// y = log sum_i e^(x_i): dx_i = g e^(x_i) / sum_j e^(x_j) = g e^(x_i - y)
Variable logsumexp(const Variable& x, const Dims& dims, bool keepdim, Location loc) {
  Tensor y = logsumexp(x.data(), dims, keepdim);
  return record("logsumexp", loc, y, {x}, {x.data(), y}, [dims, keepdim](const BackwardInput& in) -> Grads {
    const Tensor& x = in.saved[0];
    const int64_t nd = x.dim();
    return {unsqueeze_reduced(in.grad, nd, dims, keepdim) * exp(x - unsqueeze_reduced(in.saved[1], nd, dims, keepdim))};
  });
}

// y_i = e^(x_i) / sum_j e^(x_j): dy_i/dx_k = y_i (delta_ik - y_k), so
// dx_k = sum_i g_i y_i (delta_ik - y_k) = y_k (g_k - sum_i g_i y_i)
Variable softmax(const Variable& x, int64_t dim, Location loc) {
  Tensor y = softmax(x.data(), dim);
  return record("softmax", loc, y, {x}, {y}, [dim](const BackwardInput& in) -> Grads {
    const Tensor& y = in.saved[0];
    return {y * (in.grad - sum(in.grad * y, {dim}, /*keepdim=*/true))};
  });
}

// y_i = x_i - log sum_j e^(x_j): dy_i/dx_k = delta_ik - softmax_k, so
// dx_k = g_k - softmax_k sum_i g_i = g_k - e^(y_k) sum_i g_i
Variable log_softmax(const Variable& x, int64_t dim, Location loc) {
  Tensor y = log_softmax(x.data(), dim);
  return record("log_softmax", loc, y, {x}, {y}, [dim](const BackwardInput& in) -> Grads {
    return {in.grad - exp(in.saved[0]) * sum(in.grad, {dim}, /*keepdim=*/true)};
  });
}

}  // namespace strata
