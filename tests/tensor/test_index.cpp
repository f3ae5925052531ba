// test_index.cpp: cat, stack, split, chunk, gather, index_select, scatter_add, index_add,
// masked_fill, tril, triu, one_hot: expected values (all exact: these ops only move or add
// small integers), negative dims, non-contiguous inputs, error messages, and 1 vs 2 threads
// bitwise equal for the adds.
#include "tensor/index.h"

#include "tensor/random.h"
#include "tests/testing/tensor_testing.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

using namespace strata;
using namespace strata::testing;

namespace {

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

}  // namespace

TEST_CASE("cat joins along any dim") {
  const Tensor a = iota({2, 3}), b = iota({2, 3}).add_(100.0), c = iota({1, 3}).add_(200.0);
  SUBCASE("dim 0") {
    const Tensor out = cat({a, c}, 0);
    CHECK(out.shape() == Shape{3, 3});
    CHECK(values(out) == std::vector<double>{0, 1, 2, 3, 4, 5, 200, 201, 202});
  }
  SUBCASE("dim -1 with a transposed input") {
    const Tensor out = cat({a, b, iota({3, 2}).mT()}, -1);
    CHECK(out.shape() == Shape{2, 9});
    CHECK(values(out) == std::vector<double>{0, 1, 2, 100, 101, 102, 0, 2, 4, 3, 4, 5, 103, 104, 105, 1, 3, 5});
  }
  SUBCASE("empty pieces") { CHECK(values(cat({a, iota({0, 3})}, 0)) == values(a)); }
  SUBCASE("errors") {
    CHECK_THROWS_WITH_AS(cat({a, iota({2, 4})}, 0),
                         "cat: tensor 1 has shape [2, 4] but tensor 0 has [2, 3]; all dims except dim 0 must match",
                         Error);
    CHECK_THROWS_WITH_AS(cat({a, a.to(DType::f64)}, 0),
                         "cat: tensor 1 is float64 but tensor 0 is float32; hint: convert with .to()", Error);
    CHECK_THROWS_WITH_AS(cat({}, 0), "cat: needs at least one tensor", Error);
    CHECK_THROWS_WITH_AS(cat({a}, 2),
                         "cat: dim 2 is out of range for a tensor with 2 dimensions (valid: -2 to 1)", Error);
  }
}

TEST_CASE("stack adds a new dim") {
  const Tensor a = iota({2, 2}), b = iota({2, 2}).add_(10.0);
  CHECK(stack({a, b}, 0).shape() == Shape{2, 2, 2});
  CHECK(values(stack({a, b}, 0)) == std::vector<double>{0, 1, 2, 3, 10, 11, 12, 13});
  CHECK(values(stack({a, b}, -1)) == std::vector<double>{0, 10, 1, 11, 2, 12, 3, 13});
  CHECK(stack({a, b}, -1).shape() == Shape{2, 2, 2});
  CHECK_THROWS_WITH_AS(stack({a, iota({2, 3})}, 0),
                       "stack: tensor 1 has shape [2, 3] but tensor 0 has [2, 2]; stack needs equal shapes", Error);
}

