// test_module.cpp: Module's registry: dotted names in registration order, state dicts, the
// one-error report of load_state_dict, safetensors round trips, modes and gradients.
#include "autograd/functions.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/rope.h"
#include "nn/transformer.h"
#include "tensor/io.h"
#include "tensor/ops.h"
#include "tensor/random.h"
#include "tests/testing/tensor_testing.h"

#include <doctest/doctest.h>

using namespace strata;
using namespace strata::testing;

namespace {

// A two-level module: own parameter, a buffer of each kind, two children (one nested).
struct Inner : Module {
  Inner() {
    w = register_parameter("w", ones({2, 3}));
    stats = register_buffer("stats", zeros({3}));
  }
  std::string type_name() const override { return "Inner"; }
  Variable w;
  Tensor stats;
};
struct Outer : Module {
  Outer() {
    scale = register_parameter("scale", full({1}, 2.0));
    first = register_module("first", std::make_shared<Inner>());
    cache = register_buffer("cache", ones({4}), /*persistent=*/false);
    second = register_module("second", std::make_shared<Linear>(3, 5));
  }
  std::string type_name() const override { return "Outer"; }
  Variable scale;
  std::shared_ptr<Inner> first;
  Tensor cache;
  std::shared_ptr<Linear> second;
};

std::vector<std::string> names_of(const std::vector<std::pair<std::string, Variable>>& named) {
  std::vector<std::string> out;
  for (const auto& [n, v] : named) out.push_back(n);
  return out;
}


}  // namespace

TEST_SUITE("nn") {

TEST_CASE("named_parameters gives PyTorch's dotted names in registration order") {
  Outer m;
  CHECK(names_of(m.named_parameters()) == std::vector<std::string>{"scale", "first.w", "second.weight"});
  CHECK(m.parameters().size() == 3);
  CHECK(m.num_parameters() == 1 + 6 + 15);
  for (const auto& p : m.parameters()) CHECK(p.requires_grad());

  std::vector<std::string> buffers;
  for (const auto& [n, t] : m.named_buffers()) buffers.push_back(n);
  CHECK(buffers == std::vector<std::string>{"cache", "first.stats"});

  std::vector<std::string> modules;
  for (const auto& [n, mod] : m.named_modules()) modules.push_back(n + ":" + mod->type_name());
  CHECK(modules == std::vector<std::string>{":Outer", "first:Inner", "second:Linear"});
}

TEST_CASE("the registry and the members share values and gradients") {
  Outer m;
  m.named_parameters()[1].second.data().fill_(7.0);  // write through the registry's copy
  CHECK(m.first->w.data().at<float>({1, 2}) == 7.0f);
  backward(sum(m.first->w * 3.0));
  CHECK(m.named_parameters()[1].second.grad().at<float>({0, 0}) == 3.0f);
  m.zero_grad();
  CHECK(!m.first->w.grad().defined());
}

TEST_CASE("state_dict holds parameters and persistent buffers only") {
  Outer m;
  const StateDict state = m.state_dict();
  std::vector<std::string> keys;
  for (const auto& [k, t] : state) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"first.stats", "first.w", "scale", "second.weight"});
  CHECK(state.at("first.w").shares_storage(m.first->w.data()));
}

TEST_CASE("load_state_dict copies in place and converts float64 to float32") {
  Outer m;
  StateDict state;
  state["scale"] = full({1}, 0.5, DType::f64);
  state["first.w"] = full({2, 3}, -1.0);
  state["first.stats"] = full({3}, 4.0);
  state["second.weight"] = arange(0.0, 15.0, 1.0, DType::f32).view({5, 3});
  Tensor before = m.second->weight.data();
  m.load_state_dict(state);
  CHECK(m.scale.data().dtype() == DType::f32);
  CHECK(m.scale.data().item<float>() == 0.5f);
  CHECK(m.first->stats.at<float>({2}) == 4.0f);
  CHECK(m.second->weight.data().at<float>({4, 2}) == 14.0f);
  CHECK(before.shares_storage(m.second->weight.data()));  // same storage: written in place
}

