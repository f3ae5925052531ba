// attention.h: causal multi-head self-attention (Vaswani et al. 2017) with the CS336 layout.
//
// Letters: B.. leading (batch) dims, T sequence length, C = d_model, H heads, d_k = C / H.
//
//   Q = x Wq^T, K = x Wk^T, V = x Wv^T                       (.., T, C) each
//   split heads: head h owns rows h*d_k .. (h+1)*d_k of Wq, Wk, Wv   -> (.., H, T, d_k)
//   optional RoPE on Q and K at the token positions (the same rotation for every head)
//   A_h = softmax(Q_h K_h^T / sqrt(d_k) + causal mask) V_h          (.., H, T, d_k)
//   y = concat_h(A_h) Wo^T                                     (.., T, C)
//
// The causal mask lets token i attend to tokens j <= i only.
#pragma once

#include "autograd/variable.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/rope.h"

#include <memory>
#include <optional>

namespace strata {

// The (T, T) bool mask with true where key j may be attended from query i, i.e. j <= i.
Tensor causal_mask(int64_t T);

class CausalMultiHeadSelfAttention : public Module {
 public:
  // With `rope`, queries and keys are rotated by it (it may be shared by several layers; it is
  // registered as the child "rope", which has no state-dict entries).
  CausalMultiHeadSelfAttention(int64_t d_model, int64_t num_heads, std::shared_ptr<RotaryPositionalEmbedding> rope = nullptr,
                               Generator* gen = nullptr, DType dtype = DType::f32);
  std::string type_name() const override { return "CausalMultiHeadSelfAttention"; }

  // x (.., T, C) -> (.., T, C). token_positions int64 (.., T) feed RoPE (default 0 .. T-1); they
  // are ignored without RoPE.
  Variable forward(const Variable& x, const std::optional<Tensor>& token_positions = std::nullopt) const;
  Variable operator()(const Variable& x, const std::optional<Tensor>& token_positions = std::nullopt) const {
    return forward(x, token_positions);
  }

  int64_t d_model, num_heads, d_k;
  std::shared_ptr<Linear> q_proj, k_proj, v_proj, output_proj;  // (C, C) each
  std::shared_ptr<RotaryPositionalEmbedding> rope;              // null: no position information
};

}  // namespace strata
