// test_ops_reduce.cpp: reductions, max/min with indices, softmax and log_softmax.
//
// The fast kernels are compared with the scalar reference (naive::sum, naive::softmax) on
// contiguous, transposed, step-sliced and expanded inputs in float32 and float64. Tolerances:
//   sum, float32: both sides accumulate in double and round once at the end; the two double sums
//     differ only in their order, by far less than a float32 ulp, so the rounded results are
//     equal or 1 ulp apart (when the double sum lies on a rounding boundary).
//   sum, float64: each double sum carries a rounding error of at most n * 2^-53 * sum|x|, so
//     for n terms with |x| <= 1 the two may differ by 2 n^2 2^-53. mean: the same bounds.
//   softmax: the fast kernel works in the input precision, like torch: x - m is rounded (an
//     absolute error up to |x - m| 2^-24 in float32), which exp turns into a relative error of
//     the same size, i.e. up to |x - m| ulps of the result; plus exp's few ulp and the scaling's
//     rounding. Allowed 8 + max|x - m| ulp; the reference works in double.
//   log_softmax: (x - m) - log(s) has an absolute error of a few ulp of its larger term, which
//     can be far more ulps of a result near 0: allowed 8 ulp or 4 eps |x|max (inputs in
//     [-20, 20], so |x - m| <= 40), against a reference computed in float64.
#include "tensor/ops.h"

#include "tests/testing/tensor_testing.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>

using namespace strata;
using namespace strata::testing;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const DType kFloating[] = {DType::f32, DType::f64};

// sum's tolerance: 1 ulp in float32; in float64 the bound above for n terms of magnitude <= 1.
void check_sum(const Tensor& got, const Tensor& want, int64_t n, const std::string& what) {
  INFO(what);
  if (got.dtype() == DType::f32) CHECK_TENSOR_ULP(got, want, 1, 0.0);
  else CHECK_TENSOR_ULP(got, want, 0, 2.0 * double(n) * double(n) * std::ldexp(1.0, -53));
}

}  // namespace

TEST_CASE("sum matches the scalar reference over every set of dims and layout") {
  const Shape shape{5, 6, 37};
  const Dims dim_sets[] = {{}, {0}, {1}, {2}, {-1}, {0, 1}, {0, 2}, {1, 2}, {2, 0}, {0, 1, 2}};
  for (DType dtype : kFloating)
    for (Layout layout : kLayouts)
      for (const Dims& dims : dim_sets)
        for (bool keepdim : {false, true}) {
          const Tensor x = random_layout(shape, layout, dtype, -1, 1, 3);
          const std::string what =
              fmt::format("sum {} {} dims {} keepdim {}", dtype, layout_name(layout), dims, keepdim);
          const Tensor got = sum(x, dims, keepdim);
          check_sum(got, naive::sum(x, dims, keepdim), x.numel(), what);
          const double count = double(x.numel() / std::max<int64_t>(1, got.numel()));
          check_sum(mean(x, dims, keepdim), div(naive::sum(x.to(DType::f64), dims, keepdim), count).to(dtype),
                    x.numel(), "mean " + what);
        }
}

