// ops_reduce.cpp: reductions over any set of dimensions (sum, mean, var, amax, amin, logsumexp),
// max/min with indices along one dimension, and the fused softmax / log_softmax.
//
// A reduction splits x's dimensions into kept ones (they index the output) and reduced ones
// (they are folded into each output element). Both lists are merged like elementwise loops
// (loop.h); the reduced dims are first ordered by decreasing stride, so reducing a transposed
// tensor still walks memory forwards. Then one of three kernels runs:
//   rows     the reduced elements of an output are one contiguous run (e.g. sum over the last
//            dim): a SIMD loop with several accumulators;
//   columns  the innermost kept dim is contiguous (e.g. sum over dim 0 of an (N, C) tensor): up
//            to kColumns neighbouring outputs are accumulated side by side, one reduced element
//            at a time, which keeps every load contiguous;
//   generic  anything else: one output at a time, through for_each_offset.
// Sums of floats accumulate in double (a float accumulator loses digits once the sum is ~2^24
// times an element); integer sums accumulate in int64 and return int64, like torch.
//
// Threads: each output element is reduced by one thread in an order fixed by the shapes, so the
// results are bitwise the same for any thread count. Rows longer than kBlock are cut into fixed
// blocks reduced in parallel, and the block results are then combined in block order.
//
// softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m) with m = max_j x_j: subtracting m keeps every
// exponent <= 0, so nothing overflows and the largest term is exactly 1. log_softmax(x)_i =
// (x_i - m) - log(sum_j exp(x_j - m)). A contiguous row takes three SIMD passes (max; exp and
// sum; scale); other rows are gathered into a buffer and take the same passes.
#include "tensor/loop.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"
#include "tensor/simd.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

namespace strata {
namespace {

using detail::check_defined;
using detail::kGrain;

// Contiguous rows longer than this are reduced in blocks of this many elements, in parallel.
constexpr int64_t kBlock = int64_t{1} << 16;
// Outputs accumulated side by side by the column kernel.
constexpr int64_t kColumns = 64;

// ---- Row kernels: a contiguous run of n elements --------------------------------------------------

// The sum of p[0..n), accumulated in double (int64 for integers).
template <class T>
auto row_sum(const T* p, int64_t n) {
  if constexpr (simd::Vectorizable<T>) {
    // Four accumulators hide the latency of the additions; each element goes to a fixed lane.
    constexpr int64_t W = simd::width<T>;
    simd::batch<double> acc[4] = {0.0, 0.0, 0.0, 0.0};
    int64_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W)
      for (int k = 0; k < 4; ++k) acc[k] += simd::widen_sum(simd::load(p + i + k * W));
    for (; i + W <= n; i += W) acc[0] += simd::widen_sum(simd::load(p + i));
    double s = simd::reduce_add((acc[0] + acc[1]) + (acc[2] + acc[3]));
    for (; i < n; ++i) s += static_cast<double>(p[i]);
    return s;
  } else {
    int64_t s = 0;
    for (int64_t i = 0; i < n; ++i) s += static_cast<int64_t>(p[i]);
    return s;
  }
}

// The fold of p[0..n) with `f` (simd::maximum or simd::minimum); n >= 1.
template <class T, class F>
T row_fold(const T* p, int64_t n, F f) {
  int64_t i = 0;
  T r = p[0];
  if constexpr (simd::Vectorizable<T>) {
    constexpr int64_t W = simd::width<T>;
    if (n >= W) {
      simd::batch<T> acc = simd::load(p);
      for (i = W; i + W <= n; i += W) acc = f(acc, simd::load(p + i));
      r = simd::reduce(acc, f);
    }
  }
  for (; i < n; ++i) r = f(r, p[i]);
  return r;
}

struct MaxFn {
  template <class V> V operator()(const V& a, const V& b) const { return simd::maximum(a, b); }
};
struct MinFn {
  template <class V> V operator()(const V& a, const V& b) const { return simd::minimum(a, b); }
};

// ---- Reducers: how one output element is folded ----------------------------------------------------
// init / step (one element) / combine (two partial results) / row (a contiguous run).

template <class T>
struct SumReducer {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
  Acc init() const { return 0; }
  Acc step(Acc a, T x) const { return a + static_cast<Acc>(x); }
  Acc combine(Acc a, Acc b) const { return a + b; }
  Acc row(const T* p, int64_t n) const { return row_sum(p, n); }
};

template <class T, class F>
struct FoldReducer {
  using Acc = T;
  Acc init() const {
    constexpr bool is_max = std::is_same_v<F, MaxFn>;
    if constexpr (std::is_floating_point_v<T>)
      return is_max ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    else return is_max ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
  }
  Acc step(Acc a, T x) const { return F{}(a, x); }
  Acc combine(Acc a, Acc b) const { return F{}(a, b); }
  Acc row(const T* p, int64_t n) const { return n == 0 ? init() : row_fold(p, n, F{}); }
};

// ---- The reduction plan -------------------------------------------------------------------------------------

struct Plan {
  Shape out_shape;          // the result's shape (keepdim applied)
  detail::Layout<1> kept;   // x's kept dims, merged: one output element per index
  detail::Layout<1> red;    // x's reduced dims, by decreasing stride, merged
  int64_t n_out = 1, n_red = 1;
};

// Which dims `dims` names (all of them when empty); each at most once.
std::vector<bool> reduced_dims(const Tensor& x, const Dims& dims, const char* op) {
  std::vector<bool> reduce(x.dim(), dims.empty());
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, x.dim(), op);
    check(!reduce[w], "{}: dim {} appears more than once in dims {}", op, d, dims);
    reduce[w] = true;
  }
  return reduce;
}

