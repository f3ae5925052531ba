// test_linalg.cpp: matmul and outer against a naive triple loop, on contiguous, transposed-view,
// sliced and broadcast-batch operands in f32 and f64; 1-D promotion; error messages; 1 vs 2
// threads bitwise equal.
#include "tensor/linalg.h"

#include "tensor/storage.h"
#include "tests/testing/tensor_testing.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace strata;
using namespace strata::testing;

namespace {

// The reference: out[..., i, j] = sum_p a[..., i, p] * b[..., p, j] in double, read element by
// element with at(), batch dims broadcast; also sum_p |a[..., i, p] * b[..., p, j]| per element
// (the scale of the rounding error). Operands are at least 2-D.
struct Reference {
  Shape shape;
  std::vector<double> value, magnitude;
};

Reference naive_matmul(const Tensor& a, const Tensor& b) {
  const int64_t n = a.size(-2), k = a.size(-1), m = b.size(-1);
  const int64_t nb = std::max(a.dim(), b.dim()) - 2;
  Shape batch = Dims::filled(nb, 1);
  for (int64_t d = 0; d < nb; ++d) {
    const int64_t da = d - (nb - (a.dim() - 2)), db = d - (nb - (b.dim() - 2));
    const int64_t sa = da >= 0 ? a.size(da) : 1, sb = db >= 0 ? b.size(db) : 1;
    batch[d] = sa == 1 ? sb : sa;
  }
  Reference r{batch, {}, {}};
  r.shape.push_back(n);
  r.shape.push_back(m);
  // Index of batch position `bi` in an operand with `nd` dims (broadcast dims read index 0).
  auto operand_index = [&](const Tensor& t, const Dims& bi, int64_t row, int64_t col) {
    Dims idx;
    for (int64_t d = 0; d < t.dim() - 2; ++d) {
      const int64_t bd = d + (nb - (t.dim() - 2));
      idx.push_back(t.size(d) == 1 ? 0 : bi[bd]);
    }
    idx.push_back(row);
    idx.push_back(col);
    return idx;
  };
  for_each_offset(batch, contiguous_strides(batch), [&](int64_t flat) {
    Dims bi = Dims::filled(nb, 0);
    for (int64_t d = nb - 1, rest = flat; d >= 0; --d) {
      bi[d] = rest % batch[d];
      rest /= batch[d];
    }
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j) {
        double sum = 0, mag = 0;
        for (int64_t p = 0; p < k; ++p) {
          const double prod = a.at<double>(operand_index(a, bi, i, p)) * b.at<double>(operand_index(b, bi, p, j));
          sum += prod;
          mag += std::abs(prod);
        }
        r.value.push_back(sum);
        r.magnitude.push_back(mag);
      }
  });
  return r;
}

// matmul(a, b) equals the naive loop within the dot-product rounding bound: a sum of k products
// computed in precision u differs from the exact one by at most about k*u*sum|products|
// (Higham, Accuracy and Stability, 3.1); we allow 2*k*u (u = 2^-24 for f32, 2^-53 for f64),
// plus a tiny absolute floor for all-zero sums.
void check_matmul(const Tensor& a, const Tensor& b) {
  const Tensor out = matmul(a, b);
  const Reference r = naive_matmul(a, b);
  REQUIRE(out.shape() == r.shape);
  REQUIRE(out.dtype() == a.dtype());
  const double u = a.dtype() == DType::f32 ? std::ldexp(1.0, -24) : std::ldexp(1.0, -53);
  const std::vector<double> got = out.to_vector<double>();
  const double k = double(a.size(-1));
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element ", i, " of shape ", fmt::format("{}", out.shape()));
    CHECK(std::abs(got[i] - r.value[i]) <= 2 * k * u * r.magnitude[i] + 1e-300);
  }
}

// Uniform values in [-1, 1).
Tensor operand(const Shape& shape, DType dtype, uint64_t seed) { return random_tensor(shape, dtype, -1, 1, seed); }

}  // namespace

