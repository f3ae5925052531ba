// test_random.cpp: the Philox generator and the distributions (tensor/random.cpp).
//
// Statistical checks use n independent draws and a tolerance of 5 standard errors of the
// statistic (stated at each check), so a correct generator fails one with probability < 1e-6;
// the seeds are fixed anyway, so the tests are deterministic.
#include "tensor/random.h"

#include "tests/testing/tensor_testing.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

using namespace strata;
using namespace strata::testing;

namespace {

// Standard normal density and CDF.
double phi(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi); }
double Phi(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

}  // namespace

TEST_CASE("philox4x32_10 matches the Random123 known-answer vectors") {
  // Random123 tests/kat_vectors, the three "philox4x32 10" lines: counter, key -> output.
  using C = std::array<uint32_t, 4>;
  using K = std::array<uint32_t, 2>;
  CHECK(philox4x32_10(C{0, 0, 0, 0}, K{0, 0}) == C{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
  CHECK(philox4x32_10(C{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, K{0xffffffff, 0xffffffff}) ==
        C{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
  CHECK(philox4x32_10(C{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, K{0xa4093822, 0x299f31d0}) ==
        C{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

TEST_CASE("the stream: word k of seed s is word k % 4 of the block with counter k / 4 and key s") {
  // rand(f64) turns words (2i, 2i + 1) into ((w0 << 32 | w1) >> 11) * 2^-53.
  const uint64_t seed = 0x0123456789abcdefULL;
  const std::array<uint32_t, 2> key{0x89abcdef, 0x01234567};
  auto block0 = philox4x32_10({0, 0, 0, 0}, key), block1 = philox4x32_10({1, 0, 0, 0}, key);
  auto value = [](uint32_t hi, uint32_t lo) { return double((uint64_t(hi) << 32 | lo) >> 11) * 0x1p-53; };
  Generator gen(seed);
  std::vector<double> v = rand({3}, DType::f64, &gen).to_vector<double>();
  CHECK(v[0] == value(block0[0], block0[1]));
  CHECK(v[1] == value(block0[2], block0[3]));
  CHECK(v[2] == value(block1[0], block1[1]));
  CHECK(gen.offset() == 6);  // two words per value
}

TEST_CASE("a seed and offset reproduce the same values") {
  Generator a(7), b(7), c(8);
  Tensor x = randn({100}, DType::f32, &a);
  CHECK(x.to_vector<float>() == randn({100}, DType::f32, &b).to_vector<float>());
  CHECK(x.to_vector<float>() != randn({100}, DType::f32, &c).to_vector<float>());
  // The next call continues the stream rather than repeating it.
  const uint64_t offset = a.offset();
  Tensor y = rand({10}, DType::f32, &a);
  CHECK(y.to_vector<float>() != rand({10}, DType::f32, &c).to_vector<float>());
  // set_state rewinds: (seed, offset) is the whole state.
  Generator d(123);
  d.set_state(7, offset);
  CHECK(rand({10}, DType::f32, &d).to_vector<float>() == y.to_vector<float>());
}

TEST_CASE("manual_seed resets the default generator") {
  manual_seed(42);
  std::vector<float> first = rand({5}).to_vector<float>();
  CHECK(default_generator().seed() == 42);
  CHECK(default_generator().offset() == 10);
  manual_seed(42);
  CHECK(rand({5}).to_vector<float>() == first);
  Generator g(42);
  CHECK(rand({5}, DType::f32, &g).to_vector<float>() == first);
}

TEST_CASE("float32 values are the float64 values rounded (same seed)") {
  Generator a(3), b(3);
  std::vector<double> d = randn({1001}, DType::f64, &a).to_vector<double>();
  std::vector<float> f = randn({1001}, DType::f32, &b).to_vector<float>();
  for (size_t i = 0; i < d.size(); ++i) REQUIRE(f[i] == static_cast<float>(d[i]));
}

TEST_CASE("1 and 2 threads give bitwise identical tensors") {
  // 100003 items span several parallel chunks (16384 items each) and end in a partial one.
  const Shape shape{100003};
  auto draw_all = [&] {
    Generator g(99);
    std::vector<Tensor> out = {rand(shape, DType::f32, &g),
                               randn(shape, DType::f64, &g),
                               trunc_normal(shape, 0.5, 2.0, -1.0, 3.0, DType::f32, &g),
                               randint(-1000, 1000, shape, DType::i64, &g),
                               multinomial(ones({40000, 3}), &g)};
    return out;
  };
  std::vector<Tensor> one = with_threads(1, draw_all), two = with_threads(2, draw_all);
  for (size_t i = 0; i < one.size(); ++i) {
    CAPTURE(i);
    CHECK_TENSOR_BITWISE(one[i], two[i]);
  }
}

TEST_CASE("rand and uniform: range and moments") {
  const int64_t n = 1'000'000;
  Generator g(1);
  Tensor u = rand({n}, DType::f64, &g);
  std::vector<double> v = u.to_vector<double>();
  CHECK(*std::min_element(v.begin(), v.end()) >= 0.0);
  CHECK(*std::max_element(v.begin(), v.end()) < 1.0);
  Moments m = moments(u);
  // U[0, 1): mean 1/2, variance 1/12. Standard error of the mean sqrt(1/12/n) = 2.9e-4; of the
  // variance sqrt((1/80 - 1/144)/n) = 7.5e-5.
  CHECK(std::abs(m.mean - 0.5) < 5 * 2.9e-4);
  CHECK(std::abs(m.var - 1.0 / 12) < 5 * 7.5e-5);

  Tensor w = uniform({n}, -3.0, 5.0, DType::f32, &g);
  std::vector<float> wf = w.to_vector<float>();
  CHECK(*std::min_element(wf.begin(), wf.end()) >= -3.0f);
  CHECK(*std::max_element(wf.begin(), wf.end()) < 5.0f);
  Moments mw = moments(w);
  // U[-3, 5): mean 1, variance 64/12; standard error of the mean sqrt(64/12/n) = 2.3e-3.
  CHECK(std::abs(mw.mean - 1.0) < 5 * 2.3e-3);
  CHECK(std::abs(mw.var - 64.0 / 12) / (64.0 / 12) < 5 * 1e-3);  // relative error of a variance ~ sqrt(0.8/n)
}

TEST_CASE("randn and normal: moments and the one-sigma mass") {
  const int64_t n = 1'000'000;
  Generator g(2);
  Tensor z = randn({n}, DType::f64, &g);
  Moments m = moments(z);
  // N(0, 1): standard error of the mean 1/sqrt(n) = 1e-3, of the variance sqrt(2/n) = 1.4e-3.
  CHECK(std::abs(m.mean) < 5 * 1e-3);
  CHECK(std::abs(m.var - 1.0) < 5 * 1.4e-3);
  std::vector<double> v = z.to_vector<double>();
  const double inside = double(std::count_if(v.begin(), v.end(), [](double x) { return std::abs(x) < 1; })) / n;
  // P(|Z| < 1) = 0.682689; standard error sqrt(p (1 - p) / n) = 4.7e-4.
  CHECK(std::abs(inside - 0.682689) < 5 * 4.7e-4);

  Moments mn = moments(normal({n}, 3.0, 2.0, DType::f32, &g));
  CHECK(std::abs(mn.mean - 3.0) < 5 * 2e-3);  // standard error 2/sqrt(n)
  CHECK(std::abs(mn.var - 4.0) < 5 * 4 * 1.4e-3);
  // An odd count fills the last element from the first half of a Box-Muller pair.
  CHECK(randn({7}, DType::f32, &g).numel() == 7);
}

TEST_CASE("trunc_normal stays inside [a, b] exactly and has the truncated moments") {
  const int64_t n = 400'000;
  struct Case {
    double mean, std, a, b;
  };
  // Symmetric (torch's default), the CS336 Linear init (+-3 sigma), a one-sided interval above the
  // mean (sampled by mirroring), a far tail, and bounds that are not float32 numbers.
  const Case cases[] = {{0, 1, -2, 2}, {0, 0.05, -0.15, 0.15}, {1, 2, 2, 7}, {0, 1, 5, 6}, {0, 1, -0.1, 0.3}};
  Generator g(5);
  for (const Case& c : cases) {
    CAPTURE(c.a);
    CAPTURE(c.b);
    for (DType dtype : {DType::f32, DType::f64}) {
      Tensor t = trunc_normal({n}, c.mean, c.std, c.a, c.b, dtype, &g);
      std::vector<double> v = t.to_vector<double>();
      CHECK(*std::min_element(v.begin(), v.end()) >= c.a);
      CHECK(*std::max_element(v.begin(), v.end()) <= c.b);
      // Truncated standard normal on [al, be] with Z = Phi(be) - Phi(al):
      //   mean = (phi(al) - phi(be)) / Z,  var = 1 + (al phi(al) - be phi(be)) / Z - mean^2.
      const double al = (c.a - c.mean) / c.std, be = (c.b - c.mean) / c.std, Z = Phi(be) - Phi(al);
      const double mu = (phi(al) - phi(be)) / Z, var = 1 + (al * phi(al) - be * phi(be)) / Z - mu * mu;
      Moments m = moments(t);
      // Standard error of the mean: std * sqrt(var / n).
      CHECK(std::abs(m.mean - (c.mean + c.std * mu)) < 5 * c.std * std::sqrt(var / n));
      // The relative standard error of a sample variance is sqrt((kurtosis - 1) / n); a truncated
      // normal's kurtosis is at most 9 (the exponential shape of a far-tail cut), so 5 standard
      // errors are below 5 sqrt(8 / n) = 2.2%.
      CHECK(std::abs(m.var / (c.std * c.std * var) - 1) < 5 * std::sqrt(8.0 / n));
    }
  }
}

TEST_CASE("randint: range, uniform counts and dtypes") {
  Generator g(11);
  const int64_t n = 100'000;
  std::vector<int64_t> v = randint(0, 10, {n}, DType::i64, &g).to_vector<int64_t>();
  std::vector<int64_t> counts(10, 0);
  for (int64_t x : v) {
    REQUIRE(x >= 0);
    REQUIRE(x < 10);
    ++counts[x];
  }
  // Each count is Binomial(n, 0.1): sd sqrt(n * 0.1 * 0.9) = 95.
  for (int64_t c : counts) CHECK(std::abs(c - n / 10) < 5 * 95);

  std::vector<int32_t> s = randint(-5, -2, {1000}, DType::i32, &g).to_vector<int32_t>();
  CHECK(*std::min_element(s.begin(), s.end()) == -5);
  CHECK(*std::max_element(s.begin(), s.end()) == -3);
  std::vector<uint16_t> tok = randint(0, 50257, {1000}, DType::u16, &g).to_vector<uint16_t>();
  CHECK(*std::max_element(tok.begin(), tok.end()) < 50257);
  // The widest range works (n = 2^64 - 1).
  Tensor wide = randint(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), {1000},
                        DType::i64, &g);
  std::vector<int64_t> w = wide.to_vector<int64_t>();
  CHECK(std::count_if(w.begin(), w.end(), [](int64_t x) { return x < 0; }) > 400);
}

TEST_CASE("multinomial: zero weights are never drawn, frequencies follow the weights") {
  Generator g(13);
  std::vector<int64_t> fixed = multinomial(tensor({0, 1, 0}).expand({50, 3}), &g).to_vector<int64_t>();
  CHECK(std::all_of(fixed.begin(), fixed.end(), [](int64_t i) { return i == 1; }));

  const int64_t n = 100'000;
  Tensor probs = tensor({1, 3}, DType::f64).expand({n, 2});  // weights, not normalised
  std::vector<int64_t> d = multinomial(probs, &g).to_vector<int64_t>();
  const double ones_frac = double(std::count(d.begin(), d.end(), 1)) / n;
  // P(1) = 0.75; standard error sqrt(0.75 * 0.25 / n) = 1.4e-3.
  CHECK(std::abs(ones_frac - 0.75) < 5 * 1.4e-3);

  Tensor batched = multinomial(ones({2, 3, 4}), &g);
  CHECK(batched.shape() == Shape{2, 3});
  CHECK(batched.dtype() == DType::i64);
}

TEST_CASE("random errors name the op and the bad argument") {
  Generator g;
  CHECK_THROWS_WITH_AS(uniform({3}, 1.0, 1.0, DType::f32, &g), "uniform: need finite lo < hi, got lo=1 hi=1",
                       Error);
  CHECK_THROWS_WITH_AS(normal({3}, 0.0, -1.0, DType::f32, &g),
                       "normal: need a finite mean and std >= 0, got mean=0 std=-1", Error);
  CHECK_THROWS_WITH_AS(rand({3}, DType::i64, &g),
                       "rand: needs a floating dtype (float32 or float64), got int64; hint: convert with "
                       ".to(DType::f32)",
                       Error);
  CHECK_THROWS_WITH_AS(trunc_normal({3}, 0, 1, 2, -2, DType::f32, &g),
                       "trunc_normal: need finite a < b, got a=2 b=-2", Error);
  CHECK_THROWS_WITH_AS(trunc_normal({3}, 0, 1, 0.1, 0.1000000001, DType::f32, &g),
                       "trunc_normal: no float32 value lies in [0.1, 0.1000000001]", Error);
  CHECK_THROWS_WITH_AS(randint(0, 300, {3}, DType::u8, &g),
                       "randint: the range [0, 300) does not fit in uint8; hint: use DType::i64", Error);
  CHECK_THROWS_WITH_AS(randint(0, 2, {3}, DType::b8, &g),
                       "randint: needs an integer dtype (int64, int32, uint16, uint8), got bool", Error);
  CHECK_THROWS_WITH_AS(multinomial(tensor({0, 0, 0}, {1, 3}), &g),
                       "multinomial: row 0 of probs[1, 3] sums to 0; hint: every row needs a positive weight",
                       Error);
  CHECK_THROWS_WITH_AS(multinomial(tensor({1, -1}), &g),
                       "multinomial: row 0 of probs[2] has weight -1 at index 1; weights must be finite and >= 0",
                       Error);
}
