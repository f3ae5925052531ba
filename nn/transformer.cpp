// transformer.cpp: TransformerBlock and TransformerLM.
#include "nn/transformer.h"

#include "autograd/functions.h"

namespace strata {

TransformerBlock::TransformerBlock(const ModelConfig& config, std::shared_ptr<RotaryPositionalEmbedding> rope,
                                   Generator* gen, DType dtype)
    : use_post_norm(config.use_post_norm) {
  if (!config.remove_rmsnorm) ln1 = register_module("ln1", std::make_shared<RMSNorm>(config.d_model, 1e-5, dtype));
  attn = register_module("attn", std::make_shared<CausalMultiHeadSelfAttention>(config.d_model, config.num_heads,
                                                                                std::move(rope), gen, dtype));
  if (!config.remove_rmsnorm) ln2 = register_module("ln2", std::make_shared<RMSNorm>(config.d_model, 1e-5, dtype));
  ffn = register_module("ffn", make_feedforward(config.ffn_type, config.d_model, config.d_ff, gen, dtype));
}

Variable TransformerBlock::forward(const Variable& x, const std::optional<Tensor>& token_positions) const {
  auto attention = [&](const Variable& y) { return (*attn)(y, token_positions); };
  if (!ln1) {  // remove_rmsnorm
    const Variable h = x + attention(x);
    return h + (*ffn)(h);
  }
  if (use_post_norm) {
    const Variable z = (*ln1)(x + attention(x));
    return (*ln2)(z + (*ffn)(z));
  }
  const Variable h = x + attention((*ln1)(x));
  return h + (*ffn)((*ln2)(h));
}

TransformerLM::TransformerLM(const ModelConfig& config, Generator* gen, DType dtype) : config_(config) {
  config.validate();
  token_embeddings =
      register_module("token_embeddings", std::make_shared<Embedding>(config.vocab_size, config.d_model, gen, dtype));
  if (!config.remove_rope)
    rope = std::make_shared<RotaryPositionalEmbedding>(config.rope_theta, config.d_k(), config.context_length, dtype);
  layers = register_module("layers", std::make_shared<ModuleList<TransformerBlock>>());
  for (int64_t i = 0; i < config.num_layers; ++i)
    layers->push_back(std::make_shared<TransformerBlock>(config, rope, gen, dtype));
  if (!config.remove_rmsnorm) ln_final = register_module("ln_final", std::make_shared<RMSNorm>(config.d_model, 1e-5, dtype));
  lm_head = register_module("lm_head", std::make_shared<Linear>(config.d_model, config.vocab_size, gen, dtype));
  name_parameters();
}

Variable TransformerLM::forward(const Tensor& token_ids, const std::optional<Tensor>& token_positions) const {
  check(token_ids.dim() == 1 || token_ids.dim() == 2, "TransformerLM: token ids must be (B, T) or (T), got shape {}",
        token_ids.shape());
  check(token_ids.size(-1) <= config_.context_length,
        "TransformerLM: sequence length T = {} exceeds context_length = {} (token ids {}); hint: feed at most "
        "context_length tokens (e.g. the last ones)",
        token_ids.size(-1), config_.context_length, token_ids.shape());
  Variable x = (*token_embeddings)(token_ids);  // (B, T, C); checks every id < vocab_size
  for (const auto& block : *layers) x = (*block)(x, token_positions);
  if (ln_final) x = (*ln_final)(x);
  return (*lm_head)(x);  // (B, T, V)
}

}  // namespace strata
