// transformer.h: the CS336 Transformer language model and its block.
//
// Letters: B batch, T sequence length (<= context_length), C = d_model, V = vocab_size.
//
//   TransformerLM(ids (B, T)):
//     x = token_embeddings(ids)                      (B, T, C)
//     x = layers.i(x) for i = 0 .. num_layers-1      (B, T, C)
//     logits = lm_head(ln_final(x))                  (B, T, V)
//
//   TransformerBlock(x), by the config's switches:
//     pre-norm (default):   h = x + attn(ln1(x));   y = h + ffn(ln2(h))
//     use_post_norm:        z = ln1(x + attn(x));   y = ln2(z + ffn(z))
//     remove_rmsnorm:       h = x + attn(x);        y = h + ffn(h)      (no ln1, ln2, ln_final)
//
// Parameter names are exactly those of the CS336 reference (token_embeddings.weight,
// layers.{i}.ln1.weight, layers.{i}.attn.{q,k,v,output}_proj.weight, layers.{i}.ln2.weight,
// layers.{i}.ffn.w{1,2,3}.weight, ln_final.weight, lm_head.weight), so its checkpoints load as they are.
// One RoPE module (max_seq_len = context_length) is shared by every layer's attention.
#pragma once

#include "autograd/variable.h"
#include "nn/attention.h"
#include "nn/config.h"
#include "nn/embedding.h"
#include "nn/feedforward.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/rmsnorm.h"
#include "nn/rope.h"

#include <memory>
#include <optional>

namespace strata {

class TransformerBlock : public Module {
 public:
  // Uses config's d_model, num_heads, d_ff, ffn_type, remove_rmsnorm and use_post_norm; `rope`
  // (null: no position information) is applied inside the attention.
  TransformerBlock(const ModelConfig& config, std::shared_ptr<RotaryPositionalEmbedding> rope,
                   Generator* gen = nullptr, DType dtype = DType::f32);
  std::string type_name() const override { return "TransformerBlock"; }

  // x (.., T, C) -> (.., T, C); token_positions as in CausalMultiHeadSelfAttention.
  Variable forward(const Variable& x, const std::optional<Tensor>& token_positions = std::nullopt) const;
  Variable operator()(const Variable& x, const std::optional<Tensor>& token_positions = std::nullopt) const {
    return forward(x, token_positions);
  }

  bool use_post_norm;
  std::shared_ptr<RMSNorm> ln1;  // null with remove_rmsnorm
  std::shared_ptr<CausalMultiHeadSelfAttention> attn;
  std::shared_ptr<RMSNorm> ln2;  // null with remove_rmsnorm
  std::shared_ptr<FeedForward> ffn;
};

class TransformerLM : public Module {
 public:
  // Validates `config` and initialises every weight as in the handout from `gen`.
  explicit TransformerLM(const ModelConfig& config, Generator* gen = nullptr, DType dtype = DType::f32);
  std::string type_name() const override { return "TransformerLM"; }

  // token_ids int64 (B, T) or (T), ids in [0, vocab_size), T <= context_length -> logits (.., T, V).
  // token_positions int64 (.., T) (default 0 .. T-1) feed RoPE.
  Variable forward(const Tensor& token_ids, const std::optional<Tensor>& token_positions = std::nullopt) const;
  Variable operator()(const Tensor& token_ids, const std::optional<Tensor>& token_positions = std::nullopt) const {
    return forward(token_ids, token_positions);
  }

  const ModelConfig& config() const { return config_; }

  std::shared_ptr<Embedding> token_embeddings;                // (V, C)
  std::shared_ptr<ModuleList<TransformerBlock>> layers;       // num_layers blocks
  std::shared_ptr<RMSNorm> ln_final;                          // null with remove_rmsnorm
  std::shared_ptr<Linear> lm_head;                            // (V, C)
  std::shared_ptr<RotaryPositionalEmbedding> rope;            // null with remove_rope

 private:
  ModelConfig config_;
};

}  // namespace strata