Plan make_plan(const Tensor& x, const std::vector<bool>& reduce, bool keepdim) {
  Plan plan;
  Shape kept_shape, red_shape;
  Strides kept_strides, red_strides;
  std::vector<int64_t> red_dims;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (reduce[d]) {
      red_dims.push_back(d);
      if (keepdim) plan.out_shape.push_back(1);
    } else {
      kept_shape.push_back(x.size(d));
      kept_strides.push_back(x.stride(d));
      plan.out_shape.push_back(x.size(d));
    }
  }
  // Any order of the reduced elements gives the same sum in exact arithmetic; decreasing
  // strides walk memory forwards and let a permuted contiguous block merge into one run.
  std::stable_sort(red_dims.begin(), red_dims.end(),
                   [&](int64_t a, int64_t b) { return std::abs(x.stride(a)) > std::abs(x.stride(b)); });
  for (int64_t d : red_dims) {
    red_shape.push_back(x.size(d));
    red_strides.push_back(x.stride(d));
  }
  plan.kept = detail::merge_dims<1>(kept_shape, {kept_strides});
  plan.red = detail::merge_dims<1>(red_shape, {red_strides});
  plan.n_out = kept_shape.numel();
  plan.n_red = red_shape.numel();
  return plan;
}

// out[j] = finalize(fold of the reduced elements of output j), for every output j.
template <class T, class Out, class Reducer, class Finalize>
void reduce_into(const Tensor& x, const Plan& plan, Tensor& out, const Reducer& r, Finalize finalize) {
  using Acc = typename Reducer::Acc;
  const T* p = x.data<T>();
  Out* o = out.data<Out>();
  const int64_t n_out = plan.n_out, n_red = plan.n_red;
  if (n_out == 0) return;
  const auto& red = plan.red;
  const bool rows = red.shape.size() == 1 && red.strides[0][0] == 1;  // (a single element has stride 1 too)
  const bool columns = !rows && plan.kept.inner_stride(0) == 1 && plan.kept.inner_size() > 1;

  if (rows) {
    // Blocks of at most kBlock elements; a long row's blocks run in parallel, then fold in order.
    const int64_t blocks = std::max<int64_t>(1, (n_red + kBlock - 1) / kBlock);
    const int64_t block_len = std::min(n_red, kBlock);
    std::vector<Acc> part(n_out * blocks);
    parallel_for(0, n_out * blocks, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, block_len)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t u = lo; u < hi; ++u) {
                     const int64_t j = u / blocks, b = u % blocks;
                     const int64_t start = b * kBlock, len = std::min(kBlock, n_red - start);
                     part[u] = r.row(p + plan.kept.offsets(j)[0] + start, len);
                   }
                 });
    for (int64_t j = 0; j < n_out; ++j) {
      Acc acc = part[j * blocks];
      for (int64_t b = 1; b < blocks; ++b) acc = r.combine(acc, part[j * blocks + b]);
      o[j] = finalize(acc);
    }
  } else if (columns) {
    // Units of up to kColumns neighbouring outputs along the contiguous innermost kept dim.
    const int64_t c = plan.kept.inner_size();
    const int64_t per_line = (c + kColumns - 1) / kColumns;
    parallel_for(0, (n_out / c) * per_line, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, n_red * kColumns)),
                 [&](int64_t lo, int64_t hi) {
                   Acc acc[kColumns];
                   for (int64_t u = lo; u < hi; ++u) {
                     const int64_t j0 = (u / per_line) * c + (u % per_line) * kColumns;
                     const int64_t w = std::min(kColumns, c - (u % per_line) * kColumns);
                     const T* base = p + plan.kept.offsets(j0)[0];
                     for (int64_t k = 0; k < w; ++k) acc[k] = r.init();
                     for_each_offset(red.shape, red.strides[0], [&](int64_t off) {
                       for (int64_t k = 0; k < w; ++k) acc[k] = r.step(acc[k], base[off + k]);
                     });
                     for (int64_t k = 0; k < w; ++k) o[j0 + k] = finalize(acc[k]);
                   }
                 });
  } else {
    parallel_for(0, n_out, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, n_red)), [&](int64_t lo, int64_t hi) {
      for (int64_t j = lo; j < hi; ++j) {
        const T* base = p + plan.kept.offsets(j)[0];
        Acc acc = r.init();
        for_each_offset(red.shape, red.strides[0], [&](int64_t off) { acc = r.step(acc, base[off]); });
        o[j] = finalize(acc);
      }
    });
  }
}

