// ops_elementwise.cpp: every elementwise op of ops.h, the in-place Tensor writes (copy_, fill_,
// add_, ...), and the copies contiguous / clone / to.
//
// Broadcasting (NumPy rules): shapes are aligned at the right; two sizes agree when they are
// equal or one of them is 1. An input is read through strides in the output's shape, with stride
// 0 on every dimension where it has size 1 (or does not exist), so it is never copied.
//
// The engine, `map_into(out, op, inputs...)`, computes out[i] = op(in_1[i], ..., in_k[i]):
//   1. it merges adjacent dimensions whose strides line up for every operand (a contiguous
//      (B, T, C) tensor plus a (C) bias becomes a (B*T, C) loop) and drops size-1 dimensions;
//   2. if that leaves one dimension where every operand has stride 1, it runs one flat SIMD loop
//      (tier 1); otherwise it walks the outer dimensions and runs the innermost one as a SIMD
//      loop whose loads are contiguous (stride 1), broadcast (stride 0) or gathered (tier 2);
//   3. the range of output elements is cut into fixed chunks of kGrain elements that run in
//      parallel. Each element is computed independently, so the thread count never changes a bit.
// An op is a functor whose templated operator() works both on one scalar and on a simd::batch;
// the engine uses the batch form for float/double when the functor accepts batches, else scalar
// loops. Tails go through a padded batch, so all elements of an op share one formula.
// The scalar reference that the tests compare against is ops_naive.cpp.
#include "tensor/loop.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"
#include "tensor/simd.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <limits>
#include <tuple>
#include <type_traits>
#include <utility>

namespace strata {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const int64_t n = std::max(a.size(), b.size());
  Shape out = Dims::filled(n, 1);
  for (int64_t i = 0; i < n; ++i) {
    // Dimension i of the output is dimension i - (n - ndim) of each input, if that exists.
    const int64_t ia = i - (n - a.size()), ib = i - (n - b.size());
    const int64_t sa = ia >= 0 ? a[ia] : 1, sb = ib >= 0 ? b[ib] : 1;
    check(sa == sb || sa == 1 || sb == 1,
          "{}: shapes {} and {} do not broadcast: sizes {} and {} at dimension {}; hint: aligned from the "
          "right, sizes must be equal or 1 (unsqueeze or reshape one operand)",
          op, a, b, sa, sb, i - n);
    out[i] = sa == 1 ? sb : sa;
  }
  return out;
}

namespace {

using detail::check_defined;
using detail::kGrain;
using detail::Layout;
using detail::Src;

// ---- The engine -------------------------------------------------------------------------------------------

// out[i] = op(ins[i]...) at every index i of out's shape; each input broadcasts to that shape.
// Out and In... are the element types (checked against the dtypes by data<T>()).
template <class Out, class... In, class Op, class... Inputs>
void map_into(const Tensor& out, const Op& op, const Inputs&... ins) {
  static_assert(sizeof...(In) == sizeof...(Inputs));
  constexpr size_t N = 1 + sizeof...(In);
  const int64_t n = out.numel();
  if (n == 0) return;
  const Layout<N> l = detail::merge_dims(
      out.shape(), std::array<Strides, N>{out.strides(), detail::broadcast_strides(ins, out.shape())...});
  Out* o = out.data<Out>();
  const std::tuple<const In*...> p{ins.template data<In>()...};
  const bool flat = l.flat();
  const bool stream = flat && n * int64_t(sizeof(Out)) >= detail::kStreamBytes;
  parallel_for(0, n, kGrain, [&](int64_t lo, int64_t hi) {
    [&]<size_t... K>(std::index_sequence<K...>) {
      if (flat) {
        detail::run_stretch<true>(op, hi - lo, o + lo, 1, stream, Src<In>{std::get<K>(p) + lo, 1}...);
      } else {
        detail::for_each_run(l, lo, hi, [&](const std::array<int64_t, N>& off, int64_t len) {
          detail::run_stretch<false>(op, len, o + off[0], l.inner_stride(0), false,
                             Src<In>{std::get<K>(p) + off[K + 1], l.inner_stride(K + 1)}...);
        });
      }
    }(std::index_sequence_for<In...>{});
  });
}

// ---- Checks ------------------------------------------------------------------------------------------------

void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  check(a.dtype() == b.dtype(), "{}: dtypes differ: {} vs {}; hint: convert one with .to(...)", op, a.dtype(),
        b.dtype());
}