TEST_CASE("matmul equals the naive loop on every layout") {
  for (DType dt : {DType::f32, DType::f64}) {
    INFO(std::string(dtype_name(dt)));
    SUBCASE("contiguous 2-D") { check_matmul(operand({5, 7}, dt, 1), operand({7, 3}, dt, 2)); }
    SUBCASE("transposed views (passed as transpose flags)") {
      const Tensor at = operand({7, 5}, dt, 3), bt = operand({3, 7}, dt, 4);
      check_matmul(at.mT(), operand({7, 3}, dt, 5));
      check_matmul(operand({5, 7}, dt, 6), bt.mT());
      check_matmul(at.mT(), bt.mT());
    }
    SUBCASE("sliced rows and columns (leading dimension > width)") {
      const Tensor big = operand({12, 10}, dt, 7);
      check_matmul(big.slice(0, 1, 11, 2).slice(1, 2, 9), operand({7, 4}, dt, 8));  // ld 20
      check_matmul(operand({3, 5}, dt, 9), big.slice(0, 2, 7).slice(1, 1, 8));      // ld 10
      check_matmul(big.slice(0, 0, 6).slice(1, 0, 5).mT(), operand({6, 2}, dt, 10)); // T, ld 10
    }
    SUBCASE("a layout BLAS cannot read is copied") {
      const Tensor big = operand({8, 10}, dt, 11);
      check_matmul(big.slice(0, 0, 8, 2).slice(1, 0, 10, 2), operand({5, 3}, dt, 12));  // strides (20, 2)
      check_matmul(operand({3, 1}, dt, 13).expand({3, 4}), operand({4, 2}, dt, 14));  // col stride 0
      check_matmul(operand({1, 4}, dt, 15).expand({3, 4}), operand({4, 2}, dt, 16));  // row stride 0
    }
    SUBCASE("batched, broadcast batch dims and expanded operands") {
      check_matmul(operand({4, 3, 5}, dt, 17), operand({4, 5, 2}, dt, 18));
      check_matmul(operand({2, 1, 4, 5}, dt, 19), operand({3, 5, 6}, dt, 20));
      check_matmul(operand({3, 5, 6}, dt, 21).mT(), operand({2, 1, 5, 4}, dt, 22));
      check_matmul(operand({3, 4}, dt, 23), operand({2, 4, 3}, dt, 24));
      check_matmul(operand({1, 3, 4}, dt, 25).expand({5, 3, 4}), operand({5, 4, 2}, dt, 26));
      check_matmul(operand({2, 3, 4}, dt, 27).permute({1, 0, 2}), operand({3, 4, 5}, dt, 28));
    }
    SUBCASE("batch dims folded into rows: (B, T, C) @ (C, N) and @ W.mT()") {
      const Tensor x = operand({3, 4, 6}, dt, 29), w = operand({5, 6}, dt, 30);
      check_matmul(x, w.mT());
      check_matmul(x, operand({6, 5}, dt, 31));
      check_matmul(operand({2, 3, 4, 6}, dt, 32), w.mT());
      check_matmul(x.slice(1, 0, 3), w.mT());                                  // rows do not continue: no fold
      check_matmul(x.slice(1, 1, 2), w.mT());                                  // one row per batch: fold with ld 24
      check_matmul(operand({3, 4, 6}, dt, 33).transpose(0, 1), w.mT());  // batch stride < rows*ld
      check_matmul(x, operand({1, 6, 5}, dt, 34));                       // size-1 batch dim in b
    }
    SUBCASE("1-D operands are promoted and the added dim removed") {
      const Tensor v = operand({6}, dt, 35), w = operand({6}, dt, 36);
      const Tensor m = operand({6, 3}, dt, 37), mt = operand({4, 6}, dt, 38);
      CHECK(matmul(v, w).shape() == Shape{});
      CHECK(matmul(v, m).shape() == Shape{3});
      CHECK(matmul(mt, v).shape() == Shape{4});
      CHECK(matmul(v, operand({2, 6, 3}, dt, 39)).shape() == Shape{2, 3});
      CHECK(matmul(operand({2, 4, 6}, dt, 40), v).shape() == Shape{2, 4});
      double dot = 0;
      for (int64_t i = 0; i < 6; ++i) dot += v.at<double>({i}) * w.at<double>({i});
      CHECK(matmul(v, w).item<double>() == doctest::Approx(dot).epsilon(1e-6));  // 6 products in f32
      check_matmul(v.unsqueeze(0), m);
      check_matmul(mt, w.unsqueeze(1));
      CHECK_TENSOR_BITWISE(matmul(v, m), matmul(v.unsqueeze(0), m).squeeze(0));
      CHECK_TENSOR_BITWISE(matmul(mt, v), matmul(mt, v.unsqueeze(1)).squeeze(1));
    }
  }
}

