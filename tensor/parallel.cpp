// parallel.cpp: thread count, the OpenMP parallel loop, and OpenBLAS kept on one thread.
#include "tensor/parallel.h"

#include "tensor/error.h"

#include <omp.h>

#include <cstdlib>
#include <string>

extern "C" {
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
}

namespace strata {
namespace {

int initial_threads() {
  if (const char* env = std::getenv("STRATA_NUM_THREADS")) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    check(end != env && *end == '\0' && n >= 1 && n <= 1024,
          "STRATA_NUM_THREADS: expected a whole number from 1 to 1024, got '{}'", env);
    return static_cast<int>(n);
  }
  return omp_get_num_procs();
}

// The first read of the count also puts OpenBLAS on one thread for good (see parallel.h).
int& thread_count() {
  static int n = [] {
    openblas_set_num_threads(1);
    return initial_threads();
  }();
  return n;
}

thread_local bool t_in_region = false;

// Marks the current thread as running a parallel_for chunk; restores the previous state, so a
// nested serial loop does not clear its caller's mark.
class RegionMark {
 public:
  RegionMark() : saved_(t_in_region) { t_in_region = true; }
  ~RegionMark() { t_in_region = saved_; }
  RegionMark(const RegionMark&) = delete;
  RegionMark& operator=(const RegionMark&) = delete;

 private:
  bool saved_;
};

}  // namespace

int get_num_threads() { return thread_count(); }

void set_num_threads(int n) {
  check(n >= 1, "set_num_threads: need at least 1 thread, got {}", n);
  thread_count() = n;
}

std::string thread_info() {
  const int threads = get_num_threads(), blas_threads = openblas_get_num_threads();  // (in this order)
  return fmt::format("strata: {} thread{} (OpenMP; set STRATA_NUM_THREADS to change), BLAS: {} (called from "
                     "strata's threads, {} thread{} of its own)",
                     threads, threads == 1 ? "" : "s", openblas_get_config(), blas_threads,
                     blas_threads == 1 ? "" : "s");
}

bool in_parallel_region() { return t_in_region; }

namespace detail {
void parallel_for_impl(int64_t begin, int64_t end, int64_t grain, void (*body)(void*, int64_t, int64_t),
                       void* context) {
  const int64_t chunks = (end - begin + grain - 1) / grain;
  auto run_chunk = [&](int64_t c) {
    RegionMark mark;
    body(context, begin + c * grain, std::min(end, begin + (c + 1) * grain));
  };
  const int threads = in_parallel_region() ? 1 : get_num_threads();
  if (threads == 1) {
    for (int64_t c = 0; c < chunks; ++c) run_chunk(c);
    return;
  }
  // Exceptions must not escape an OpenMP region: keep the first and rethrow after it.
  std::exception_ptr error;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t c = 0; c < chunks; ++c) {
    try {
      run_chunk(c);
    } catch (...) {
#pragma omp critical(strata_parallel_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}
}  // namespace detail

}  // namespace strata