// The dtypes an op accepts, and the visit that enforces it (the others throw naming the op).
enum class Accepts { any, numeric, floating };  // numeric: all but bool
template <Accepts A, class F>
void visit_accepted(DType dtype, const char* op, F&& f) {
  if constexpr (A == Accepts::any) visit_dtype(dtype, f);
  else if constexpr (A == Accepts::numeric) visit_numeric(dtype, op, f);
  else visit_floating(dtype, op, f);
}

// A scalar operand converted to T; integer tensors need a value they can hold exactly.
template <class T>
T scalar_as(double value, const char* op, DType dtype) {
  if constexpr (!std::is_floating_point_v<T>) {
    // In range (max() + 1 is a power of two, exact in double) and a whole number.
    const bool in_range = value >= static_cast<double>(std::numeric_limits<T>::lowest()) &&
                          value < static_cast<double>(std::numeric_limits<T>::max()) + 1.0;
    check(in_range && std::trunc(value) == value,
          "{}: the scalar {} is not representable in the tensor's dtype {}; hint: convert the tensor with "
          ".to(DType::f32) (there is no implicit type promotion)",
          op, value, dtype_name(dtype));
  }
  return static_cast<T>(value);
}

// In-place writes: `src` must broadcast to dst's shape (not the other way), dtypes match, and dst
// must not repeat an element (a stride-0 dimension would make several outputs one location).
void check_inplace(const char* op, const Tensor& dst, const Tensor& src) {
  check_defined(op, dst);
  check_defined(op, src);
  check_same_dtype(op, dst, src);
  const Shape b = broadcast_shapes(dst.shape(), src.shape(), op);
  check(b == dst.shape(), "{}: cannot write a result of shape {} into self of shape {}; hint: other ({}) must "
        "broadcast to self's shape", op, b, dst.shape(), src.shape());
}
void check_writable(const char* op, const Tensor& dst) {
  check_defined(op, dst);
  if (dst.numel() == 0) return;  // (zero-size tensors may have stride 0 anywhere)
  for (int64_t d = 0; d < dst.dim(); ++d)
    check(dst.stride(d) != 0 || dst.size(d) <= 1,
          "{}: self {} with strides {} is an expanded view (several elements share one memory location); "
          "hint: call .clone() or .contiguous() first",
          op, dst.shape(), dst.strides());
}

// When src is another view of dst's storage, an elementwise loop could read elements it has
// already overwritten: read from a copy then. (The same view is safe: each element is read before
// it is written.)
Tensor unaliased(const Tensor& dst, const Tensor& src) {
  const bool same_view = src.offset() == dst.offset() && src.shape() == dst.shape() && src.strides() == dst.strides();
  return dst.shares_storage(src) && !same_view ? src.clone() : src;
}

// ---- Functors ----------------------------------------------------------------------------------------------
// Each works on a scalar and on a simd::batch (V), unless it is constrained to arithmetic types.
constexpr double kSqrtHalf = 0.70710678118654752440;

struct Identity { template <class V> V operator()(V x) const { return x; } };
struct Neg { template <class V> V operator()(V x) const { return -x; } };
struct Abs { template <class V> V operator()(V x) const { return simd::abs(x); } };
struct Square { template <class V> V operator()(V x) const { return x * x; } };
// x < 0 ? 0 : x keeps NaN and -0.0 as they are, like torch.relu.
struct Relu { template <class V> V operator()(V x) const { return simd::select(x < V(0), V(0), x); } };
struct Exp { template <class V> V operator()(V x) const { return simd::exp(x); } };
struct Log { template <class V> V operator()(V x) const { return simd::log(x); } };
struct Sqrt { template <class V> V operator()(V x) const { return simd::sqrt(x); } };
struct Rsqrt { template <class V> V operator()(V x) const { return V(1) / simd::sqrt(x); } };
struct Sin { template <class V> V operator()(V x) const { return simd::sin(x); } };
struct Cos { template <class V> V operator()(V x) const { return simd::cos(x); } };
struct Tanh { template <class V> V operator()(V x) const { return simd::tanh(x); } };
struct Sigmoid { template <class V> V operator()(V x) const { return V(1) / (V(1) + simd::exp(-x)); } };
struct Silu { template <class V> V operator()(V x) const { return x / (V(1) + simd::exp(-x)); } };
// x Phi(x) = x/2 (1 + erf(x/sqrt2)) = x/2 erfc(-x/sqrt2); the erfc form keeps its precision for
// negative x, where 1 + erf(...) cancels.
struct Gelu { template <class V> V operator()(V x) const { return V(0.5) * x * simd::erfc(-x * V(kSqrtHalf)); } };

