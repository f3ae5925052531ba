// test_layers.cpp: the layers' own properties: initialisation statistics and reproducibility,
// names per ablation, RoPE's geometry, causality, input checks and their messages, and f64
// gradient checks of whole modules (the per-op gradchecks live in tests/autograd).
#include "autograd/functions.h"
#include "nn/attention.h"
#include "nn/embedding.h"
#include "nn/feedforward.h"
#include "nn/linear.h"
#include "nn/rmsnorm.h"
#include "nn/rope.h"
#include "nn/transformer.h"
#include "tensor/ops.h"
#include "tensor/random.h"
#include "tests/testing/tensor_testing.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace strata;
using namespace strata::testing;

namespace {

// The standard deviation of N(0, 1) truncated to [-3, 3]: sqrt(1 - 6 phi(3) / (2 Phi(3) - 1)).
const double kTruncatedStd = std::sqrt(1.0 - 6.0 * std::exp(-4.5) / std::sqrt(2 * M_PI) / std::erf(3 / std::sqrt(2.0)));

ModelConfig tiny_config() {
  return {.vocab_size = 17, .context_length = 8, .d_model = 8, .num_layers = 1, .num_heads = 2, .d_ff = 12};
}

// gradcheck of fn with respect to x and every parameter of `module` (built in float64). gradcheck
// perturbs its inputs in place, so the module sees the perturbed parameters.
void check_module_gradients(const std::string& label, const Module& module, const Variable& x,
                            const std::function<Variable(const Variable&)>& fn) {
  std::vector<Variable> inputs = {x};
  for (const auto& p : module.parameters()) inputs.push_back(p);
  const GradcheckResult r = gradcheck([&](const std::vector<Variable>& in) { return fn(in[0]); }, inputs);
  MESSAGE(fmt::format("gradcheck {}: max abs error {:.3g}", label, r.max_abs_error));
  CHECK_MESSAGE(r.ok, fmt::format("{}: {}", label, r.message));
}

std::vector<std::string> parameter_names(const Module& m) {
  std::vector<std::string> out;
  for (const auto& [n, p] : m.named_parameters()) out.push_back(n);
  return out;
}

}  // namespace

