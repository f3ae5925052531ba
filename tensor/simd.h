// simd.h: the one door to SIMD in strata. Every use of xsimd (Debian's 8.1) goes through here,
// so the kernels in ops_elementwise.cpp and ops_reduce.cpp read as plain arithmetic.
//
// A `batch<T>` holds `width<T>` lanes of float or double (16 floats with AVX-512, 8 with AVX2,
// 4 with SSE2; xsimd picks the widest instruction set the compiler targets). The functions below
// are overloaded for a batch and for a single scalar, so one templated functor serves both:
//
//   struct Silu { template <class V> V operator()(V x) const { return x / (V(1) + simd::exp(-x)); } };
//
// Loads and stores come in three kinds: contiguous (stride 1), broadcast (stride 0, one value in
// every lane) and strided (gathered lane by lane). A row whose length is not a multiple of the
// width ends in a *partial* batch: the tail is copied into a padded batch, computed as a whole
// batch, and only its valid lanes are stored. So every element goes through the same SIMD
// formula whatever its position, and a strided input gives bitwise the same values as a
// contiguous one.
//
// Two things xsimd 8.1 lacks use x86 intrinsics directly, with a portable fallback: streaming
// stores and widening float lanes to double.
//
// Accuracy: xsimd's exp, log, sin, cos and tanh are polynomial approximations (from Boost.SIMD),
// within 1-2 ulp of the correctly rounded value for normal results; exp does not produce
// subnormal results accurately (anything below 1.2e-38 in float). erfc: see below. The tests
// state the tolerances they allow against libm.
#pragma once

// GCC 12 reports its own AVX-512 intrinsics (_mm512_undefined_*, used inside xsimd) as reading
// uninitialised values: a known false positive, silenced for the files that include this header.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <xsimd/xsimd.hpp>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include <cmath>
#include <concepts>
#include <cstdint>
#include <type_traits>

namespace strata::simd {

// The element types with SIMD kernels; every other dtype runs scalar loops.
template <class T>
concept Vectorizable = std::same_as<T, float> || std::same_as<T, double>;

template <class T>
using batch = xsimd::batch<T>;

template <class T>
inline constexpr int64_t width = static_cast<int64_t>(batch<T>::size);

// ---- Loads and stores ----------------------------------------------------------------------------
template <Vectorizable T>
batch<T> load(const T* p) {
  return batch<T>::load_unaligned(p);
}
template <Vectorizable T>
void store(T* p, const batch<T>& v) {
  v.store_unaligned(p);
}
// Loads `width` elements from p, p + stride, ...: stride 1 is a plain load, stride 0 repeats *p.
template <Vectorizable T>
batch<T> load_strided(const T* p, int64_t stride) {
  if (stride == 1) return load(p);
  if (stride == 0) return batch<T>(*p);
  alignas(64) T lanes[width<T>];
  for (int64_t i = 0; i < width<T>; ++i) lanes[i] = p[i * stride];
  return batch<T>::load_aligned(lanes);
}
template <Vectorizable T>
void store_strided(T* p, int64_t stride, const batch<T>& v) {
  if (stride == 1) return store(p, v);
  alignas(64) T lanes[width<T>];
  v.store_aligned(lanes);
  for (int64_t i = 0; i < width<T>; ++i) p[i * stride] = lanes[i];
}
// The first n < width lanes from p, p + stride, ...; the other lanes hold `pad`.
template <Vectorizable T>
batch<T> load_partial(const T* p, int64_t stride, int64_t n, T pad) {
  alignas(64) T lanes[width<T>];
  for (int64_t i = 0; i < width<T>; ++i) lanes[i] = i < n ? p[i * stride] : pad;
  return batch<T>::load_aligned(lanes);
}
// Stores the first n < width lanes of v to p, p + stride, ...
template <Vectorizable T>
void store_partial(T* p, int64_t stride, const batch<T>& v, int64_t n) {
  alignas(64) T lanes[width<T>];
  v.store_aligned(lanes);
  for (int64_t i = 0; i < n; ++i) p[i * stride] = lanes[i];
}
// The lanes of v in double, folded to width<double> lanes: lane i + lane (i + width<double>).
// (For sums of floats accumulated in double.) x86 converts each half of the register in one
// instruction; elsewhere the lanes go through memory.
inline batch<double> widen_sum(const batch<float>& v) {
#if defined(__AVX512F__)  // (xsimd then uses 512-bit registers)
  const __m512 r = v;
  const __m256 lo = _mm512_castps512_ps256(r);
  const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(r), 1));
  return batch<double>(_mm512_cvtps_pd(lo)) + batch<double>(_mm512_cvtps_pd(hi));
#elif defined(__AVX__)  // (256-bit registers)
  const __m256 r = v;
  return batch<double>(_mm256_cvtps_pd(_mm256_castps256_ps128(r))) +
         batch<double>(_mm256_cvtps_pd(_mm256_extractf128_ps(r, 1)));
#else
  alignas(64) float lanes[width<float>];
  alignas(64) double sums[width<double>];
  v.store_aligned(lanes);
  for (int64_t i = 0; i < width<double>; ++i)
    sums[i] = static_cast<double>(lanes[i]) + static_cast<double>(lanes[i + width<double>]);
  return batch<double>::load_aligned(sums);
