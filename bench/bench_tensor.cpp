// bench_tensor.cpp: the tensor layer's kernels against a direct peer, in one process, on the same
// buffers.
//
//   bench_tensor                 a readable table
//   bench_tensor --json          one JSON object per line:
//                                {"name", "ours_ms", "peer", "peer_ms", "ratio": peer_ms / ours_ms, ...}
//   bench_tensor --runs 21       timed runs per measurement (default 11); medians are reported
//   bench_tensor --filter matmul only the benchmarks whose name contains the text
//
// The peers:
//   matmul        the same cblas_sgemm call(s) on the same buffers, OpenBLAS threading them itself
//                 with as many threads as ours (strata keeps OpenBLAS on one thread and splits the
//                 work over its own; ratio 1 means the two do equally well). For the batch, the
//                 faster of a plain loop of cblas_sgemm calls (OpenBLAS threads inside each) and
//                 an OpenMP loop over the batch (BLAS single-threaded inside), both with the
//                 transpose flag.
//   elementwise   memcpy of the output's bytes: the floor for any op that streams through memory.
//                 GB/s counts the bytes each side reads and writes.
//   softmax, sum  a plain single-threaded scalar loop (double accumulation, like ours). It is a
//                 reference point, not a strong competitor: the ratio shows what threads and SIMD buy.
//   index ops     a plain loop (memcpy per row / scalar adds).
// ours and the peer alternate run by run, so machine noise falls on both alike. 2 cores here, noisy
// machine: repeat and compare medians.
#include "tensor/index.h"
#include "tensor/linalg.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"
#include "tensor/random.h"

#include <cblas.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

using namespace strata;