TEST_CASE("transposed views and broadcast or folded batches are not copied") {
  // A temporary copy of an operand would be freed into the allocator's (emptied) cache of large
  // buffers before matmul returns; so the cache stays empty exactly when nothing was copied.
  auto bytes_copied_by = [](auto f) {
    empty_cache();
    const Tensor out = f();
    return allocator_stats().cached_bytes;
  };
  const Tensor a = operand({256, 256}, DType::f32, 50), w = operand({256, 256}, DType::f32, 51);
  const Tensor x = operand({4, 256, 256}, DType::f32, 52);
  CHECK(bytes_copied_by([&] { return matmul(a, w.mT()); }) == 0);
  CHECK(bytes_copied_by([&] { return matmul(a.mT(), w.mT()); }) == 0);
  CHECK(bytes_copied_by([&] { return matmul(x, w.mT()); }) == 0);
  CHECK(bytes_copied_by([&] { return matmul(x.mT(), w.expand({4, 256, 256})); }) == 0);
  CHECK(bytes_copied_by([&] { return matmul(x.slice(1, 0, 256, 2), x.mT()); }) == 0);
  CHECK(bytes_copied_by([&] { return matmul(operand({256}, DType::f32, 53), x); }) == 0);
  // Strides (256, 2) are not a BLAS layout: a (256, 128) float32 copy, 128 KiB.
  CHECK(bytes_copied_by([&] { return matmul(a.slice(1, 0, 256, 2), w.slice(0, 0, 128)); }) == 256 * 128 * 4);
}

TEST_CASE("matmul of exact small integers in float32 gives exact values") {
  // [[1, 2], [3, 4]] @ [[5, 6], [7, 8]] = [[19, 22], [43, 50]]; every value is exact in f32.
  const Tensor a = tensor({1, 2, 3, 4}, {2, 2}), b = tensor({5, 6, 7, 8}, {2, 2});
  CHECK(matmul(a, b).to_vector<float>() == std::vector<float>{19, 22, 43, 50});
  CHECK(matmul(a, b.mT()).to_vector<float>() == std::vector<float>{17, 23, 39, 53});
  CHECK(matmul(a.mT(), b).to_vector<float>() == std::vector<float>{26, 30, 38, 44});
}

TEST_CASE("matmul with empty dims") {
  CHECK(matmul(empty({3, 0}), empty({0, 4})).to_vector<float>() == std::vector<float>(12, 0.0f));  // empty sum
  CHECK(matmul(empty({0, 5}), empty({5, 4})).shape() == Shape{0, 4});
  CHECK(matmul(empty({2, 0, 3, 5}), empty({5, 4})).shape() == Shape{2, 0, 3, 4});
}

TEST_CASE("matmul error messages name the shapes and give a hint") {
  CHECK_THROWS_WITH_AS(matmul(zeros({4, 64, 768}), zeros({512, 768})),
                       "matmul: inner dimensions differ: a[4, 64, 768] @ b[512, 768]; hint: a's last dim (768) "
                       "must equal b's second-to-last dim (512); b's last dim matches, so b.mT() may be what you meant",
                       Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({3}), zeros({4})),
                       "matmul: inner dimensions differ: a[3] @ b[4]; hint: a's last dim (3) must equal b's only "
                       "dim (4)", Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3, 4}), zeros({5, 4, 6})),
                       "matmul: batch dimensions do not broadcast: a[2, 3, 4] @ b[5, 4, 6] (size 2 vs 5 at batch "
                       "dim 0); hint: leading dims must be equal or 1, aligned from the right", Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 2}, DType::i64), zeros({2, 2}, DType::i64)),
                       "matmul: int64 operands are not supported (BLAS multiplies float32 and float64 only), "
                       "a[2, 2] @ b[2, 2]; hint: convert with .to(DType::f32), or .to(DType::f64) for integers "
                       "exact up to 2^53", Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 2}), zeros({2, 2}, DType::f64)),
                       "matmul: dtypes differ: a[2, 2] float32 @ b[2, 2] float64; hint: convert one with .to()",
                       Error);
  CHECK_THROWS_WITH_AS(matmul(scalar_tensor(2), zeros({2})),
                       "matmul: both operands need at least 1 dimension, got a[] @ b[2]; hint: scale by a scalar "
                       "with mul()", Error);
}