void require_floating(const char* op, DType dtype) {
  visit_floating(dtype, op, []<class T>() {});
}

// sum, or mean (the sum divided by the number of reduced elements, in double).
Tensor sum_impl(const char* op, const Tensor& x, const Dims& dims, bool keepdim, bool mean) {
  check_defined(op, x);
  const Plan plan = make_plan(x, reduced_dims(x, dims, op), keepdim);
  if (mean) {
    Tensor out = empty(plan.out_shape, x.dtype());
    visit_floating(x.dtype(), op, [&]<class T>() {
      const double n = static_cast<double>(plan.n_red);
      reduce_into<T, T>(x, plan, out, SumReducer<T>{}, [n](double s) { return static_cast<T>(s / n); });
    });
    return out;
  }
  Tensor out = empty(plan.out_shape, is_floating(x.dtype()) ? x.dtype() : DType::i64);
  visit_dtype(x.dtype(), [&]<class T>() {
    using Acc = typename SumReducer<T>::Acc;
    using Out = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
    reduce_into<T, Out>(x, plan, out, SumReducer<T>{}, [](Acc s) { return static_cast<Out>(s); });
  });
  return out;
}

template <class F>
Tensor fold_impl(const char* op, const Tensor& x, const Dims& dims, bool keepdim) {
  check_defined(op, x);
  const Plan plan = make_plan(x, reduced_dims(x, dims, op), keepdim);
  check(plan.n_red > 0 || plan.n_out == 0,
        "{}: cannot reduce over zero elements (shape {}, dims {}); hint: the result would be undefined", op,
        x.shape(), dims);
  Tensor out = empty(plan.out_shape, x.dtype());
  visit_numeric(x.dtype(), op, [&]<class T>() {
    reduce_into<T, T>(x, plan, out, FoldReducer<T, F>{}, [](T v) { return v; });
  });
  return out;
}

// ---- max / min with indices -----------------------------------------------------------------------------------