TEST_CASE("split and chunk return views") {
  const Tensor x = iota({10, 2});
  SUBCASE("by size: the last piece is shorter") {
    const auto parts = split(x, 4, 0);
    REQUIRE(parts.size() == 3);
    CHECK(parts[0].shape() == Shape{4, 2});
    CHECK(parts[2].shape() == Shape{2, 2});
    CHECK(values(parts[2]) == std::vector<double>{16, 17, 18, 19});
    CHECK(parts[1].shares_storage(x));
  }
  SUBCASE("by sizes, negative dim") {
    const auto parts = split(x, std::vector<int64_t>{1, 1}, -1);
    REQUIRE(parts.size() == 2);
    CHECK(values(parts[1]) == std::vector<double>{1, 3, 5, 7, 9, 11, 13, 15, 17, 19});
    CHECK_THROWS_WITH_AS(split(x, std::vector<int64_t>{3, 4}, 0),
                         "split: sizes [3, 4] add up to 7 but x[10, 2] has 10 along dim 0", Error);
    CHECK_THROWS_WITH_AS(split(x, 0, 0), "split: split_size must be positive, got 0 for x[10, 2]", Error);
  }
  SUBCASE("chunk: pieces of ceil(size / chunks), like torch.chunk") {
    auto sizes = [](const std::vector<Tensor>& parts) {
      std::vector<int64_t> s;
      for (const Tensor& p : parts) s.push_back(p.size(0));
      return s;
    };
    CHECK(sizes(chunk(x, 4)) == std::vector<int64_t>{3, 3, 3, 1});
    CHECK(sizes(chunk(iota({6}), 4)) == std::vector<int64_t>{2, 2, 2});  // only 3 pieces, as in torch
    CHECK(sizes(chunk(x, 5)) == std::vector<int64_t>{2, 2, 2, 2, 2});
    CHECK_THROWS_WITH_AS(chunk(x, 0), "chunk: the number of chunks must be positive, got 0", Error);
  }
}

TEST_CASE("gather picks along dim") {
  // torch.gather's documentation example: x = [[1, 2], [3, 4]], index = [[0, 0], [1, 0]], dim 1.
  const Tensor x = tensor({1, 2, 3, 4}, {2, 2});
  CHECK(values(gather(x, 1, tensor({0, 0, 1, 0}, {2, 2}, DType::i64))) == std::vector<double>{1, 1, 4, 3});
  CHECK(values(gather(x, -1, tensor({0, 0, 1, 0}, {2, 2}, DType::i32))) == std::vector<double>{1, 1, 4, 3});
  CHECK(values(gather(x, 0, tensor({1, 0}, {1, 2}, DType::i64))) == std::vector<double>{3, 2});
  SUBCASE("a transposed x and a smaller index (the cross-entropy pick)") {
    const Tensor logits = iota({3, 4}).mT();  // (4, 3), element [i][j] = 4*j + i
    const Tensor picked = gather(logits, 0, tensor({3, 0, 2}, {1, 3}, DType::i64));
    CHECK(values(picked) == std::vector<double>{3, 4, 10});
  }
  SUBCASE("errors") {
    CHECK_THROWS_WITH_AS(gather(x, 1, tensor({0, 2}, {1, 2}, DType::i64)),
                         "gather: index 2 is out of range for dim 1 with size 2; hint: valid indices are 0 to 1",
                         Error);
    CHECK_THROWS_WITH_AS(gather(x, 1, tensor({-1, 0}, {1, 2}, DType::i64)),
                         "gather: index -1 is out of range for dim 1 with size 2; hint: valid indices are 0 to 1",
                         Error);
    CHECK_THROWS_WITH_AS(gather(x, 1, tensor({0, 1}, {2}, DType::i64)),
                         "gather: the index[2] needs as many dims as x[2, 2]", Error);
    CHECK_THROWS_WITH_AS(gather(x, 1, tensor({0, 1}, {2}, DType::f32).view({1, 2})),
                         "gather: the index must be int64 or int32, got float32 index[1, 2]; hint: convert with "
                         ".to(DType::i64)", Error);
    CHECK_THROWS_WITH_AS(gather(x, 1, zeros({3, 1}, DType::i64)),
                         "gather: index[3, 1] is larger than x[2, 2] at dim 0; hint: only dim 1 may be larger",
                         Error);
  }
}

