// summary.cpp: parameter and FLOP accounting of a Transformer LM.
#include "nn/summary.h"

#include "tensor/error.h"

#include <fmt/format.h>

namespace strata {

namespace {
// 1234567 -> "1,234,567".
std::string grouped(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}
}  // namespace

ModelSummary summarize(const ModelConfig& config, int64_t batch_size, int64_t seq_len) {
  config.validate();
  if (seq_len == 0) seq_len = config.context_length;
  check(batch_size > 0 && seq_len > 0, "summarize: batch_size ({}) and seq_len ({}) must be positive", batch_size,
        seq_len);
  const int64_t BT = batch_size * seq_len, T = seq_len;
  const int64_t C = config.d_model, F = config.d_ff, V = config.vocab_size, L = config.num_layers;
  const int64_t ffn_matrices = config.ffn_type == "swiglu" ? 3 : 2;
  const bool norms = !config.remove_rmsnorm;

  ModelSummary s{config, batch_size, seq_len, {}, 0, 0};
  auto add = [&](std::string name, int64_t count, int64_t params_each, int64_t flops_each) {
    s.components.push_back({std::move(name), count, count * params_each, count * flops_each});
  };
  add("token_embeddings", 1, V * C, 0);
  if (norms) add("layers.*.ln1", L, C, 0);
  add("layers.*.attn.q_proj,k_proj,v_proj", L, 3 * C * C, 3 * 2 * BT * C * C);
  add("layers.*.attn scores Q K^T", L, 0, 2 * BT * T * C);
  add("layers.*.attn weights @ V", L, 0, 2 * BT * T * C);
  add("layers.*.attn.output_proj", L, C * C, 2 * BT * C * C);
  if (norms) add("layers.*.ln2", L, C, 0);
  add(fmt::format("layers.*.ffn ({})", config.ffn_type), L, ffn_matrices * C * F, ffn_matrices * 2 * BT * C * F);
  if (norms) add("ln_final", 1, C, 0);
  add("lm_head", 1, V * C, 2 * BT * C * V);
  for (const auto& c : s.components) {
    s.total_parameters += c.parameters;
    s.total_flops += c.flops;
  }
  return s;
}

std::string ModelSummary::to_string() const {
  std::string out = fmt::format("Transformer LM: vocab {}, context {}, d_model {}, {} layers, {} heads, d_ff {}, "
                                "ffn {}; forward of {} x {} tokens\n",
                                config.vocab_size, config.context_length, config.d_model, config.num_layers,
                                config.num_heads, config.d_ff, config.ffn_type, batch_size, seq_len);
  out += fmt::format("{:<40} {:>5} {:>16} {:>22} {:>7}\n", "component", "count", "parameters", "forward FLOPs",
                     "FLOPs %");
  for (const auto& c : components)
    out += fmt::format("{:<40} {:>5} {:>16} {:>22} {:>6.2f}%\n", c.name, c.count, grouped(c.parameters),
                       grouped(c.flops), total_flops > 0 ? 100.0 * double(c.flops) / double(total_flops) : 0.0);
  out += fmt::format("{:<40} {:>5} {:>16} {:>22} {:>6.2f}%\n", "total", "", grouped(total_parameters),
                     grouped(total_flops), 100.0);
  return out;
}

}  // namespace strata