TEST_CASE("load_state_dict reports every missing, unexpected and mis-shaped key in one error") {
  Outer m;
  StateDict state = m.state_dict();
  state.erase("scale");
  state.erase("first.stats");
  state["extra"] = zeros({1});
  state["second.weight"] = zeros({3, 5});
  state["first.w"] = zeros({2, 3}, DType::i64);
  const Tensor scale_before = m.scale.data().clone();
  const std::string message = error_of([&] { m.load_state_dict(state); });
  CHECK(message.find("does not fit Outer") != std::string::npos);
  CHECK(message.find("2 missing keys: first.stats, scale") != std::string::npos);
  CHECK(message.find("1 unexpected key: extra") != std::string::npos);
  CHECK(message.find("second.weight has shape [3, 5] in the state dict but [5, 3] in the model") != std::string::npos);
  CHECK(message.find("first.w has dtype int64 in the state dict but float32 in the model") != std::string::npos);
  CHECK(m.scale.data().item<float>() == scale_before.item<float>());  // nothing changed

  SUBCASE("strict=false ignores missing and unexpected keys but never wrong shapes") {
    const std::string lenient = error_of([&] { m.load_state_dict(state, /*strict=*/false); });
    CHECK(lenient.find("missing") == std::string::npos);
    CHECK(lenient.find("second.weight has shape [3, 5]") != std::string::npos);
    StateDict partial = {{"scale", full({1}, 9.0)}, {"nonsense", zeros({2})}};
    m.load_state_dict(partial, /*strict=*/false);
    CHECK(m.scale.data().item<float>() == 9.0f);
  }
}

TEST_CASE("save and load a model as safetensors with dotted names") {
  const ModelConfig config{
      .vocab_size = 11, .context_length = 8, .d_model = 8, .num_layers = 2, .num_heads = 2, .d_ff = 12};
  Generator g1(1), g2(2);
  TransformerLM a(config, &g1), b(config, &g2);
  const TempDir tmp;
  const std::string path = tmp / "lm.safetensors";
  a.save(path);
  const SafetensorsFile file = load_safetensors(path);
  CHECK(file.tensors.size() == a.named_parameters().size());
  CHECK(file.tensors.contains("layers.1.attn.output_proj.weight"));
  CHECK(!file.tensors.contains("layers.0.attn.rope.cos_cached"));  // non-persistent
  b.load(path);
  for (const auto& [name, p] : b.named_parameters()) {
    INFO(name);
    CHECK(p.data().to_vector<float>() == a.state_dict().at(name).to_vector<float>());
  }

  ModelConfig other = config;
  other.remove_rmsnorm = true;
  TransformerLM c(other, &g1);
  const std::string message = error_of([&] { a.save(path); c.load(path); });
  CHECK(message.find("5 unexpected keys: layers.0.ln1.weight, layers.0.ln2.weight, layers.1.ln1.weight, "
                     "layers.1.ln2.weight, ln_final.weight") != std::string::npos);
  CHECK(message.find(path) != std::string::npos);
}

TEST_CASE("a module shared along two paths is listed once") {
  const ModelConfig config{
      .vocab_size = 5, .context_length = 4, .d_model = 4, .num_layers = 3, .num_heads = 1, .d_ff = 4};
  TransformerLM lm(config);
  std::vector<std::string> buffers;
  for (const auto& [n, t] : lm.named_buffers()) buffers.push_back(n);
  CHECK(buffers == std::vector<std::string>{"layers.0.attn.rope.cos_cached", "layers.0.attn.rope.sin_cached"});
  CHECK(lm.layers->size() == 3);
  CHECK((*lm.layers)[2].attn->rope == lm.rope);
}

TEST_CASE("train() and eval() reach every descendant") {
  Outer m;
  CHECK(m.is_training());
  m.eval();
  CHECK(!m.is_training());
  CHECK(!m.first->is_training());
  CHECK(!m.second->is_training());
  m.train();
  CHECK(m.second->is_training());
}

TEST_CASE("registration errors name the module and the name") {
  Inner m;
  CHECK(error_of([&] { m.register_parameter("w", ones({1})); }) ==
        "Inner::register_parameter: the name 'w' is already registered in this module");
  CHECK(error_of([&] { m.register_buffer("a.b", ones({1})); }).find("invalid name 'a.b'") != std::string::npos);
  CHECK(error_of([&] { m.register_parameter("ids", zeros({2}, DType::i64)); })
            .find("needs a defined float32/float64 tensor") != std::string::npos);
}

TEST_CASE("name_parameters gives every parameter Variable its dotted name") {
  Outer m;
  m.name_parameters();
  CHECK(m.first->w.name() == "first.w");
  CHECK(m.second->weight.name() == "second.weight");
}

}  // TEST_SUITE