struct Add { template <class V> V operator()(V a, V b) const { return a + b; } };
struct Sub { template <class V> V operator()(V a, V b) const { return a - b; } };
struct Mul { template <class V> V operator()(V a, V b) const { return a * b; } };
struct Div { template <class V> V operator()(V a, V b) const { return a / b; } };
struct Maximum { template <class V> V operator()(V a, V b) const { return simd::maximum(a, b); } };
struct Minimum { template <class V> V operator()(V a, V b) const { return simd::minimum(a, b); } };
// a + alpha * b (add_ with a scale).
template <class T>
struct AddScaled {
  T alpha;
  template <class V> V operator()(V a, V b) const { return a + V(alpha) * b; }
};
template <class T>
struct Clamp {
  T lo, hi;
  template <class V> V operator()(V x) const { return simd::minimum(simd::maximum(x, V(lo)), V(hi)); }
};
// libm's pow, one element at a time (xsimd's exp(b log a) loses digits when the result is large).
struct Pow {
  template <class T> requires std::is_floating_point_v<T>
  T operator()(T a, T b) const { return std::pow(a, b); }
};
template <class T>
struct Fill {
  T value;
  T operator()() const { return value; }
};
template <class Out>
struct Cast {
  template <class In> requires std::is_arithmetic_v<In>
  Out operator()(In x) const { return static_cast<Out>(x); }
};

#define STRATA_COMPARISON(Name, expr)                      \
  struct Name {                                            \
    template <class T> requires std::is_arithmetic_v<T>    \
    bool operator()(T a, T b) const { return expr; }       \
  };
STRATA_COMPARISON(Eq, a == b)
STRATA_COMPARISON(Ne, a != b)
STRATA_COMPARISON(Lt, a < b)
STRATA_COMPARISON(Le, a <= b)
STRATA_COMPARISON(Gt, a > b)
STRATA_COMPARISON(Ge, a >= b)
#undef STRATA_COMPARISON
struct IsZero { template <class T> requires std::is_arithmetic_v<T> bool operator()(T x) const { return x == T(0); } };
struct Where {
  template <class T> requires std::is_arithmetic_v<T>
  T operator()(bool c, T a, T b) const { return c ? a : b; }
};

// ---- Op families ----------------------------------------------------------------------------------------------

// A fresh contiguous tensor with op applied to x.
template <Accepts A, class Op>
Tensor unary(const char* name, const Tensor& x, Op op = {}) {
  check_defined(name, x);
  Tensor out = empty(x.shape(), x.dtype());
  visit_accepted<A>(x.dtype(), name, [&]<class T>() { map_into<T, T>(out, op, x); });
  return out;
}

// A broadcasting binary op on a and b (same dtype); comparisons give bool.
template <Accepts A, class Op>
Tensor binary(const char* name, const Tensor& a, const Tensor& b, Op op = {}) {
  check_defined(name, a);
  check_defined(name, b);
  check_same_dtype(name, a, b);
  constexpr bool kComparison = std::same_as<std::invoke_result_t<const Op&, double, double>, bool>;
  Tensor out = empty(broadcast_shapes(a.shape(), b.shape(), name), kComparison ? DType::b8 : a.dtype());
  visit_accepted<A>(a.dtype(), name, [&]<class T>() {
    using Out = std::conditional_t<kComparison, bool, T>;
    map_into<Out, T, T>(out, op, a, b);
  });
  return out;
}

// A 0-d tensor holding a scalar operand in x's dtype (it broadcasts with stride 0).
Tensor scalar_like(const char* name, const Tensor& x, double value) {
  check_defined(name, x);
  visit_dtype(x.dtype(), [&]<class T>() { scalar_as<T>(value, name, x.dtype()); });
  return scalar_tensor(value, x.dtype());
}

// self = op(self, other) in place, other broadcast to self's shape.
template <Accepts A, class Op>
Tensor& inplace_binary(const char* name, Tensor& self, const Tensor& other, Op op = {}) {
  check_writable(name, self);
  check_inplace(name, self, other);
  const Tensor src = unaliased(self, other);
  visit_accepted<A>(self.dtype(), name, [&]<class T>() { map_into<T, T, T>(self, op, self, src); });
  self.bump_version();
  return self;
}

void check_int_division(const char* name, const Tensor& a) {
  check(is_floating(a.dtype()) || a.dtype() == DType::b8,
        "{}: integer tensors ({}) are not supported: true division would give a float and floor division is "
        "not supported; hint: convert first with .to(DType::f32)",
        name, a.dtype());
}

}  // namespace

