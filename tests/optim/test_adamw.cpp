// test_adamw.cpp: AdamW against torch.optim.AdamW (a golden trajectory in float32 and float64) and
// the CS336 test_adamw (1000 steps fitting a Linear(3, 2) layer), plus its option checks.
#include "optim/adamw.h"

#include "autograd/functions.h"
#include "optim_golden.h"
#include "tensor/random.h"

#include <doctest/doctest.h>

using namespace strata;
using namespace strata::testing;

namespace {

std::unique_ptr<Optimizer> make_adamw(std::vector<Variable> params, const nlohmann::json& o) {
  return std::make_unique<AdamW>(std::move(params), AdamWOptions{.lr = o.at("lr")[0].get<double>(),
                                                                 .beta1 = o.at("betas")[0].get<double>(),
                                                                 .beta2 = o.at("betas")[1].get<double>(),
                                                                 .eps = o.at("eps").get<double>(),
                                                                 .weight_decay = o.at("weight_decay").get<double>()});
}

}  // namespace

TEST_CASE("AdamW follows torch.optim.AdamW's trajectory") {
  // Tolerances and why: see check_golden in optim_golden.h (bitwise with FMA).
  check_golden("adamw_defaults", make_adamw);
  check_golden("adamw_custom", make_adamw);
}

TEST_CASE("CS336 test_adamw: 1000 steps of AdamW fitting a Linear(3, 2) match torch and the snapshots") {
  // Upstream: torch.manual_seed(42); model = Linear(3, 2, bias=False); each step draws x = torch.rand(3),
  // y = [x0 + x1, -x2], loss = sum((y - model(x))^2), and AdamW(lr=1e-3, weight_decay=0.01,
  // betas=(0.9, 0.999), eps=1e-8) steps. The initial weight and the 1000 inputs are the fixtures.
  Variable weight(load_npy(fixture_path("optim/adamw_w0.npy")), true);  // (2, 3) = (out, in)
  const Tensor xs = load_npy(fixture_path("optim/adamw_x.npy"));        // (1000, 3)
  AdamW opt({weight}, {.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01});
  for (int64_t t = 0; t < xs.size(0); ++t) {
    opt.zero_grad();
    const Tensor x = xs.select(0, t).unsqueeze(0);  // (1, 3)
    const float x0 = x.at<float>({0, 0}), x1 = x.at<float>({0, 1}), x2 = x.at<float>({0, 2});
    const Variable y(from_vector(std::vector<float>{x0 + x1, -x2}, {1, 2}));  // (1, 2)
    const Variable y_hat = matmul(Variable(x), mT(weight));                  // (1, 2) = x W^T, like nn.Linear
    const Variable loss = sum(square(y - y_hat));
    backward(loss);
    opt.step();
  }
  const Tensor& w = weight.data();
  // Upstream passes when torch.allclose(w, torch_result, atol=1e-4) (rtol 1e-5 by default) holds, or
  // else when w is within rtol 1e-4, atol 1e-4 of the snapshot. We require |w - torch| <= 1e-4 (rtol
  // 0) and check both snapshots too.
  CHECK_TENSOR_CLOSE_REPORT("test_adamw vs torch", w, load_npy(fixture_path("optim/adamw_expected_torch.npy")), 1e-4,
                            0.0);
  for (const std::string snapshot : {"test_adamw_snapshot_1.0.6.npy", "test_adamw_snapshot_26.0.3.npy"})
    CHECK_TENSOR_CLOSE_REPORT(snapshot, w, load_npy(fixture_path("optim/" + snapshot)), 1e-4, 1e-4);
}

