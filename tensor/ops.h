// ops.h: elementwise operations (with NumPy broadcasting), reductions, and softmax.
//
// Elementwise ops run in three tiers (see ops_elementwise.cpp):
//   1. every operand contiguous with the output's shape -> one flat SIMD loop (xsimd);
//   2. otherwise dimensions are merged where strides allow and the innermost dimension runs as a
//      SIMD loop (stride 1), a broadcast loop (stride 0) or a plain strided loop;
//   3. the scalar reference (ops_naive.cpp) that the tests compare tiers 1 and 2 against.
// Binary ops need equal dtypes (no silent promotion); scalar operands take the tensor's dtype.
//
// Reductions accumulate in double (f32 inputs) so long sums do not lose precision; every output
// element is reduced by one thread in a fixed order, so results do not depend on the thread count.
#pragma once

#include "tensor/tensor.h"

#include <utility>

namespace strata {

// ---- Unary -----------------------------------------------------------------------------------
Tensor neg(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);  // 1 / sqrt(x)
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);  // 1 / (1 + e^-x)
Tensor silu(const Tensor& x);     // x * sigmoid(x)
Tensor relu(const Tensor& x);
Tensor gelu(const Tensor& x);     // exact: x * Phi(x) = x/2 * (1 + erf(x/sqrt 2))
Tensor square(const Tensor& x);
Tensor pow(const Tensor& x, double exponent);
Tensor clamp(const Tensor& x, double lo, double hi);

// ---- Binary (broadcasting) -------------------------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
// Scalar operands (converted to the tensor's dtype).
Tensor add(const Tensor& a, double b);
Tensor sub(const Tensor& a, double b);
Tensor mul(const Tensor& a, double b);
Tensor div(const Tensor& a, double b);
Tensor maximum(const Tensor& a, double b);
Tensor minimum(const Tensor& a, double b);

// Comparisons give bool (DType::b8) tensors.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, double b);
Tensor ne(const Tensor& a, double b);
Tensor lt(const Tensor& a, double b);
Tensor le(const Tensor& a, double b);
Tensor gt(const Tensor& a, double b);
Tensor ge(const Tensor& a, double b);
Tensor logical_not(const Tensor& mask);

// cond ? a : b elementwise; cond is bool, a and b share a dtype; all three broadcast.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, double b);

inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator+(const Tensor& a, double b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, double b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, double b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, double b) { return div(a, b); }
inline Tensor operator+(double a, const Tensor& b) { return add(b, a); }
inline Tensor operator*(double a, const Tensor& b) { return mul(b, a); }
inline Tensor operator-(double a, const Tensor& b) { return add(neg(b), a); }

// ---- Reductions --------------------------------------------------------------------------------
// `dims` lists the dimensions to reduce (negative allowed); an empty list reduces all of them.
Tensor sum(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
// Variance with Bessel's `correction` (1 = unbiased, torch's default; 0 = population).
Tensor var(const Tensor& x, const Dims& dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor amax(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
// log(sum(exp(x))) computed stably as m + log(sum(exp(x - m))), m = max.
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim = false);
// Values and int64 indices of the max/min along one dim (first index on ties, like torch).
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);

// softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m), m = max_j x_j, fused in one pass per row.
Tensor softmax(const Tensor& x, int64_t dim);
// log_softmax(x)_i = x_i - m - log(sum_j exp(x_j - m)).
Tensor log_softmax(const Tensor& x, int64_t dim);

// ---- Scalar reference ----------------------------------------------------------------------------
// The plain loops of ops_naive.cpp: one element at a time through for_each_offset, no SIMD, no
// threads. Tests compare every fast path against these.
namespace naive {
enum class Unary { neg, abs, exp, log, sqrt, rsqrt, sin, cos, tanh, sigmoid, silu, relu, gelu, square };
enum class Binary { add, sub, mul, div, pow, maximum, minimum };
Tensor unary(Unary op, const Tensor& x);
Tensor binary(Binary op, const Tensor& a, const Tensor& b);
Tensor sum(const Tensor& x, const Dims& dims, bool keepdim);
Tensor softmax(const Tensor& x, int64_t dim);
}  // namespace naive

}  // namespace strata
