// tensor_testing.cpp: the inputs, measures, comparisons and file helpers of tensor_testing.h.
#include "tests/testing/tensor_testing.h"

#include "tensor/random.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#ifndef STRATA_TEST_FIXTURES
#error "STRATA_TEST_FIXTURES (the path of tests/fixtures) must be defined by the build"
#endif

namespace strata::testing {

// ---- Inputs -----------------------------------------------------------------------------------

Tensor iota(const Shape& shape, DType dtype) { return arange(0.0, double(shape.numel()), 1.0, dtype).view(shape); }

Tensor random_tensor(const Shape& shape, DType dtype, double lo, double hi, uint64_t seed) {
  Generator gen(seed);
  return uniform(shape, lo, hi, dtype, &gen);
}

const char* layout_name(Layout layout) {
  switch (layout) {
    case Layout::contiguous: return "contiguous";
    case Layout::transposed: return "transposed";
    case Layout::strided: return "sliced with step 2";
    case Layout::expanded: return "expanded (stride 0)";
  }
  return "?";
}

Tensor random_layout(const Shape& shape, Layout layout, DType dtype, double lo, double hi, uint64_t seed) {
  const int64_t nd = shape.size();
  Shape stored = shape;
  switch (layout) {
    case Layout::contiguous: return random_tensor(shape, dtype, lo, hi, seed);
    case Layout::transposed:
      std::swap(stored[nd - 1], stored[nd - 2]);
      return random_tensor(stored, dtype, lo, hi, seed).mT();
    case Layout::strided:
      stored[nd - 1] *= 2;
      return random_tensor(stored, dtype, lo, hi, seed).slice(nd - 1, 1, stored[nd - 1], 2);
    case Layout::expanded:
      stored[0] = 1;
      return random_tensor(stored, dtype, lo, hi, seed).expand(shape);
  }
  return {};
}

// ---- Measures ---------------------------------------------------------------------------------

namespace {

// |a - e|, infinite when either is NaN.
double abs_error(double a, double e) {
  const double d = std::abs(a - e);
  return std::isnan(d) ? INFINITY : d;
}

template <class T>
double max_magnitude(const std::vector<T>& v) {
  double m = 0;
  for (T x : v) m = std::max(m, std::abs(double(x)));
  return m;
}

template <class T>
double max_abs_of(const std::vector<T>& a, const std::vector<T>& e) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, abs_error(double(a[i]), double(e[i])));
  return worst;
}

template <class T>
double max_rel_of(const std::vector<T>& a, const std::vector<T>& e, double min_fraction) {
  const double floor = min_fraction * max_magnitude(e);
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double m = std::abs(double(e[i]));
    if (m >= floor) worst = std::max(worst, abs_error(double(a[i]), double(e[i])) / (m == 0 ? 1.0 : m));
  }
  return worst;
}

void check_same_shape(const char* what, const Tensor& actual, const Tensor& expected) {
  check(actual.shape() == expected.shape(), "{}: shapes differ: actual {}, expected {}", what, actual.shape(),
        expected.shape());
}

}  // namespace

double max_magnitude(const Tensor& t) { return max_magnitude(t.to_vector<double>()); }

Moments moments(const Tensor& t) {
  const std::vector<double> v = t.to_vector<double>();
  double sum = 0, squares = 0;
  for (double x : v) sum += x;
  const double mean = sum / double(v.size());
  for (double x : v) squares += (x - mean) * (x - mean);  // two passes: no cancellation
  return {mean, squares / double(v.size() - 1)};
}

double max_abs_diff(const Tensor& actual, const Tensor& expected) {
  check_same_shape("max_abs_diff", actual, expected);
  return max_abs_of(actual.to_vector<double>(), expected.to_vector<double>());
}

double max_rel_diff(const Tensor& actual, const Tensor& expected, double min_fraction) {
  check_same_shape("max_rel_diff", actual, expected);
  return max_rel_of(actual.to_vector<double>(), expected.to_vector<double>(), min_fraction);
}

int64_t max_ulp_diff(const Tensor& actual, const Tensor& expected) {
  check_same_shape("max_ulp_diff", actual, expected);
  check(actual.dtype() == expected.dtype(), "max_ulp_diff: dtypes differ: actual {}, expected {}", actual.dtype(),
        expected.dtype());
  return visit_floating(actual.dtype(), "max_ulp_diff", [&]<class T>() {
    const std::vector<T> a = actual.to_vector<T>(), e = expected.to_vector<T>();
    int64_t worst = 0;
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, ulp_distance(a[i], e[i]));
    return worst;
  });
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  if (a.numel() == 0) return true;
  const Tensor x = a.contiguous(), y = b.contiguous();
  return std::memcmp(x.data_ptr(), y.data_ptr(), size_t(x.numel()) * x.element_size()) == 0;
}

// ---- Comparisons ------------------------------------------------------------------------------