namespace {

struct Options {
  bool json = false;
  int runs = 11;
  std::string filter;
};

struct Row {
  std::string name;
  double ours_ms;
  std::string peer;
  double peer_ms;
  std::vector<std::pair<std::string, double>> extra;  // e.g. {"ours_gbps", 21.3}
};

double milliseconds(const std::function<void()>& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Who threads the peer: strata's OpenMP team (the default), or OpenBLAS itself. For the latter,
// OpenBLAS is set to strata's thread count around each peer call (strata keeps it on one thread,
// parallel.h), outside the timer; and since its idle threads spin for up to 2^28 cycles (~0.1 s)
// before they sleep, which would slow whatever runs next on the 2 cores, the benchmark then waits
// (untimed) until they sleep.
enum class PeerThreads { strata, openblas };

// Medians of `runs` alternating timings of ours and peer. Each timed run follows an untimed run
// of the same side (first-touch page faults, the allocator's cache, thread start-up).
std::pair<double, double> time_pair(const Options& opt, const std::function<void()>& ours,
                                    const std::function<void()>& peer, PeerThreads peer_threads = PeerThreads::strata) {
  const bool openblas = peer_threads == PeerThreads::openblas;
  auto run_peer = [&](bool timed) {
    if (openblas) openblas_set_num_threads(get_num_threads());
    const double ms = timed ? milliseconds(peer) : (peer(), 0.0);
    if (openblas) {
      openblas_set_num_threads(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return ms;
  };
  std::vector<double> a, b;
  for (int r = 0; r < opt.runs; ++r) {
    ours();
    a.push_back(milliseconds(ours));
    run_peer(false);
    b.push_back(run_peer(true));
  }
  return {median(a), median(b)};
}

void print_row(const Options& opt, const Row& row) {
  const double ratio = row.peer_ms / row.ours_ms;
  if (opt.json) {
    nlohmann::ordered_json j;
    j["name"] = row.name;
    j["ours_ms"] = std::round(row.ours_ms * 1e4) / 1e4;
    j["peer"] = row.peer;
    j["peer_ms"] = std::round(row.peer_ms * 1e4) / 1e4;
    j["ratio"] = std::round(ratio * 1e3) / 1e3;
    for (const auto& [key, value] : row.extra) j[key] = std::round(value * 100) / 100;
    fmt::print("{}\n", j.dump());
  } else {
    std::string extra;
    for (const auto& [key, value] : row.extra) extra += fmt::format("  {} {:.1f}", key, value);
    fmt::print("{:<44} {:>10.3f} {:>10.3f} {:>7.3f}  {}{}\n", row.name, row.ours_ms, row.peer_ms, ratio, row.peer,
               extra);
  }
  std::fflush(stdout);
}

bool wanted(const Options& opt, const std::string& name) {
  return opt.filter.empty() || name.find(opt.filter) != std::string::npos;
}

// ---- matmul ------------------------------------------------------------------------------------

// x (M, K) @ W.mT() with W (N, K): the layout of a Linear layer; BLAS gets W with the transpose flag.
void bench_linear(const Options& opt, int64_t M, int64_t K, int64_t N) {
  const std::string name = fmt::format("matmul {}x{}x{} x @ W.mT()", M, K, N);
  if (!wanted(opt, name)) return;
  Generator gen(1);
  const Tensor x = uniform({M, K}, -1, 1, DType::f32, &gen), w = uniform({N, K}, -1, 1, DType::f32, &gen);
  Tensor out;
  std::vector<float> c(M * N);
  auto [ours, peer] = time_pair(
      opt, [&] { out = matmul(x, w.mT()); },
      [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(M), int(N), int(K), 1.0f, x.data<float>(), int(K),
                    w.data<float>(), int(K), 0.0f, c.data(), int(N));
      },
      PeerThreads::openblas);
  const double gflop = 2.0 * M * K * N / 1e9;
  print_row(opt, {name, ours, "cblas_sgemm", peer, {{"ours_gflops", gflop / (ours / 1e3)}}});
}

// q (B, T, hs) @ k.mT(): the attention scores of B = batch * heads small GEMMs.
void bench_batched(const Options& opt, int64_t B, int64_t T, int64_t hs) {
  const std::string name = fmt::format("matmul {} x {}x{}x{} q @ k.mT()", B, T, hs, T);
  if (!wanted(opt, name)) return;
  Generator gen(2);
  const Tensor q = uniform({B, T, hs}, -1, 1, DType::f32, &gen), k = uniform({B, T, hs}, -1, 1, DType::f32, &gen);
  Tensor out;
  std::vector<float> c(B * T * T);
  auto one = [&](int64_t i) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(T), int(T), int(hs), 1.0f, q.data<float>() + i * T * hs,
                int(hs), k.data<float>() + i * T * hs, int(hs), 0.0f, c.data() + i * T * T, int(T));
  };
  auto ours_fn = [&] { out = matmul(q, k.mT()); };
  auto [ours_a, loop] = time_pair(
      opt, ours_fn, [&] {
        for (int64_t i = 0; i < B; ++i) one(i);
      },
      PeerThreads::openblas);
  auto [ours_b, omp] = time_pair(opt, ours_fn, [&] {
#pragma omp parallel for schedule(static) num_threads(get_num_threads())
    for (int64_t i = 0; i < B; ++i) one(i);
  });
  const double ours = median({ours_a, ours_b});
  const bool omp_faster = omp < loop;
  const double gflop = 2.0 * B * T * hs * T / 1e9;
  print_row(opt, {name, ours,
                  omp_faster ? "cblas_sgemm x B, OpenMP over batch" : "cblas_sgemm x B, loop (BLAS threads)",
                  std::min(omp, loop), {{"ours_gflops", gflop / (ours / 1e3)}}});
}

// ---- elementwise ---------------------------------------------------------------------------------

void bench_elementwise(const Options& opt, int64_t n) {
  Generator gen(3);
  const Tensor a = uniform({n}, -4, 4, DType::f32, &gen), b = uniform({n}, -4, 4, DType::f32, &gen);
  std::vector<float> dst(n);
  struct Op {
    const char* name;
    int operands;  // inputs read
    std::function<Tensor()> run;
  };
  const Op ops[] = {{"add", 2, [&] { return add(a, b); }},
                    {"mul", 2, [&] { return mul(a, b); }},
                    {"exp", 1, [&] { return exp(a); }},
                    {"silu", 1, [&] { return silu(a); }}};
  for (const Op& op : ops) {
    const std::string name = fmt::format("{} f32 x {:.1f}M", op.name, n / 1e6);
    if (!wanted(opt, name)) continue;
    Tensor out;
    auto [ours, peer] = time_pair(
        opt, [&] { out = op.run(); }, [&] { std::memcpy(dst.data(), a.data<float>(), n * sizeof(float)); });
    const double gb = n * sizeof(float) / 1e9;  // one array
    print_row(opt, {name, ours, "memcpy", peer,
                    {{"ours_gbps", (op.operands + 1) * gb / (ours / 1e3)}, {"peer_gbps", 2 * gb / (peer / 1e3)}}});
  }
}

// ---- reductions over the last dim ------------------------------------------------------------------

void scalar_softmax(const float* x, float* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float m = xr[0];
    for (int64_t j = 1; j < cols; ++j) m = std::max(m, xr[j]);
    double s = 0;
    for (int64_t j = 0; j < cols; ++j) s += yr[j] = std::exp(xr[j] - m);
    const float inv = float(1 / s);
    for (int64_t j = 0; j < cols; ++j) yr[j] *= inv;
  }
}

