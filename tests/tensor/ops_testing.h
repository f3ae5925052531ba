// ops_testing.h: helpers shared by the op tests: seeded random inputs, the same values laid out
// in different memory layouts (contiguous, transposed, sliced with a step, expanded), and
// comparisons in ulps (units in the last place) that report the worst element.
#pragma once

#include "tensor/ops.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace strata::testing {

// Uniform values in [lo, hi) from a seeded std::mt19937 (independent of strata's own RNG).
inline Tensor random_tensor(const Shape& shape, DType dtype, double lo, double hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(shape.numel());
  for (double& x : v) x = dist(rng);
  return from_vector(v, shape).to(dtype);
}

// A tensor of `shape` whose memory layout is one of:
enum class Layout { contiguous, transposed, strided, expanded };
inline const char* layout_name(Layout l) {
  switch (l) {
    case Layout::contiguous: return "contiguous";
    case Layout::transposed: return "transposed";
    case Layout::strided: return "sliced with step 2";
    case Layout::expanded: return "expanded (stride 0)";
  }
  return "?";
}
constexpr Layout kLayouts[] = {Layout::contiguous, Layout::transposed, Layout::strided, Layout::expanded};

// Random values of `shape` (at least 2-d) stored in `layout`:
//   transposed: the last two dims are swapped in memory (a mT() view);
//   strided:    every other element of a tensor twice as wide in the last dim;
//   expanded:   dim 0 is a stride-0 broadcast of one slice.
inline Tensor random_layout(const Shape& shape, Layout layout, DType dtype, double lo, double hi, uint32_t seed) {
  const int64_t nd = shape.size();
  switch (layout) {
    case Layout::contiguous: return random_tensor(shape, dtype, lo, hi, seed);
    case Layout::transposed: {
      Shape s = shape;
      std::swap(s[nd - 1], s[nd - 2]);
      return random_tensor(s, dtype, lo, hi, seed).mT();
    }
    case Layout::strided: {
      Shape s = shape;
      s[nd - 1] *= 2;
      return random_tensor(s, dtype, lo, hi, seed).slice(nd - 1, 1, s[nd - 1], 2);
    }
    case Layout::expanded: {
      Shape s = shape;
      s[0] = 1;
      return random_tensor(s, dtype, lo, hi, seed).expand(shape);
    }
  }
  return {};
}

// Distance in representable values between a and b (0 when equal or both NaN).
template <class T>
int64_t ulp_distance(T a, T b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : std::numeric_limits<int64_t>::max();
  if (a == b) return 0;
  using I = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  I ia, ib;
  std::memcpy(&ia, &a, sizeof a);
  std::memcpy(&ib, &b, sizeof b);
  // Map the sign-magnitude bit patterns onto a line where adjacent floats are adjacent integers.
  auto line = [](I i) {
    return i < 0 ? static_cast<long double>(std::numeric_limits<I>::min()) - i : static_cast<long double>(i);
  };
  return static_cast<int64_t>(std::fabs(line(ia) - line(ib)));
}

// Checks that `got` and `want` have the same shape and dtype and that every element is within
// `max_ulp` ulps, or within `abs_tol` in absolute value. Reports the worst element.
inline void check_close(const Tensor& got, const Tensor& want, int64_t max_ulp, double abs_tol = 0.0,
                        const std::string& what = "") {
  INFO(what);
  REQUIRE(got.shape() == want.shape());
  REQUIRE(got.dtype() == want.dtype());
  visit_floating(got.dtype(), "check_close", [&]<class T>() {
    const std::vector<T> g = got.to_vector<T>(), w = want.to_vector<T>();
    int64_t worst = 0, at = -1;
    for (size_t i = 0; i < g.size(); ++i) {
      const int64_t u = ulp_distance(g[i], w[i]);
      if (u > max_ulp && !(std::fabs(double(g[i]) - double(w[i])) <= abs_tol) && u > worst) {
        worst = u;
        at = static_cast<int64_t>(i);
      }
    }
    if (at >= 0)
      FAIL_CHECK(fmt::format("{} ulp apart at flat index {}: got {} want {} (allowed {} ulp or {} absolute)", worst, at,
                             double(g[at]), double(w[at]), max_ulp, abs_tol));
  });
}

// The largest ulp distance between two float tensors of equal shape.
inline int64_t max_ulp(const Tensor& a, const Tensor& b) {
  return visit_floating(a.dtype(), "max_ulp", [&]<class T>() {
    const std::vector<T> x = a.to_vector<T>(), y = b.to_vector<T>();
    int64_t worst = 0;
    for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, ulp_distance(x[i], y[i]));
    return worst;
  });
}

// Same shape, dtype and bytes (NaNs with the same payload count as equal).
inline bool bitwise_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  const Tensor x = a.contiguous(), y = b.contiguous();
  return std::memcmp(x.data_ptr(), y.data_ptr(), x.numel() * x.element_size()) == 0;
}

}  // namespace strata::testing
