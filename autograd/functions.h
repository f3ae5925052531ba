// functions.h: the differentiable ops on Variables, named like their Tensor twins (ops.h,
// linalg.h, index.h, einsum.h) and like torch.
//
// Each op computes its value with the tensor layer and, when it records (grad mode on and an
// input requires grad), saves what its backward needs and a closure computing the input
// gradients. Every op's forward, saved tensors and backward sit together in one function in
// functions_*.cpp, with the derivative as a comment. Ops that broadcast reduce their gradient back
// to each input's shape. Constant operands (masks, indices, targets) are plain Tensors.
//
// Every op takes a last, defaulted `loc` argument: the call site, filled in by the compiler.
// Anomaly mode and to_dot report it. (The operators get it through `Operand`, below.)
//
// Every differentiable op is listed once in op_list.h, and the test suite fails if a listed op has
// no gradcheck case.
#pragma once

#include "autograd/variable.h"
#include "tensor/einsum.h"

#include <functional>
#include <optional>
#include <source_location>
#include <string>
#include <utility>
#include <vector>

namespace strata {

using Location = std::source_location;

// ---- Elementwise ------------------------------------------------------------------------------------
Variable neg(const Variable& x, Location loc = Location::current());
Variable abs(const Variable& x, Location loc = Location::current());
Variable exp(const Variable& x, Location loc = Location::current());
Variable log(const Variable& x, Location loc = Location::current());
Variable sqrt(const Variable& x, Location loc = Location::current());
Variable rsqrt(const Variable& x, Location loc = Location::current());
Variable sin(const Variable& x, Location loc = Location::current());
Variable cos(const Variable& x, Location loc = Location::current());
Variable tanh(const Variable& x, Location loc = Location::current());
Variable sigmoid(const Variable& x, Location loc = Location::current());
Variable silu(const Variable& x, Location loc = Location::current());  // fused: d/dx = s(x) * (1 + x * (1 - s(x)))
Variable relu(const Variable& x, Location loc = Location::current());
Variable gelu(const Variable& x, Location loc = Location::current());  // exact (erf) form
Variable square(const Variable& x, Location loc = Location::current());
Variable pow(const Variable& x, double exponent, Location loc = Location::current());
Variable clamp(const Variable& x, double lo, double hi, Location loc = Location::current());

Variable add(const Variable& a, const Variable& b, Location loc = Location::current());
Variable sub(const Variable& a, const Variable& b, Location loc = Location::current());
Variable mul(const Variable& a, const Variable& b, Location loc = Location::current());
Variable div(const Variable& a, const Variable& b, Location loc = Location::current());
// On ties both operands get half the gradient (like torch).
Variable maximum(const Variable& a, const Variable& b, Location loc = Location::current());
Variable minimum(const Variable& a, const Variable& b, Location loc = Location::current());
Variable add(const Variable& a, double b, Location loc = Location::current());
Variable mul(const Variable& a, double b, Location loc = Location::current());
Variable div(const Variable& a, double b, Location loc = Location::current());
// Constant tensor operands (not differentiated), e.g. RoPE's cos/sin tables. They may broadcast
// `a` to a larger shape.
Variable add(const Variable& a, const Tensor& b, Location loc = Location::current());
Variable mul(const Variable& a, const Tensor& b, Location loc = Location::current());

// cond ? a : b (cond is a bool Tensor; all three broadcast); masked_fill(x, mask, value) =
// where(mask, value, x).
Variable where(const Tensor& cond, const Variable& a, const Variable& b, Location loc = Location::current());
Variable masked_fill(const Variable& x, const Tensor& mask, double value, Location loc = Location::current());

// A Variable operand of an operator, together with the place the expression was written: its
// constructor's defaulted argument is evaluated where `a + b` appears in the caller's code.
struct Operand {
  Operand(const Variable& v, Location loc = Location::current()) : v(v), loc(loc) {}  // NOLINT: implicit
  const Variable& v;
  Location loc;
};
inline Variable operator-(Operand x) { return neg(x.v, x.loc); }
inline Variable operator+(Operand a, const Variable& b) { return add(a.v, b, a.loc); }
inline Variable operator-(Operand a, const Variable& b) { return sub(a.v, b, a.loc); }
inline Variable operator*(Operand a, const Variable& b) { return mul(a.v, b, a.loc); }
inline Variable operator/(Operand a, const Variable& b) { return div(a.v, b, a.loc); }
inline Variable operator+(Operand a, double b) { return add(a.v, b, a.loc); }
inline Variable operator-(Operand a, double b) { return add(a.v, -b, a.loc); }
inline Variable operator*(Operand a, double b) { return mul(a.v, b, a.loc); }
inline Variable operator/(Operand a, double b) { return div(a.v, b, a.loc); }
inline Variable operator+(double a, Operand b) { return add(b.v, a, b.loc); }
inline Variable operator-(double a, Operand b) { return add(neg(b.v, b.loc), a, b.loc); }
inline Variable operator*(double a, Operand b) { return mul(b.v, a, b.loc); }

// ---- Reductions ------------------------------------------------------------------------------------
// `dims` empty = all dimensions.
Variable sum(const Variable& x, const Dims& dims = {}, bool keepdim = false, Location loc = Location::current());
Variable mean(const Variable& x, const Dims& dims = {}, bool keepdim = false, Location loc = Location::current());
Variable var(const Variable& x, const Dims& dims = {}, int64_t correction = 1, bool keepdim = false,
             Location loc = Location::current());
// On ties the gradient is shared evenly among the extremal elements (like torch.amax).
Variable amax(const Variable& x, const Dims& dims = {}, bool keepdim = false, Location loc = Location::current());
Variable amin(const Variable& x, const Dims& dims = {}, bool keepdim = false, Location loc = Location::current());
Variable logsumexp(const Variable& x, const Dims& dims, bool keepdim = false, Location loc = Location::current());
Variable softmax(const Variable& x, int64_t dim, Location loc = Location::current());
Variable log_softmax(const Variable& x, int64_t dim, Location loc = Location::current());

// ---- Views and movement ------------------------------------------------------------------------------
Variable view(const Variable& x, const Shape& shape, Location loc = Location::current());
Variable reshape(const Variable& x, const Shape& shape, Location loc = Location::current());
Variable permute(const Variable& x, const Dims& order, Location loc = Location::current());
Variable transpose(const Variable& x, int64_t dim0, int64_t dim1, Location loc = Location::current());
Variable mT(const Variable& x, Location loc = Location::current());
Variable slice(const Variable& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1,
               Location loc = Location::current());
Variable narrow(const Variable& x, int64_t dim, int64_t start, int64_t length, Location loc = Location::current());
Variable select(const Variable& x, int64_t dim, int64_t index, Location loc = Location::current());
Variable expand(const Variable& x, const Shape& shape, Location loc = Location::current());
Variable unsqueeze(const Variable& x, int64_t dim, Location loc = Location::current());
Variable squeeze(const Variable& x, int64_t dim, Location loc = Location::current());
Variable flatten(const Variable& x, int64_t start_dim = 0, int64_t end_dim = -1, Location loc = Location::current());
Variable unflatten(const Variable& x, int64_t dim, const Shape& sizes, Location loc = Location::current());
Variable diagonal(const Variable& x, int64_t offset = 0, int64_t dim1 = 0, int64_t dim2 = 1,
                  Location loc = Location::current());
Variable contiguous(const Variable& x, Location loc = Location::current());

// ---- Linear algebra, joining, indexing ----------------------------------------------------------------
Variable matmul(const Variable& a, const Variable& b, Location loc = Location::current());
Variable outer(const Variable& a, const Variable& b, Location loc = Location::current());
Variable cat(const std::vector<Variable>& xs, int64_t dim = 0, Location loc = Location::current());
Variable stack(const std::vector<Variable>& xs, int64_t dim = 0, Location loc = Location::current());
std::vector<Variable> split(const Variable& x, int64_t split_size, int64_t dim = 0, Location loc = Location::current());
std::vector<Variable> chunk(const Variable& x, int64_t chunks, int64_t dim = 0, Location loc = Location::current());
Variable gather(const Variable& x, int64_t dim, const Tensor& index, Location loc = Location::current());
Variable index_select(const Variable& x, int64_t dim, const Tensor& index, Location loc = Location::current());
// weight (V, C), ids (...) int64 -> (..., C); backward is index_add into weight's gradient.
Variable embedding(const Variable& weight, const Tensor& ids, Location loc = Location::current());
Variable tril(const Variable& x, int64_t diagonal = 0, Location loc = Location::current());
Variable triu(const Variable& x, int64_t diagonal = 0, Location loc = Location::current());

Variable einsum(const std::string& equation, const std::vector<Variable>& operands,
                Location loc = Location::current());
Variable rearrange(const Variable& x, const std::string& pattern, const AxisSizes& sizes = {},
                   Location loc = Location::current());
Variable repeat(const Variable& x, const std::string& pattern, const AxisSizes& sizes = {},
                Location loc = Location::current());
// reduction: "sum", "mean", "max", "min" (ties share the gradient evenly, like amax).
Variable reduce(const Variable& x, const std::string& pattern, const std::string& reduction,
                const AxisSizes& sizes = {}, Location loc = Location::current());

// ---- Fused ops with hand-written backward (each has a composed twin in the tests) ------------------
// Mean cross-entropy of logits (..., V) against int64 targets (...): mean(logsumexp(z) - z[target]).
// See docs/internals/softmax_cross_entropy.md.
Variable cross_entropy(const Variable& logits, const Tensor& targets, Location loc = Location::current());
// x / sqrt(mean(x^2, last dim) + eps) * weight, in the input's dtype (f32/f64); the mean of squares
// (and the backward's row sums) accumulate in double.
Variable rms_norm(const Variable& x, const Variable& weight, double eps = 1e-5, Location loc = Location::current());
// silu(a) * b, the gate of a SwiGLU feed-forward.
Variable swiglu(const Variable& a, const Variable& b, Location loc = Location::current());
// softmax(q k^T / sqrt(d_k) masked) v over any leading dims: q (..., Tq, dk), k (..., Tk, dk),
// v (..., Tk, dv), mask bool (..., Tq, Tk) broadcastable, true = attend. Returns (..., Tq, dv).
// A query row whose mask allows no key gives NaN (as softmax over only -inf does in torch); anomaly
// mode reports it. See docs/internals/attention_backward.md.
Variable scaled_dot_product_attention(const Variable& q, const Variable& k, const Variable& v,
                                      const std::optional<Tensor>& mask = std::nullopt,
                                      Location loc = Location::current());

// ---- Gradient check ---------------------------------------------------------------------------------
struct GradcheckOptions {
  double eps = 1e-6;    // central-difference step
  double atol = 1e-5;   // |analytic - numeric| <= atol + rtol * |numeric|
  double rtol = 1e-3;
  int64_t max_samples = 64;  // elements probed per input (all when the input is smaller)
  uint64_t seed = 0;         // which elements are sampled, and the output weights w
};
struct GradcheckResult {
  bool ok;
  double max_abs_error;
  std::string message;  // names the input, the element, the analytic and numeric values on failure
};
// Compares the gradient of sum(fn(inputs) * w) (w fixed random weights) from backward against
// central differences, in f64. Inputs must be f64 Variables that require grad.
GradcheckResult gradcheck(const std::function<Variable(const std::vector<Variable>&)>& fn,
                          const std::vector<Variable>& inputs, GradcheckOptions options = {});

}  // namespace strata
