// test_config.cpp: ModelConfig from and to CS336's model_config.json, and its error messages.
#include "nn/config.h"

#include "tests/testing/tensor_testing.h"

#include <doctest/doctest.h>

using namespace strata;
using namespace strata::testing;

namespace {
const char* kSizes = R"("vocab_size": 10000, "context_length": 256, "d_model": 512, "num_layers": 4,
                        "num_heads": 16, "d_ff": 1344)";
std::string with_sizes(const std::string& extra) { return "{" + std::string(kSizes) + extra + "}"; }
}  // namespace

TEST_SUITE("nn") {

TEST_CASE("the CS336 model_config.json (with \"ffn_type\": null) parses") {
  // tests/fixtures/ts_tests/model_config.json of the assignment, verbatim.
  const ModelConfig c = ModelConfig::parse(R"({
    "vocab_size": 10000, "context_length": 16, "d_model": 64, "num_layers": 3, "num_heads": 4, "d_ff": 128,
    "remove_rmsnorm": false, "use_post_norm": false, "remove_rope": false, "rope_theta": 10000.0, "ffn_type": null
  })");
  CHECK(c.vocab_size == 10000);
  CHECK(c.context_length == 16);
  CHECK(c.d_model == 64);
  CHECK(c.num_layers == 3);
  CHECK(c.num_heads == 4);
  CHECK(c.d_ff == 128);
  CHECK(c.d_k() == 16);
  CHECK(c.rope_theta == 10000.0);
  CHECK(c.ffn_type == "swiglu");
  CHECK(!c.remove_rmsnorm);
}

TEST_CASE("optional keys have the handout's defaults, and every key round-trips") {
  ModelConfig c = ModelConfig::parse(with_sizes(""));
  CHECK(c.rope_theta == 10000.0);
  CHECK(c.ffn_type == "swiglu");
  CHECK(!c.use_post_norm);
  c = ModelConfig::parse(with_sizes(R"(, "rope_theta": 500000, "remove_rmsnorm": true, "use_post_norm": true,
                                        "remove_rope": true, "ffn_type": "silu")"));
  CHECK(c.rope_theta == 500000.0);
  CHECK(c.remove_rmsnorm);
  CHECK(c.use_post_norm);
  CHECK(c.remove_rope);
  CHECK(c.ffn_type == "silu");
  CHECK(ModelConfig::parse(c.to_json_string()) == c);
}

TEST_CASE("config errors name the key, the value and the source") {
  CHECK(error_of([] { ModelConfig::parse(with_sizes(R"(, "d_modle": 3)"), "cfg.json"); }) ==
        "cfg.json: unknown key 'd_modle'; known keys: vocab_size, context_length, d_model, num_layers, num_heads, "
        "d_ff, rope_theta, remove_rmsnorm, use_post_norm, remove_rope, ffn_type");
  CHECK(error_of([] { ModelConfig::parse(R"({"vocab_size": 10, "context_length": 4, "d_model": 8,
                                             "num_layers": 1, "num_heads": 2})",
                                         "cfg.json"); })
            .starts_with("cfg.json: missing key 'd_ff'"));
  CHECK(error_of([] { ModelConfig::parse(R"({"vocab_size": "10000"})", "cfg.json"); }) ==
        "cfg.json: key 'vocab_size' must be an integer, got \"10000\"");
  CHECK(error_of([] { ModelConfig::parse(with_sizes(R"(, "remove_rope": 0)"), "c"); }) ==
        "c: key 'remove_rope' must be true or false, got 0");
  CHECK(error_of([] { ModelConfig::parse(with_sizes(R"(, "rope_theta": "big")"), "c"); }) ==
        "c: key 'rope_theta' must be a number, got \"big\"");
  CHECK(error_of([] { ModelConfig::parse(with_sizes(R"(, "ffn_type": "gelu")"), "c"); })
            .starts_with("model config: ffn_type 'gelu' is not \"swiglu\" or \"silu\""));
  CHECK(error_of([] { ModelConfig::parse("[1, 2]", "c"); }) == "c: expected a JSON object, got [1,2]");
  CHECK(error_of([] { ModelConfig::parse("{\"vocab_size\": ", "c"); }).starts_with("c: not valid JSON"));
  CHECK(error_of([] { ModelConfig::load("/nonexistent/model_config.json"); }) ==
        "model config: cannot open '/nonexistent/model_config.json'");
}

TEST_CASE("configs that cannot make a model are rejected") {
  CHECK(error_of([] {
          ModelConfig::parse(R"({"vocab_size": 10, "context_length": 4, "d_model": 10, "num_layers": 1,
                                 "num_heads": 3, "d_ff": 4})");
        }).starts_with("model config: d_model (10) must be a multiple of num_heads (3)"));
  CHECK(error_of([] {
          ModelConfig::parse(R"({"vocab_size": 10, "context_length": 4, "d_model": 9, "num_layers": 1,
                                 "num_heads": 3, "d_ff": 4})");
        }).starts_with("model config: RoPE needs an even head width d_k = d_model / num_heads = 3"));
  // Without RoPE an odd head width is fine.
  CHECK(ModelConfig::parse(R"({"vocab_size": 10, "context_length": 4, "d_model": 9, "num_layers": 1,
                               "num_heads": 3, "d_ff": 4, "remove_rope": true})")
            .d_k() == 3);
  CHECK(error_of([] { ModelConfig::parse(R"({"vocab_size": 0, "context_length": 4, "d_model": 8, "num_layers": 1,
                                             "num_heads": 2, "d_ff": 4})"); })
            .starts_with("model config: every size must be positive: vocab_size 0"));
}

}  // TEST_SUITE
