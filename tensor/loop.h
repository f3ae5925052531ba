// loop.h (internal to the kernels of ops_elementwise.cpp and ops_reduce.cpp): walking several
// strided operands over one shape with as few, and as long, innermost runs as possible, and the
// 1-D kernel that runs an elementwise functor along one such run (and the defined-tensor check
// both files start their ops with).
//
// A `Layout<N>` is a shape plus one stride list per operand. `merge_dims` drops size-1
// dimensions and fuses dimension d into d-1 whenever stride[d-1] == stride[d] * shape[d] for
// every operand: stepping d-1 once is then the same as running d through its whole range. A
// contiguous (B, T, C) tensor plus a broadcast (C) bias becomes a (B*T, C) loop; two contiguous
// tensors become one flat loop. `for_each_run` then visits a row-major range of elements as
// stretches of the innermost dimension, and `run_stretch` runs a functor along each.
#pragma once

#include "tensor/simd.h"
#include "tensor/tensor.h"

#include <algorithm>
#include <array>
#include <concepts>
#include <cstdint>

namespace strata::detail {

// Elements per parallel chunk: enough work to amortise handing a chunk to a thread, small
// enough that a large op splits into many chunks. Chunk boundaries depend only on sizes, never
// on the thread count.
inline constexpr int64_t kGrain = 32768;
// Contiguous float/double outputs of at least this many bytes (half a typical L3 cache) are
// written with streaming stores: they would not stay in the cache anyway.
inline constexpr int64_t kStreamBytes = int64_t{16} << 20;

// The first check of every op in these files: an undefined (default-constructed) tensor throws.
inline void check_defined(const char* op, const Tensor& t) {
  check(t.defined(), "{}: got an undefined tensor (default-constructed); hint: create it with empty/zeros/...", op);
}

// Strides that read `t` at every index of `shape` (t's shape broadcasts to it): 0 where t has
// size 1 or no dimension at all.
inline Strides broadcast_strides(const Tensor& t, const Shape& shape) {
  const int64_t lead = shape.size() - t.dim();
  Strides s = Dims::filled(shape.size(), 0);
  for (int64_t d = 0; d < t.dim(); ++d) s[lead + d] = t.size(d) == 1 ? 0 : t.stride(d);
  return s;
}

// N operands walked over the same shape, each with its own strides (in elements).
template <size_t N>
struct Layout {
  Shape shape;  // at least one dimension, outermost first
  std::array<Strides, N> strides;

