// test_schedule.cpp: the cosine schedule with linear warm-up against the CS336 test values.
#include "optim/schedule.h"

#include "tests/testing/tensor_testing.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace strata;
using namespace strata::testing;

TEST_CASE("CS336 test_get_lr_cosine_schedule: 25 values") {
  std::ifstream in(fixture_path("optim/nn_utils_expected.json"));
  const auto spec = nlohmann::json::parse(in).at("lr_cosine_schedule");
  const auto& args = spec.at("args");
  const auto& its = spec.at("its");
  const auto& expected = spec.at("expected");
  REQUIRE(its.size() == 25);
  for (size_t i = 0; i < its.size(); ++i) {
    const double lr = lr_cosine_schedule(its[i].get<int64_t>(), args.at("max_learning_rate").get<double>(),
                                         args.at("min_learning_rate").get<double>(),
                                         args.at("warmup_iters").get<int64_t>(),
                                         args.at("cosine_cycle_iters").get<int64_t>());
    const double want = expected[i].get<double>();
    CAPTURE(i);
    // Upstream compares with numpy.testing.assert_allclose's defaults: rtol 1e-7, atol 0.
    CHECK(std::abs(lr - want) <= 1e-7 * std::abs(want));
  }
}

TEST_CASE("the schedule's phases meet where they should") {
  const double lr_max = 3e-4, lr_min = 3e-5;
  CHECK(lr_cosine_schedule(0, lr_max, lr_min, 10, 100) == 0);
  CHECK(lr_cosine_schedule(5, lr_max, lr_min, 10, 100) == doctest::Approx(lr_max / 2));
  CHECK(lr_cosine_schedule(10, lr_max, lr_min, 10, 100) == lr_max);  // cosine starts at lr_max
  CHECK(lr_cosine_schedule(55, lr_max, lr_min, 10, 100) == doctest::Approx((lr_max + lr_min) / 2));
  CHECK(lr_cosine_schedule(100, lr_max, lr_min, 10, 100) == lr_min);
  CHECK(lr_cosine_schedule(1000, lr_max, lr_min, 10, 100) == lr_min);
  // No warm-up: the cosine starts at t = 0.
  CHECK(lr_cosine_schedule(0, lr_max, lr_min, 0, 100) == lr_max);
  // An empty cosine phase (Tc == Tw): warm-up, then lr_min.
  CHECK(lr_cosine_schedule(9, 1.0, 0.1, 10, 10) == doctest::Approx(0.9));
  CHECK(lr_cosine_schedule(10, 1.0, 0.1, 10, 10) == 0.1);
}

TEST_CASE("the schedule rejects a negative step and a cycle shorter than the warm-up") {
  CHECK_THROWS_WITH_AS(lr_cosine_schedule(-1, 1, 0.1, 7, 21), doctest::Contains("step t = -1 is negative"), Error);
  CHECK_THROWS_WITH_AS(lr_cosine_schedule(3, 1, 0.1, 21, 7),
                       doctest::Contains("need 0 <= warmup_iters <= cosine_cycle_iters, got warmup_iters = 21, "
                                         "cosine_cycle_iters = 7"),
                       Error);
}
