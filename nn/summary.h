// summary.h: the cost of a Transformer LM: parameters and forward FLOPs per component and in total,
// computed from the config (the accounting of the CS336 handout).
//
// FLOPs count the matrix multiplications only (everything else is lower order): an (m, n) @ (n, p)
// product costs 2 m n p (one multiply and one add per term). For B sequences of T tokens,
// C = d_model, F = d_ff, V = vocab_size, per layer:
//
//   attn.q_proj, k_proj, v_proj   3 * 2 B T C C          params 3 C^2
//   attn scores Q K^T             2 B T T C   (H heads of 2 B T T d_k; the causal mask does not skip work)
//   attn weights @ V              2 B T T C
//   attn.output_proj              2 B T C C              params C^2
//   ffn (SwiGLU w1, w3, w2)       3 * 2 B T C F          params 3 C F   ("silu": 2 of each)
//   ln1, ln2                      0                      params C each (none with remove_rmsnorm)
// and once: token_embeddings (a lookup, 0 FLOPs, params V C), ln_final (params C), lm_head
// (2 B T C V, params V C). Embeddings are untied: GPT-2 XL's shape (V 50257, T 1024, 48 layers,
// C 1600, F 6400) has 2,127,057,600 parameters.
#pragma once

#include "nn/config.h"

#include <cstdint>
#include <string>
#include <vector>

namespace strata {

struct ComponentCost {
  std::string name;    // e.g. "layers.*.attn.q_proj,k_proj,v_proj"
  int64_t count;       // how many times it occurs (num_layers for per-layer components)
  int64_t parameters;  // total over all occurrences
  int64_t flops;       // total forward matmul FLOPs over all occurrences
};

struct ModelSummary {
  ModelConfig config;
  int64_t batch_size, seq_len;
  std::vector<ComponentCost> components;
  int64_t total_parameters = 0;
  int64_t total_flops = 0;
  // A table: component, count, parameters, FLOPs and share of the FLOPs.
  std::string to_string() const;
};

// seq_len = 0 means config.context_length.
ModelSummary summarize(const ModelConfig& config, int64_t batch_size = 1, int64_t seq_len = 0);

}  // namespace strata
