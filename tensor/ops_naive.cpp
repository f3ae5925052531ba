// ops_naive.cpp: the scalar reference for the fast kernels of ops_elementwise.cpp and
// ops_reduce.cpp. One element at a time through for_each_offset, libm for the math, double for
// every accumulation, no SIMD, no threads, no dimension merging: slow and obviously right. The
// tests compare the fast paths (contiguous, strided, broadcast) against these loops.
#include "tensor/ops.h"

#include <cmath>
#include <limits>

namespace strata::naive {
namespace {

template <class T>
T apply(Unary op, T x) {
  switch (op) {
    case Unary::neg: return -x;
    case Unary::abs: return std::fabs(x);
    case Unary::exp: return std::exp(x);
    case Unary::log: return std::log(x);
    case Unary::sqrt: return std::sqrt(x);
    case Unary::rsqrt: return T(1) / std::sqrt(x);
    case Unary::sin: return std::sin(x);
    case Unary::cos: return std::cos(x);
    case Unary::tanh: return std::tanh(x);
    case Unary::sigmoid: return T(1) / (T(1) + std::exp(-x));
    case Unary::silu: return x / (T(1) + std::exp(-x));
    case Unary::relu: return x < 0 ? T(0) : x;
    case Unary::gelu: return T(0.5) * x * std::erfc(-x * T(0.70710678118654752440));
    case Unary::square: return x * x;
  }
  fail("naive::unary: unknown op {}", static_cast<int>(op));
}

template <class T>
T apply(Binary op, T a, T b) {
  switch (op) {
    case Binary::add: return a + b;
    case Binary::sub: return a - b;
    case Binary::mul: return a * b;
    case Binary::div: return a / b;
    case Binary::pow: return std::pow(a, b);
    case Binary::maximum: return std::isnan(a) || std::isnan(b) ? a + b : (a > b ? a : b);
    case Binary::minimum: return std::isnan(a) || std::isnan(b) ? a + b : (a < b ? a : b);
  }
  fail("naive::binary: unknown op {}", static_cast<int>(op));
}

// The strides that read `t` at each index of `shape` (0 on broadcast dimensions).
Strides read_strides(const Tensor& t, const Shape& shape) {
  Strides s = Dims::filled(shape.size(), 0);
  for (int64_t d = 0; d < t.dim(); ++d) {
    const int64_t od = d + shape.size() - t.dim();
    s[od] = t.size(d) == shape[od] ? t.stride(d) : 0;
  }
  return s;
}

}  // namespace

Tensor unary(Unary op, const Tensor& x) {
  Tensor out = empty(x.shape(), x.dtype());
  visit_floating(x.dtype(), "naive::unary", [&]<class T>() {
    const T* p = x.data<T>();
    T* o = out.data<T>();
    int64_t i = 0;
    for_each_offset(x.shape(), x.strides(), [&](int64_t off) { o[i++] = apply(op, p[off]); });
  });
  return out;
}

Tensor binary(Binary op, const Tensor& a, const Tensor& b) {
  check(a.dtype() == b.dtype(), "naive::binary: dtypes differ: {} vs {}", a.dtype(), b.dtype());
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), "naive::binary");
  Tensor out = empty(shape, a.dtype());
  visit_floating(a.dtype(), "naive::binary", [&]<class T>() {
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* o = out.data<T>();
    // Walk a; walk b with its own strides in step (an index counter per element).
    const Strides sa = read_strides(a, shape), sb = read_strides(b, shape);
    std::vector<int64_t> offs_b;
    offs_b.reserve(shape.numel());
    for_each_offset(shape, sb, [&](int64_t off) { offs_b.push_back(off); });
    int64_t i = 0;
    for_each_offset(shape, sa, [&](int64_t off) {
      o[i] = apply(op, pa[off], pb[offs_b[i]]);
      ++i;
    });
  });
  return out;
}

Tensor sum(const Tensor& x, const Dims& dims, bool keepdim) {
  // Reduced dims get stride 0 in the output, so every input element adds into its output slot.
  std::vector<bool> reduce(x.dim(), dims.empty());
  for (int64_t d : dims) reduce[wrap_dim(d, x.dim(), "naive::sum")] = true;
  Shape kept_shape = x.shape();
  for (int64_t d = 0; d < x.dim(); ++d)
    if (reduce[d]) kept_shape[d] = 1;
  const Strides kept = contiguous_strides(kept_shape);
  Strides scatter = kept;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (reduce[d]) scatter[d] = 0;
  const DType out_dtype = is_floating(x.dtype()) ? x.dtype() : DType::i64;
  std::vector<double> acc(kept_shape.numel(), 0.0);
  visit_dtype(x.dtype(), [&]<class T>() {
    const T* p = x.data<T>();
    std::vector<int64_t> offs_out;
    offs_out.reserve(x.numel());
    for_each_offset(x.shape(), scatter, [&](int64_t off) { offs_out.push_back(off); });
    int64_t i = 0;
    for_each_offset(x.shape(), x.strides(), [&](int64_t off) { acc[offs_out[i++]] += static_cast<double>(p[off]); });
  });
  Tensor out = empty(kept_shape, out_dtype);
  visit_dtype(out_dtype, [&]<class T>() {
    T* o = out.data<T>();
    for (size_t j = 0; j < acc.size(); ++j) o[j] = static_cast<T>(acc[j]);
  });
  if (keepdim) return out;
  Shape squeezed;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (!reduce[d]) squeezed.push_back(x.size(d));
  return out.view(squeezed);
}

Tensor softmax(const Tensor& x, int64_t dim) {
  const int64_t d = wrap_dim(dim, x.dim(), "naive::softmax");
  Tensor out = empty(x.shape(), x.dtype());
  visit_floating(x.dtype(), "naive::softmax", [&]<class T>() {
    const T* p = x.data<T>();
    T* o = out.data<T>();
    // One row per index of the other dims: walk the shape with dim d collapsed to size 1.
    Shape rows = x.shape();
    rows[d] = 1;
    const Strides ostr = out.strides();
    std::vector<int64_t> out_rows;
    for_each_offset(rows, ostr, [&](int64_t off) { out_rows.push_back(off); });
    int64_t r = 0;
    const int64_t n = x.size(d), sx = x.stride(d), so = ostr[d];
    for_each_offset(rows, x.strides(), [&](int64_t off) {
      double m = -std::numeric_limits<double>::infinity();
      for (int64_t i = 0; i < n; ++i) m = std::max(m, static_cast<double>(p[off + i * sx]));
      double s = 0;
      for (int64_t i = 0; i < n; ++i) s += std::exp(static_cast<double>(p[off + i * sx]) - m);
      for (int64_t i = 0; i < n; ++i)
        o[out_rows[r] + i * so] = static_cast<T>(std::exp(static_cast<double>(p[off + i * sx]) - m) / s);
      ++r;
    });
  });
  return out;
}

}  // namespace strata::naive
