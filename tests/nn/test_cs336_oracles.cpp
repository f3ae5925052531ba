// test_cs336_oracles.cpp: the nn layers against the CS336 assignment-1 reference outputs.
//
// Inputs and expected arrays are copied from shared/fixtures/cs336-converted (see
// tests/fixtures/nn/SOURCES.md):
//   cs336/snapshots/  the upstream snapshots that need no weights (RoPE, SDPA 3-D/4-D, RMSNorm with
//                     its gain recovered from the snapshot), softmax and SiLU (nn_utils/);
//   synthetic/        stand-in weights with the names and shapes of the upstream model.pt (which is
//                     not public) and expected outputs from an independent float64 reference, for
//                     every weight-dependent test (linear ... truncated-input LM).
// Tolerances are the upstream tests' (v1.0.6), |a - e| <= atol + rtol |e|, as recorded in the
// fixture manifests; every check also prints its max abs/rel error.
#include "autograd/functions.h"
#include "nn/attention.h"
#include "nn/embedding.h"
#include "nn/feedforward.h"
#include "nn/linear.h"
#include "nn/rmsnorm.h"
#include "nn/rope.h"
#include "nn/transformer.h"
#include "tensor/io.h"
#include "tensor/ops.h"
#include "tests/testing/tensor_testing.h"

#include <doctest/doctest.h>

#include <filesystem>

using namespace strata;
using namespace strata::testing;

namespace {

// tests/fixtures/nn/<name> as a tensor.
Tensor load_fixture(const std::string& name) { return load_npy(fixture_path("nn/" + name)); }

// The tensors of `state` whose names start with `prefix`, with the prefix removed.
StateDict strip_prefix(const StateDict& state, const std::string& prefix) {
  StateDict out;
  for (const auto& [name, t] : state)
    if (name.starts_with(prefix)) out.emplace(name.substr(prefix.size()), t);
  return out;
}

// The conftest tensors.
Tensor in_embeddings() { return load_fixture("cs336/inputs/in_embeddings.npy"); }  // (4, 12, 64)
Tensor in_indices() { return load_fixture("cs336/inputs/in_indices.npy"); }        // (4, 12) int64

// Every synthetic weight by its dotted name (file name without ".npy").
StateDict synthetic_weights() {
  StateDict out;
  for (const auto& entry : std::filesystem::directory_iterator(fixture_path("nn/synthetic/weights")))
    out.emplace(entry.path().stem().string(), load_npy(entry.path().string()));
  return out;
}
Tensor synthetic_expected(const std::string& test) { return load_fixture("synthetic/expected/" + test + ".npy"); }

// The conftest model: vocab 10000, context 16, d_model 64, 3 layers, 4 heads, d_ff 128, theta 1e4.
ModelConfig conftest_config() {
  return {.vocab_size = 10000,
          .context_length = 16,
          .d_model = 64,
          .num_layers = 3,
          .num_heads = 4,
          .d_ff = 128,
          .rope_theta = 10000.0};
}

Variable constant(const Tensor& t) { return Variable(t); }

}  // namespace