namespace {

constexpr size_t kShownMismatches = 5;

std::string describe(const Tensor& t) { return t.defined() ? fmt::format("{} {}", t.dtype(), t.shape()) : "undefined"; }

// Row-major flat index -> "[i, j, k]".
std::string index_string(int64_t flat, const Shape& shape) {
  Dims index = Dims::filled(shape.size(), 0);
  for (int64_t d = shape.size() - 1; d >= 0; --d) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return fmt::format("{}", index);
}

// Why the elements of `actual` and `expected` cannot be compared (nullptr when they can): an
// undefined tensor, another shape or, when `same_dtype`, another dtype.
const char* incomparable(const Tensor& actual, const Tensor& expected, bool same_dtype) {
  if (!actual.defined() || !expected.defined() || actual.shape() != expected.shape()) return "shapes differ";
  if (same_dtype && actual.dtype() != expected.dtype()) return "dtypes differ";
  return nullptr;
}

// A comparison that fails before looking at elements, for the reason `why`.
Comparison unmatched(Comparison c, const Tensor& actual, const Tensor& expected, const char* why) {
  c.ok = false;
  c.report = fmt::format("  actual {}, expected {}: {}", describe(actual), describe(expected), why);
  return c;
}

// Counts the failing elements (badness(i) > 0 or NaN), reports the worst (largest badness) and the
// first few, and fills the figures. note(i) adds to an element's description (e.g. its ulps).
template <class T, class Badness, class Note>
void scan(Comparison& c, const Tensor& actual, const Tensor& expected, const std::vector<T>& a,
          const std::vector<T>& e, Badness badness, Note note) {
  std::vector<size_t> first;
  size_t worst = 0;
  double worst_badness = -INFINITY;
  for (size_t i = 0; i < a.size(); ++i) {
    double b = badness(i);
    if (!(b <= 0)) {
      if (std::isnan(b)) b = INFINITY;
      if (first.size() < kShownMismatches) first.push_back(i);
      if (c.failures++ == 0 || b > worst_badness) {
        worst = i;
        worst_badness = b;
      }
    }
  }
  c.max_abs = max_abs_of(a, e);
  c.max_rel = max_rel_of(a, e, 0.01);
  c.max_expected = max_magnitude(e);
  c.ok = c.failures == 0;
  if (c.ok) return;
  auto element = [&](size_t i) {
    return fmt::format("{}: actual {}, expected {}, |a - e| {:.3g}{}", index_string(int64_t(i), expected.shape()),
                       double(a[i]), double(e[i]), abs_error(double(a[i]), double(e[i])), note(i));
  };
  std::string shown;
  for (size_t i : first) shown += "\n    " + element(i);
  c.report = fmt::format(
      "  actual {}, expected {}\n  {} of {} elements fail {}\n  worst at {}\n  first mismatches:{}\n  {}",
      describe(actual), describe(expected), c.failures, a.size(), c.criterion, element(worst), shown, summary(c));
}

}  // namespace

Comparison compare_close(const Tensor& actual, const Tensor& expected, double atol, double rtol) {
  Comparison c;
  c.criterion = fmt::format("|a - e| <= {:g} + {:g} |e|", atol, rtol);
  if (const char* why = incomparable(actual, expected, /*same_dtype=*/false))
    return unmatched(c, actual, expected, why);
  const std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
  scan(c, actual, expected, a, e, [&](size_t i) { return std::abs(a[i] - e[i]) - (atol + rtol * std::abs(e[i])); },
       [](size_t) { return std::string(); });
  return c;
}

Comparison compare_ulp(const Tensor& actual, const Tensor& expected, int64_t max_ulp, double atol) {
  Comparison c;
  c.criterion = fmt::format("<= {} ulp or |a - e| <= {:g}", max_ulp, atol);
  if (const char* why = incomparable(actual, expected, /*same_dtype=*/true))
    return unmatched(c, actual, expected, why);
  visit_floating(actual.dtype(), "compare_ulp", [&]<class T>() {
    const std::vector<T> a = actual.to_vector<T>(), e = expected.to_vector<T>();
    auto ulps = [&](size_t i) { return ulp_distance(a[i], e[i]); };
    scan(
        c, actual, expected, a, e,
        [&](size_t i) {
          const int64_t u = ulps(i);
          return u > max_ulp && !(std::abs(double(a[i]) - double(e[i])) <= atol) ? double(u) : 0.0;
        },
        [&](size_t i) { return fmt::format(", {} ulp", ulps(i)); });
  });
  return c;
}

Comparison compare_bitwise(const Tensor& actual, const Tensor& expected) {
  Comparison c;
  c.criterion = "bitwise equality";
  if (const char* why = incomparable(actual, expected, /*same_dtype=*/true))
    return unmatched(c, actual, expected, why);
  const Tensor x = actual.contiguous(), y = expected.contiguous();
  const auto* xb = static_cast<const char*>(x.data_ptr());
  const auto* yb = static_cast<const char*>(y.data_ptr());
  const size_t size = x.element_size();
  scan(c, actual, expected, x.to_vector<double>(), y.to_vector<double>(),
       [&](size_t i) { return std::memcmp(xb + i * size, yb + i * size, size) == 0 ? 0.0 : 1.0; },
       [](size_t) { return std::string(" (bits differ)"); });
  return c;
}

std::string summary(const Comparison& c) {
  return fmt::format("max abs err {:.3g}, max rel err {:.3g}, max |e| {:.3g} (required {})", c.max_abs, c.max_rel,
                     c.max_expected, c.criterion);
}

// ---- Environment ------------------------------------------------------------------------------

std::string fixture_path(const std::string& relative) { return std::string(STRATA_TEST_FIXTURES) + "/" + relative; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("read_file: cannot open " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TempDir::TempDir() {
  static int counter = 0;
  dir = std::filesystem::temp_directory_path() / fmt::format("strata_test_{}_{}", ::getpid(), counter++);
  std::filesystem::create_directories(dir);
}

TempDir::~TempDir() { std::filesystem::remove_all(dir); }

size_t TempDir::entries() const {
  return std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator());
}

}  // namespace strata::testing