void scalar_sum(const float* x, float* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    double s = 0;
    for (int64_t j = 0; j < cols; ++j) s += x[r * cols + j];
    y[r] = float(s);
  }
}

void bench_rows(const Options& opt, int64_t rows, int64_t cols) {
  Generator gen(4);
  const Tensor x = uniform({rows, cols}, -4, 4, DType::f32, &gen);
  std::vector<float> y(rows * cols);
  const float* px = x.data<float>();
  Tensor out;
  const std::string softmax_name = fmt::format("softmax last dim ({}, {})", rows, cols);
  if (wanted(opt, softmax_name)) {
    auto [ours, peer] = time_pair(
        opt, [&] { out = softmax(x, -1); }, [&] { scalar_softmax(px, y.data(), rows, cols); });
    print_row(opt, {softmax_name, ours, "scalar loop, 1 thread", peer, {}});
  }
  const std::string sum_name = fmt::format("sum last dim ({}, {})", rows, cols);
  if (wanted(opt, sum_name)) {
    auto [ours, peer] = time_pair(
        opt, [&] { out = sum(x, {-1}); }, [&] { scalar_sum(px, y.data(), rows, cols); });
    print_row(opt, {sum_name, ours, "scalar loop, 1 thread", peer, {}});
  }
}

// ---- indexing: the embedding lookup and its backward ----------------------------------------------------

void bench_embedding(const Options& opt, int64_t vocab, int64_t dim, int64_t tokens) {
  Generator gen(5);
  const Tensor table = uniform({vocab, dim}, -1, 1, DType::f32, &gen);  // (V, C)
  const Tensor ids = randint(0, vocab, {tokens}, DType::i64, &gen);      // (N,)
  const Tensor grad = uniform({tokens, dim}, -1, 1, DType::f32, &gen);   // (N, C)
  const int64_t* pid = ids.data<int64_t>();
  std::vector<float> buf(std::max(vocab, tokens) * dim);
  Tensor out;
  const std::string lookup = fmt::format("index_select ({}, {}) by {} ids", vocab, dim, tokens);
  if (wanted(opt, lookup)) {
    auto [ours, peer] = time_pair(opt, [&] { out = index_select(table, 0, ids); }, [&] {
      for (int64_t i = 0; i < tokens; ++i)
        std::memcpy(buf.data() + i * dim, table.data<float>() + pid[i] * dim, dim * sizeof(float));
    });
    print_row(opt, {lookup, ours, "memcpy per row, 1 thread", peer, {}});
  }
  const std::string backward = fmt::format("index_add ({}, {}) from {} rows", vocab, dim, tokens);
  if (wanted(opt, backward)) {
    const Tensor zero = zeros({vocab, dim});
    auto [ours, peer] = time_pair(opt, [&] { out = index_add(zero, 0, ids, grad); }, [&] {
      std::fill_n(buf.data(), vocab * dim, 0.0f);
      const float* g = grad.data<float>();
      for (int64_t i = 0; i < tokens; ++i)
        for (int64_t j = 0; j < dim; ++j) buf[pid[i] * dim + j] += g[i * dim + j];
    });
    print_row(opt, {backward, ours, "zero + scalar adds, 1 thread", peer, {}});
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json") {
      opt.json = true;
    } else if (arg == "--runs" && i + 1 < argc) {
      opt.runs = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--filter" && i + 1 < argc) {
      opt.filter = argv[++i];
    } else {
      fmt::print(stderr, "usage: bench_tensor [--json] [--runs N] [--filter TEXT]\n");
      return 2;
    }
  }
  // The configuration goes to stderr under --json, so stdout stays one JSON object per line.
  fmt::print(opt.json ? stderr : stdout, "{}\n", thread_info());
  if (!opt.json)
    fmt::print("{:<44} {:>10} {:>10} {:>7}  {}\n", "benchmark (medians)", "ours ms", "peer ms", "ratio", "peer");

  for (auto [m, k, n] : {std::array<int64_t, 3>{2048, 512, 512}, {2048, 512, 1344}, {2048, 1344, 512},
                         {2048, 512, 10000}})
    bench_linear(opt, m, k, n);
  bench_batched(opt, 128, 256, 32);
  bench_elementwise(opt, 22'700'000);
  bench_rows(opt, 8 * 16 * 256, 256);
  bench_rows(opt, 2048, 10000);
  bench_embedding(opt, 10000, 512, 16384);
  return 0;
}
