// bpe_bench.cpp: speed of BPE training and encoding against their usual peers.
//
//   bench/bpe_bench.sh [--runs N] [--peer-runs N]      (installs tiktoken, builds, runs with --json)
//   build/bench/bpe_bench [--json] [--runs N] [--peer-runs N] [--no-peers] [--tinystories FILE]
//                         [--fortunes DIR]
//
// Cases (one JSON line each with --json: {"name", "ours_ms", "peer", "peer_ms", "ratio"}, where
// ratio = peer_ms / ours_ms, the speed-up; times are medians of several runs in this one run):
//   train_tinystories_10k       train vocab 10,000 + <|endoftext|> on TinyStories train.txt (8.8 MB),
//   train_tinystories_x8_10k    ... on 8 copies of it (70 MB), both with 2 threads, against
//                               bench/bpe_reference_train.py (Python `regex`, 2 processes, incremental
//                               pair counts and a heap);
//   encode_tinystories_gpt2     GPT-2 encoding of train.txt on one thread,
//   encode_fortunes_gpt2        ... of the text of Debian's `fortunes` (a far richer vocabulary),
//                               against tiktoken's `gpt2` (npm `tiktoken`, bench/bpe_tiktoken.cjs).
// Each case also checks that both sides agree (same merges; same number of ids and id checksum) and
// prints the check on stderr. Without node's tiktoken or /usr/bin/python3 the peer is skipped.
#include "bpe/tokenizer.h"
#include "bpe/train.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using strata::bpe::BpeModel;
using strata::bpe::Tokenizer;

const std::string kBenchDir = STRATA_BENCH_DIR;  // the source folder of this file
const std::string kSourceDir = STRATA_SOURCE_DIR;

