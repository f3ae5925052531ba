// test_lm_check_cli.cpp: `strata lm-check` end to end. Runs the built program (path in the
// environment variable STRATA_EXE, set by meson) on the PyTorch goldens of
// tests/golden/make_lm_golden.py and compares its output file with them (tolerances: lm_golden.h);
// then checks that bad input gives exit code 2 and a message naming the problem.
#include "lm_golden.h"

#include "tensor/io.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>

using namespace strata;
using namespace strata::testing;

namespace {

namespace fs = std::filesystem;

struct Run {
  int exit_code;
  std::string stdout_text, stderr_text;
};

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// A scratch directory for this test's files, removed at exit.
const fs::path& scratch() {
  static const TempDir scratch;
  return scratch.dir;
}

// Runs `strata lm-check <args>` and captures its exit code and output.
Run lm_check(const std::string& args) {
  const char* exe = std::getenv("STRATA_EXE");
  REQUIRE_MESSAGE(exe != nullptr, "STRATA_EXE must name the built strata program");
  const fs::path out = scratch() / "stdout.txt", err = scratch() / "stderr.txt";
  const std::string command =
      fmt::format("{} lm-check {} >{} 2>{}", quoted(exe), args, quoted(out.string()), quoted(err.string()));
  const int status = std::system(command.c_str());
  REQUIRE(WIFEXITED(status));
  return {WEXITSTATUS(status), read_file(out.string()), read_file(err.string())};
}

// The arguments naming a golden variant's config, weights and tokens.
std::string golden_args(const std::string& variant) {
  return fmt::format("--config {} --weights {} --tokens {}", quoted(golden_path(variant + ".config.json")),
                     quoted(golden_path(variant + ".weights.safetensors")), quoted(golden_path("tokens.npy")));
}
std::string targets_arg() { return "--targets " + quoted(golden_path("targets.npy")); }

}  // namespace

