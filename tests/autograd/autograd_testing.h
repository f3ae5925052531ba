// autograd_testing.h: helpers shared by the autograd tests: seeded random leaves and a closeness
// check that reports the worst element.
#pragma once

#include "autograd/functions.h"
#include "tensor/format.h"
#include "tensor/ops.h"
#include "tensor/random.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace strata::testing {

// Uniform values in [lo, hi) from a generator seeded with `seed`.
inline Tensor random_values(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0,
                            DType dtype = DType::f64) {
  Generator gen(seed);
  return uniform(shape, lo, hi, dtype, &gen);
}

// A leaf that requires grad, with random values.
inline Variable random_leaf(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0,
                            DType dtype = DType::f64) {
  return Variable(random_values(shape, seed, lo, hi, dtype), true);
}

struct Closeness {
  bool ok = true;
  double max_abs = 0;  // max |actual - expected|
  std::string worst;   // where the largest violation is
};

// |actual - expected| <= atol + rtol * |expected| elementwise (NaN never passes; shapes must match).
inline Closeness compare(const Tensor& actual, const Tensor& expected, double atol, double rtol) {
  Closeness c;
  if (!actual.defined() || actual.shape() != expected.shape()) {
    c.ok = false;
    c.worst = fmt::format("shape {} vs expected {}", actual.defined() ? actual.shape() : Shape{}, expected.shape());
    return c;
  }
  std::vector<double> a = actual.to(DType::f64).to_vector<double>(), e = expected.to(DType::f64).to_vector<double>();
  double worst_excess = -1;
  for (size_t i = 0; i < a.size(); ++i) {
    const double err = std::abs(a[i] - e[i]);
    if (!std::isnan(err)) c.max_abs = std::max(c.max_abs, err);
    const double excess = std::isnan(err) ? INFINITY : err - (atol + rtol * std::abs(e[i]));
    if (excess > 0) c.ok = false;
    if (excess > worst_excess) {
      worst_excess = excess;
      c.worst = fmt::format("flat element {}: {} vs expected {}", i, a[i], e[i]);
    }
  }
  return c;
}

// CHECK that two tensors agree within atol + rtol * |expected|, printing the worst element.
#define CHECK_TENSOR_CLOSE(actual, expected, atol, rtol)                                                  \
  do {                                                                                                    \
    const ::strata::testing::Closeness closeness_ = ::strata::testing::compare((actual), (expected), (atol), (rtol)); \
    INFO(#actual " vs " #expected ": max |error| ", closeness_.max_abs, "; worst ", closeness_.worst);     \
    CHECK(closeness_.ok);                                                                                 \
  } while (0)

}  // namespace strata::testing
