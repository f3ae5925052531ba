// cmd_lm_check.cpp: `strata lm-check`, the parity tool for people porting a Transformer LM: it
// runs the CS336 model on given weights and tokens and writes every number worth comparing with
// another implementation (PyTorch) into one safetensors file.
//
//   strata lm-check --config CONFIG.json --weights W.safetensors --tokens IDS.npy [--targets TGT.npy]
//                   --out OUT.safetensors [--steps N --lr X --weight-decay X --beta1 X --beta2 X --eps X]
//
// CONFIG has the keys of CS336's model_config.json (nn/config.h). W holds every parameter under its
// dotted PyTorch name (float32 or float64; converted to float32). IDS and TGT are int64 (B, T)
// .npy files with T <= context_length and ids < vocab_size. OUT receives
//   logits        (B, T, V) float32
// and, with --targets,
//   loss          0-d float32, the mean cross-entropy of the logits against TGT
//   grad.<name>   d loss / d parameter, for every parameter
// and, with --steps N (needs --targets), N torch.optim.AdamW steps on that same batch (defaults
// are torch's: lr 1e-3, betas 0.9/0.999, eps 1e-8, weight decay 0.01):
//   losses        (N,) float32, the loss before each step
//   final.<name>  every parameter after the N steps.
// Bad input (unreadable file, bad config, missing/unexpected/mis-shaped weight, token id >= vocab,
// T > context_length, wrong dtype or rank) prints one message naming the problem and exits with 2.
#include "autograd/functions.h"
#include "nn/embedding.h"
#include "nn/transformer.h"
#include "optim/adamw.h"
#include "tensor/io.h"
#include "tools/commands.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <map>
#include <memory>
#include <string>

namespace strata {

namespace {

struct LmCheckOptions {
  std::string config, weights, tokens, targets, out;
  int64_t steps = 0;
  AdamWOptions adamw;  // torch.optim.AdamW's defaults
};

// A token file as int64 (B, T): integer dtypes are widened, anything else is an error.
Tensor load_token_file(const std::string& path, const char* what, const ModelConfig& config) {
  Tensor ids = load_npy(path);
  check(ids.dtype() == DType::i64 || ids.dtype() == DType::i32 || ids.dtype() == DType::u16,
        "{} '{}' holds {}; expected integer token ids (int64, int32 or uint16)", what, path,
        ids.dtype());
  check(ids.dim() == 2, "{} '{}' has shape {}; expected (B, T)", what, path, ids.shape());
  check(ids.size(1) <= config.context_length,
        "{} '{}' has T = {} tokens per row (shape {}) but the model's context_length is {}", what, path,
        ids.size(1), ids.shape(), config.context_length);
  ids = ids.to(DType::i64);
  check_token_ids(ids, config.vocab_size, fmt::format("{} '{}'", what, path).c_str());
  return ids;
}

void run_lm_check(const LmCheckOptions& o) {
  const ModelConfig config = ModelConfig::load(o.config);
  check(o.steps >= 0, "--steps must be >= 0, got {}", o.steps);
  check(o.steps == 0 || !o.targets.empty(), "--steps {} needs --targets (the loss to minimise)", o.steps);

  Generator gen(0);  // every weight is overwritten by the file
  TransformerLM lm(config, &gen);
  lm.load(o.weights);
  const Tensor tokens = load_token_file(o.tokens, "token file", config);  // (B, T)
  Tensor targets;
  if (!o.targets.empty()) {
    targets = load_token_file(o.targets, "target file", config);
    check(targets.shape() == tokens.shape(), "targets {} and tokens {} must have the same shape",
          targets.shape(), tokens.shape());
  }

  std::map<std::string, Tensor> out;
  const Variable logits = lm(tokens);  // (B, T, V)
  out["logits"] = logits.data();
  if (targets.defined()) {
    Variable loss = cross_entropy(logits, targets);
    backward(loss);
    out["loss"] = loss.data().to(DType::f32);
    for (const auto& [name, p] : lm.named_parameters()) out["grad." + name] = p.grad().clone();
    if (o.steps > 0) {
      AdamW optimizer(lm.named_parameters(), o.adamw);
      Tensor losses = empty({o.steps}, DType::f32);
      for (int64_t step = 0; step < o.steps; ++step) {
        if (step > 0) {  // step 0 uses the forward and backward above
          optimizer.zero_grad();
          loss = cross_entropy(lm(tokens), targets);
          backward(loss);
        }
        losses.data<float>()[step] = loss.item<float>();
        optimizer.step();
      }
      out["losses"] = losses;
      for (const auto& [name, p] : lm.named_parameters()) out["final." + name] = p.data().clone();
    }
    fmt::print("lm-check: {} x {} tokens, loss {:.6f}{}\n", tokens.size(0), tokens.size(1),
               out["loss"].item<double>(),
               o.steps > 0 ? fmt::format(", after {} AdamW steps {:.6f}", o.steps, loss.item<double>()) : "");
  }
  save_safetensors(o.out, out, {{"tool", "strata lm-check"}, {"config", config.to_json_string()}});
  fmt::print("lm-check: wrote {} tensors to {}\n", out.size(), o.out);
}

}  // namespace

void add_lm_check_commands(CLI::App& app) {
  auto options = std::make_shared<LmCheckOptions>();
  CLI::App* cmd = app.add_subcommand(
      "lm-check", "Run a CS336 Transformer LM on given weights and tokens; write logits, loss, gradients and an "
                  "AdamW trajectory to a safetensors file (for parity checks against PyTorch)");
  cmd->add_option("--config", options->config, "model_config.json (CS336 keys)")->required();
  cmd->add_option("--weights", options->weights, "safetensors file with every parameter by dotted name")->required();
  cmd->add_option("--tokens", options->tokens, ".npy int64 token ids (B, T)")->required();
  cmd->add_option("--targets", options->targets, ".npy int64 targets (B, T): adds loss and grad.<name>");
  cmd->add_option("--out", options->out, "output safetensors file")->required();
  cmd->add_option("--steps", options->steps, "AdamW steps on the batch: adds losses and final.<name>");
  cmd->add_option("--lr", options->adamw.lr, "AdamW learning rate")->capture_default_str();
  cmd->add_option("--weight-decay", options->adamw.weight_decay, "AdamW weight decay")->capture_default_str();
  cmd->add_option("--beta1", options->adamw.beta1, "AdamW beta1")->capture_default_str();
  cmd->add_option("--beta2", options->adamw.beta2, "AdamW beta2")->capture_default_str();
  cmd->add_option("--eps", options->adamw.eps, "AdamW epsilon")->capture_default_str();
  // run_command prints "strata lm-check: error: <message>" and exits with 2 on any error.
  cmd->callback([options] { run_command("lm-check", [&] { run_lm_check(*options); }); });
}

}  // namespace strata