  int64_t inner_size() const { return shape[shape.size() - 1]; }
  int64_t inner_stride(size_t k) const { return strides[k][shape.size() - 1]; }
  // One dimension and every operand at stride 1: a flat loop over memory.
  bool flat() const {
    return shape.size() == 1 &&
           std::all_of(strides.begin(), strides.end(), [](const Strides& s) { return s[0] == 1; });
  }
  // Offsets of the element with row-major index `linear`.
  std::array<int64_t, N> offsets(int64_t linear) const {
    std::array<int64_t, N> off{};
    for (int64_t d = shape.size() - 1; d >= 0; --d) {
      const int64_t i = linear % shape[d];
      linear /= shape[d];
      for (size_t k = 0; k < N; ++k) off[k] += i * strides[k][d];
    }
    return off;
  }
};

template <size_t N>
Layout<N> merge_dims(const Shape& shape, const std::array<Strides, N>& strides) {
  Layout<N> l;
  for (int64_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    const int64_t m = l.shape.size();
    bool merge = m > 0;
    for (size_t k = 0; k < N && merge; ++k) merge = l.strides[k][m - 1] == strides[k][d] * shape[d];
    if (merge) {
      l.shape[m - 1] *= shape[d];
      for (size_t k = 0; k < N; ++k) l.strides[k][m - 1] = strides[k][d];
    } else {
      l.shape.push_back(shape[d]);
      for (size_t k = 0; k < N; ++k) l.strides[k].push_back(strides[k][d]);
    }
  }
  if (l.shape.empty()) {  // a single element (or a 0-d tensor)
    l.shape.push_back(1);
    for (size_t k = 0; k < N; ++k) l.strides[k].push_back(1);
  }
  return l;
}

// Calls run(offsets, n) for each stretch of the innermost dimension inside the row-major element
// range [lo, hi): offsets[k] is operand k's offset of the stretch's first element, n its length.
template <size_t N, class Run>
void for_each_run(const Layout<N>& l, int64_t lo, int64_t hi, Run&& run) {
  const int64_t nd = l.shape.size(), inner = l.inner_size();
  Dims index = Dims::filled(nd, 0);
  for (int64_t d = nd - 1, rest = lo; d >= 0; --d) {
    index[d] = rest % l.shape[d];
    rest /= l.shape[d];
  }
  std::array<int64_t, N> off = l.offsets(lo);
  for (int64_t pos = lo; pos < hi;) {
    const int64_t n = std::min(inner - index[nd - 1], hi - pos);
    run(off, n);
    pos += n;
    // To the start of the next stretch: back to inner index 0, then carry into the outer dims.
    for (size_t k = 0; k < N; ++k) off[k] -= index[nd - 1] * l.strides[k][nd - 1];
    index[nd - 1] = 0;
    for (int64_t d = nd - 2; d >= 0; --d) {
      for (size_t k = 0; k < N; ++k) off[k] += l.strides[k][d];
      if (++index[d] < l.shape[d]) break;
      for (size_t k = 0; k < N; ++k) off[k] -= l.shape[d] * l.strides[k][d];
      index[d] = 0;
    }
  }
}

// ---- The 1-D kernel ---------------------------------------------------------------------------

// An input stretch: first element and stride (1 contiguous, 0 broadcast, else gathered).
template <class T>
struct Src {
  const T* p;
  int64_t stride;
};

// op runs on batches when every operand is float (or every one double) and op accepts batches.
template <class Op, class Out, class... In>
constexpr bool kSimd = simd::Vectorizable<Out> && (std::same_as<In, Out> && ...) &&
                       requires(const Op& op, simd::batch<In>... x) {
                         { op(x...) } -> std::same_as<simd::batch<Out>>;
                       };

// out[i * out_stride] = op(in[i * in.stride]...) for i < n. `Flat` promises that every stride is
// 1, which lets the loads skip the stride test and, with `stream`, use streaming stores.
// A SIMD op computes the tail as a padded batch, so every element goes through one formula.
template <bool Flat, class Op, class Out, class... In>
void run_stretch(const Op& op, int64_t n, Out* out, int64_t out_stride, bool stream, Src<In>... in) {
  if constexpr (kSimd<Op, Out, In...>) {
    constexpr int64_t W = simd::width<Out>;
    int64_t i = 0;
    // A partial batch at [i, i + m): pad lanes hold 1 so no op sees a spurious 0 or NaN.
    auto partial = [&](int64_t m) {
      simd::store_partial(out + i * out_stride, out_stride,
                          op(simd::load_partial(in.p + i * in.stride, in.stride, m, Out(1))...), m);
      i += m;
    };
    if constexpr (Flat) {
      if (stream) {
        // Streaming stores need addresses aligned to the batch size: a partial batch gets there.
        constexpr int64_t kBytes = sizeof(simd::batch<Out>);
        const int64_t misalign = int64_t(reinterpret_cast<uintptr_t>(out) % kBytes);
        const int64_t head = (kBytes - misalign) % kBytes / int64_t(sizeof(Out));
        if (head > 0) partial(std::min(n, head));
        for (; i + W <= n; i += W) simd::stream(out + i, op(simd::load(in.p + i)...));
        simd::fence();
      }
      for (; i + W <= n; i += W) simd::store(out + i, op(simd::load(in.p + i)...));
    } else {
      for (; i + W <= n; i += W)
        simd::store_strided(out + i * out_stride, out_stride,
                            op(simd::load_strided(in.p + i * in.stride, in.stride)...));
    }
    if (i < n) partial(n - i);
  } else if constexpr (Flat) {
    for (int64_t i = 0; i < n; ++i) out[i] = op(in.p[i]...);  // the compiler vectorises what it can
  } else {
    for (int64_t i = 0; i < n; ++i) out[i * out_stride] = op(in.p[i * in.stride]...);
  }
}

}  // namespace strata::detail
