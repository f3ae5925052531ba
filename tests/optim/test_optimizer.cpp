// test_optimizer.cpp: what every optimizer shares: parameter checks, skipping parameters without a
// gradient, zero_grad, set_lr, and the state_dict round trip that lets a checkpoint resume exactly.
#include "optim/optimizer.h"

#include "optim/adamw.h"
#include "optim/sgd.h"
#include "tensor/io.h"
#include "tensor/ops.h"
#include "tensor/random.h"
#include "tests/testing/tensor_testing.h"

#include <doctest/doctest.h>

using namespace strata;
using namespace strata::testing;

namespace {

// Two parameters of different shapes (one float64), fresh each call with the same values.
std::vector<Variable> make_params() {
  Generator gen(7);
  return {Variable(randn({4, 9}, DType::f32, &gen), true), Variable(randn({33}, DType::f64, &gen), true)};
}

// Gives every parameter the gradient of step `t` (the same values for every run) and steps.
void step_with_gradients(Optimizer& opt, int t) {
  Generator gen(1000 + t);
  for (Variable p : opt.params()) p.set_grad(randn(p.shape(), p.dtype(), &gen));  // a copy shares the leaf
  opt.step();
}

}  // namespace

TEST_CASE("step skips parameters without a gradient and counts steps per parameter") {
  auto params = make_params();
  const Tensor before = params[1].data().clone();
  AdamW opt(params, {.lr = 0.1});
  params[0].set_grad(ones({4, 9}));
  opt.step();
  opt.step();
  CHECK(opt.state(0).step == 2);
  CHECK(opt.state(1).step == 0);
  CHECK(opt.state(1).buffers.empty());
  CHECK_TENSOR_BITWISE(params[1].data(), before);
  const auto keys = opt.state_dict();
  CHECK(keys.count("state.0.exp_avg") == 1);
  CHECK(keys.count("state.1.step") == 0);  // no state until the first step with a gradient
}

TEST_CASE("zero_grad drops every gradient; set_lr changes the step size") {
  auto params = make_params();
  SGD opt(params, {.lr = 0.5});
  for (Variable& p : params) p.set_grad(ones_like(p.data()));
  opt.zero_grad();
  for (const Variable& p : params) CHECK(!p.grad().defined());
  opt.set_lr(0.25);
  CHECK(opt.lr() == 0.25);
  CHECK(opt.options().lr == 0.25);
  const Tensor before = params[0].data().clone();
  params[0].set_grad(ones({4, 9}));
  opt.step();
  // Exact: p - 0.25*1 is one rounding of the same value either way.
  CHECK(params[0].data().at<float>({0, 0}) == before.at<float>({0, 0}) - 0.25f);
  CHECK_THROWS_WITH_AS(opt.set_lr(-0.1), doctest::Contains("SGD: invalid learning rate -0.1"), Error);
}

TEST_CASE("an optimizer step bumps the parameter's version (autograd sees the in-place write)") {
  auto params = make_params();
  SGD opt(params, {.lr = 0.5});
  const uint64_t v0 = params[0].data().version();
  params[0].set_grad(ones({4, 9}));
  opt.step();
  CHECK(params[0].data().version() > v0);
}

TEST_CASE("the optimizer checks its parameters and gradients, naming them") {
  Variable p(zeros({2, 3}), true);
  CHECK_THROWS_WITH_AS(SGD(std::vector<Variable>{}), doctest::Contains("SGD: got an empty parameter list"), Error);
  CHECK_THROWS_WITH_AS(SGD({Variable(zeros({2}))}),
                       doctest::Contains("parameter 0 is not a leaf that requires grad"), Error);
  CHECK_THROWS_WITH_AS(SGD({p, p}), doctest::Contains("parameter 1 appears twice"), Error);
  // Names given with the parameters (a Module's named_parameters()) appear in messages.
  CHECK_THROWS_WITH_AS(AdamW(NamedVariables{{"layers.0.w", p}, {"layers.1.w", p}}),
                       doctest::Contains("AdamW: parameter 1 (layers.1.w) appears twice"), Error);
}

