// fused.h: the one-pass elementwise loop behind the optimizers' updates (internal to optim/).
//
// An optimizer step reads and writes several parameter-sized arrays (parameter, gradient, moment
// buffers). Composing it from tensor ops would stream every array through memory once per op and
// allocate temporaries; instead a kernel functor receives one SIMD batch of each array, does the
// whole update in registers, and the results are stored back: every array is read once and the
// written ones written once.
//
//   fused_pass<float>(n, kernel, p, g, m, v);   // T* arrays are read and written, const T* only read
//
// calls kernel(P, G, M, V) on batches of simd::width<T> lanes; the last, partial batch is padded
// with zeros and only its valid lanes are stored, so every element goes through the same formula.
// Large arrays are split into chunks run in parallel; each element is computed independently, so
// the result does not depend on the thread count.
//
// simd::fma(a, b, c) = a*b + c rounded once, lane by lane (tensor/simd.h). torch's CPU kernels use it in
// `add_(x, alpha)` and `addcmul_` (vec::fmadd), so the optimizers use it in the same places to give
// torch's results bit for bit. optim/ is compiled with -ffp-contract=off, so that the compiler adds
// no other fused multiply-adds of its own.
#pragma once

#include "tensor/parallel.h"
#include "tensor/simd.h"

#include <cstdint>
#include <tuple>
#include <type_traits>

namespace strata::detail {

// Elements per parallel chunk: the arrays are streamed from memory, so chunks are large.
inline constexpr int64_t kFusedGrain = int64_t{1} << 16;

template <class T>
void store_back(T* p, const simd::batch<T>& v, int64_t count) {
  if (count == simd::width<T>) simd::store(p, v);
  else simd::store_partial(p, 1, v, count);
}
template <class T>
void store_back(const T*, const simd::batch<T>&, int64_t) {}  // inputs are not written

template <class T, class Kernel, class... Ptr>
void fused_pass(int64_t n, const Kernel& kernel, Ptr... arrays) {
  static_assert((std::is_same_v<std::remove_const_t<std::remove_pointer_t<Ptr>>, T> && ...),
                "fused_pass: every array must hold T");
  constexpr int64_t W = simd::width<T>;
  auto run = [&](int64_t i, int64_t count) {
    auto batches = std::make_tuple(count == W ? simd::load(arrays + i)
                                              : simd::load_partial(arrays + i, 1, count, T(0))...);
    std::apply(kernel, batches);
    std::apply([&](const auto&... b) { (store_back(arrays + i, b, count), ...); }, batches);
  };
  parallel_for(0, n, kFusedGrain, [&](int64_t lo, int64_t hi) {
    int64_t i = lo;
    for (; i + W <= hi; i += W) run(i, W);
    if (i < hi) run(i, hi - i);
  });
}

}  // namespace strata::detail
