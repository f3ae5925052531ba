// test_threads.cpp: results do not depend on the thread count.
//
// Every op below runs once with 1 thread and once with 2 on inputs large enough to span many
// parallel chunks (32768 elements each), and the two results must be bitwise equal. This holds
// by construction: chunk boundaries depend only on the sizes, each output element is computed by
// one chunk, and every reduction folds its elements in an order fixed by the shapes.
#include "tensor/ops.h"
#include "tensor/parallel.h"

#include "tests/testing/tensor_testing.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <vector>

using namespace strata;
using namespace strata::testing;

namespace {

// Runs f with 1 thread and with 2 (the thread count is restored afterwards).
void check_thread_independent(const char* what, const std::function<Tensor()>& f) {
  INFO(what);
  const Tensor one = with_threads(1, f);
  const Tensor two = with_threads(2, f);
  CHECK_TENSOR_BITWISE(one, two);
}

}  // namespace

TEST_CASE("elementwise ops give bitwise equal results with 1 and 2 threads") {
  const Tensor a = random_tensor({300, 1001}, DType::f32, -5, 5, 1);
  const Tensor b = random_tensor({300, 1001}, DType::f32, -5, 5, 2);
  const Tensor row = random_tensor({1001}, DType::f32, -5, 5, 3);
  check_thread_independent("add", [&] { return add(a, b); });
  check_thread_independent("exp", [&] { return exp(a); });
  check_thread_independent("silu of a transposed view", [&] { return silu(a.mT()); });
  check_thread_independent("mul with a broadcast row", [&] { return mul(a, row); });
  check_thread_independent("gelu of a step slice", [&] { return gelu(a.slice(1, 0, 1001, 3)); });
  check_thread_independent("where", [&] { return where(gt(a, b), a, b); });
  check_thread_independent("contiguous of a transpose", [&] { return a.mT().contiguous(); });
  check_thread_independent("add_ in place", [&] {
    Tensor c = a.clone();
    c.add_(b, 0.5);
    return c;
  });
}

TEST_CASE("reductions and softmax give bitwise equal results with 1 and 2 threads") {
  const Tensor x = random_tensor({512, 1000}, DType::f32, -10, 10, 4);
  const Tensor d = random_tensor({3, 400'000}, DType::f64, -1, 1, 5);
  check_thread_independent("sum over rows", [&] { return sum(x, {1}); });
  check_thread_independent("sum over columns", [&] { return sum(x, {0}); });
  check_thread_independent("sum of everything", [&] { return sum(x); });
  check_thread_independent("sum of long blocked rows", [&] { return sum(d, {1}); });
  check_thread_independent("sum over a transposed view", [&] { return sum(x.mT(), {0}); });
  check_thread_independent("mean", [&] { return mean(x, {1}); });
  check_thread_independent("var", [&] { return var(x, {0}); });
  check_thread_independent("amax", [&] { return amax(x, {1}); });
  check_thread_independent("argmax", [&] { return argmax(x, 1); });
  check_thread_independent("logsumexp", [&] { return logsumexp(x, {1}); });
  check_thread_independent("softmax over the last dim", [&] { return softmax(x, -1); });
  check_thread_independent("softmax over dim 0", [&] { return softmax(x, 0); });
  check_thread_independent("log_softmax", [&] { return log_softmax(x, -1); });
}

namespace {

// parallel_for on the current thread count: every index visited once, from a named lambda; chunks
// marked; nesting and exceptions leave the mark as it was.
void check_parallel_for() {
  std::vector<int> hits(1000, 0);
  std::vector<char> marked(1000, 0);
  auto body = [&](int64_t lo, int64_t hi) {  // a named lambda: passed as an lvalue
    for (int64_t i = lo; i < hi; ++i) {
      ++hits[static_cast<size_t>(i)];
      marked[static_cast<size_t>(i)] = in_parallel_region();
    }
  };
  parallel_for(0, 1000, 64, body);
  CHECK(std::count(hits.begin(), hits.end(), 1) == 1000);
  CHECK(std::count(marked.begin(), marked.end(), 1) == 1000);
  CHECK_FALSE(in_parallel_region());

  // A loop nested in a chunk runs serially and keeps the outer mark when it ends.
  std::vector<char> still_marked(16, 0);
  parallel_for(0, 16, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      parallel_for(0, 100, 10, [](int64_t, int64_t) {});
      still_marked[static_cast<size_t>(i)] = in_parallel_region();
    }
  });
  CHECK(std::count(still_marked.begin(), still_marked.end(), 1) == 16);

  // An exception thrown in a chunk reaches the caller, and the mark is cleared.
  CHECK_THROWS_WITH_AS(parallel_for(0, 100, 10,
                                    [](int64_t lo, int64_t) {
                                      if (lo == 50) throw Error("chunk 50 failed");
                                    }),
                       "chunk 50 failed", Error);
  CHECK_FALSE(in_parallel_region());
}

}  // namespace

TEST_CASE("parallel_for covers the range once, takes named lambdas, and marks its chunks") {
  for (int threads : {1, 2}) {
    INFO("threads = ", threads);
    with_threads(threads, check_parallel_for);
  }
}
