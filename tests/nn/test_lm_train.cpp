// test_lm_train.cpp: ten torch.optim.AdamW steps of the tiny Transformer LM on one batch give
// PyTorch's loss trajectory and final parameters (tests/golden/make_lm_golden.py, variant "base";
// the AdamW settings are in the golden file's metadata).
//
// Tolerance: the issue asks for the losses within 1e-4 relative. Adam divides each gradient by
// its running RMS, so gradient errors of ~1e-6 of their scale (see lm_golden.h) move each update
// by a similar relative amount; measured, the ten losses agree to 7e-7 relative. Final parameters
// use the golden tolerance of lm_golden.h.
#include "lm_golden.h"

#include "autograd/functions.h"
#include "nn/transformer.h"
#include "optim/adamw.h"

#include <doctest/doctest.h>

#include <string>

using namespace strata;
using namespace strata::testing;

TEST_SUITE("nn") {

TEST_CASE("10 AdamW steps of the tiny LM follow PyTorch's loss trajectory") {
  LmGolden golden = load_lm_golden("base");
  const auto& meta = golden.expected.metadata;
  const int64_t steps = std::stoll(meta.at("steps"));
  const AdamWOptions options{.lr = std::stod(meta.at("lr")),
                             .beta1 = std::stod(meta.at("beta1")),
                             .beta2 = std::stod(meta.at("beta2")),
                             .eps = std::stod(meta.at("eps")),
                             .weight_decay = std::stod(meta.at("weight_decay"))};

  TransformerLM lm(golden.config);
  lm.load_state_dict(golden.weights);
  AdamW optimizer(lm.named_parameters(), options);
  std::vector<double> losses;
  for (int64_t step = 0; step < steps; ++step) {
    optimizer.zero_grad();
    const Variable loss = cross_entropy(lm(golden.tokens), golden.targets);
    losses.push_back(loss.item<double>());
    backward(loss);
    optimizer.step();
  }

  const Tensor expected_losses = golden.expected.tensors.at("losses");
  REQUIRE(expected_losses.numel() == steps);
  CHECK_TENSOR_CLOSE_REPORT("AdamW loss trajectory", from_vector(losses), expected_losses, 0.0, 1e-4);
  std::map<std::string, Tensor> final_params, expected_final;
  for (const auto& [name, p] : lm.named_parameters()) final_params.emplace("final." + name, p.data());
  for (const auto& [name, t] : golden.expected.tensors)
    if (name.rfind("final.", 0) == 0) expected_final.emplace(name, t);
  check_golden_file("after AdamW", final_params, expected_final);
}

}  // TEST_SUITE