// ---- Unary -------------------------------------------------------------------------------------------------------
Tensor neg(const Tensor& x) { return unary<Accepts::numeric, Neg>("neg", x); }
Tensor abs(const Tensor& x) { return unary<Accepts::numeric, Abs>("abs", x); }
Tensor square(const Tensor& x) { return unary<Accepts::numeric, Square>("square", x); }
Tensor relu(const Tensor& x) { return unary<Accepts::numeric, Relu>("relu", x); }
Tensor exp(const Tensor& x) { return unary<Accepts::floating, Exp>("exp", x); }
Tensor log(const Tensor& x) { return unary<Accepts::floating, Log>("log", x); }
Tensor sqrt(const Tensor& x) { return unary<Accepts::floating, Sqrt>("sqrt", x); }
Tensor rsqrt(const Tensor& x) { return unary<Accepts::floating, Rsqrt>("rsqrt", x); }
Tensor sin(const Tensor& x) { return unary<Accepts::floating, Sin>("sin", x); }
Tensor cos(const Tensor& x) { return unary<Accepts::floating, Cos>("cos", x); }
Tensor tanh(const Tensor& x) { return unary<Accepts::floating, Tanh>("tanh", x); }
Tensor sigmoid(const Tensor& x) { return unary<Accepts::floating, Sigmoid>("sigmoid", x); }
Tensor silu(const Tensor& x) { return unary<Accepts::floating, Silu>("silu", x); }
Tensor gelu(const Tensor& x) { return unary<Accepts::floating, Gelu>("gelu", x); }

Tensor pow(const Tensor& x, double exponent) {
  check_defined("pow", x);
  if (exponent == 2.0 && is_floating(x.dtype())) return square(x);  // exact: pow(x, 2) rounds to x*x too
  return pow(x, scalar_like("pow", x, exponent));
}

Tensor clamp(const Tensor& x, double lo, double hi) {
  check_defined("clamp", x);
  Tensor out = empty(x.shape(), x.dtype());
  visit_numeric(x.dtype(), "clamp", [&]<class T>() {
    map_into<T, T>(out, Clamp<T>{scalar_as<T>(lo, "clamp", x.dtype()), scalar_as<T>(hi, "clamp", x.dtype())}, x);
  });
  return out;
}

Tensor logical_not(const Tensor& mask) {
  check_defined("logical_not", mask);
  Tensor out = empty(mask.shape(), DType::b8);
  visit_dtype(mask.dtype(), [&]<class T>() { map_into<bool, T>(out, IsZero{}, mask); });
  return out;
}

