// optim_golden.h: the torch golden trajectories of tests/golden/make_optim_golden.py, replayed by
// the optimizer tests, and their tolerances.
#pragma once

#include "optim/optimizer.h"
#include "tensor/io.h"
#include "tests/testing/tensor_testing.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace strata::testing {

struct GoldenErrors {
  // Over every parameter after every step and the final state buffers:
  int64_t max_ulp = 0;      // elementwise, in units in the last place
  double max_rel = 0;       // elementwise |a - e| / |e|
  double max_normwise = 0;  // per tensor max|a - e| / max|e|
};

// Whether this build has fused multiply-add instructions. With them the optimizers round exactly
// like torch's CPU kernels, which use FMA on every AVX2 machine.
#if defined(__FMA__)
inline constexpr bool kBuiltWithFma = true;
#else
inline constexpr bool kBuiltWithFma = false;
#endif

// Builds the optimizer of a golden case from its parameters and its metadata (torch option names).
using MakeOptimizer = std::function<std::unique_ptr<Optimizer>(std::vector<Variable>, const nlohmann::json&)>;

// Replays case `name` in dtype `dtype` ("f32" or "f64"): the same initial parameters, learning rate
// per step, gradients (none where the golden has none) and steps as torch; checks the step counts
// and returns how far the parameters after each step and the final state buffers are from torch's.
inline GoldenErrors run_golden(const std::string& name, const std::string& dtype, const MakeOptimizer& make) {
  static const SafetensorsFile golden = load_safetensors(fixture_path("optim/optim_golden.safetensors"));
  const nlohmann::json options = nlohmann::json::parse(golden.metadata.at(name));
  const std::string prefix = name + "." + dtype + ".";
  auto expected = [&](const std::string& key) -> const Tensor& { return golden.tensors.at(prefix + key); };
  auto has = [&](const std::string& key) { return golden.tensors.count(prefix + key) > 0; };

  std::vector<Variable> params;
  for (int j = 0; has(fmt::format("init.{}", j)); ++j)
    params.emplace_back(expected(fmt::format("init.{}", j)).clone(), /*requires_grad=*/true);
  std::unique_ptr<Optimizer> opt = make(params, options);

  GoldenErrors errors;
  auto measure = [&](const Tensor& actual, const Tensor& want) {
    REQUIRE(actual.shape() == want.shape());
    REQUIRE(actual.dtype() == want.dtype());
    errors.max_ulp = std::max(errors.max_ulp, max_ulp_diff(actual, want));
    errors.max_rel = std::max(errors.max_rel, max_rel_diff(actual, want));
    const double scale = max_magnitude(want);
    errors.max_normwise = std::max(errors.max_normwise, max_abs_diff(actual, want) / (scale == 0 ? 1.0 : scale));
  };
  const auto& lrs = options.at("lr");
  for (size_t t = 1; t <= lrs.size(); ++t) {
    opt->set_lr(lrs[t - 1].get<double>());
    for (size_t j = 0; j < params.size(); ++j) {
      const std::string key = fmt::format("grad.{}.{}", t, j);
      if (has(key)) params[j].set_grad(expected(key).clone());
      else params[j].zero_grad();
    }
    opt->step();
    for (size_t j = 0; j < params.size(); ++j) measure(params[j].data(), expected(fmt::format("param.{}.{}", t, j)));
  }
  // The final state: every buffer torch keeps, under strata's state_dict names.
  const auto state = opt->state_dict();
  for (const auto& [key, want] : golden.tensors) {
    if (key.rfind(prefix + "state.", 0) != 0) continue;
    const std::string ours = key.substr(prefix.size());
    INFO("state key ", ours);
    REQUIRE(state.count(ours) == 1);
    if (want.dtype() == DType::i64) CHECK(state.at(ours).item<int64_t>() == want.item<int64_t>());
    else measure(state.at(ours), want);
  }
  return errors;
}

// Runs case `name` in float32 and float64, reports the errors and checks them:
//  * With FMA (every -march=native build on an AVX2 machine) the kernels perform torch's operations
//    in torch's order with fused rounding exactly where torch's kernels have it, so the results are
//    torch's bit for bit (measured: 0 ulp). Allowed: 4 ulp in float32 and a relative 1e-12 in
//    float64 (~4500 ulp), the brief's "few ulp" margin for libm differences in the scalars.
//  * Without FMA (e.g. -Dnative=false), each fma rounds twice. In m <- b1*m + (1-b1)*g the two terms
//    can nearly cancel, so one extra rounding of a term becomes many ulp of a small result (measured
//    up to 56 ulp in float32, 634 ulp in float64). Elementwise ulp bounds are then meaningless; the
//    check is normwise, max|a - e| <= tol * max|e| per tensor, with tol 1e-6 in float32 and 1e-14 in
//    float64 (measured with -march=x86-64: 1.1e-7 and 1.9e-16).
inline void check_golden(const std::string& name, const MakeOptimizer& make) {
  CAPTURE(name);
  const GoldenErrors f32 = run_golden(name, "f32", make);
  const GoldenErrors f64 = run_golden(name, "f64", make);
  MESSAGE(name, ": float32 max ", f32.max_ulp, " ulp (rel ", f32.max_rel, "), float64 max ", f64.max_ulp,
          " ulp (rel ", f64.max_rel, "); normwise ", f32.max_normwise, " / ", f64.max_normwise,
          std::string(kBuiltWithFma ? "" : " (built without FMA)"));
  if (kBuiltWithFma) {
    CHECK(f32.max_ulp <= 4);
    CHECK(f64.max_rel <= 1e-12);
  } else {
    CHECK(f32.max_normwise <= 1e-6);
    CHECK(f64.max_normwise <= 1e-14);
  }
}

}  // namespace strata::testing
