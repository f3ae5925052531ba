// bench_lm.cpp: forward + backward time of the CS336 TinyStories Transformer LM, ours vs PyTorch.
//
// Config (the handout's TinyStories model): V=10000, T=256, d_model=512, L=4, H=16, d_ff=1344,
// batch B=8. One iteration = forward to the mean cross-entropy loss + backward to every parameter
// gradient. The median of --runs iterations (after one warm-up) is reported for each thread count
// given with --threads (default: 1 and all cores), with the process's peak RSS at the end.
//
// The PyTorch peer is bench/bench_lm_torch.py (same model, same shapes, torch.set_num_threads),
// run separately:  /usr/bin/python3 bench/bench_lm_torch.py --threads 1 2
// With --json each result is one line {"name", "ours_ms", "threads", "peak_rss_mb"}.
#include "autograd/functions.h"
#include "nn/transformer.h"
#include "tensor/parallel.h"
#include "tensor/random.h"

#include <fmt/core.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

using namespace strata;

namespace {

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  int runs = 5;
  std::vector<int> thread_counts;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json")) {
      json = true;
    } else if (!std::strcmp(argv[i], "--runs") && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--threads")) {
      while (i + 1 < argc && argv[i + 1][0] != '-') thread_counts.push_back(std::atoi(argv[++i]));
    } else {
      fmt::print(stderr, "usage: bench_lm [--json] [--runs N] [--threads N ...]\n");
      return 2;
    }
  }
  if (thread_counts.empty()) thread_counts = {1, get_num_threads()};
  if (!json) fmt::print("{}\n", thread_info());

  ModelConfig config;
  config.vocab_size = 10000;
  config.context_length = 256;
  config.d_model = 512;
  config.num_layers = 4;
  config.num_heads = 16;
  config.d_ff = 1344;
  const int64_t B = 8, T = 256;

  Generator gen(0);
  TransformerLM model(config, &gen);
  Tensor ids = randint(0, config.vocab_size, {B, T + 1}, DType::i64, &gen);  // (B, T + 1)
  Tensor inputs = ids.narrow(1, 0, T).contiguous();                          // (B, T)
  Tensor targets = ids.narrow(1, 1, T).contiguous();                         // (B, T)

  for (int threads : thread_counts) {
    set_num_threads(threads);
    std::vector<double> times;
    for (int r = 0; r <= runs; ++r) {  // r == 0 is the warm-up
      auto start = std::chrono::steady_clock::now();
      Variable loss = cross_entropy(model(inputs), targets);
      backward(loss);
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      model.zero_grad();
      if (r > 0) times.push_back(ms);
    }
    double ms = median(times);
    if (json) {
      fmt::print("{{\"name\": \"lm_forward_backward_B8_T256\", \"ours_ms\": {:.2f}, \"threads\": {}, "
                 "\"peak_rss_mb\": {:.1f}}}\n", ms, threads, peak_rss_mb());
    } else {
      fmt::print("forward+backward, B={} T={} d={} L={} H={} d_ff={} V={}: {:.1f} ms median of {} ({} thread{})\n", B,
                 T, config.d_model, config.num_layers, config.num_heads, config.d_ff, config.vocab_size, ms, runs,
                 threads, threads == 1 ? "" : "s");
    }
  }
  if (!json) fmt::print("peak RSS: {:.1f} MB\n", peak_rss_mb());
  return 0;
}