TEST_CASE("AdamW's fused pass equals the scalar formula on every element, for any thread count") {
  // 3 parallel chunks of 2^16 elements plus a partial SIMD batch at the end.
  const int64_t n = 3 * (int64_t{1} << 16) + 13;
  Generator gen(3);
  const Tensor p0 = randn({n}, DType::f32, &gen), g1 = randn({n}, DType::f32, &gen), g2 = randn({n}, DType::f32, &gen);
  const AdamWOptions o{.lr = 0.01, .beta1 = 0.85, .beta2 = 0.99, .eps = 1e-6, .weight_decay = 0.05};

  // The scalar reference: adamw.h's formula one element at a time, in the kernel's rounding order.
  std::vector<float> p = p0.to_vector<float>(), m(n, 0.0f), v(n, 0.0f);
  for (int t = 1; t <= 2; ++t) {
    const std::vector<float> g = (t == 1 ? g1 : g2).to_vector<float>();
    const float decay = float(1 - o.lr * o.weight_decay), b1 = float(o.beta1), c1 = float(1 - o.beta1);
    const float b2 = float(o.beta2), c2 = float(1 - o.beta2), eps = float(o.eps);
    const float bc2 = float(std::sqrt(1 - std::pow(o.beta2, t))), step = float(-(o.lr / (1 - std::pow(o.beta1, t))));
    for (int64_t i = 0; i < n; ++i) {
      p[i] = p[i] * decay;
      m[i] = kBuiltWithFma ? std::fma(g[i], c1, m[i] * b1) : g[i] * c1 + m[i] * b1;
      v[i] = kBuiltWithFma ? std::fma(c2 * g[i], g[i], v[i] * b2) : c2 * g[i] * g[i] + v[i] * b2;
      p[i] = p[i] + step * m[i] / (std::sqrt(v[i]) / bc2 + eps);
    }
  }
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    with_threads(threads, [&] {
      Variable param(p0.clone(), true);
      AdamW opt({param}, o);
      for (const Tensor& g : {g1, g2}) {
        param.set_grad(g);
        opt.step();
      }
      // Bitwise: the same operations with the same rounding, element by element.
      CHECK_TENSOR_BITWISE(param.data(), from_vector(p));
      CHECK_TENSOR_BITWISE(opt.state(0).buffers.at("exp_avg"), from_vector(m));
      CHECK_TENSOR_BITWISE(opt.state(0).buffers.at("exp_avg_sq"), from_vector(v));
    });
  }
}

TEST_CASE("AdamW keeps exp_avg and exp_avg_sq per parameter and counts steps") {
  Variable p(tensor({1.0, -2.0, 3.0}), true);
  AdamW opt({p});
  CHECK(opt.options().lr == 1e-3);
  CHECK(opt.options().weight_decay == 1e-2);
  p.set_grad(tensor({0.5, 0.5, 0.5}));
  opt.step();
  opt.step();
  CHECK(opt.state(0).step == 2);
  CHECK(opt.state(0).buffers.count("exp_avg") == 1);
  CHECK(opt.state(0).buffers.count("exp_avg_sq") == 1);
  // With a constant gradient g, m_t = (1 - b1^t) g and v_t = (1 - b2^t) g^2.
  CHECK(opt.state(0).buffers.at("exp_avg").at<float>({0}) == doctest::Approx(0.19 * 0.5).epsilon(1e-6));
  CHECK(opt.state(0).buffers.at("exp_avg_sq").at<float>({0}) == doctest::Approx((1 - 0.999 * 0.999) * 0.25).epsilon(1e-5));
  // Bias-corrected, the first step moves every coordinate by about lr against the gradient's sign:
  // m/(1-b1) / (sqrt(v/(1-b2)) + eps) = g/|g| = 1. Checked on a fresh parameter.
  Variable q(tensor({1.0}, DType::f64), true);
  AdamW single({q}, {.lr = 0.1, .weight_decay = 0});
  q.set_grad(tensor({-4.0}, DType::f64));
  single.step();
  CHECK(q.data().item<double>() == doctest::Approx(1.1).epsilon(1e-9));  // 1 + 0.1 * 4/(4 + 1e-8)
}

TEST_CASE("AdamW rejects invalid options with the value in the message") {
  Variable p(zeros({2}), true);
  CHECK_THROWS_WITH_AS(AdamW({p}, {.beta1 = 1.0}), doctest::Contains("AdamW: invalid beta 1"), Error);
  CHECK_THROWS_WITH_AS(AdamW({p}, {.beta2 = -0.1}), doctest::Contains("invalid beta -0.1"), Error);
  CHECK_THROWS_WITH_AS(AdamW({p}, {.lr = -1e-3}), doctest::Contains("AdamW: invalid learning rate -0.001"), Error);
  CHECK_THROWS_WITH_AS(AdamW({p}, {.eps = -1}), doctest::Contains("invalid eps -1"), Error);
  CHECK_THROWS_WITH_AS(AdamW({p}, {.weight_decay = std::nan("")}), doctest::Contains("invalid weight_decay nan"),
                       Error);
}
