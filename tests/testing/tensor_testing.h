// tensor_testing.h: the helpers shared by the test suites built on the tensor layer (tensor,
// autograd, nn, optim). bpe's tests stand beside tensor and have their own (tests/bpe/helpers.h).
//
//   Inputs       iota: 0, 1, 2, ...; random_tensor: seeded uniform values; random_layout: such
//                values stored transposed, sliced with a step or expanded.
//   Checks       CHECK_TENSOR_CLOSE(actual, expected, atol, rtol): every element within
//                |a - e| <= atol + rtol |e| (numpy.allclose's criterion; NaN never passes).
//                CHECK_TENSOR_ULP(actual, expected, max_ulp, atol): every element at most max_ulp
//                units in the last place from the expected one, or within atol (same dtype; NaN
//                matches NaN). CHECK_TENSOR_BITWISE(actual, expected): same shape, dtype and bytes.
//                A failure names both shapes and dtypes, the worst element (index, actual,
//                expected, |error|) and the first few mismatches. Each macro evaluates to the
//                Comparison, whose figures a test may print (summary, CHECK_TENSOR_CLOSE_REPORT).
//   Measures     max_magnitude, moments, max_abs_diff, max_rel_diff, ulp_distance, max_ulp_diff,
//                bitwise_equal.
//   Environment  fixture_path (under tests/fixtures), read_file, TempDir, with_threads, error_of.
#pragma once

#include "tensor/error.h"
#include "tensor/parallel.h"
#include "tensor/tensor.h"

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <type_traits>