TEST_CASE("index_select: rows by an index of any shape (embedding lookup)") {
  const Tensor w = iota({5, 3});  // (V, C): row v is 3v, 3v+1, 3v+2
  SUBCASE("1-D index along dim 0 and dim 1") {
    CHECK(values(index_select(w, 0, tensor({4, 0, 4}, DType::i64))) ==
          std::vector<double>{12, 13, 14, 0, 1, 2, 12, 13, 14});
    CHECK(values(index_select(w, -1, tensor({2, 0}, DType::i32))) ==
          std::vector<double>{2, 0, 5, 3, 8, 6, 11, 9, 14, 12});
  }
  SUBCASE("2-D ids give ids.shape + (C,)") {
    const Tensor out = index_select(w, 0, tensor({1, 3, 0, 1}, {2, 2}, DType::i64));
    CHECK(out.shape() == Shape{2, 2, 3});
    CHECK(values(out) == std::vector<double>{3, 4, 5, 9, 10, 11, 0, 1, 2, 3, 4, 5});
  }
  SUBCASE("index in the middle: x (2, 5, 3), ids (2, 2) along dim 1 -> (2, 2, 2, 3)") {
    const Tensor x = iota({2, 5, 3});
    const Tensor out = index_select(x, 1, tensor({4, 0, 1, 1}, {2, 2}, DType::i64));
    CHECK(out.shape() == Shape{2, 2, 2, 3});
    for (int64_t a = 0; a < 2; ++a)
      for (int64_t i = 0; i < 2; ++i)
        for (int64_t j = 0; j < 2; ++j)
          for (int64_t c = 0; c < 3; ++c) {
            const int64_t id = std::vector<int64_t>{4, 0, 1, 1}[i * 2 + j];
            CHECK(out.at<double>({a, i, j, c}) == x.at<double>({a, id, c}));
          }
  }
  SUBCASE("a 0-d index drops the dim; a strided table and index") {
    CHECK(values(index_select(w, 0, scalar_tensor(2, DType::i64))) == std::vector<double>{6, 7, 8});
    const Tensor wt = iota({3, 5}).mT();  // (5, 3) with strides (1, 5)
    const Tensor ids = tensor({0, 9, 4, 9, 1}, DType::i64).slice(0, 0, 5, 2);  // [0, 4, 1]
    CHECK(values(index_select(wt, 0, ids)) == std::vector<double>{0, 5, 10, 4, 9, 14, 1, 6, 11});
  }
  SUBCASE("large: parallel rows equal a plain loop") {
    Generator gen(7);
    const Tensor table = uniform({1000, 64}, -1, 1, DType::f32, &gen);
    const Tensor ids = randint(0, 1000, {64, 96}, DType::i64, &gen);
    const Tensor out = index_select(table, 0, ids);  // (64, 96, 64)
    const std::vector<float> t = table.to_vector<float>(), o = out.to_vector<float>();
    const std::vector<int64_t> id = ids.to_vector<int64_t>();
    bool same = true;
    for (size_t r = 0; r < id.size(); ++r)
      for (size_t c = 0; c < 64; ++c) same = same && o[r * 64 + c] == t[id[r] * 64 + c];
    CHECK(same);
  }
  SUBCASE("errors") {
    CHECK_THROWS_WITH_AS(index_select(w, 0, tensor({1, 5}, DType::i64)),
                         "index_select: index 5 is out of range for dim 0 with size 5; hint: valid indices are 0 "
                         "to 4", Error);
    CHECK_THROWS_WITH_AS(index_select(w, 2, tensor({1}, DType::i64)),
                         "index_select: dim 2 is out of range for a tensor with 2 dimensions (valid: -2 to 1)",
                         Error);
    CHECK_THROWS_WITH_AS(index_select(iota({2, 2, 2, 2, 2}), 0, zeros({2, 2, 2, 2, 2}, DType::i64)),
                         "index_select: x[2, 2, 2, 2, 2] with an index[2, 2, 2, 2, 2] would give 9 dims, more than "
                         "8; hint: flatten the index first", Error);
  }
}

