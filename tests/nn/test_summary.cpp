// test_summary.cpp: parameter and FLOP accounting against the CS336 handout's numbers, the real
// parameter count of built models, and a hand count of the forward's matmuls.
#include "nn/summary.h"

#include "nn/transformer.h"

#include <doctest/doctest.h>

using namespace strata;

namespace {
ModelConfig make_config(int64_t V, int64_t ctx, int64_t d, int64_t L, int64_t H, int64_t F) {
  return {.vocab_size = V, .context_length = ctx, .d_model = d, .num_layers = L, .num_heads = H, .d_ff = F};
}
// An (m, n) @ (n, p) product, `times` times: 2 m n p FLOPs each.
struct Matmul {
  int64_t m, n, p, times;
};
int64_t flops_of(const std::vector<Matmul>& matmuls) {
  int64_t total = 0;
  for (const auto& mm : matmuls) total += 2 * mm.m * mm.n * mm.p * mm.times;
  return total;
}
}  // namespace

TEST_SUITE("nn") {

TEST_CASE("GPT-2 XL: 2,127,057,600 parameters and 4.51 TFLOPs per 1024-token forward") {
  const ModelConfig xl = make_config(50257, 1024, 1600, 48, 25, 6400);
  const ModelSummary s = summarize(xl);
  CHECK(s.total_parameters == 2'127'057'600);
  // Per layer, T = 1024 tokens: q, k, v, output projections (T, 1600) @ (1600, 1600); per head
  // (25 heads, d_k 64) scores (T, 64) @ (64, T) and weights @ V (T, T) @ (T, 64); SwiGLU w1, w3
  // (T, 1600) @ (1600, 6400) and w2 (T, 6400) @ (6400, 1600). Then lm_head (T, 1600) @ (1600, 50257).
  const int64_t hand = flops_of({{1024, 1600, 1600, 4 * 48},
                                 {1024, 64, 1024, 25 * 48},
                                 {1024, 1024, 64, 25 * 48},
                                 {1024, 1600, 6400, 2 * 48},
                                 {1024, 6400, 1600, 48},
                                 {1024, 1600, 50257, 1}});
  CHECK(hand == 4'513'336'524'800);
  CHECK(s.total_flops == hand);
  const std::string table = s.to_string();
  CHECK(table.find("2,127,057,600") != std::string::npos);
  CHECK(table.find("4,513,336,524,800") != std::string::npos);
  MESSAGE(table);
}

TEST_CASE("the FLOP formula equals a hand count of every matmul of a small forward") {
  // B = 3 sequences of T = 5 tokens, d 8, 2 heads (d_k 4), d_ff 12, vocab 11, 2 layers.
  const ModelConfig c = make_config(11, 8, 8, 2, 2, 12);
  const int64_t BT = 15;
  const std::vector<Matmul> forward = {
      {BT, 8, 8, 3 * 2},    // q_proj, k_proj, v_proj, in 2 layers
      {5, 4, 5, 3 * 2 * 2}, // Q K^T per (batch, head, layer)
      {5, 5, 4, 3 * 2 * 2}, // softmax(..) V per (batch, head, layer)
      {BT, 8, 8, 2},        // output_proj
      {BT, 8, 12, 2 * 2},   // w1, w3
      {BT, 12, 8, 2},       // w2
      {BT, 8, 11, 1},       // lm_head
  };
  CHECK(flops_of(forward) == 40'080);
  CHECK(summarize(c, 3, 5).total_flops == 40'080);

  ModelConfig silu = c;
  silu.ffn_type = "silu";  // no w3: one (BT, 8) @ (8, 12) less per layer
  CHECK(summarize(silu, 3, 5).total_flops == 40'080 - 2 * 2 * BT * 8 * 12);
}

TEST_CASE("the parameter formula equals the parameters of a built model, for every ablation") {
  ModelConfig base = make_config(13, 8, 8, 2, 2, 12);
  std::vector<ModelConfig> configs(5, base);
  configs[1].remove_rmsnorm = true;
  configs[2].use_post_norm = true;
  configs[3].remove_rope = true;
  configs[4].ffn_type = "silu";
  for (const auto& c : configs) {
    CAPTURE(c.to_json_string());
    const ModelSummary s = summarize(c);
    CHECK(s.total_parameters == TransformerLM(c).num_parameters());
  }
}

}  // TEST_SUITE
