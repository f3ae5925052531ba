// test_sgd.cpp: SGD against torch.optim.SGD (golden trajectories with momentum, dampening,
// Nesterov and weight decay, in float32 and float64), and its option checks.
#include "optim/sgd.h"

#include "optim_golden.h"

#include <doctest/doctest.h>

using namespace strata;
using namespace strata::testing;

namespace {

std::unique_ptr<Optimizer> make_sgd(std::vector<Variable> params, const nlohmann::json& o) {
  return std::make_unique<SGD>(std::move(params), SGDOptions{.lr = o.at("lr")[0].get<double>(),
                                                             .momentum = o.at("momentum").get<double>(),
                                                             .dampening = o.at("dampening").get<double>(),
                                                             .weight_decay = o.at("weight_decay").get<double>(),
                                                             .nesterov = o.at("nesterov").get<bool>()});
}

}  // namespace

TEST_CASE("SGD follows torch.optim.SGD's trajectory") {
  // Each torch `add(x, alpha=...)` is one fma here. Tolerances and why: see check_golden in
  // optim_golden.h (bitwise with FMA).
  for (const char* name : {"sgd_plain", "sgd_momentum_wd", "sgd_dampening", "sgd_nesterov"}) check_golden(name, make_sgd);
}

TEST_CASE("SGD without momentum is p <- p - lr*g and keeps no buffers") {
  Variable p(tensor({1.0, 2.0}, DType::f64), true);
  SGD opt({p}, {.lr = 0.5});
  p.set_grad(tensor({4.0, -2.0}, DType::f64));
  opt.step();
  CHECK(p.data().to_vector<double>() == std::vector<double>{-1.0, 3.0});
  CHECK(opt.state(0).buffers.empty());
  CHECK(opt.state_dict().count("state.0.momentum_buffer") == 0);
}

TEST_CASE("SGD's first momentum step copies the gradient into the buffer") {
  Variable p(tensor({1.0}, DType::f64), true);
  SGD opt({p}, {.lr = 0.1, .momentum = 0.9, .dampening = 0.5});
  p.set_grad(tensor({2.0}, DType::f64));
  // Tolerance epsilon 1e-14 (doctest scales it by 1 + |value|): each value is a few float64
  // roundings (2^-53 relative each) away from the exact decimal result.
  opt.step();  // b = g = 2 (no dampening on the first step, as in torch); p = 1 - 0.1*2
  CHECK(opt.state(0).buffers.at("momentum_buffer").item<double>() == 2.0);
  CHECK(p.data().item<double>() == doctest::Approx(0.8).epsilon(1e-14));
  opt.step();  // b = 0.9*2 + 0.5*2 = 2.8; p = 0.8 - 0.28
  CHECK(opt.state(0).buffers.at("momentum_buffer").item<double>() == doctest::Approx(2.8).epsilon(1e-14));
  CHECK(p.data().item<double>() == doctest::Approx(0.52).epsilon(1e-14));
}

TEST_CASE("SGD rejects invalid options") {
  Variable p(zeros({2}), true);
  CHECK_THROWS_WITH_AS(SGD({p}, {.nesterov = true}),
                       doctest::Contains("Nesterov momentum needs momentum > 0 and dampening == 0 (got momentum 0"),
                       Error);
  CHECK_THROWS_WITH_AS(SGD({p}, {.momentum = 0.9, .dampening = 0.1, .nesterov = true}),
                       doctest::Contains("dampening 0.1"), Error);
  CHECK_THROWS_WITH_AS(SGD({p}, {.momentum = -0.9}), doctest::Contains("SGD: invalid momentum -0.9"), Error);
  CHECK_THROWS_WITH_AS(SGD({p}, {.lr = -1}), doctest::Contains("SGD: invalid learning rate -1"), Error);
}