TEST_CASE("scatter_add adds src at the index positions (the adjoint of gather)") {
  // torch.scatter_add's documentation example: src = ones(2, 5), index = [[0, 1, 2, 0, 0]], dim 0.
  const Tensor out = scatter_add(zeros({3, 5}), 0, tensor({0, 1, 2, 0, 0}, {1, 5}, DType::i64), ones({2, 5}));
  CHECK(values(out) == std::vector<double>{1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0});
  SUBCASE("repeated indices accumulate; negative dim; x is not modified") {
    const Tensor x = ones({2, 3});
    const Tensor r = scatter_add(x, -1, tensor({2, 2, 0, 1, 1, 1}, {2, 3}, DType::i32), iota({2, 3}));
    CHECK(values(r) == std::vector<double>{1 + 2, 1, 1 + 0 + 1, 1, 1 + 3 + 4 + 5, 1});
    CHECK(values(x) == std::vector<double>(6, 1.0));
  }
  SUBCASE("adjoint: <gather(x, idx), g> == <x, scatter_add(0, idx, g)>") {
    Generator gen(3);
    const Tensor x = randint(-9, 10, {6, 7}, DType::i64, &gen).to(DType::f64);
    const Tensor idx = randint(0, 7, {6, 11}, DType::i64, &gen);
    const Tensor g = randint(-9, 10, {6, 11}, DType::i64, &gen).to(DType::f64);
    const std::vector<double> lhs_a = values(gather(x, 1, idx)), lhs_b = values(g);
    const std::vector<double> rhs_a = values(x), rhs_b = values(scatter_add(zeros({6, 7}, DType::f64), 1, idx, g));
    double lhs = 0, rhs = 0;  // sums of products of small integers: exact in double
    for (size_t i = 0; i < lhs_a.size(); ++i) lhs += lhs_a[i] * lhs_b[i];
    for (size_t i = 0; i < rhs_a.size(); ++i) rhs += rhs_a[i] * rhs_b[i];
    CHECK(lhs == rhs);
  }
  CHECK_THROWS_WITH_AS(scatter_add(zeros({2, 2}), 0, zeros({2, 3}, DType::i64), ones({2, 3})),
                       "scatter_add: index[2, 3] is larger than x[2, 2] at dim 1; hint: only dim 0 may be larger",
                       Error);
  CHECK_THROWS_WITH_AS(scatter_add(zeros({2, 2}), 0, zeros({2, 2}, DType::i64), ones({2, 1})),
                       "scatter_add: index[2, 2] is larger than src[2, 1] at dim 1", Error);
  CHECK_THROWS_WITH_AS(scatter_add(zeros({2, 2}), 0, zeros({2, 2}, DType::i64), ones({2, 2}, DType::f64)),
                       "scatter_add: src is float64 but x is float32; hint: convert with .to()", Error);
  CHECK_THROWS_WITH_AS(scatter_add(zeros({2, 2}), 1, full({2, 2}, 3, DType::i64), ones({2, 2})),
                       "scatter_add: index 3 is out of range for dim 1 with size 2; hint: valid indices are 0 to 1",
                       Error);
}

