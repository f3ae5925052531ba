// config.h: ModelConfig, the shape and ablation switches of a Transformer LM, read from and written
// to JSON with the keys of CS336's model_config.json:
//
//   {"vocab_size": 10000, "context_length": 256, "d_model": 512, "num_layers": 4, "num_heads": 16,
//    "d_ff": 1344, "rope_theta": 10000.0, "remove_rmsnorm": false, "use_post_norm": false,
//    "remove_rope": false, "ffn_type": "swiglu"}
//
// The six sizes are required; rope_theta (10000), the three switches (false) and ffn_type
// ("swiglu"; JSON null also means "swiglu") may be left out. An unknown key, a missing size or a
// value of the wrong type is an Error naming the key and the source.
//
//   remove_rmsnorm  no ln1, ln2, ln_final (and no weights for them)
//   use_post_norm   z = ln1(x + attn(x)), y = ln2(z + ffn(z)) instead of the pre-norm block
//   remove_rope     attention without any position information
//   ffn_type        "swiglu": W2(SiLU(W1 x) ⊙ W3 x);  "silu": W2 SiLU(W1 x)
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace strata {

struct ModelConfig {
  int64_t vocab_size = 0;
  int64_t context_length = 0;
  int64_t d_model = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t d_ff = 0;
  double rope_theta = 10000.0;
  bool remove_rmsnorm = false;
  bool use_post_norm = false;
  bool remove_rope = false;
  std::string ffn_type = "swiglu";

  int64_t d_k() const { return d_model / num_heads; }  // per-head width
  // Throws an Error when the sizes do not make a model (non-positive sizes, d_model not a
  // multiple of num_heads, odd d_k with RoPE, unknown ffn_type).
  void validate() const;

  // Parses and validates; `source` (a file name) prefixes error messages.
  static ModelConfig from_json(const nlohmann::json& j, const std::string& source = "model config");
  static ModelConfig parse(const std::string& json_text, const std::string& source = "model config");
  static ModelConfig load(const std::string& path);
  // Every key, as in model_config.json.
  nlohmann::json to_json() const;
  std::string to_json_string() const;  // indented
};

bool operator==(const ModelConfig& a, const ModelConfig& b);

}  // namespace strata