// Values and int64 indices of the best element along dim: `better(v, best)` decides.
template <class Better>
std::pair<Tensor, Tensor> arg_fold(const char* op, const Tensor& x, int64_t dim, bool keepdim) {
  check_defined(op, x);
  const int64_t d = wrap_dim(dim, x.dim(), op);
  const int64_t n = x.size(d);
  std::vector<bool> reduce(x.dim(), false);
  reduce[d] = true;
  const Plan plan = make_plan(x, reduce, keepdim);
  check(n > 0 || plan.n_out == 0, "{}: cannot take the {} of zero elements along dim {} of shape {}", op, op, dim,
        x.shape());
  Tensor values = empty(plan.out_shape, x.dtype());
  Tensor indices = empty(plan.out_shape, DType::i64);
  visit_numeric(x.dtype(), op, [&]<class T>() {
    const T* p = x.data<T>();
    T* v = values.data<T>();
    int64_t* ix = indices.data<int64_t>();
    const int64_t s = x.stride(d);
    parallel_for(0, plan.n_out, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, n)), [&](int64_t lo, int64_t hi) {
      for (int64_t j = lo; j < hi; ++j) {
        const T* row = p + plan.kept.offsets(j)[0];
        T best = row[0];
        int64_t at = 0;
        for (int64_t i = 1; i < n; ++i)
          if (Better{}(row[i * s], best)) {
            best = row[i * s];
            at = i;
          }
        v[j] = best;
        ix[j] = at;
      }
    });
  });
  return {values, indices};
}

// Strictly better only, so the first of equal elements wins; NaN beats every number (the first
// NaN wins), so a row with a NaN reports it, like torch.
struct Greater {
  template <class T> bool operator()(T v, T best) const { return v > best || (simd::isnan(v) && !simd::isnan(best)); }
};
struct Less {
  template <class T> bool operator()(T v, T best) const { return v < best || (simd::isnan(v) && !simd::isnan(best)); }
};

// ---- softmax -------------------------------------------------------------------------------------------------------

// Pass 3 of softmax / log_softmax: one output element from its exponential / its input.
template <class T>
struct ScaleBy {
  T scale;
  template <class V> V operator()(V e) const { return e * V(scale); }
};
template <class T>
struct ShiftBy {
  T m, shift;
  template <class V> V operator()(V x) const { return (x - V(m)) - V(shift); }
};

// softmax (or log_softmax) of the contiguous row x[0..n) into y[0..n); y may be x.
template <class T>
void softmax_row(const T* x, T* y, int64_t n, bool log) {
  constexpr int64_t W = simd::width<T>;
  // Pass 1: the max.
  const T m = row_fold(x, n, MaxFn{});
  const simd::batch<T> mb(m);
  // Pass 2: s = sum of exp(x - m), in double; softmax keeps the exponentials in y for pass 3.
  // (Recomputing them in pass 3 and streaming y out instead measured slower: exp costs more than
  // the traffic it saves.) The tail is a batch padded with -inf, whose lanes add exp(-inf) = 0.
  simd::batch<double> acc(0.0);
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    const simd::batch<T> e = simd::exp(simd::load(x + i) - mb);
    if (!log) simd::store(y + i, e);
    acc += simd::widen_sum(e);
  }
  if (i < n) {
    const simd::batch<T> e = simd::exp(simd::load_partial(x + i, 1, n - i, -std::numeric_limits<T>::infinity()) - mb);
    if (!log) simd::store_partial(y + i, 1, e, n - i);
    acc += simd::widen_sum(e);
  }
  const double s = simd::reduce_add(acc);
  // Pass 3: scale by 1/s, or shift by m + log s.
  using detail::run_stretch;
  using detail::Src;
  if (log) run_stretch<true>(ShiftBy<T>{m, static_cast<T>(std::log(s))}, n, y, 1, false, Src<T>{x, 1});
  else run_stretch<true>(ScaleBy<T>{static_cast<T>(1.0 / s)}, n, y, 1, false, Src<T>{y, 1});
}