namespace strata::testing {

// ---- Inputs -----------------------------------------------------------------------------------

// 0, 1, 2, ... in `shape`: each element holds its row-major flat index.
Tensor iota(const Shape& shape, DType dtype = DType::f32);

// Uniform values in [lo, hi) of `dtype` from strata's generator seeded with `seed`.
Tensor random_tensor(const Shape& shape, DType dtype, double lo, double hi, uint64_t seed);

// A tensor of `shape` whose memory layout is one of:
enum class Layout { contiguous, transposed, strided, expanded };
const char* layout_name(Layout layout);
constexpr Layout kLayouts[] = {Layout::contiguous, Layout::transposed, Layout::strided, Layout::expanded};

// Random values of `shape` (at least 2-d) stored in `layout`:
//   transposed: the last two dims are swapped in memory (a mT() view);
//   strided:    every other element of a tensor twice as wide in the last dim;
//   expanded:   dim 0 is a stride-0 broadcast of one slice.
Tensor random_layout(const Shape& shape, Layout layout, DType dtype, double lo, double hi, uint64_t seed);

// ---- Measures ---------------------------------------------------------------------------------

// Largest |x| over the elements of t (0 when t is empty).
double max_magnitude(const Tensor& t);

// The sample mean and the unbiased sample variance (n - 1 in the denominator) of t's elements
// (at least 2).
struct Moments {
  double mean, var;
};
Moments moments(const Tensor& t);

// Largest |a - e| over the elements (infinite where a NaN meets a number). Same shape required.
double max_abs_diff(const Tensor& actual, const Tensor& expected);

// Largest |a - e| / |e| over the elements with |e| >= min_fraction * max|e|; an element with
// e == 0 counts its |a - e|. A min_fraction above 0 leaves out the elements near zero, often zero
// by cancellation, whose relative errors say nothing.
double max_rel_diff(const Tensor& actual, const Tensor& expected, double min_fraction = 0.0);

// The number of representable values between a and b: 0 when equal (+0 and -0 too) or both NaN,
// the largest int64 when only one is NaN.
template <class T>
int64_t ulp_distance(T a, T b) {
  static_assert(std::is_floating_point_v<T>);
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : std::numeric_limits<int64_t>::max();
  using Bits = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  // Map the sign-magnitude bit patterns onto integers ordered like the floats they encode.
  auto ordered = [](T x) {
    const Bits bits = std::bit_cast<Bits>(x);
    return bits < 0 ? int64_t(std::numeric_limits<Bits>::min()) - int64_t(bits) : int64_t(bits);
  };
  const int64_t x = ordered(a), y = ordered(b);
  const uint64_t d = x > y ? uint64_t(x) - uint64_t(y) : uint64_t(y) - uint64_t(x);  // exact in 64 bits
  return d > uint64_t(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max() : int64_t(d);
}

// Largest ulp_distance over the elements of two float tensors of the same shape and dtype.
int64_t max_ulp_diff(const Tensor& actual, const Tensor& expected);

// Same shape, dtype and bytes (-0.0 differs from 0.0; NaNs with the same payload are equal).
bool bitwise_equal(const Tensor& a, const Tensor& b);

// ---- Checks -----------------------------------------------------------------------------------

// The outcome of comparing a tensor with the expected one, element by element.
struct Comparison {
  bool ok = true;
  int64_t failures = 0;       // elements that fail the criterion
  double max_abs = 0;         // max_abs_diff
  double max_rel = 0;         // max_rel_diff over the elements with |e| >= 1% of max|e|
  double max_expected = 0;    // max |e|
  std::string criterion;      // what was required, e.g. "|a - e| <= 1e-06 + 1e-05 |e|"
  std::string report;         // when !ok: shapes, dtypes, the worst element and the first mismatches
};

Comparison compare_close(const Tensor& actual, const Tensor& expected, double atol, double rtol);
Comparison compare_ulp(const Tensor& actual, const Tensor& expected, int64_t max_ulp, double atol);
Comparison compare_bitwise(const Tensor& actual, const Tensor& expected);

// "max abs err 1.2e-07, max rel err 3.4e-06, max |e| 2.5 (required |a - e| <= ...)": the figures
// of a comparison for a test's log.
std::string summary(const Comparison& c);

// CHECKs a Comparison at the caller's line, with `what` and the report as the failure message, and
// evaluates to the Comparison.
#define STRATA_CHECK_COMPARISON_(comparison, what)                         \
  [&] {                                                                    \
    const ::strata::testing::Comparison strata_comparison_ = (comparison); \
    const bool tensors_match = strata_comparison_.ok;                      \
    CHECK_MESSAGE(tensors_match, what, ":\n", strata_comparison_.report);  \
    return strata_comparison_;                                             \
  }()

// Every element within |actual - expected| <= atol + rtol * |expected| (atol first, unlike numpy).
#define CHECK_TENSOR_CLOSE(actual, expected, atol, rtol)                                           \
  STRATA_CHECK_COMPARISON_(::strata::testing::compare_close((actual), (expected), (atol), (rtol)), \
                           #actual " vs " #expected)

// Every element at most max_ulp ulps from the expected one, or within atol in absolute value.
#define CHECK_TENSOR_ULP(actual, expected, max_ulp, atol)                                           \
  STRATA_CHECK_COMPARISON_(::strata::testing::compare_ulp((actual), (expected), (max_ulp), (atol)), \
                           #actual " vs " #expected)

// Same shape, dtype and bytes.
#define CHECK_TENSOR_BITWISE(actual, expected) \
  STRATA_CHECK_COMPARISON_(::strata::testing::compare_bitwise((actual), (expected)), #actual " vs " #expected)

// CHECK_TENSOR_CLOSE under `label`, which also prints "label: <summary>" whether it passes or not:
// the figures an oracle test records in its log.
#define CHECK_TENSOR_CLOSE_REPORT(label, actual, expected, atol, rtol)          \
  [&] {                                                                         \
    const std::string strata_label_ = (label);                                  \
    ::strata::testing::Comparison strata_reported_;                             \
    {                                                                           \
      INFO(strata_label_);                                                      \
      strata_reported_ = CHECK_TENSOR_CLOSE(actual, expected, atol, rtol);      \
    }                                                                           \
    MESSAGE(strata_label_, ": ", ::strata::testing::summary(strata_reported_)); \
    return strata_reported_;                                                    \
  }()

// ---- Environment ------------------------------------------------------------------------------

// tests/fixtures/<relative> (the folder is passed to tensor_testing.cpp by the build).
std::string fixture_path(const std::string& relative);

// The whole file as bytes; throws std::runtime_error when it cannot be opened.
std::string read_file(const std::string& path);

// A fresh directory for one test case, removed with everything in it at the end of the scope.
struct TempDir {
  std::filesystem::path dir;
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (dir / name).string(); }
  size_t entries() const;  // files and folders directly inside
};

// f() run with `threads` threads; the previous count is restored afterwards.
template <class F>
auto with_threads(int threads, F&& f) {
  struct Restore {
    int saved;
    ~Restore() { set_num_threads(saved); }
  } restore{get_num_threads()};
  set_num_threads(threads);
  return f();
}

// The message of the strata::Error that f() throws ("" when it throws nothing).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace strata::testing
