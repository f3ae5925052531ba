// nn_testing.h: helpers shared by the nn tests: fixture paths and an allclose check that reports
// how close a result came (max abs/rel error) as well as whether it passed.
#pragma once

#include "nn/module.h"
#include "tensor/io.h"
#include "tensor/tensor.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

#ifndef STRATA_NN_FIXTURES
#error "STRATA_NN_FIXTURES (the path of tests/fixtures/nn) must be defined by the build"
#endif

namespace strata::testing {

inline std::string fixture(const std::string& relative) { return std::string(STRATA_NN_FIXTURES) + "/" + relative; }
inline Tensor load_fixture(const std::string& relative) { return load_npy(fixture(relative)); }

struct Closeness {
  double max_abs = 0;      // max |a - e|
  double max_rel = 0;      // max |a - e| / |e| over the elements with |e| >= 1% of max|e| (relative errors of
                           // elements near zero by cancellation say nothing)
  int64_t violations = 0;  // elements with |a - e| > atol + rtol |e|
  int64_t worst = -1;      // flat index of the largest |a - e| - atol - rtol |e|
  double worst_actual = 0, worst_expected = 0;
};

// numpy.testing.assert_allclose's criterion |a - e| <= atol + rtol |e|, elementwise, in double.
inline Closeness closeness(const Tensor& actual, const Tensor& expected, double rtol, double atol) {
  const auto a = actual.to_vector<double>();
  const auto e = expected.to_vector<double>();
  Closeness c;
  double scale = 0;
  for (double x : e) scale = std::max(scale, std::abs(x));
  double worst_excess = -INFINITY;
  for (size_t i = 0; i < e.size(); ++i) {
    const double diff = std::abs(a[i] - e[i]);
    const double excess = diff - atol - rtol * std::abs(e[i]);
    c.max_abs = std::max(c.max_abs, std::isnan(diff) ? INFINITY : diff);
    if (std::abs(e[i]) >= 0.01 * scale && e[i] != 0) c.max_rel = std::max(c.max_rel, diff / std::abs(e[i]));
    if (!(excess <= 0)) ++c.violations;
    if (!(excess <= worst_excess)) {
      worst_excess = std::isnan(excess) ? INFINITY : excess;
      c.worst = int64_t(i);
      c.worst_actual = a[i];
      c.worst_expected = e[i];
    }
  }
  return c;
}

// Row-major flat index -> "[i, j, k]".
inline std::string index_of(int64_t flat, const Shape& shape) {
  Dims index = Dims::filled(shape.size(), 0);
  for (int64_t d = shape.size() - 1; d >= 0; --d) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return fmt::format("{}", index);
}

// CHECKs that `actual` matches `expected` in shape and within |a - e| <= atol + rtol |e|. Unless
// `quiet`, prints one line "label: max abs err ..., max rel err ..." (the oracle report).
inline Closeness check_allclose(const std::string& label, const Tensor& actual, const Tensor& expected, double rtol,
                                double atol, bool quiet = false) {
  INFO(label);
  REQUIRE_MESSAGE(actual.shape() == expected.shape(),
                  fmt::format("{}: shape {} but expected {}", label, actual.shape(), expected.shape()));
  const Closeness c = closeness(actual, expected, rtol, atol);
  if (!quiet)
    MESSAGE(fmt::format("{}: max abs err {:.3g}, max rel err {:.3g} (rtol {:g}, atol {:g})", label, c.max_abs,
                        c.max_rel, rtol, atol));
  CHECK_MESSAGE(c.violations == 0,
                fmt::format("{}: {} of {} elements differ by more than atol + rtol|e|; worst at {}: {} vs expected {}",
                            label, c.violations, expected.numel(), index_of(c.worst, expected.shape()),
                            c.worst_actual, c.worst_expected));
  return c;
}

// Every tensor of a safetensors/npy state whose name starts with `prefix`, with the prefix removed.
inline StateDict strip_prefix(const StateDict& state, const std::string& prefix) {
  StateDict out;
  for (const auto& [name, t] : state)
    if (name.rfind(prefix, 0) == 0) out.emplace(name.substr(prefix.size()), t);
  return out;
}

}  // namespace strata::testing
