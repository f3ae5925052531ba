// cmd_bpe.cpp: the tokenizer subcommands of `strata`.
//
//   strata bpe-train --input FILE --vocab-size N [--special-token TOK]... --out DIR [--threads K]
//       Learns byte-level BPE merges (bpe/train.h) and writes DIR/vocab.json and DIR/merges.txt in
//       GPT-2's format.
//   strata tokenize --tokenizer DIR [--special-token TOK]... --input FILE --out IDS.npy [--threads K]
//       Encodes FILE (bpe/tokenizer.h) into a 1-D .npy of ids: uint16 when the vocabulary has at
//       most 65536 entries, else int32. Special tokens are the vocabulary's added tokens (entries
//       that are neither a byte nor a merge, like <|endoftext|>) plus each --special-token.
//   strata detokenize --tokenizer DIR --input IDS.npy
//       Decodes a 1-D .npy of ids (uint16, int32 or int64) and writes the text to stdout.
//
// Long runs draw a progress bar on a terminal; each command ends with a one-line summary (time,
// MB/s, bytes per token) on stdout, or on stderr for detokenize, whose stdout is the text. Bad input
// gives one error line and exit code 2; output files are written under a temporary name and renamed
// (bpe/gpt2_files.h, tensor/io.h), and only after all the work succeeded, so no half-written file
// is ever left.
#include "bpe/gpt2_files.h"
#include "bpe/tokenizer.h"
#include "bpe/train.h"
#include "tensor/error.h"
#include "tensor/io.h"
#include "tensor/tensor.h"
#include "tools/commands.h"
#include "tools/progress.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