TEST_CASE("index_add adds src slices at x's index positions (the adjoint of index_select)") {
  // torch.index_add_'s documentation example: x = ones(5, 3), src = [[1,2,3],[4,5,6],[7,8,9]],
  // index = [0, 4, 2], dim 0.
  const Tensor src = tensor({1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3});
  CHECK(values(index_add(ones({5, 3}), 0, tensor({0, 4, 2}, DType::i64), src)) ==
        std::vector<double>{2, 3, 4, 1, 1, 1, 8, 9, 10, 1, 1, 1, 5, 6, 7});
  SUBCASE("along dim -1 with repeats") {
    CHECK(values(index_add(zeros({3, 2}), -1, tensor({1, 1, 0}, DType::i32), src)) ==
          std::vector<double>{3, 3, 6, 9, 9, 15});
  }
  SUBCASE("embedding backward: 2-D ids, repeated rows sum; a transposed src") {
    const Tensor ids = tensor({1, 3, 1, 1}, {2, 2}, DType::i64);
    const Tensor g = iota({3, 2, 2}).permute({1, 2, 0});  // (2, 2, 3): g[i][j][c] = 4c + 2i + j
    const Tensor out = index_add(zeros({4, 3}), 0, ids, g);
    CHECK(values(out) == std::vector<double>{0, 0, 0, 0 + 2 + 3, 4 + 6 + 7, 8 + 10 + 11, 0, 0, 0, 1, 5, 9});
  }
  SUBCASE("adjoint: <index_select(x, ids), g> == <x, index_add(0, ids, g)>") {
    Generator gen(5);
    const Tensor x = randint(-9, 10, {7, 4, 3}, DType::i64, &gen).to(DType::f64);
    const Tensor ids = randint(0, 4, {5, 2}, DType::i64, &gen);
    const Tensor g = randint(-9, 10, {7, 5, 2, 3}, DType::i64, &gen).to(DType::f64);
    const std::vector<double> a = values(index_select(x, 1, ids)), b = values(g);
    const std::vector<double> c = values(x), d = values(index_add(zeros({7, 4, 3}, DType::f64), 1, ids, g));
    double lhs = 0, rhs = 0;  // small integers: exact in double
    for (size_t i = 0; i < a.size(); ++i) lhs += a[i] * b[i];
    for (size_t i = 0; i < c.size(); ++i) rhs += c[i] * d[i];
    CHECK(lhs == rhs);
  }
  CHECK_THROWS_WITH_AS(index_add(zeros({5, 3}), 0, tensor({0, 1}, DType::i64), ones({3, 3})),
                       "index_add: src has shape [3, 3] but x[5, 3] with index[2] along dim 0 needs [2, 3] (x's "
                       "shape with dim 0 replaced by the index's)", Error);
  CHECK_THROWS_WITH_AS(index_add(zeros({5, 3}), 0, tensor({0, 7}, DType::i64), ones({2, 3})),
                       "index_add: index 7 is out of range for dim 0 with size 5; hint: valid indices are 0 to 4",
                       Error);
  CHECK_THROWS_WITH_AS(index_add(zeros({2}, DType::b8), 0, tensor({0}, DType::i64), zeros({1}, DType::b8)),
                       "index_add: cannot add bool tensors; hint: convert with .to(DType::u8)", Error);
}

TEST_CASE("index_add and scatter_add give bitwise identical results for 1 and 2 threads") {
  // Many repeated ids: float sums depend on their order, which must not depend on the threads.
  Generator gen(11);
  const Tensor g = uniform({64, 128, 96}, -1, 1, DType::f32, &gen);  // (B, T, C)
  const Tensor ids = randint(0, 50, {64, 128}, DType::i64, &gen);     // (B, T) ids of a 50-word vocab
  auto embedding_grad = [&] { return index_add(zeros({50, 96}), 0, ids, g); };
  CHECK_TENSOR_BITWISE(with_threads(1, embedding_grad), with_threads(2, embedding_grad));
  // Along dim 1, so threads split dim 0 (each piece owns its own outputs).
  const Tensor ids1 = randint(0, 20, {256}, DType::i64, &gen);
  const Tensor g1 = uniform({64, 256, 32}, -1, 1, DType::f32, &gen);
  auto middle = [&] { return index_add(zeros({64, 20, 32}), 1, ids1, g1); };
  CHECK_TENSOR_BITWISE(with_threads(1, middle), with_threads(2, middle));
  const Tensor cols = randint(0, 40, {8192, 96}, DType::i64, &gen);
  const Tensor src = uniform({8192, 96}, -1, 1, DType::f32, &gen);
  auto scatter = [&] { return scatter_add(zeros({8192, 40}), 1, cols, src); };
  CHECK_TENSOR_BITWISE(with_threads(1, scatter), with_threads(2, scatter));
  auto scatter_rows = [&] { return scatter_add(zeros({40, 96}), 0, cols, src); };  // rows repeat
  CHECK_TENSOR_BITWISE(with_threads(1, scatter_rows), with_threads(2, scatter_rows));
}