#endif
}
inline batch<double> widen_sum(const batch<double>& v) { return v; }

// Non-temporal ("streaming") store of a full batch to an address aligned to sizeof(batch<T>):
// the data goes to memory without first being read into the cache. Pays off for outputs much
// larger than the cache, which no one will read back soon; call fence() before other threads
// read the data.
template <Vectorizable T>
void stream(T* p, const batch<T>& v) {
#if defined(__AVX512F__)
  if constexpr (sizeof(batch<T>) == 64) {
    if constexpr (std::same_as<T, float>) return _mm512_stream_ps(p, v);
    else return _mm512_stream_pd(p, v);
  }
#endif
#if defined(__AVX__)
  if constexpr (sizeof(batch<T>) == 32) {
    if constexpr (std::same_as<T, float>) return _mm256_stream_ps(p, v);
    else return _mm256_stream_pd(p, v);
  }
#endif
#if defined(__SSE2__)
  if constexpr (sizeof(batch<T>) == 16) {
    if constexpr (std::same_as<T, float>) return _mm_stream_ps(p, v);
    else return _mm_stream_pd(p, v);
  }
#endif
  v.store_aligned(p);
}
inline void fence() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

// fma(a, b, c) = a*b + c rounded once, lane by lane. xsimd 8.1 fuses only on its FMA3 targets
// (AVX2 + FMA, SSE4.2 + FMA); on AVX-512 it computes a*b + c with two roundings, so that case
// calls the instruction itself. Without FMA hardware (e.g. -Dnative=false builds) the result is
// a*b + c rounded twice.
template <Vectorizable T>
batch<T> fma(const batch<T>& a, const batch<T>& b, const batch<T>& c) {
#if defined(__AVX512F__)
  if constexpr (sizeof(batch<T>) == 64) {
    if constexpr (std::same_as<T, float>) return _mm512_fmadd_ps(a, b, c);
    else return _mm512_fmadd_pd(a, b, c);
  }
#endif
  return xsimd::fma(a, b, c);
}

// ---- Math: each for a batch and for a scalar -------------------------------------------------------
#define STRATA_SIMD_UNARY(name)                                    \
  template <Vectorizable T>                                        \
  batch<T> name(const batch<T>& x) {                               \
    return xsimd::name(x);                                         \
  }                                                                \
  template <class T>                                               \
    requires std::is_arithmetic_v<T>                               \
  T name(T x) {                                                    \
    return static_cast<T>(std::name(x));                           \
  }
STRATA_SIMD_UNARY(exp)
STRATA_SIMD_UNARY(log)
STRATA_SIMD_UNARY(sqrt)
STRATA_SIMD_UNARY(sin)
STRATA_SIMD_UNARY(cos)
STRATA_SIMD_UNARY(tanh)
STRATA_SIMD_UNARY(erfc)
#undef STRATA_SIMD_UNARY

// xsimd's double erfc loses up to 1e-12 relative accuracy for arguments in [2, 6] (its float
// version stays within ~24 ulp), so double batches call libm lane by lane: float64 exists for
// exact gradient checks, where accuracy matters more than speed.
template <>
inline batch<double> erfc(const batch<double>& x) {
  alignas(64) double lanes[width<double>];
  x.store_aligned(lanes);
  for (double& v : lanes) v = std::erfc(v);
  return batch<double>::load_aligned(lanes);
}

template <Vectorizable T>
batch<T> abs(const batch<T>& x) {
  return xsimd::abs(x);
}
template <class T>
  requires std::is_arithmetic_v<T>
T abs(T x) {
  if constexpr (std::is_floating_point_v<T>) return std::fabs(x);
  else if constexpr (std::is_unsigned_v<T>) return x;
  else return x < 0 ? static_cast<T>(-x) : x;
}

template <Vectorizable T>
auto isnan(const batch<T>& x) {
  return xsimd::isnan(x);
}
template <class T>
  requires std::is_arithmetic_v<T>
bool isnan(T x) {
  if constexpr (std::is_floating_point_v<T>) return x != x;
  else return false;
}

// cond ? a : b, lane by lane.
template <Vectorizable T>
batch<T> select(const typename batch<T>::batch_bool_type& cond, const batch<T>& a, const batch<T>& b) {
  return xsimd::select(cond, a, b);
}
template <class T>
  requires std::is_arithmetic_v<T>
T select(bool cond, T a, T b) {
  return cond ? a : b;
}

// The larger / smaller of a and b; NaN if either is NaN (like torch.maximum; std::max and the
// max instructions would return the second operand instead).
template <class V>
V maximum(const V& a, const V& b) {
  return simd::select((a > b) | simd::isnan(a), a, b);
}
template <class V>
V minimum(const V& a, const V& b) {
  return simd::select((a < b) | simd::isnan(a), a, b);
}

// ---- Horizontal reductions ---------------------------------------------------------------------------
template <Vectorizable T>
T reduce_add(const batch<T>& v) {
  return xsimd::hadd(v);
}
// Lane-by-lane fold with f, in lane order.
template <Vectorizable T, class F>
T reduce(const batch<T>& v, F&& f) {
  alignas(64) T lanes[width<T>];
  v.store_aligned(lanes);
  T r = lanes[0];
  for (int64_t i = 1; i < width<T>; ++i) r = f(r, lanes[i]);
  return r;
}

}  // namespace strata::simd