TEST_CASE("sum keeps its precision over long rows") {
  // One 2^24 followed by 4096 ones: a float accumulator would stay at 2^24 (each +1 rounds
  // away); accumulating in double gives the exact 2^24 + 4096, which float32 represents.
  std::vector<float> v(4097, 1.0f);
  v[0] = 16777216.0f;
  CHECK(sum(from_vector(v)).item<float>() == 16777216.0f + 4096.0f);
  // 3e5 elements (more than one parallel block of 2^16) of 0.1f: exact value from double.
  const Tensor x = full({300'000}, 0.1);
  CHECK(sum(x).item<float>() == static_cast<float>(300'000 * double(0.1f)));
  // The same values as (300, 1000) summed over dim 0 (the column kernel) and dim 1 (rows).
  const Tensor m = random_tensor({300, 1000}, DType::f32, -1, 1, 5);
  check_sum(sum(m, {0}), naive::sum(m, {0}, false), 300, "columns");
  check_sum(sum(m, {1}), naive::sum(m, {1}, false), 1000, "rows");
  check_sum(sum(m.mT(), {0}), naive::sum(m.mT(), {0}, false), 1000, "transposed rows");
  const Tensor long_rows = random_tensor({3, 200'000}, DType::f64, -1, 1, 6);
  check_sum(sum(long_rows, {1}), naive::sum(long_rows, {1}, false), 200'000, "blocked rows");
}

TEST_CASE("sum of integers and bools is int64, like torch") {
  const Tensor i = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, DType::i32);
  CHECK(sum(i).dtype() == DType::i64);
  CHECK(sum(i).item<int64_t>() == 21);
  CHECK(sum(i, {0}).to_vector<int64_t>() == std::vector<int64_t>{5, 7, 9});
  CHECK(sum(i.mT(), {1}).to_vector<int64_t>() == std::vector<int64_t>{5, 7, 9});
  CHECK(sum(tensor({1, 1, 0}, DType::b8)).item<int64_t>() == 2);
  CHECK(sum(full({70000}, 200, DType::u8)).item<int64_t>() == 14'000'000);  // no uint8 overflow
  CHECK_THROWS_WITH_AS(mean(i), doctest::Contains("mean: needs a floating dtype"), Error);
}

TEST_CASE("reductions: shapes, keepdim, empty inputs and errors") {
  const Tensor x = zeros({2, 3, 4});
  CHECK(sum(x).shape() == Shape{});
  CHECK(sum(x, {}, true).shape() == Shape{1, 1, 1});
  CHECK(sum(x, {1}).shape() == Shape{2, 4});
  CHECK(sum(x, {-1, 0}, true).shape() == Shape{1, 3, 1});
  CHECK(sum(zeros({0, 3}), {0}).to_vector<float>() == std::vector<float>{0, 0, 0});
  CHECK(sum(zeros({3, 0}), {0}).shape() == Shape{0});
  CHECK(std::isnan(mean(zeros({0})).item<float>()));  // 0 / 0, like torch
  CHECK(sum(scalar_tensor(5)).item<float>() == 5);
  CHECK_THROWS_WITH_AS(sum(x, {1, -2}), "sum: dim -2 appears more than once in dims [1, -2]", Error);
  CHECK_THROWS_WITH_AS(sum(x, {3}), doctest::Contains("sum: dim 3 is out of range for a tensor with 3 dimensions"),
                       Error);
  CHECK_THROWS_WITH_AS(amax(zeros({2, 0}), {1}), doctest::Contains("amax: cannot reduce over zero elements"), Error);
  CHECK_THROWS_WITH_AS(max(zeros({0}), 0), doctest::Contains("max: cannot take the max of zero elements"), Error);
  CHECK_THROWS_WITH_AS(amax(zeros({2}, DType::b8)), doctest::Contains("amax: not defined for bool tensors"), Error);
  CHECK_THROWS_WITH_AS(sum(Tensor()),
                       "sum: got an undefined tensor (default-constructed); hint: create it with empty/zeros/...", Error);
  CHECK_THROWS_WITH_AS(argmax(Tensor(), 0), doctest::Contains("argmax: got an undefined tensor"), Error);
}

TEST_CASE("mean and var give torch's values") {
  // torch 1.13, float64: m = [[1, 2, 3], [4, 6, 8]]
  //   m.var(dim=1) = [1, 4]; m.var(dim=0, correction=0) = [2.25, 4, 6.25]; m.var() = 6.8
  for (DType dtype : kFloating) {
    const Tensor m = tensor({1, 2, 3, 4, 6, 8}, {2, 3}, dtype);
    CHECK(var(m, {1}).to_vector<double>() == std::vector<double>{1, 4});
    CHECK(var(m, {0}, 0).to_vector<double>() == std::vector<double>{2.25, 4, 6.25});
    CHECK(var(m.mT(), {1}, 0, true).shape() == Shape{3, 1});
    // Exact: the mean (24 / 6 = 4), the squared deviations and their sum (34) are exact in
    // either dtype, so 34 / 5 rounds once, to the dtype's nearest value of 6.8.
    CHECK_TENSOR_BITWISE(var(m), scalar_tensor(6.8, dtype));
    CHECK(mean(m, {1}).to_vector<double>() == std::vector<double>{2, 6});
    CHECK(mean(m).item<double>() == 4);
  }
  // var is two-pass: a large offset does not cancel the variance away (one-pass E[x^2] - E[x]^2
  // in float64 would lose all digits here).
  const Tensor shifted = tensor({1e9 + 1, 1e9 + 2, 1e9 + 3}, DType::f64);
  CHECK(var(shifted).item<double>() == 1.0);
  CHECK_THROWS_WITH_AS(var(tensor({1, 2}, DType::i64)), doctest::Contains("var: needs a floating dtype"), Error);
}

TEST_CASE("amax, amin, max, min, argmax, argmin") {
  for (DType dtype : {DType::f32, DType::f64, DType::i64, DType::i32}) {
    INFO(dtype_name(dtype));
    // torch.max([[1, 5, 5], [7, 7, 2]], 1) = values [5, 7], indices [1, 0]: first index on ties.
    const Tensor m = tensor({1, 5, 5, 7, 7, 2}, {2, 3}, dtype);
    auto [values, indices] = max(m, 1);
    CHECK(values.to_vector<double>() == std::vector<double>{5, 7});
    CHECK(indices.to_vector<int64_t>() == std::vector<int64_t>{1, 0});
    CHECK(indices.dtype() == DType::i64);
    auto [vmin, imin] = min(m, 0, true);
    CHECK(vmin.shape() == Shape{1, 3});
    CHECK(vmin.to_vector<double>() == std::vector<double>{1, 5, 2});
    CHECK(imin.to_vector<int64_t>() == std::vector<int64_t>{0, 0, 1});
    CHECK(argmax(m, 0).to_vector<int64_t>() == std::vector<int64_t>{1, 1, 0});
    CHECK(argmin(m.mT(), 0).to_vector<int64_t>() == std::vector<int64_t>{0, 2});
    CHECK(amax(m).item<double>() == 7);
    CHECK(amin(m, {1}).to_vector<double>() == std::vector<double>{1, 2});
    CHECK(amax(m, {0}, true).to_vector<double>() == std::vector<double>{7, 7, 5});
  }
  // NaN propagates, and the first NaN is the index (torch: max([1, nan, 3, nan]) = nan at 1;
  // min([[3, 1, 1], [nan, 0, nan]], 1) = values [1, nan], indices [1, 0]).
  const Tensor t = tensor({1, kNaN, 3, kNaN});
  CHECK(std::isnan(max(t, 0).first.item<float>()));
  CHECK(max(t, 0).second.item<int64_t>() == 1);
  CHECK(argmax(t, 0).item<int64_t>() == 1);
  CHECK(std::isnan(amax(t).item<float>()));
  CHECK(std::isnan(amin(t).item<float>()));
  auto [v, i] = min(tensor({3, 1, 1, kNaN, 0, kNaN}, {2, 3}), 1);
  CHECK(v.at<float>({0}) == 1);
  CHECK(std::isnan(v.at<float>({1})));
  CHECK(i.to_vector<int64_t>() == std::vector<int64_t>{1, 0});
  // amax over long rows (SIMD lanes), columns and strided layouts against a plain loop.
  for (Layout layout : kLayouts) {
    const Tensor x = random_layout({40, 300}, layout, DType::f32, -100, 100, 8);
    const std::vector<float> all = x.to_vector<float>();
    for (int64_t d : {0, 1}) {
      const Tensor got = amax(x, {d});
      const Tensor want_idx = argmax(x, d);
      for (int64_t j = 0; j < got.numel(); ++j) {
        float best = -INFINITY;
        for (int64_t k = 0; k < x.size(d); ++k)
          best = std::max(best, d == 0 ? x.at<float>({k, j}) : x.at<float>({j, k}));
        CHECK(got.at<float>({j}) == best);
        const int64_t at = want_idx.at<int64_t>({j});
        CHECK((d == 0 ? x.at<float>({at, j}) : x.at<float>({j, at})) == best);
      }
    }
    CHECK(amin(x).item<float>() == *std::min_element(all.begin(), all.end()));
  }
}

TEST_CASE("logsumexp gives torch's values, including infinities") {
  // torch.logsumexp([[1, 2, 3], [4, 6, 8]], dim=1) = [3.4076059644443806, 8.1429316284999]
  const Tensor m = tensor({1, 2, 3, 4, 6, 8}, {2, 3}, DType::f64);
  CHECK_TENSOR_ULP(logsumexp(m, {1}), tensor({3.4076059644443806, 8.1429316284999}, DType::f64), 4, 0.0);
  CHECK(logsumexp(m, {1}, true).shape() == Shape{2, 1});
  CHECK(logsumexp(m, {0, 1}).shape() == Shape{});
  // torch: logsumexp([[-inf, -inf], [inf, 1]], dim=1) = [-inf, inf]
  const Tensor inf = logsumexp(tensor({-kInf, -kInf, kInf, 1}, {2, 2}), {1});
  CHECK(inf.at<float>({0}) == -INFINITY);
  CHECK(inf.at<float>({1}) == INFINITY);
  // No overflow where exp(x) alone would overflow. 1000 + log(2): exp(0) = 1 twice sums to 2
  // exactly, and log(2)'s error of a few float ulps at 0.69 (~1e-7) is far below half an ulp of
  // 1000 (3e-5), so the sum rounds to the float nearest 1000 + log 2: allowed 1 ulp.
  CHECK_TENSOR_ULP(logsumexp(tensor({1000, 1000}), {0}), scalar_tensor(1000 + std::log(2.0)), 1, 0.0);
}

TEST_CASE("softmax and log_softmax match the reference along every dim and layout") {
  for (DType dtype : kFloating)
    for (Layout layout : kLayouts)
      for (int64_t dim : {0, 1, 2, -1}) {
        const Tensor x = random_layout({4, 9, 37}, layout, dtype, -20, 20, 4);
        INFO(fmt::format("{} {} dim {}", dtype, layout_name(layout), dim));
        const Tensor p = softmax(x, dim);
        CHECK(p.is_contiguous());
        CHECK_TENSOR_ULP(p, naive::softmax(x, dim), 8 + 40, 0.0);  // |x - m| <= 40
        const double eps = dtype == DType::f32 ? std::ldexp(1.0, -23) : std::ldexp(1.0, -52);
        CHECK_TENSOR_ULP(log_softmax(x, dim), log(naive::softmax(x.to(DType::f64), dim)).to(dtype), 8, 4 * eps * 40);
        // Each row sums to 1.
        CHECK_TENSOR_ULP(sum(p, {dim}), ones_like(sum(p, {dim})), 8, 0.0);
      }
  // Long contiguous rows, as in a language model's output: (64, 10000).
  const Tensor logits = random_tensor({64, 10'000}, DType::f32, -30, 30, 10);
  CHECK_TENSOR_ULP(softmax(logits, -1), naive::softmax(logits, -1), 8 + 60, 0.0);  // |x - m| <= 60
}

TEST_CASE("softmax gives torch's values and stays finite for large inputs") {
  // torch.softmax([[1, 2, 3], [4, 6, 8]], dim=1) and torch.log_softmax(same, dim=0), float64.
  const Tensor m = tensor({1, 2, 3, 4, 6, 8}, {2, 3}, DType::f64);
  CHECK_TENSOR_ULP(softmax(m, 1),
                   tensor({0.09003057317038045, 0.2447284710547976, 0.6652409557748218, 0.015876239976466765,
                           0.11731042782619838, 0.8668133321973349},
                          {2, 3}, DType::f64),
                   4, 0.0);
  CHECK_TENSOR_ULP(log_softmax(m, 0),
                   tensor({-3.048587351573742, -4.0181499279178094, -5.006715348489118, -0.048587351573741965,
                           -0.01814992791780978, -0.006715348489117967},
                          {2, 3}, DType::f64),
                   4, 0.0);
  // exp(1000) overflows, but softmax subtracts the max first.
  const Tensor big = softmax(tensor({1000, 1000, -kInf}), 0);
  CHECK(big.to_vector<float>() == std::vector<float>{0.5f, 0.5f, 0.0f});
  // An all -inf row has no defined distribution: NaN, like torch.
  CHECK(std::isnan(softmax(tensor({-kInf, -kInf}), 0).at<float>({0})));
  CHECK(softmax(scalar_tensor(3), 0).item<float>() == 1.0f);
  CHECK(softmax(zeros({0, 4}), 1).shape() == Shape{0, 4});
  CHECK_THROWS_WITH_AS(softmax(zeros({2}, DType::i64), 0), doctest::Contains("softmax: needs a floating dtype"),
                       Error);
  CHECK_THROWS_WITH_AS(log_softmax(zeros({2, 3}), 2),
                       doctest::Contains("log_softmax: dim 2 is out of range for a tensor with 2 dimensions"), Error);
}