struct Settings {
  bool json = false;
  int runs = 5;
  int peer_runs = 3;
  bool peers = true;
  std::string tinystories = "/work/shared/data/tinystories/train.txt";
  std::string fortunes = "/usr/share/games/fortunes";
  std::string work = (fs::temp_directory_path() / "strata_bpe_bench").string();
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double time_ms(const std::function<void()>& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return std::move(s).str();
}

// Runs a shell command and returns its stdout, or nullopt when it fails.
std::optional<std::string> run(const std::string& command) {
  std::FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string out;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  if (pclose(pipe) != 0) return std::nullopt;
  return out;
}

std::string quote(const std::string& s) { return "'" + s + "'"; }

void report(const Settings& settings, const std::string& name, double ours_ms, const std::string& peer,
            std::optional<double> peer_ms, const std::string& unit_note) {
  if (settings.json) {
    nlohmann::json line = {{"name", name}, {"ours_ms", ours_ms}, {"peer", peer}};
    line["peer_ms"] = peer_ms ? nlohmann::json(*peer_ms) : nlohmann::json(nullptr);
    line["ratio"] = peer_ms ? nlohmann::json(*peer_ms / ours_ms) : nlohmann::json(nullptr);
    fmt::print("{}\n", line.dump());
  } else {
    fmt::print("{:<28} ours {:9.1f} ms   {:<22} {:>9} ms   x{:<7} {}\n", name, ours_ms, peer,
               peer_ms ? fmt::format("{:.1f}", *peer_ms) : "-",
               peer_ms ? fmt::format("{:.1f}", *peer_ms / ours_ms) : "-", unit_note);
  }
  std::fflush(stdout);
}

std::string hex(std::string_view bytes) {
  std::string out;
  for (unsigned char b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

void bench_training(const Settings& settings, const std::string& name, const std::string& path) {
  strata::bpe::TrainOptions options;
  options.vocab_size = 10000;
  options.special_tokens = {"<|endoftext|>"};
  options.threads = 2;
  std::vector<double> ours;
  BpeModel model;
  for (int r = 0; r < settings.runs; ++r)
    ours.push_back(time_ms([&] { model = strata::bpe::train_bpe(path, options); }));
  const double bytes = static_cast<double>(fs::file_size(path));

  std::vector<double> peer;
  const std::string merges_path = settings.work + "/" + name + ".python_merges.txt";
  for (int r = 0; settings.peers && r < settings.peer_runs; ++r) {
    const auto out =
        run(fmt::format("/usr/bin/python3 {} --input {} --vocab-size 10000 --special-token '<|endoftext|>' "
                        "--processes 2 --merges-out {}",
                        quote(kBenchDir + "/bpe_reference_train.py"), quote(path), quote(merges_path)));
    if (!out) break;
    peer.push_back(nlohmann::json::parse(*out)["ms"].get<double>());
  }
  if (!peer.empty()) {
    std::string ours_merges;
    for (const auto& [a, b] : model.merges) ours_merges += hex(a) + " " + hex(b) + "\n";
    const bool same = ours_merges == read_file(merges_path);
    fmt::print(stderr, "check {}: {} merges, {} Python's\n", name, model.merges.size(),
               same ? "identical to" : "DIFFERENT FROM");
  }
  report(settings, name, median(ours), "python_regex_2proc", peer.empty() ? std::nullopt : std::optional(median(peer)),
         fmt::format("({:.1f} MB/s ours)", bytes / 1e3 / median(ours)));
}

uint32_t fnv1a(const std::vector<int32_t>& ids) {
  uint32_t h = 0x811c9dc5u;
  for (int32_t id : ids) h = (h ^ static_cast<uint32_t>(id)) * 0x01000193u;
  return h;
}

void bench_encoding(const Settings& settings, const Tokenizer& tokenizer, const std::string& name,
                    const std::string& path) {
  const std::string text = read_file(path);
  std::vector<double> ours;
  std::vector<int32_t> ids;
  for (int r = 0; r < settings.runs; ++r) ours.push_back(time_ms([&] { ids = tokenizer.encode(text); }));

  std::optional<double> peer_ms;
  if (!settings.peers) {
  } else if (fs::exists(kBenchDir + "/node_modules/tiktoken")) {
    const auto out =
        run(fmt::format("node {} {} {}", quote(kBenchDir + "/bpe_tiktoken.cjs"), quote(path), settings.peer_runs));
    if (out) {
      const auto peer = nlohmann::json::parse(*out);
      peer_ms = peer["ms"].get<double>();
      const bool same = peer["tokens"].get<size_t>() == ids.size() && peer["checksum"].get<uint32_t>() == fnv1a(ids);
      fmt::print(stderr, "check {}: {} ids, {} tiktoken's\n", name, ids.size(),
                 same ? "identical to" : "DIFFERENT FROM");
    }
  } else {
    fmt::print(stderr, "{}: no {}/node_modules/tiktoken; run bench/bpe_bench.sh to install it\n", name, kBenchDir);
  }
  const double mb = static_cast<double>(text.size()) / 1e6;
  report(settings, name, median(ours), "tiktoken_wasm_1thread", peer_ms,
         fmt::format("({:.1f} MB/s ours{})", mb * 1e3 / median(ours),
                     peer_ms ? fmt::format(", {:.1f} MB/s tiktoken", mb * 1e3 / *peer_ms) : ""));
}

// Concatenates the files (sorted by name) into `out`, `copies` times.
void concatenate(const std::vector<std::string>& inputs, int copies, const std::string& out) {
  std::ofstream file(out, std::ios::binary);
  for (int c = 0; c < copies; ++c) {
    for (const std::string& input : inputs) file << read_file(input);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (arg == "--json")
      settings.json = true;
    else if (arg == "--runs")
      settings.runs = std::max(1, std::stoi(value()));
    else if (arg == "--peer-runs")
      settings.peer_runs = std::max(1, std::stoi(value()));
    else if (arg == "--no-peers")
      settings.peers = false;
    else if (arg == "--tinystories")
      settings.tinystories = value();
    else if (arg == "--fortunes")
      settings.fortunes = value();
    else {
      fmt::print(
          stderr,
          "usage: bpe_bench [--json] [--runs N] [--peer-runs N] [--no-peers] [--tinystories FILE] [--fortunes DIR]\n");
      return 2;
    }
  }
  if (!fs::exists(settings.tinystories)) {  // the 8.8 MB corpus is not in the repository: its 3 MB sample is
    fmt::print(stderr, "{} not found; using the repository's sample instead\n", settings.tinystories);
    settings.tinystories = kSourceDir + "/data/tinystories/train.txt";
  }
  fs::create_directories(settings.work);
  const std::string x8 = settings.work + "/tinystories_x8.txt";
  concatenate({settings.tinystories}, 8, x8);
  std::vector<std::string> fortune_files;
  for (const auto& entry : fs::directory_iterator(settings.fortunes)) {
    const std::string ext = entry.path().extension().string();
    if (entry.is_regular_file() && !entry.is_symlink() && ext != ".dat" && ext != ".u8") {
      fortune_files.push_back(entry.path().string());
    }
  }
  std::sort(fortune_files.begin(), fortune_files.end());
  const std::string fortunes = settings.work + "/fortunes.txt";
  concatenate(fortune_files, 1, fortunes);
  fmt::print(stderr, "corpora: {} ({} bytes), {} ({} bytes), {} ({} bytes, {} fortune files)\n", settings.tinystories,
             fs::file_size(settings.tinystories), x8, fs::file_size(x8), fortunes, fs::file_size(fortunes),
             fortune_files.size());

  bench_training(settings, "train_tinystories_10k", settings.tinystories);
  bench_training(settings, "train_tinystories_x8_10k", x8);
  const std::string fixtures = kSourceDir + "/tests/fixtures/bpe";
  const Tokenizer gpt2 =
      Tokenizer::from_files(fixtures + "/gpt2_vocab.json", fixtures + "/gpt2_merges.txt", {"<|endoftext|>"});
  bench_encoding(settings, gpt2, "encode_tinystories_gpt2", settings.tinystories);
  bench_encoding(settings, gpt2, "encode_fortunes_gpt2", fortunes);
  return 0;
}