TEST_CASE("outer") {
  const Tensor out = outer(tensor({1, 2, 3}), tensor({4, 5}));
  CHECK(out.shape() == Shape{3, 2});
  CHECK(out.to_vector<float>() == std::vector<float>{4, 5, 8, 10, 12, 15});
  CHECK_THROWS_WITH_AS(outer(zeros({2, 2}), zeros({2})),
                       "outer: needs 1-D operands, got a[2, 2] and b[2]; hint: flatten them first", Error);
}

TEST_CASE("GEMMs cut into pieces over the threads equal the naive loop and the uncut product") {
  // With 2 threads, each product below is cut along its larger output dim into 2 pieces at a
  // multiple of 64 (the second takes the remainder): columns of b (N and T layouts), rows of a
  // (N and T), a batch of 3 GEMMs cut into 6 items, and matrix-vector products.
  for (DType dt : {DType::f32, DType::f64}) {
    const std::vector<std::pair<Tensor, Tensor>> products = {
        {operand({96, 16}, dt, 51), operand({16, 3000}, dt, 52)},
        {operand({96, 16}, dt, 53), operand({3000, 16}, dt, 54).mT()},
        {operand({3000, 16}, dt, 55), operand({16, 96}, dt, 56)},
        {operand({16, 3000}, dt, 57).mT(), operand({16, 96}, dt, 58)},
        {operand({3, 200, 16}, dt, 59), operand({3, 16, 700}, dt, 60)},
        {operand({1, 64}, dt, 61), operand({64, 9000}, dt, 62)},
        {operand({1, 64}, dt, 63), operand({9000, 64}, dt, 64).mT()},
        {operand({9000, 64}, dt, 65), operand({64, 1}, dt, 66)},
    };
    for (const auto& [a, b] : products) {
      INFO(std::string(dtype_name(dt)), " a", fmt::format("{}", a.shape()), " @ b", fmt::format("{}", b.shape()));
      with_threads(2, [&] { check_matmul(a, b); });
      CHECK_TENSOR_BITWISE(with_threads(1, [&] { return matmul(a, b); }),
                           with_threads(2, [&] { return matmul(a, b); }));
    }
  }
}

TEST_CASE("matmul gives bitwise identical results for 1 and 2 threads") {
  // A batch of small GEMMs (split over the batch) and one big GEMM (cut into pieces).
  const Tensor q = operand({16, 64, 32}, DType::f32, 41), k = operand({16, 64, 32}, DType::f32, 42);
  const Tensor x = operand({384, 320}, DType::f32, 43), w = operand({288, 320}, DType::f32, 44);
  CHECK_TENSOR_BITWISE(with_threads(1, [&] { return matmul(q, k.mT()); }),
                       with_threads(2, [&] { return matmul(q, k.mT()); }));
  CHECK_TENSOR_BITWISE(with_threads(1, [&] { return matmul(x, w.mT()); }),
                       with_threads(2, [&] { return matmul(x, w.mT()); }));
  // Matrix-vector products (gemv), cut into pieces too.
  const Tensor v = operand({1, 320}, DType::f32, 45), big = operand({320, 6000}, DType::f32, 46);
  for (const Tensor& rhs : {big, operand({6000, 320}, DType::f32, 47).mT()}) {
    CHECK_TENSOR_BITWISE(with_threads(1, [&] { return matmul(v, rhs); }),
                         with_threads(2, [&] { return matmul(v, rhs); }));
    CHECK_TENSOR_BITWISE(with_threads(1, [&] { return matmul(rhs.mT(), v.mT()); }),
                         with_threads(2, [&] { return matmul(rhs.mT(), v.mT()); }));
  }
  CHECK_TENSOR_BITWISE(with_threads(1, [&] { return matmul(q.to(DType::f64), k.to(DType::f64).mT()); }),
                       with_threads(2, [&] { return matmul(q.to(DType::f64), k.to(DType::f64).mT()); }));
}