TEST_SUITE("nn") {

TEST_CASE("lm-check reproduces PyTorch's logits, loss, gradients and AdamW trajectory") {
  const LmGolden base = load_lm_golden("base");
  const auto& meta = base.expected.metadata;
  const fs::path out = scratch() / "base.safetensors";
  const Run run = lm_check(fmt::format("{} {} --out {} --steps {} --lr {} --weight-decay {} --beta1 {} --beta2 {} "
                                       "--eps {}",
                                       golden_args("base"), targets_arg(), quoted(out.string()), meta.at("steps"),
                                       meta.at("lr"), meta.at("weight_decay"), meta.at("beta1"), meta.at("beta2"),
                                       meta.at("eps")));
  INFO(run.stderr_text);
  REQUIRE(run.exit_code == 0);
  CHECK(run.stdout_text.find("loss 4.376") != std::string::npos);
  const SafetensorsFile result = load_safetensors(out.string());
  CHECK(result.tensors.at("logits").dtype() == DType::f32);
  CHECK(result.tensors.at("loss").dim() == 0);
  check_golden_file("lm-check base", result.tensors, base.expected.tensors);
}

TEST_CASE("lm-check matches PyTorch for every ablation, and writes only logits without targets") {
  for (const std::string& variant : kGoldenVariants) {
    if (variant == "base") continue;
    CAPTURE(variant);
    const fs::path out = scratch() / (variant + ".safetensors");
    const Run run = lm_check(fmt::format("{} {} --out {}", golden_args(variant), targets_arg(), quoted(out.string())));
    INFO(run.stderr_text);
    REQUIRE(run.exit_code == 0);
    check_golden_file("lm-check " + variant, load_safetensors(out.string()).tensors,
                      load_lm_golden(variant).expected.tensors);
  }
  const fs::path out = scratch() / "logits_only.safetensors";
  REQUIRE(lm_check(fmt::format("{} --out {}", golden_args("remove_rope"), quoted(out.string()))).exit_code == 0);
  const SafetensorsFile result = load_safetensors(out.string());
  CHECK(result.tensors.size() == 1);
  check_golden("logits only", result.tensors.at("logits"), load_lm_golden("remove_rope").expected.tensors.at("logits"));
}

TEST_CASE("lm-check rejects bad input with exit code 2 and a message naming the problem") {
  const std::string out = "--out " + quoted((scratch() / "bad.safetensors").string());
  const LmGolden base = load_lm_golden("base");
  auto expect_error = [&](const std::string& args, const std::string& fragment) {
    const Run run = lm_check(args);
    INFO(args);
    INFO(run.stderr_text);
    CHECK(run.exit_code == 2);
    CHECK(run.stderr_text.starts_with("strata lm-check: error: "));
    CHECK(run.stderr_text.find(fragment) != std::string::npos);
  };

  SUBCASE("a missing weight") {
    StateDict weights = base.weights;
    weights.erase("layers.1.ffn.w3.weight");
    const std::string path = (scratch() / "missing.safetensors").string();
    save_safetensors(path, weights);
    expect_error(fmt::format("--config {} --weights {} --tokens {} {}", quoted(golden_path("base.config.json")),
                             quoted(path), quoted(golden_path("tokens.npy")), out),
                 "1 missing key: layers.1.ffn.w3.weight");
  }
  SUBCASE("weights of another config") {
    expect_error(fmt::format("--config {} --weights {} --tokens {} {}", quoted(golden_path("base.config.json")),
                             quoted(golden_path("ffn_silu.weights.safetensors")), quoted(golden_path("tokens.npy")),
                             out),
                 "2 missing keys: layers.0.ffn.w3.weight, layers.1.ffn.w3.weight");
  }
  SUBCASE("a weight of the wrong shape") {
    StateDict weights = base.weights;
    weights["lm_head.weight"] = zeros({60, 32});
    const std::string path = (scratch() / "shape.safetensors").string();
    save_safetensors(path, weights);
    expect_error(fmt::format("--config {} --weights {} --tokens {} {}", quoted(golden_path("base.config.json")),
                             quoted(path), quoted(golden_path("tokens.npy")), out),
                 "lm_head.weight has shape [60, 32] in the state dict but [61, 32] in the model");
  }
  auto with_tokens = [&](const Tensor& tokens, const std::string& name) {
    const std::string path = (scratch() / name).string();
    save_npy(path, tokens);
    return fmt::format("--config {} --weights {} --tokens {} {}", quoted(golden_path("base.config.json")),
                       quoted(golden_path("base.weights.safetensors")), quoted(path), out);
  };
  SUBCASE("a token id >= vocab_size") {
    Tensor tokens = base.tokens.clone();
    tokens.data<int64_t>()[5] = 61;
    expect_error(with_tokens(tokens, "big_id.npy"), "token id 61 (flat index 5 of ids [3, 12]) is outside [0, 61)");
  }
  SUBCASE("more tokens than the context") {
    expect_error(with_tokens(zeros({2, 17}, DType::i64), "long.npy"),
                 "has T = 17 tokens per row (shape [2, 17]) but the model's context_length is 16");
  }
  SUBCASE("tokens that are not (B, T) integers") {
    expect_error(with_tokens(zeros({12}, DType::i64), "flat.npy"), "has shape [12]; expected (B, T)");
    expect_error(with_tokens(zeros({2, 3}), "float.npy"),
                 "holds float32; expected integer token ids (int64, int32 or uint16)");
  }
  SUBCASE("targets of another shape, and --steps without targets") {
    const std::string path = (scratch() / "short_targets.npy").string();
    save_npy(path, zeros({3, 11}, DType::i64));
    expect_error(fmt::format("{} --targets {} {}", golden_args("base"), quoted(path), out),
                 "targets [3, 11] and tokens [3, 12] must have the same shape");
    expect_error(fmt::format("{} --steps 3 {}", golden_args("base"), out), "--steps 3 needs --targets");
  }
  SUBCASE("a config with an unknown key, and a missing file") {
    const std::string path = (scratch() / "bad_config.json").string();
    std::ofstream(path) << R"({"vocab_size": 61, "context_lenght": 16})";
    expect_error(fmt::format("--config {} --weights {} --tokens {} {}", quoted(path),
                             quoted(golden_path("base.weights.safetensors")), quoted(golden_path("tokens.npy")), out),
                 "unknown key 'context_lenght'");
    expect_error(fmt::format("--config {} --weights /nonexistent.safetensors --tokens {} {}",
                             quoted(golden_path("base.config.json")), quoted(golden_path("tokens.npy")), out),
                 "/nonexistent.safetensors");
  }
}

}  // TEST_SUITE