Tensor softmax_impl(const char* op, const Tensor& x, int64_t dim, bool log) {
  check_defined(op, x);
  require_floating(op, x.dtype());
  const int64_t d = wrap_dim(dim, std::max<int64_t>(x.dim(), 1), op);  // a 0-d tensor is one row of 1
  Tensor out = empty(x.shape(), x.dtype());
  if (x.numel() == 0) return out;
  const Tensor xs = x.dim() == 0 ? x.view({1}) : x;
  const Tensor os = x.dim() == 0 ? out.view({1}) : out;
  visit_floating(x.dtype(), op, [&]<class T>() {
    // Rows: every index of the other dims, for x and out together.
    Shape rows = xs.shape();
    rows[d] = 1;
    const auto l = detail::merge_dims<2>(rows, {xs.strides(), os.strides()});
    const int64_t n = xs.size(d), sx = xs.stride(d), so = os.stride(d);
    const T* p = xs.data<T>();
    T* o = os.data<T>();
    parallel_for(0, rows.numel(), std::max<int64_t>(1, kGrain / n), [&](int64_t lo, int64_t hi) {
      std::vector<T> buffer(sx == 1 && so == 1 ? 0 : n);
      for (int64_t j = lo; j < hi; ++j) {
        const auto off = l.offsets(j);
        if (buffer.empty()) {
          softmax_row(p + off[0], o + off[1], n, log);
        } else {  // gather, compute in place, scatter
          for (int64_t i = 0; i < n; ++i) buffer[i] = p[off[0] + i * sx];
          softmax_row(buffer.data(), buffer.data(), n, log);
          for (int64_t i = 0; i < n; ++i) o[off[1] + i * so] = buffer[i];
        }
      }
    });
  });
  return out;
}

}  // namespace

// ---- Public API --------------------------------------------------------------------------------------------------

Tensor sum(const Tensor& x, const Dims& dims, bool keepdim) { return sum_impl("sum", x, dims, keepdim, false); }
Tensor mean(const Tensor& x, const Dims& dims, bool keepdim) { return sum_impl("mean", x, dims, keepdim, true); }

// Two passes, for accuracy: var = sum((x - mean)^2) / (n - correction).
Tensor var(const Tensor& x, const Dims& dims, int64_t correction, bool keepdim) {
  check_defined("var", x);
  require_floating("var", x.dtype());
  const Plan plan = make_plan(x, reduced_dims(x, dims, "var"), keepdim);
  const double dof = std::max<double>(0.0, static_cast<double>(plan.n_red - correction));
  return div(sum(square(sub(x, mean(x, dims, true))), dims, keepdim), dof);
}

Tensor amax(const Tensor& x, const Dims& dims, bool keepdim) { return fold_impl<MaxFn>("amax", x, dims, keepdim); }
Tensor amin(const Tensor& x, const Dims& dims, bool keepdim) { return fold_impl<MinFn>("amin", x, dims, keepdim); }

// m + log(sum(exp(x - m))), with m the max shifted to 0 where it is not finite: an all -inf slice
// then gives log(0) = -inf and a +inf element gives +inf, instead of NaN from inf - inf.
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim) {
  check_defined("logsumexp", x);
  require_floating("logsumexp", x.dtype());
  const std::vector<bool> reduce = reduced_dims(x, dims, "logsumexp");
  const Tensor m = amax(x, dims, true);
  const Tensor shift = where(lt(abs(m), std::numeric_limits<double>::infinity()), m, 0.0);
  const Tensor r = add(log(sum(exp(sub(x, shift)), dims, true)), shift);
  return keepdim ? r : r.view(make_plan(x, reduce, false).out_shape);
}

std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_fold<Greater>("max", x, dim, keepdim);
}
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_fold<Less>("min", x, dim, keepdim);
}
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_fold<Greater>("argmax", x, dim, keepdim).second;
}
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) { return arg_fold<Less>("argmin", x, dim, keepdim).second; }

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl("softmax", x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_impl("log_softmax", x, dim, true); }

}  // namespace strata