// ---- Binary ------------------------------------------------------------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b) { return binary<Accepts::numeric, Add>("add", a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary<Accepts::numeric, Sub>("sub", a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary<Accepts::numeric, Mul>("mul", a, b); }
Tensor div(const Tensor& a, const Tensor& b) {
  check_defined("div", a);
  check_int_division("div", a);
  return binary<Accepts::floating, Div>("div", a, b);
}
Tensor pow(const Tensor& a, const Tensor& b) { return binary<Accepts::floating, Pow>("pow", a, b); }
Tensor maximum(const Tensor& a, const Tensor& b) { return binary<Accepts::numeric, Maximum>("maximum", a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return binary<Accepts::numeric, Minimum>("minimum", a, b); }

Tensor add(const Tensor& a, double b) { return add(a, scalar_like("add", a, b)); }
Tensor sub(const Tensor& a, double b) { return sub(a, scalar_like("sub", a, b)); }
Tensor mul(const Tensor& a, double b) { return mul(a, scalar_like("mul", a, b)); }
Tensor div(const Tensor& a, double b) {
  check_defined("div", a);
  check_int_division("div", a);
  return div(a, scalar_like("div", a, b));
}
Tensor maximum(const Tensor& a, double b) { return maximum(a, scalar_like("maximum", a, b)); }
Tensor minimum(const Tensor& a, double b) { return minimum(a, scalar_like("minimum", a, b)); }

Tensor eq(const Tensor& a, const Tensor& b) { return binary<Accepts::any, Eq>("eq", a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary<Accepts::any, Ne>("ne", a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary<Accepts::numeric, Lt>("lt", a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return binary<Accepts::numeric, Le>("le", a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary<Accepts::numeric, Gt>("gt", a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary<Accepts::numeric, Ge>("ge", a, b); }
Tensor eq(const Tensor& a, double b) { return eq(a, scalar_like("eq", a, b)); }
Tensor ne(const Tensor& a, double b) { return ne(a, scalar_like("ne", a, b)); }
Tensor lt(const Tensor& a, double b) { return lt(a, scalar_like("lt", a, b)); }
Tensor le(const Tensor& a, double b) { return le(a, scalar_like("le", a, b)); }
Tensor gt(const Tensor& a, double b) { return gt(a, scalar_like("gt", a, b)); }
Tensor ge(const Tensor& a, double b) { return ge(a, scalar_like("ge", a, b)); }

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_defined("where", cond);
  check(cond.dtype() == DType::b8, "where: the condition must be bool, got {}; hint: build it with a comparison "
        "(gt, eq, ...) or .to(DType::b8)", cond.dtype());
  check_defined("where", a);
  check_defined("where", b);
  check_same_dtype("where", a, b);
  const Shape shape = broadcast_shapes(cond.shape(), broadcast_shapes(a.shape(), b.shape(), "where"), "where");
  Tensor out = empty(shape, a.dtype());
  visit_dtype(a.dtype(), [&]<class T>() { map_into<T, bool, T, T>(out, Where{}, cond, a, b); });
  return out;
}
Tensor where(const Tensor& cond, const Tensor& a, double b) { return where(cond, a, scalar_like("where", a, b)); }

// ---- Copies and in-place writes --------------------------------------------------------------------------------

Tensor& Tensor::copy_(const Tensor& src) {
  check_writable("copy_", *this);
  check_inplace("copy_", *this, src);
  const Tensor s = unaliased(*this, src);
  visit_dtype(dtype_, [&]<class T>() { map_into<T, T>(*this, Identity{}, s); });
  bump_version();
  return *this;
}

Tensor& Tensor::fill_(double value) {
  check_writable("fill_", *this);
  visit_dtype(dtype_, [&]<class T>() {
    // Any value converts to bool (nonzero is true); numbers must be representable.
    if constexpr (std::same_as<T, bool>) map_into<T>(*this, Fill<T>{value != 0.0});
    else map_into<T>(*this, Fill<T>{scalar_as<T>(value, "fill_", dtype_)});
  });
  bump_version();
  return *this;
}

Tensor& Tensor::add_(const Tensor& other, double alpha) {
  if (alpha == 1.0) return inplace_binary<Accepts::numeric, Add>("add_", *this, other);
  check_writable("add_", *this);
  check_inplace("add_", *this, other);
  const Tensor src = unaliased(*this, other);
  visit_numeric(dtype_, "add_", [&]<class T>() {
    map_into<T, T, T>(*this, AddScaled<T>{scalar_as<T>(alpha, "add_", dtype_)}, *this, src);
  });
  bump_version();
  return *this;
}
Tensor& Tensor::sub_(const Tensor& other) { return inplace_binary<Accepts::numeric, Sub>("sub_", *this, other); }
Tensor& Tensor::mul_(const Tensor& other) { return inplace_binary<Accepts::numeric, Mul>("mul_", *this, other); }
Tensor& Tensor::div_(const Tensor& other) {
  check_defined("div_", *this);
  check_int_division("div_", *this);
  return inplace_binary<Accepts::floating, Div>("div_", *this, other);
}
Tensor& Tensor::add_(double value) {
  return inplace_binary<Accepts::numeric, Add>("add_", *this, scalar_like("add_", *this, value));
}
Tensor& Tensor::mul_(double value) {
  return inplace_binary<Accepts::numeric, Mul>("mul_", *this, scalar_like("mul_", *this, value));
}
Tensor& Tensor::clamp_(double lo, double hi) {
  check_writable("clamp_", *this);
  visit_numeric(dtype_, "clamp_", [&]<class T>() {
    map_into<T, T>(*this, Clamp<T>{scalar_as<T>(lo, "clamp_", dtype_), scalar_as<T>(hi, "clamp_", dtype_)}, *this);
  });
  bump_version();
  return *this;
}

Tensor Tensor::contiguous() const {
  check_defined("contiguous", *this);
  return is_contiguous() ? *this : clone();
}

Tensor Tensor::clone() const {
  check_defined("clone", *this);
  Tensor out = empty(shape_, dtype_);
  visit_dtype(dtype_, [&]<class T>() { map_into<T, T>(out, Identity{}, *this); });
  return out;
}

Tensor Tensor::to(DType dtype) const {
  check_defined("to", *this);
  if (dtype == dtype_) return *this;
  Tensor out = empty(shape_, dtype);
  visit_dtype(dtype, [&]<class Out>() {
    visit_dtype(dtype_, [&]<class In>() { map_into<Out, In>(out, Cast<Out>{}, *this); });
  });
  return out;
}

}  // namespace strata
