// test_clip.cpp: clip_grad_norm_ against the CS336 test_gradient_clipping values, and its corner
// cases (no clipping below the limit, mixed dtypes, gradients that share storage).
#include "optim/clip.h"

#include "autograd/functions.h"
#include "tensor/random.h"
#include "tests/testing/tensor_testing.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace strata;
using namespace strata::testing;

TEST_CASE("CS336 test_gradient_clipping: five live (5, 5) gradients of ones, one frozen parameter") {
  std::ifstream in(fixture_path("optim/nn_utils_expected.json"));
  const auto spec = nlohmann::json::parse(in).at("gradient_clipping");
  // Upstream: six parameters torch.randn(5, 5), the last with requires_grad=False;
  // loss = cat(params).sum(); backward; clip to max_l2_norm = 1e-2.
  Generator gen(0);
  std::vector<Variable> params;
  for (int i = 0; i < 6; ++i) params.emplace_back(randn({5, 5}, DType::f32, &gen), /*requires_grad=*/i < 5);
  backward(sum(cat(params)));
  const double norm = clip_grad_norm_(params, 1e-2);
  CHECK(norm == doctest::Approx(spec.at("total_norm_before").get<double>()).epsilon(1e-12));  // sqrt(125)
  const double want = spec.at("expected_grad_value").get<double>();  // 1e-2 / (sqrt(125) + 1e-6)
  for (int i = 0; i < 5; ++i) {
    CAPTURE(i);
    REQUIRE(params[i].grad().defined());
    CHECK_TENSOR_CLOSE(params[i].grad(), full({5, 5}, want, DType::f64), 1e-6, 0.0);  // upstream atol
  }
  CHECK(!params[5].grad().defined());  // the frozen parameter still has no gradient
}

TEST_CASE("clip_grad_norm_ leaves gradients below the limit alone and returns their norm") {
  Variable a(zeros({2}), true), b(zeros({1}, DType::f64), true), c(zeros({3}), true);
  a.set_grad(tensor({3.0, 4.0}));
  b.set_grad(tensor({12.0}, DType::f64));  // norms combine across dtypes: sqrt(9 + 16 + 144) = 13
  CHECK(clip_grad_norm_({a, b, c}, 13.5) == 13.0);
  CHECK(a.grad().to_vector<float>() == std::vector<float>{3, 4});
  // Above the limit: everything is scaled by max / (norm + 1e-6).
  CHECK(clip_grad_norm_({a, b, c}, 6.5) == 13.0);
  const double scale = 6.5 / (13.0 + 1e-6);
  CHECK(a.grad().at<float>({1}) == doctest::Approx(4 * scale).epsilon(1e-7));
  CHECK(b.grad().item<double>() == doctest::Approx(12 * scale).epsilon(1e-15));
  CHECK(!c.grad().defined());
}

TEST_CASE("clip_grad_norm_ scales gradients that share storage exactly once") {
  // backward never shares a gradient between leaves, but set_grad may be handed one tensor twice.
  Variable a(zeros({3}), true), b(zeros({3}), true), c(zeros({3}), true);
  const Tensor shared = tensor({2.0, 2.0, 2.0});
  a.set_grad(shared);
  b.set_grad(shared);
  c.set_grad(tensor({2.0, 2.0, 2.0}));
  const double norm = clip_grad_norm_({a, b, c}, 1.0);
  CHECK(norm == doctest::Approx(6.0));  // sqrt(9 * 4)
  const double want = 2.0 * (1.0 / (6.0 + 1e-6));
  for (const Variable& v : {a, b, c})
    for (float g : v.grad().to_vector<float>()) CHECK(g == doctest::Approx(want).epsilon(1e-6));
}

TEST_CASE("clip_grad_norm_ rejects a negative max_norm") {
  Variable a(zeros({1}), true);
  CHECK_THROWS_WITH_AS(clip_grad_norm_({a}, -1.0), doctest::Contains("max_norm must be >= 0, got -1"), Error);
}
