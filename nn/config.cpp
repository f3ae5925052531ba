// config.cpp: ModelConfig <-> JSON with strict checking of keys and types.
#include "nn/config.h"

#include "tensor/error.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace strata {

namespace {

const char* const kKeys[] = {"vocab_size", "context_length", "d_model", "num_layers", "num_heads", "d_ff",
                             "rope_theta", "remove_rmsnorm", "use_post_norm", "remove_rope", "ffn_type"};

std::string known_keys() {
  std::string out;
  for (const char* k : kKeys) out += out.empty() ? k : std::string(", ") + k;
  return out;
}

// Each reader checks the JSON type of j[key] and stores it in `out`; read_int's keys are required,
// the others keep `out`'s default when the key is absent.
void read_int(const nlohmann::json& j, const char* key, int64_t& out, const std::string& source) {
  auto it = j.find(key);
  check(it != j.end(), "{}: missing key '{}'; hint: the sizes vocab_size, context_length, d_model, num_layers, "
        "num_heads and d_ff are required", source, key);
  check(it->is_number_integer(), "{}: key '{}' must be an integer, got {}", source, key, it->dump());
  out = it->get<int64_t>();
}

void read_number(const nlohmann::json& j, const char* key, double& out, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end()) return;
  check(it->is_number(), "{}: key '{}' must be a number, got {}", source, key, it->dump());
  out = it->get<double>();
}

void read_bool(const nlohmann::json& j, const char* key, bool& out, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end()) return;
  check(it->is_boolean(), "{}: key '{}' must be true or false, got {}", source, key, it->dump());
  out = it->get<bool>();
}

}  // namespace

void ModelConfig::validate() const {
  check(vocab_size > 0 && context_length > 0 && d_model > 0 && num_layers > 0 && num_heads > 0 && d_ff > 0,
        "model config: every size must be positive: vocab_size {}, context_length {}, d_model {}, num_layers {}, "
        "num_heads {}, d_ff {}",
        vocab_size, context_length, d_model, num_layers, num_heads, d_ff);
  check(d_model % num_heads == 0, "model config: d_model ({}) must be a multiple of num_heads ({})", d_model,
        num_heads);
  check(remove_rope || d_k() % 2 == 0,
        "model config: RoPE needs an even head width d_k = d_model / num_heads = {}; hint: change num_heads or set "
        "remove_rope",
        d_k());
  check(rope_theta > 0, "model config: rope_theta ({}) must be positive", rope_theta);
  check(ffn_type == "swiglu" || ffn_type == "silu", "model config: ffn_type '{}' is not \"swiglu\" or \"silu\"",
        ffn_type);
}

ModelConfig ModelConfig::from_json(const nlohmann::json& j, const std::string& source) {
  check(j.is_object(), "{}: expected a JSON object, got {}", source, j.dump());
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (const char* k : kKeys) known |= key == k;
    check(known, "{}: unknown key '{}'; known keys: {}", source, key, known_keys());
  }
  ModelConfig c;
  read_int(j, "vocab_size", c.vocab_size, source);
  read_int(j, "context_length", c.context_length, source);
  read_int(j, "d_model", c.d_model, source);
  read_int(j, "num_layers", c.num_layers, source);
  read_int(j, "num_heads", c.num_heads, source);
  read_int(j, "d_ff", c.d_ff, source);
  read_number(j, "rope_theta", c.rope_theta, source);
  read_bool(j, "remove_rmsnorm", c.remove_rmsnorm, source);
  read_bool(j, "use_post_norm", c.use_post_norm, source);
  read_bool(j, "remove_rope", c.remove_rope, source);
  if (auto it = j.find("ffn_type"); it != j.end() && !it->is_null()) {
    check(it->is_string(), "{}: key 'ffn_type' must be a string (\"swiglu\" or \"silu\") or null, got {}", source,
          it->dump());
    c.ffn_type = it->get<std::string>();
  }
  try {
    c.validate();
  } catch (const Error& e) {
    throw Error(fmt::format("{} ({})", e.what(), source));
  }
  return c;
}

ModelConfig ModelConfig::parse(const std::string& json_text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", source, e.what());
  }
  return from_json(j, source);
}

ModelConfig ModelConfig::load(const std::string& path) {
  std::ifstream in(path);
  check(in.good(), "model config: cannot open '{}'", path);
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

nlohmann::json ModelConfig::to_json() const {
  return {{"vocab_size", vocab_size},         {"context_length", context_length}, {"d_model", d_model},
          {"num_layers", num_layers},         {"num_heads", num_heads},           {"d_ff", d_ff},
          {"rope_theta", rope_theta},         {"remove_rmsnorm", remove_rmsnorm}, {"use_post_norm", use_post_norm},
          {"remove_rope", remove_rope},       {"ffn_type", ffn_type}};
}

std::string ModelConfig::to_json_string() const { return to_json().dump(2); }

bool operator==(const ModelConfig& a, const ModelConfig& b) { return a.to_json() == b.to_json(); }

}  // namespace strata