TEST_SUITE("nn") {

TEST_CASE("CS336 snapshot: RMSNorm (gain layers.1.ln1.weight)") {
  RMSNorm norm(64, 1e-5);
  norm.load_state_dict({{"weight", load_fixture("cs336/inputs/recovered_layers.1.ln1.weight.npy")}});
  const Tensor out = norm(constant(in_embeddings())).data();
  CHECK_TENSOR_CLOSE_REPORT("rmsnorm (snapshot)", out, load_fixture("cs336/snapshots/test_rmsnorm.npy"), 1e-6, 1e-4);

  RMSNorm synthetic(64, 1e-5);
  synthetic.load_state_dict(strip_prefix(synthetic_weights(), "layers.1.ln1."));
  CHECK_TENSOR_CLOSE_REPORT("rmsnorm (synthetic)", synthetic(constant(in_embeddings())).data(),
                            synthetic_expected("test_rmsnorm"), 1e-6, 1e-4);
}

TEST_CASE("CS336 snapshot: RoPE (d_k 64, theta 1e4, positions 0..11)") {
  RoPE rope(10000.0, 64, 12);
  const Tensor out = rope(constant(in_embeddings()), arange(12)).data();
  CHECK_TENSOR_CLOSE_REPORT("rope", out, load_fixture("cs336/snapshots/test_rope.npy"), 1e-6, 1e-4);
}

TEST_CASE("CS336 snapshot: scaled dot-product attention, 3-D and 4-D") {
  const Tensor q = load_fixture("cs336/inputs/q.npy");                  // (4, 12, 64)
  const Tensor k = load_fixture("cs336/inputs/k.npy");                  // (4, 16, 64)
  const Tensor v = load_fixture("cs336/inputs/v.npy");                  // (4, 16, 64)
  const Tensor mask = ne(load_fixture("cs336/inputs/mask.npy"), 0.0);   // (4, 12, 16) bool, true = attend
  const Tensor out3 = scaled_dot_product_attention(constant(q), constant(k), constant(v), mask).data();
  CHECK_TENSOR_CLOSE_REPORT("sdpa 3-D", out3, load_fixture("cs336/snapshots/test_scaled_dot_product_attention.npy"),
                            1e-6, 1e-4);

  // "(batch head) ... -> batch head ..." with head = 2.
  auto heads = [](const Tensor& t) { return t.unflatten(0, {2, 2}); };
  const Tensor out4 =
      scaled_dot_product_attention(constant(heads(q)), constant(heads(k)), constant(heads(v)), heads(mask)).data();
  CHECK_TENSOR_CLOSE_REPORT("sdpa 4-D", out4, load_fixture("cs336/snapshots/test_4d_scaled_dot_product_attention.npy"),
                            1e-6, 1e-4);
}

TEST_CASE("CS336: softmax (also of x + 100) and SiLU") {
  // Upstream: assert_allclose(..., atol=1e-6), so numpy's default rtol 1e-7.
  const Tensor x = load_fixture("cs336/nn_utils/softmax_input.npy");
  const Tensor expected = load_fixture("cs336/nn_utils/softmax_expected.npy");
  CHECK_TENSOR_CLOSE_REPORT("softmax", softmax(constant(x), -1).data(), expected, 1e-6, 1e-7);
  CHECK_TENSOR_CLOSE_REPORT("softmax(x + 100)", softmax(constant(x + 100.0), -1).data(), expected, 1e-6, 1e-7);
  CHECK_TENSOR_CLOSE_REPORT("silu", silu(constant(load_fixture("cs336/nn_utils/silu_input.npy"))).data(),
                            load_fixture("cs336/nn_utils/silu_expected.npy"), 1e-6, 1e-7);
}

TEST_CASE("CS336 synthetic: Linear (64 -> 128, weight layers.0.ffn.w1.weight)") {
  Linear linear(64, 128);
  linear.load_state_dict(strip_prefix(synthetic_weights(), "layers.0.ffn.w1."));
  CHECK_TENSOR_CLOSE_REPORT("linear", linear(constant(in_embeddings())).data(),
                            synthetic_expected("test_linear"), 1e-2, 1e-4);
}

TEST_CASE("CS336 synthetic: Embedding (10000 x 64)") {
  Embedding embedding(10000, 64);
  embedding.load_state_dict(strip_prefix(synthetic_weights(), "token_embeddings."));
  CHECK_TENSOR_CLOSE_REPORT("embedding", embedding(in_indices()).data(),
                            synthetic_expected("test_embedding"), 1e-2, 1e-4);
}

TEST_CASE("CS336 synthetic: SwiGLU (d_model 64, d_ff 128)") {
  SwiGLU ffn(64, 128);
  ffn.load_state_dict(strip_prefix(synthetic_weights(), "layers.0.ffn."));
  CHECK_TENSOR_CLOSE_REPORT("swiglu", ffn(constant(in_embeddings())).data(),
                            synthetic_expected("test_swiglu"), 1e-5, 1e-4);
}

TEST_CASE("CS336 synthetic: causal multi-head self-attention, without and with RoPE") {
  const StateDict weights = strip_prefix(synthetic_weights(), "layers.0.attn.");
  CausalMultiHeadSelfAttention mha(64, 4);
  mha.load_state_dict(weights);
  CHECK_TENSOR_CLOSE_REPORT("mha", mha(constant(in_embeddings())).data(),
                            synthetic_expected("test_multihead_self_attention"), 1e-6, 1e-4);

  // max_seq_len 16, theta 1e4, token_positions = arange(12)[None].
  CausalMultiHeadSelfAttention mha_rope(64, 4, std::make_shared<RoPE>(10000.0, 16, 16));
  mha_rope.load_state_dict(weights);
  const Tensor positions = arange(12).unsqueeze(0);
  CHECK_TENSOR_CLOSE_REPORT("mha + rope", mha_rope(constant(in_embeddings()), positions).data(),
                            synthetic_expected("test_multihead_self_attention_with_rope"), 1e-6, 1e-4);
}

TEST_CASE("CS336 synthetic: Transformer block (weights layers.0.*)") {
  TransformerBlock block(conftest_config(), std::make_shared<RoPE>(10000.0, 16, 16));
  block.load_state_dict(strip_prefix(synthetic_weights(), "layers.0."));
  CHECK_TENSOR_CLOSE_REPORT("block", block(constant(in_embeddings())).data(),
                            synthetic_expected("test_transformer_block"), 1e-6, 1e-4);
}

TEST_CASE("CS336 synthetic: Transformer LM, full and truncated input") {
  TransformerLM lm(conftest_config());
  lm.load_state_dict(synthetic_weights());
  const Tensor ids = in_indices();  // (4, 12)
  CHECK_TENSOR_CLOSE_REPORT("lm", lm(ids).data(), synthetic_expected("test_transformer_lm"), 1e-4, 1e-2);
  CHECK_TENSOR_CLOSE_REPORT("lm truncated (first 6 tokens)", lm(ids.slice(1, 0, 6).contiguous()).data(),
                            synthetic_expected("test_transformer_lm_truncated_input"), 1e-4, 1e-4);
}

}  // TEST_SUITE
