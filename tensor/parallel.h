// parallel.h: the thread configuration and the one parallel loop the tensor layer uses.
//
// Threads come from OpenMP. The count is set by the environment variable STRATA_NUM_THREADS
// (default: all cores) or by set_num_threads(). parallel_for splits [begin, end) into static
// chunks whose boundaries depend only on the range and `grain`, never on the thread count, and
// every output element is computed by exactly one chunk in a fixed order; so results are bitwise
// identical for 1 and N threads.
//
// There is one pool of threads: OpenBLAS is set to one thread when the count is first read, and
// matmul splits large GEMMs over parallel_for itself (linalg.cpp). Two pools (OpenMP's and
// OpenBLAS's) would oversubscribe the cores, and the idle one's spinning slows the busy one.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

namespace strata {

int get_num_threads();
void set_num_threads(int n);
// One line describing the configuration, e.g. "strata: 2 threads (OpenMP), OpenBLAS 0.3.21 ...".
std::string thread_info();

// True while the calling thread runs a chunk of a parallel_for that went through the thread pool
// (the parallel or the serial path of a range larger than one chunk). A parallel_for nested in such
// a chunk runs serially on the calling thread, and matmul leaves OpenBLAS's thread count alone.
bool in_parallel_region();

namespace detail {
void parallel_for_impl(int64_t begin, int64_t end, int64_t grain, void (*body)(void*, int64_t, int64_t),
                       void* context);
}

// Calls f(lo, hi) on disjoint chunks covering [begin, end), each of at most `grain` items, in
// parallel when the range is larger than one chunk.
// f may be a temporary or a named (lvalue) callable.
template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, F&& f) {
  using Body = std::remove_reference_t<F>;
  if (end <= begin) return;
  if (end - begin <= grain) {
    f(begin, end);
    return;
  }
  detail::parallel_for_impl(
      begin, end, grain, [](void* ctx, int64_t lo, int64_t hi) { (*static_cast<Body*>(ctx))(lo, hi); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

}  // namespace strata
