// test_golden.cpp: values and gradients against PyTorch (tests/golden/make_autograd_golden.py, torch
// 1.13 in float64) for the fused ops and a few composed expressions.
//
// The stored inputs are float32 numbers and torch's results are float64 computations from exactly
// those numbers, so each case is checked twice:
//   - strata in float64: the same math, only the order of float64 operations differs, so results
//     agree to ~1e-15 relative; we allow atol 1e-12 + rtol 1e-10 (the cross-entropy of x1000 logits
//     has values ~1e3).
//   - strata in float32: strata's own float32 rounding. Every output here passes through fewer than
//     ~100 float32 operations (dot products of length <= 16, softmax over <= 11 entries), so the
//     relative error is below ~100 * 6e-8 = 6e-6; we allow rtol 1e-4, plus an absolute floor of
//     2e-5 * max(1, max|expected|) for elements that are near zero by cancellation, where relative
//     error means nothing.
#include "autograd/functions.h"
#include "tensor/io.h"
#include "tests/testing/tensor_testing.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>

using namespace strata;
using namespace strata::testing;

namespace {

using Inputs = std::map<std::string, Variable>;
using Consts = std::map<std::string, Tensor>;
using Expression = std::function<Variable(Inputs&, const Consts&, const nlohmann::json& params)>;

// strata's version of each case of the generator.
const std::map<std::string, Expression>& expressions() {
  static const std::map<std::string, Expression> e = {
      {"cross_entropy", [](Inputs& x, const Consts& c, auto&) { return cross_entropy(x["logits"], c.at("targets")); }},
      {"cross_entropy_x1000",
       [](Inputs& x, const Consts& c, auto&) { return cross_entropy(x["logits"], c.at("targets")); }},
      {"rms_norm", [](Inputs& x, const Consts&,
                      auto& p) { return rms_norm(x["x"], x["weight"], p.at("eps").template get<double>()); }},
      {"silu", [](Inputs& x, const Consts&, auto&) { return silu(x["x"]); }},
      {"swiglu", [](Inputs& x, const Consts&, auto&) { return swiglu(x["a"], x["b"]); }},
      {"sdpa_masked", [](Inputs& x, const Consts& c,
                         auto&) { return scaled_dot_product_attention(x["q"], x["k"], x["v"], c.at("mask")); }},
      {"sdpa_causal_3d", [](Inputs& x, const Consts& c,
                            auto&) { return scaled_dot_product_attention(x["q"], x["k"], x["v"], c.at("mask")); }},
      {"sdpa_nomask",
       [](Inputs& x, const Consts&, auto&) { return scaled_dot_product_attention(x["q"], x["k"], x["v"]); }},
      {"mlp",
       [](Inputs& x, const Consts& c, auto&) {
         Variable h = tanh(matmul(x["x"], mT(x["w1"])) + x["b1"]);       // (4, 8)
         Variable logp = log_softmax(matmul(h, mT(x["w2"])), -1);        // (4, 5)
         return -mean(gather(logp, -1, c.at("targets").unsqueeze(-1)));  // ()
       }},
      {"einsum_attention",
       [](Inputs& x, const Consts&, auto&) {
         Variable p = softmax(einsum("bqd,bkd->bqk", {x["q"], x["k"]}), -1);  // (b, q, k)
         Variable o = einsum("bqk,bkd->bqd", {p, x["v"]});                    // (b, q, d)
         return rearrange(o, "b q d -> q (b d)");
       }},
      {"norm_stats",
       [](Inputs& x, const Consts&, auto&) {
         const Variable& v = x["x"];
         Variable y = (v - mean(v, {-1}, true)) / sqrt(var(v, {-1}, 0, true) + 1e-5);
         return gelu(y) * sigmoid(v) + clamp(v, -0.5, 0.5) + amax(v, {-1}, true) + logsumexp(v, {-1}, true);
       }},
  };
  return e;
}

struct Tolerance {
  DType dtype;
  double rtol, atol_scale;  // atol = atol_scale * max(1, max|expected|)
};
constexpr Tolerance kTolerances[] = {{DType::f64, 1e-10, 1e-12}, {DType::f32, 1e-4, 2e-5}};

}  // namespace

TEST_CASE("fused ops and composed expressions match PyTorch's values and gradients") {
  const SafetensorsFile file = load_safetensors(fixture_path("autograd/autograd_golden.safetensors"));
  std::set<std::string> cases;
  std::stringstream list(file.metadata.at("cases"));
  for (std::string name; std::getline(list, name, ',');) cases.insert(name);
  for (const auto& [name, expr] : expressions()) CHECK_MESSAGE(cases.count(name), "no golden for ", name);

  for (const std::string& name : cases) {
    CAPTURE(name);
    REQUIRE_MESSAGE(expressions().count(name), "no strata expression for golden case ", name);
    const nlohmann::json params = nlohmann::json::parse(file.metadata.at(name));
    const std::string in_prefix = name + ".in.", const_prefix = name + ".const.";
    for (const Tolerance& tol : kTolerances) {
      INFO("computed in ", dtype_name(tol.dtype));
      Inputs inputs;
      Consts consts;
      std::vector<std::string> order;
      for (const auto& [key, t] : file.tensors) {
        if (key.starts_with(in_prefix)) {
          order.push_back(key.substr(in_prefix.size()));
          inputs[order.back()] = Variable(t.to(tol.dtype), true);
        } else if (key.starts_with(const_prefix)) {
          consts[key.substr(const_prefix.size())] = t;
        }
      }
      Variable out = expressions().at(name)(inputs, consts, params);
      std::vector<Variable> leaves;
      for (const std::string& k : order) leaves.push_back(inputs[k]);
      const std::string grad_out_key = name + ".grad_out";
      Tensor seed = file.tensors.count(grad_out_key) ? file.tensors.at(grad_out_key).to(tol.dtype) : Tensor();
      std::vector<Tensor> grads = grad(out, leaves, seed);

      auto check = [&](const std::string& what, const Tensor& actual, const Tensor& expected) {
        CHECK_TENSOR_CLOSE_REPORT(fmt::format("{} {} ({})", name, what, dtype_name(tol.dtype)), actual, expected,
                                  tol.atol_scale * std::max(1.0, max_magnitude(expected)), tol.rtol);
      };
      check("value", out.data(), file.tensors.at(name + ".out"));
      for (size_t i = 0; i < order.size(); ++i)
        check("grad " + order[i], grads[i], file.tensors.at(name + ".grad." + order[i]));
    }
  }
}