namespace strata {

namespace {

using tools::human_bytes;
using tools::ProgressBar;
using tools::seconds_since;

struct TrainArgs {
  std::string input, out;
  int vocab_size = 0;
  std::vector<std::string> special_tokens;
  int threads = 0;
};

struct TokenizeArgs {
  std::string tokenizer, input, out;
  std::vector<std::string> special_tokens;
  int threads = 0;
};

struct DetokenizeArgs {
  std::string tokenizer, input;
};

uint64_t file_size(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? 0 : static_cast<uint64_t>(size);
}

double rate_mb_per_s(uint64_t bytes, double seconds) {
  return seconds > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0.0;
}

// DIR/vocab.json + DIR/merges.txt, with the vocabulary's added tokens and `extra` as special tokens.
bpe::Tokenizer load_tokenizer_dir(const std::string& dir, const std::vector<std::string>& extra) {
  const std::string vocab = dir + "/vocab.json";
  const std::string merges = dir + "/merges.txt";
  check(std::filesystem::is_directory(dir),
        "tokenizer directory '{}' does not exist; hint: it is the --out DIR of `strata bpe-train`", dir);
  bpe::BpeModel model = bpe::load_gpt2_files(vocab, merges, extra);
  std::vector<std::string> specials = bpe::added_tokens(model);
  for (const std::string& token : extra) {
    if (std::find(specials.begin(), specials.end(), token) == specials.end()) specials.push_back(token);
  }
  model.special_tokens = std::move(specials);
  return bpe::Tokenizer(std::move(model));
}

void run_bpe_train(const TrainArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  bpe::TrainStats stats;
  bpe::TrainOptions options;
  options.vocab_size = args.vocab_size;
  options.special_tokens = args.special_tokens;
  options.threads = args.threads;
  options.stats = &stats;
  ProgressBar count_bar("count", ProgressBar::Unit::bytes);
  std::optional<ProgressBar> merge_bar;  // started when merging starts
  options.progress = [&](std::string_view stage, uint64_t done, uint64_t total) {
    if (stage == "count") {
      count_bar.update(done, total);
      return;
    }
    if (!merge_bar) {
      count_bar.finish();
      merge_bar.emplace("merge", ProgressBar::Unit::items);
    }
    merge_bar->update(done, total);
  };
  const bpe::BpeModel model = bpe::train_bpe(args.input, options);
  count_bar.finish();
  if (merge_bar) merge_bar->finish();
  std::error_code error;
  std::filesystem::create_directories(args.out, error);
  check(!error, "cannot create the output directory '{}': {}", args.out, error.message());
  bpe::save_gpt2_files(model, args.out + "/vocab.json", args.out + "/merges.txt");
  const double seconds = seconds_since(start);
  const uint64_t bytes = file_size(args.input);
  fmt::print(
      "bpe-train: {} tokens ({} merges) from {} in {:.2f} s ({:.1f} MB/s, {} threads), {:.2f} bytes/token on "
      "the training text -> {}/vocab.json, {}/merges.txt\n",
      model.vocab.size(), model.merges.size(), human_bytes(bytes), seconds, rate_mb_per_s(bytes, seconds),
      bpe::resolve_threads(args.threads),
      stats.tokens ? static_cast<double>(stats.bytes) / static_cast<double>(stats.tokens) : 0.0, args.out, args.out);
}

void run_tokenize(const TokenizeArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  const bpe::Tokenizer tokenizer = load_tokenizer_dir(args.tokenizer, args.special_tokens);
  check(std::filesystem::is_regular_file(args.input), "input '{}' does not exist or is not a file", args.input);
  ProgressBar bar("encode", ProgressBar::Unit::bytes);
  bpe::Tokenizer::FileOptions options;
  options.threads = args.threads;
  options.progress = [&](uint64_t done, uint64_t total) { bar.update(done, total); };
  const auto encode_start = std::chrono::steady_clock::now();
  const std::vector<int32_t> ids = tokenizer.encode_file(args.input, options);
  const double encode_seconds = seconds_since(encode_start);
  bar.finish();
  // The ids go straight into the output array, with no narrowed copy in between (there can be
  // hundreds of millions of them).
  const bool small_vocab = tokenizer.vocab_size() <= 65536;
  Tensor out = empty({static_cast<int64_t>(ids.size())}, small_vocab ? DType::u16 : DType::i32);
  if (small_vocab) std::copy(ids.begin(), ids.end(), out.data<uint16_t>());
  else std::copy(ids.begin(), ids.end(), out.data<int32_t>());
  save_npy(args.out, out);
  const double seconds = seconds_since(start);
  const uint64_t bytes = file_size(args.input);
  fmt::print(
      "tokenize: {} -> {} tokens in {:.2f} s (encoding {:.2f} s, {:.1f} MB/s, {} threads), {:.2f} bytes/token -> {} "
      "({})\n",
      human_bytes(bytes), ids.size(), seconds, encode_seconds, rate_mb_per_s(bytes, encode_seconds),
      bpe::resolve_threads(args.threads),
      ids.empty() ? 0.0 : static_cast<double>(bytes) / static_cast<double>(ids.size()), args.out,
      small_vocab ? "uint16" : "int32");
}

// The ids of a 1-D .npy of uint16, int32 or int64, each checked to be below `vocab_size`.
std::vector<int32_t> load_ids(const std::string& path, size_t vocab_size) {
  const Tensor tensor = load_npy(path);
  check(tensor.dim() == 1, "'{}' holds an array of shape {}; expected a 1-D array of token ids", path, tensor.shape());
  const Tensor ids = tensor.contiguous();
  std::vector<int32_t> out(static_cast<size_t>(ids.numel()));
  const auto copy = [&](const auto* data) {
    for (size_t k = 0; k < out.size(); ++k) {
      const int64_t id = static_cast<int64_t>(data[k]);
      check(id >= 0 && static_cast<uint64_t>(id) < vocab_size,
            "'{}': id {} at position {} is outside the vocabulary of {} tokens (0..{}); hint: decode with the "
            "tokenizer that made the ids",
            path, id, k, vocab_size, vocab_size - 1);
      out[k] = static_cast<int32_t>(id);
    }
  };
  switch (ids.dtype()) {
    case DType::u16:
      copy(ids.data<uint16_t>());
      break;
    case DType::i32:
      copy(ids.data<int32_t>());
      break;
    case DType::i64:
      copy(ids.data<int64_t>());
      break;
    default:
      fail("'{}' holds {} values; expected token ids as uint16, int32 or int64", path, ids.dtype());
  }
  return out;
}

void run_detokenize(const DetokenizeArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  const bpe::Tokenizer tokenizer = load_tokenizer_dir(args.tokenizer, {});
  const std::vector<int32_t> ids = load_ids(args.input, tokenizer.vocab_size());
  const std::string text = tokenizer.decode(ids);
  check(std::fwrite(text.data(), 1, text.size(), stdout) == text.size() && std::fflush(stdout) == 0,
        "cannot write the text to stdout");
  const double seconds = seconds_since(start);
  fmt::print(stderr, "detokenize: {} tokens -> {} in {:.2f} s ({:.1f} MB/s), {:.2f} bytes/token\n", ids.size(),
             human_bytes(text.size()), seconds, rate_mb_per_s(text.size(), seconds),
             ids.empty() ? 0.0 : static_cast<double>(text.size()) / static_cast<double>(ids.size()));
}

}  // namespace

void add_bpe_commands(CLI::App& app) {
  auto train = std::make_shared<TrainArgs>();
  CLI::App* cmd =
      app.add_subcommand("bpe-train", "Learn byte-level BPE merges; write DIR/vocab.json and DIR/merges.txt");
  cmd->add_option("--input", train->input, "training text (UTF-8; invalid bytes read as U+FFFD)")->required();
  cmd->add_option("--vocab-size", train->vocab_size, "tokens in the vocabulary: 256 bytes + special tokens + merges")
      ->required();
  cmd->add_option("--special-token", train->special_tokens, "a special token, e.g. <|endoftext|> (repeatable)");
  cmd->add_option("--out", train->out, "output directory (created if missing)")->required();
  cmd->add_option("--threads", train->threads, "threads for counting (default: all cores)");
  cmd->callback([train] { run_command("bpe-train", [&] { run_bpe_train(*train); }); });

  auto tokenize = std::make_shared<TokenizeArgs>();
  cmd = app.add_subcommand("tokenize", "Encode a text file into a 1-D .npy of token ids");
  cmd->add_option("--tokenizer", tokenize->tokenizer, "directory with vocab.json and merges.txt")->required();
  cmd->add_option("--special-token", tokenize->special_tokens,
                  "a special token beyond the vocabulary's added tokens (repeatable)");
  cmd->add_option("--input", tokenize->input, "text file")->required();
  cmd->add_option("--out", tokenize->out, "output .npy (uint16 for vocabularies up to 65536, else int32)")->required();
  cmd->add_option("--threads", tokenize->threads, "threads (default: all cores)");
  cmd->callback([tokenize] { run_command("tokenize", [&] { run_tokenize(*tokenize); }); });

  auto detokenize = std::make_shared<DetokenizeArgs>();
  cmd = app.add_subcommand("detokenize", "Decode a .npy of token ids; the text goes to stdout");
  cmd->add_option("--tokenizer", detokenize->tokenizer, "directory with vocab.json and merges.txt")->required();
  cmd->add_option("--input", detokenize->input, ".npy of ids (uint16, int32 or int64)")->required();
  cmd->callback([detokenize] { run_command("detokenize", [&] { run_detokenize(*detokenize); }); });
}

}  // namespace strata