TEST_CASE("state_dict holds lr, step counts and buffers under torch-like names") {
  auto params = make_params();
  AdamW opt(params, {.lr = 0.01});
  step_with_gradients(opt, 1);
  const auto sd = opt.state_dict();
  std::vector<std::string> keys;
  for (const auto& [k, v] : sd) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"lr", "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.step",
                                         "state.1.exp_avg", "state.1.exp_avg_sq", "state.1.step"});
  CHECK(sd.at("lr").dtype() == DType::f64);
  CHECK(sd.at("lr").item<double>() == 0.01);
  CHECK(sd.at("state.1.step").dtype() == DType::i64);
  CHECK(sd.at("state.1.exp_avg").dtype() == DType::f64);
  CHECK(sd.at("state.0.exp_avg").shape() == Shape{4, 9});
  // A copy: further steps do not change a saved state_dict.
  const Tensor saved = sd.at("state.0.exp_avg").clone();
  step_with_gradients(opt, 2);
  CHECK_TENSOR_BITWISE(sd.at("state.0.exp_avg"), saved);
}

TEST_CASE("save after k steps, load into a fresh optimizer, continue: bitwise equal to an uninterrupted run") {
  // Through a safetensors file, as a training checkpoint would do it.
  const TempDir tmp;
  const std::string path = tmp / "optimizer_state.safetensors";
  auto check_resume = [&](auto make_optimizer) {
    auto straight = make_params();
    auto opt = make_optimizer(straight);
    for (int t = 1; t <= 7; ++t) step_with_gradients(opt, t);

    auto first = make_params();
    auto before = make_optimizer(first);
    for (int t = 1; t <= 3; ++t) step_with_gradients(before, t);
    std::map<std::string, Tensor> checkpoint = before.state_dict();
    for (size_t j = 0; j < first.size(); ++j) checkpoint["param." + std::to_string(j)] = first[j].data();
    save_safetensors(path, checkpoint);

    SafetensorsFile file = load_safetensors(path);
    std::vector<Variable> resumed_params;
    for (size_t j = 0; j < first.size(); ++j) {
      const std::string key = "param." + std::to_string(j);
      resumed_params.emplace_back(file.tensors.at(key).clone(), true);
      file.tensors.erase(key);
    }
    auto resumed = make_optimizer(resumed_params);
    resumed.set_lr(123.0);  // overwritten by the loaded "lr"
    resumed.load_state_dict(file.tensors);
    CHECK(resumed.lr() == opt.lr());
    for (int t = 4; t <= 7; ++t) step_with_gradients(resumed, t);

    for (size_t j = 0; j < straight.size(); ++j) CHECK_TENSOR_BITWISE(resumed_params[j].data(), straight[j].data());
    const auto a = resumed.state_dict(), b = opt.state_dict();
    REQUIRE(a.size() == b.size());
    for (const auto& [key, value] : b) {
      CAPTURE(key);
      CHECK_TENSOR_BITWISE(a.at(key), value);
    }
  };
  SUBCASE("AdamW") {
    check_resume([](std::vector<Variable> p) { return AdamW(std::move(p), {.lr = 0.01, .beta2 = 0.95}); });
  }
  SUBCASE("SGD with momentum") {
    check_resume([](std::vector<Variable> p) { return SGD(std::move(p), {.lr = 0.1, .momentum = 0.9}); });
  }
}

TEST_CASE("load_state_dict reports every problem at once and changes nothing on error") {
  auto params = make_params();
  AdamW opt(params);
  step_with_gradients(opt, 1);
  auto sd = opt.state_dict();
  sd.erase("state.0.exp_avg_sq");                          // missing
  sd["state.1.exp_avg"] = zeros({33}, DType::f32);         // wrong dtype
  sd["state.0.momentum_buffer"] = zeros({4, 9});           // unexpected
  sd["state.5.step"] = scalar_tensor(1, DType::i64);       // no parameter 5
  sd["lr"] = scalar_tensor(-0.5, DType::f64);              // what set_lr refuses
  AdamW fresh(make_params(), {.lr = 0.25});
  const std::string msg = error_of([&] { fresh.load_state_dict(sd); });
  CHECK(msg.find("AdamW.load_state_dict: 5 problem(s)") != std::string::npos);
  CHECK(msg.find("\"lr\" is -0.5 (must be finite and >= 0)") != std::string::npos);
  CHECK(msg.find("missing key \"state.0.exp_avg_sq\"") != std::string::npos);
  CHECK(msg.find("\"state.1.exp_avg\" is float32[33] but parameter 1 is float64[33]") != std::string::npos);
  CHECK(msg.find("unexpected key \"state.0.momentum_buffer\"") != std::string::npos);
  CHECK(msg.find("unexpected key \"state.5.step\"") != std::string::npos);
  CHECK(msg.find("hint: build the optimizer with the same parameters") != std::string::npos);
  CHECK(fresh.state(0).step == 0);  // unchanged
  CHECK(fresh.lr() == 0.25);
  CHECK(fresh.state_dict().size() == 1);
}