TEST_CASE("masked_fill") {
  const Tensor x = iota({2, 3});
  const Tensor mask = tensor({1, 0, 1}, DType::b8);  // broadcasts over rows
  CHECK(values(masked_fill(x, mask, -1)) == std::vector<double>{-1, 1, -1, -1, 4, -1});
  SUBCASE("the causal mask of attention: -inf above the diagonal") {
    const Tensor scores = iota({2, 3, 3});
    const Tensor above = triu(ones({3, 3}), 1).to(DType::b8);
    const Tensor out = masked_fill(scores, above, -std::numeric_limits<double>::infinity());
    const double inf = std::numeric_limits<double>::infinity();
    CHECK(values(out) == std::vector<double>{0, -inf, -inf, 3, 4, -inf, 6, 7, 8,
                                             9, -inf, -inf, 12, 13, -inf, 15, 16, 17});
  }
  SUBCASE("a transposed x") {
    CHECK(values(masked_fill(iota({3, 2}).mT(), mask, 9)) == std::vector<double>{9, 2, 9, 9, 3, 9});
  }
  CHECK_THROWS_WITH_AS(masked_fill(x, tensor({1, 0}, DType::b8), 0),
                       "masked_fill: mask[2] does not broadcast to x[2, 3]; hint: mask dims must equal x's or be 1, "
                       "aligned from the right", Error);
  CHECK_THROWS_WITH_AS(masked_fill(x, ones({3}), 0),
                       "masked_fill: the mask must be bool, got float32; hint: build it with a comparison such as "
                       "gt(x, 0)", Error);
}

TEST_CASE("tril and triu") {
  const Tensor x = iota({3, 4}).add_(1.0);  // 1..12
  CHECK(values(tril(x)) == std::vector<double>{1, 0, 0, 0, 5, 6, 0, 0, 9, 10, 11, 0});
  CHECK(values(tril(x, 1)) == std::vector<double>{1, 2, 0, 0, 5, 6, 7, 0, 9, 10, 11, 12});
  CHECK(values(tril(x, -1)) == std::vector<double>{0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0});
  CHECK(values(triu(x)) == std::vector<double>{1, 2, 3, 4, 0, 6, 7, 8, 0, 0, 11, 12});
  CHECK(values(triu(x, 2)) == std::vector<double>{0, 0, 3, 4, 0, 0, 0, 8, 0, 0, 0, 0});
  CHECK(values(triu(x, -1)) == std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 0, 10, 11, 12});
  SUBCASE("batched and transposed") {
    const Tensor b = stack({x.slice(1, 0, 3), x.slice(1, 1, 4)}).mT();  // (2, 3, 3)
    CHECK(values(tril(b)) == std::vector<double>{1, 0, 0, 2, 6, 0, 3, 7, 11, 2, 0, 0, 3, 7, 0, 4, 8, 12});
    CHECK(values(tril(iota({2, 2}, DType::i64))) == std::vector<double>{0, 0, 2, 3});
  }
  CHECK_THROWS_WITH_AS(tril(iota({3})), "tril: needs at least 2 dims, got x[3]", Error);
}

TEST_CASE("one_hot") {
  const Tensor out = one_hot(tensor({0, 2, 1}, DType::i64), 3);
  CHECK(out.dtype() == DType::i64);
  CHECK(out.shape() == Shape{3, 3});
  CHECK(values(out) == std::vector<double>{1, 0, 0, 0, 0, 1, 0, 1, 0});
  CHECK(one_hot(tensor({1, 3}, {2, 1}, DType::i32), -1).shape() == Shape{2, 1, 4});  // inferred: max + 1
  CHECK_THROWS_WITH_AS(one_hot(tensor({0, 3}, DType::i64), 3),
                       "one_hot: class id 3 is out of range for num_classes 3; hint: ids must be 0 to 2", Error);
  // torch 1.13 refuses num_classes 0 too ("Can not infer total number of classes from empty tensor").
  CHECK_THROWS_WITH_AS(one_hot(zeros({0}, DType::i64), 0),
                       "one_hot: num_classes must be positive (or -1 to infer it), got 0", Error);
  CHECK_THROWS_WITH_AS(one_hot(tensor({0}, DType::i64), -2),
                       "one_hot: num_classes must be positive (or -1 to infer it), got -2", Error);
}
