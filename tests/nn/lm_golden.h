// lm_golden.h: the PyTorch goldens of tests/golden/make_lm_golden.py and the comparison of a result
// with them, shared by the LM gradient test, the AdamW trajectory test and the `strata lm-check`
// end-to-end test (which compares the tool's output file with the same code).
//
// Tolerances. The goldens are computed by torch in float64 and stored as float32, so they are exact
// to one float32 rounding; strata computes in float32, so the differences are strata's own
// rounding: float32 matmuls and reductions accumulate in another order than an exact sum, and the
// rounding errors compound through two layers, softmax and the backward pass. Gradient elements
// that are nearly zero by cancellation keep an absolute error of the size of the tensor's large
// elements times ~1e-7, so their *relative* error says nothing; the criterion is therefore
//   |a - e| <= atol + rtol |e|,  rtol = 1e-4 (the figure the issue names),  atol = 1e-5 * max|e|
// per tensor. Measured on the goldens: every tensor's max |a - e| is below 1e-6 * max|e| (so atol
// leaves a margin of 10), and elements above 1% of max|e| agree to 5e-5 relative.
#pragma once

#include "nn/config.h"
#include "nn/module.h"
#include "tensor/io.h"
#include "tests/testing/tensor_testing.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace strata::testing {

inline const std::vector<std::string> kGoldenVariants = {"base", "remove_rmsnorm", "use_post_norm", "remove_rope",
                                                         "ffn_silu"};

inline std::string golden_path(const std::string& file) { return fixture_path("nn/golden/" + file); }

struct LmGolden {
  ModelConfig config;
  StateDict weights;
  Tensor tokens, targets;  // int64 (B, T)
  SafetensorsFile expected;
};

inline LmGolden load_lm_golden(const std::string& variant) {
  return {ModelConfig::load(golden_path(variant + ".config.json")),
          load_safetensors(golden_path(variant + ".weights.safetensors")).tensors, load_npy(golden_path("tokens.npy")),
          load_npy(golden_path("targets.npy")), load_safetensors(golden_path(variant + ".expected.safetensors"))};
}

inline constexpr double kGoldenRtol = 1e-4;
inline constexpr double kGoldenAtolScale = 1e-5;

// CHECK_TENSOR_CLOSE under `label` with rtol kGoldenRtol and atol kGoldenAtolScale * max|expected|;
// unless `quiet`, prints the figures too (CHECK_TENSOR_CLOSE_REPORT).
inline Comparison check_golden(const std::string& label, const Tensor& actual, const Tensor& expected,
                               bool quiet = false) {
  const double atol = kGoldenAtolScale * max_magnitude(expected);
  if (!quiet) return CHECK_TENSOR_CLOSE_REPORT(label, actual, expected, atol, kGoldenRtol);
  INFO(label);
  return CHECK_TENSOR_CLOSE(actual, expected, atol, kGoldenRtol);
}

// Compares every tensor of `expected` with the tensor of the same name in `actual`, and checks that
// `actual` has no tensor more or fewer. Prints one line per group of tensors (logits, loss, losses,
// grad.*, final.*) with the largest errors in the group.
inline void check_golden_file(const std::string& label, const std::map<std::string, Tensor>& actual,
                              const std::map<std::string, Tensor>& expected) {
  std::vector<std::string> actual_names, expected_names;
  for (const auto& [name, t] : actual) actual_names.push_back(name);
  for (const auto& [name, t] : expected) expected_names.push_back(name);
  CHECK_MESSAGE(actual_names == expected_names,
                fmt::format("{}: tensors {} but expected {}", label, fmt::join(actual_names, ", "),
                            fmt::join(expected_names, ", ")));
  std::map<std::string, Comparison> groups;  // "grad.*" -> worst over the grads
  for (const auto& [name, e] : expected) {
    auto it = actual.find(name);
    if (it == actual.end()) continue;
    const Comparison c = check_golden(label + " " + name, it->second, e, /*quiet=*/true);
    const auto dot = name.find('.');
    Comparison& g = groups[dot == std::string::npos ? name : name.substr(0, dot) + ".*"];
    g.max_abs = std::max(g.max_abs, c.max_abs);
    g.max_rel = std::max(g.max_rel, c.max_rel);
  }
  for (const auto& [group, g] : groups)
    MESSAGE(fmt::format("{} {}: max abs err {:.3g}, max rel err {:.3g} (rtol {:g}, atol {:g} max|e|)", label, group,
                        g.max_abs, g.max_rel, kGoldenRtol, kGoldenAtolScale));
}

}  // namespace strata::testing
