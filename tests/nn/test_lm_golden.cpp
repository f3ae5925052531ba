// test_lm_golden.cpp: the Transformer LM's logits, loss and every parameter's gradient against
// PyTorch (tests/golden/make_lm_golden.py), for the base model and each ablation switch
// (remove_rmsnorm, use_post_norm, remove_rope, ffn_type "silu"). Tolerances: see lm_golden.h.
#include "lm_golden.h"

#include "autograd/functions.h"
#include "nn/transformer.h"

#include <doctest/doctest.h>

using namespace strata;
using namespace strata::testing;

TEST_SUITE("nn") {

TEST_CASE("Transformer LM logits, loss and gradients equal PyTorch's, for every ablation") {
  for (const std::string& variant : kGoldenVariants) {
    CAPTURE(variant);
    LmGolden golden = load_lm_golden(variant);
    TransformerLM lm(golden.config);
    // strict: the parameter names and shapes are exactly the reference model's.
    lm.load_state_dict(golden.weights);

    const Variable logits = lm(golden.tokens);  // (B, T, V)
    const Variable loss = cross_entropy(logits, golden.targets);
    backward(loss);

    std::map<std::string, Tensor> actual = {{"logits", logits.data()}, {"loss", loss.data()}};
    for (const auto& [name, p] : lm.named_parameters()) {
      REQUIRE_MESSAGE(p.grad().defined(), fmt::format("{} has no gradient", name));
      actual.emplace("grad." + name, p.grad());
    }
    // The base golden also holds the AdamW trajectory (losses, final.*), checked in test_lm_train.cpp.
    std::map<std::string, Tensor> expected;
    for (const auto& [name, t] : golden.expected.tensors)
      if (name == "logits" || name == "loss" || name.rfind("grad.", 0) == 0) expected.emplace(name, t);
    check_golden_file(variant, actual, expected);
  }
}

}  // TEST_SUITE