TEST_SUITE("nn") {

TEST_CASE("Linear and Embedding initialise as the handout says, reproducibly from the generator") {
  // 131072 samples: the sample std has a standard error of ~0.2%; we allow 2%.
  Generator gen(42);
  Linear linear(512, 256, &gen);
  const double sigma = std::sqrt(2.0 / (512 + 256));
  const Moments w = moments(linear.weight.data());
  CHECK(linear.weight.shape() == Shape{256, 512});
  CHECK(std::abs(w.mean) < 0.01 * sigma);
  CHECK(std::sqrt(w.var) == doctest::Approx(sigma * kTruncatedStd).epsilon(0.02));
  CHECK(max_magnitude(linear.weight.data()) <= 3 * sigma);

  Embedding embedding(1000, 131, &gen);
  const Moments e = moments(embedding.weight.data());
  CHECK(std::abs(e.mean) < 0.01);
  CHECK(std::sqrt(e.var) == doctest::Approx(kTruncatedStd).epsilon(0.02));
  CHECK(max_magnitude(embedding.weight.data()) <= 3.0);

  RMSNorm norm(5);
  CHECK(norm.weight.data().to_vector<float>() == std::vector<float>(5, 1.0f));

  Generator a(7), b(7), c(8);
  CHECK(Linear(4, 3, &a).weight.data().to_vector<float>() == Linear(4, 3, &b).weight.data().to_vector<float>());
  CHECK(Linear(4, 3, &a).weight.data().to_vector<float>() != Linear(4, 3, &c).weight.data().to_vector<float>());
}

TEST_CASE("parameter names follow CS336 for every ablation") {
  ModelConfig c = tiny_config();
  const std::vector<std::string> base = {
      "token_embeddings.weight",      "layers.0.ln1.weight",        "layers.0.attn.q_proj.weight",
      "layers.0.attn.k_proj.weight",  "layers.0.attn.v_proj.weight", "layers.0.attn.output_proj.weight",
      "layers.0.ln2.weight",          "layers.0.ffn.w1.weight",      "layers.0.ffn.w2.weight",
      "layers.0.ffn.w3.weight",       "ln_final.weight",             "lm_head.weight"};
  CHECK(parameter_names(TransformerLM(c)) == base);
  c.use_post_norm = true;
  CHECK(parameter_names(TransformerLM(c)) == base);
  c.remove_rope = true;
  CHECK(parameter_names(TransformerLM(c)) == base);
  c.remove_rmsnorm = true;
  std::vector<std::string> no_norms = {"token_embeddings.weight",          "layers.0.attn.q_proj.weight",
                                       "layers.0.attn.k_proj.weight",      "layers.0.attn.v_proj.weight",
                                       "layers.0.attn.output_proj.weight", "layers.0.ffn.w1.weight",
                                       "layers.0.ffn.w2.weight",           "layers.0.ffn.w3.weight",
                                       "lm_head.weight"};
  CHECK(parameter_names(TransformerLM(c)) == no_norms);
  c.ffn_type = "silu";
  no_norms.erase(no_norms.begin() + 7);  // no w3
  CHECK(parameter_names(TransformerLM(c)) == no_norms);
  TransformerLM lm(tiny_config());
  CHECK(lm.token_embeddings->weight.shape() == Shape{17, 8});
  CHECK(lm.lm_head->weight.shape() == Shape{17, 8});
  CHECK((*lm.layers)[0].ffn->named_parameters()[1].second.shape() == Shape{8, 12});  // w2 (d_model, d_ff)
}

TEST_CASE("RoPE rotates pairs: position 0 is the identity, norms are kept, scores depend on p - s only") {
  const int64_t d = 8;
  RoPE rope(10000.0, d, 32, DType::f64);
  Generator gen(3);
  const Tensor q = randn({1, d}, DType::f64, &gen), k = randn({1, d}, DType::f64, &gen);
  auto at = [&](const Tensor& x, int64_t p) { return rope(Variable(x), full({1}, double(p), DType::i64)).data(); };
  CHECK(at(q, 0).to_vector<double>() == q.to_vector<double>());
  // Each pair's length is unchanged by a rotation.
  const Tensor r = at(q, 13).view({d / 2, 2}), x = q.view({d / 2, 2});
  for (int64_t i = 0; i < d / 2; ++i)
    CHECK(std::hypot(r.at<double>({i, 0}), r.at<double>({i, 1})) ==
          doctest::Approx(std::hypot(x.at<double>({i, 0}), x.at<double>({i, 1}))).epsilon(1e-12));
  // <R(p) q, R(s) k> = <q, R(s - p) k>.
  auto dot = [](const Tensor& a, const Tensor& b) { return sum(a * b).item<double>(); };
  CHECK(dot(at(q, 20), at(k, 5)) == doctest::Approx(dot(at(q, 15), at(k, 0))).epsilon(1e-12));
  // Pair k turns by pos * theta^(-2k/d): pair 1 of e_2 at position 3 is (cos a, sin a), a = 3 * 1e4^(-1/4).
  Tensor e2 = zeros({1, d}, DType::f64);
  e2.data<double>()[2] = 1.0;
  const Tensor r2 = at(e2, 3);
  const double angle = 3 * std::pow(10000.0, -2.0 / d);
  CHECK(r2.at<double>({0, 2}) == doctest::Approx(std::cos(angle)).epsilon(1e-12));
  CHECK(r2.at<double>({0, 3}) == doctest::Approx(std::sin(angle)).epsilon(1e-12));

  CHECK(rope.named_buffers().size() == 2);
  CHECK(rope.state_dict().empty());  // the tables are not persistent
  CHECK(error_of([&] { at(q, 32); }).starts_with("RoPE: token position 32 is outside [0, max_seq_len = 32)"));
  CHECK(error_of([] { RoPE(1e4, 7, 4); }) == "RoPE: d_k (7) must be positive and even (it is cut into pairs)");
}

TEST_CASE("attention is causal: a token never sees later tokens") {
  Generator gen(5);
  CausalMultiHeadSelfAttention mha(8, 2, std::make_shared<RoPE>(1e4, 4, 16), &gen);
  const Tensor x = randn({2, 6, 8}, DType::f32, &gen);
  Tensor changed = x.clone();
  changed.select(1, 4).fill_(10.0);  // token 4 of every sequence
  const Tensor a = mha(Variable(x)).data(), b = mha(Variable(changed)).data();
  CHECK(a.slice(1, 0, 4).to_vector<float>() == b.slice(1, 0, 4).to_vector<float>());
  CHECK(a.slice(1, 4, 6).to_vector<float>() != b.slice(1, 4, 6).to_vector<float>());
  const Tensor mask = causal_mask(3);
  CHECK(mask.dtype() == DType::b8);
  CHECK(mask.to_vector<int>() == std::vector<int>{1, 0, 0, 1, 1, 0, 1, 1, 1});
}

TEST_CASE("TransformerLM checks its input and takes (T) as well as (B, T)") {
  TransformerLM lm(tiny_config());
  const Tensor ids = from_vector<int64_t>({1, 5, 16, 0, 3}, {1, 5});
  const Tensor batched = lm(ids).data();
  CHECK(batched.shape() == Shape{1, 5, 17});
  CHECK(lm(ids.view({5})).data().to_vector<float>() == batched.to_vector<float>());
  CHECK(error_of([&] { lm(zeros({1, 9}, DType::i64)); }) ==
        "TransformerLM: sequence length T = 9 exceeds context_length = 8 (token ids [1, 9]); hint: feed at most "
        "context_length tokens (e.g. the last ones)");
  CHECK(error_of([&] { lm(from_vector<int64_t>({1, 17}, {1, 2})); }) ==
        "Embedding: token id 17 (flat index 1 of ids [1, 2]) is outside [0, 17); hint: the tokenizer's vocabulary "
        "must not exceed the model's vocab_size");
  CHECK(error_of([&] { lm(zeros({1, 2})); }).starts_with("Embedding: token ids must be int64, got float32"));
  CHECK(error_of([&] { Linear(4, 3)(Variable(zeros({2, 5}))); }) ==
        "Linear: input of shape [2, 5] does not end in in_features = 4 (weight [3, 4])");
}

TEST_CASE("f64 gradient checks: RoPE, attention with RoPE, every kind of block, the LM loss") {
  // gradcheck's defaults: central differences with eps 1e-6, |analytic - numeric| <= 1e-5 + 1e-3 |numeric|;
  // in float64 both sides are accurate to ~1e-9 here, so a wrong backward fails by far.
  Generator gen(11);
  const Variable x(randn({2, 5, 8}, DType::f64, &gen), /*requires_grad=*/true);
  RoPE rope(100.0, 8, 16, DType::f64);
  const Tensor positions = from_vector<int64_t>({3, 0, 15, 1, 2});
  check_module_gradients("rope", rope, x, [&](const Variable& v) { return rope(v, positions); });

  auto shared_rope = std::make_shared<RoPE>(100.0, 4, 16, DType::f64);
  CausalMultiHeadSelfAttention mha(8, 2, shared_rope, &gen, DType::f64);
  check_module_gradients("attention + rope", mha, x, [&](const Variable& v) { return mha(v, positions); });

  for (const char* mode : {"pre-norm", "post-norm", "no norm", "silu ffn"}) {
    ModelConfig c = tiny_config();
    c.use_post_norm = std::string(mode) == "post-norm";
    c.remove_rmsnorm = std::string(mode) == "no norm";
    c.ffn_type = std::string(mode) == "silu ffn" ? "silu" : "swiglu";
    TransformerBlock block(c, shared_rope, &gen, DType::f64);
    for (auto p : block.parameters())  // gains away from 1, so the check sees them
      if (p.dim() == 1) p.data().copy_(uniform(p.shape(), 0.5, 1.5, DType::f64, &gen));
    check_module_gradients(std::string("block, ") + mode, block, x, [&](const Variable& v) { return block(v); });
  }

  TransformerLM lm(tiny_config(), &gen, DType::f64);
  const Tensor ids = randint(0, 17, {2, 6}, DType::i64, &gen), targets = randint(0, 17, {2, 6}, DType::i64, &gen);
  std::vector<Variable> params = lm.parameters();
  const GradcheckResult r = gradcheck(
      [&](const std::vector<Variable>&) { return cross_entropy(lm(ids), targets); }, params);
  MESSAGE(fmt::format("gradcheck lm loss: max abs error {:.3g}", r.max_abs_error));
  CHECK_MESSAGE(r.ok, r.message);
}

}  // TEST_SUITE
