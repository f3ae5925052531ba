// attention.cpp: causal multi-head self-attention on top of the fused scaled_dot_product_attention.
#include "nn/attention.h"

#include "autograd/functions.h"
#include "tensor/ops.h"

namespace strata {

Tensor causal_mask(int64_t T) {
  const Tensor i = arange(T).view({T, 1});  // query index
  const Tensor j = arange(T).view({1, T});  // key index
  return le(j, i);                          // (T, T) bool, true where j <= i
}

CausalMultiHeadSelfAttention::CausalMultiHeadSelfAttention(int64_t d_model, int64_t num_heads,
                                                           std::shared_ptr<RotaryPositionalEmbedding> rope,
                                                           Generator* gen, DType dtype)
    : d_model(d_model), num_heads(num_heads), d_k(num_heads > 0 ? d_model / num_heads : 0) {
  check(num_heads > 0 && d_model > 0 && d_model % num_heads == 0,
        "CausalMultiHeadSelfAttention: d_model ({}) must be a positive multiple of num_heads ({})", d_model,
        num_heads);
  q_proj = register_module("q_proj", std::make_shared<Linear>(d_model, d_model, gen, dtype));
  k_proj = register_module("k_proj", std::make_shared<Linear>(d_model, d_model, gen, dtype));
  v_proj = register_module("v_proj", std::make_shared<Linear>(d_model, d_model, gen, dtype));
  output_proj = register_module("output_proj", std::make_shared<Linear>(d_model, d_model, gen, dtype));
  if (rope) {
    check(rope->d_k == d_k, "CausalMultiHeadSelfAttention: RoPE has d_k = {} but the heads have d_k = {} ({} / {})",
          rope->d_k, d_k, d_model, num_heads);
    this->rope = register_module("rope", std::move(rope));
  }
}

Variable CausalMultiHeadSelfAttention::forward(const Variable& x, const std::optional<Tensor>& token_positions) const {
  check(x.dim() >= 2 && x.size(-1) == d_model, "CausalMultiHeadSelfAttention: input of shape {} must be (..., T, {})",
        x.shape(), d_model);
  const int64_t T = x.size(-2);
  // (.., T, C) -> (.., T, H, d_k) -> (.., H, T, d_k)
  auto split_heads = [&](const Variable& y) { return transpose(unflatten(y, -1, {num_heads, d_k}), -3, -2); };
  Variable q = split_heads((*q_proj)(x));
  Variable k = split_heads((*k_proj)(x));
  const Variable v = split_heads((*v_proj)(x));
  if (rope) {
    // Positions (.., T) gain a head axis, (.., 1, T), so they broadcast over the H heads.
    const Tensor positions = token_positions ? token_positions->unsqueeze(-2) : arange(T);
    q = (*rope)(q, positions);
    k = (*rope)(k, positions);
  }
  const Variable heads = scaled_dot_product_attention(q, k, v, causal_mask(T));  // (.., H, T, d_k)
  return (*output_proj)(flatten(transpose(heads, -3, -2), -2, -1));            // (.., T, H, d_k) -> (.., T, C)
}

}  // namespace strata
