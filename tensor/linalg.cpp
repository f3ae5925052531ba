// linalg.cpp: matmul and outer through OpenBLAS GEMM.
//
// matmul(a, b) with a (..., n, k) and b (..., k, m) computes, for every batch index,
//   out[..., i, j] = sum_p a[..., i, p] * b[..., p, j]                            // (..., n, m)
// as cblas_sgemm / cblas_dgemm calls on pointers into the operands' own storage:
//   - A matrix with contiguous rows (strides (ld, 1)) is passed as it is ("N"); one with
//     contiguous columns (strides (1, ld): a transposed view such as w.mT()) is passed with the
//     transpose flag ("T"). Only a matrix BLAS cannot read (both strides > 1, a broadcast row or
//     column) is copied to a contiguous one first.
//   - Batch dimensions are pointer offsets: a broadcast operand (stride 0) reuses one matrix.
//   - Trailing batch dims over which b is broadcast and along which a's rows continue evenly in
//     memory are folded into the row count, so (B, T, C) @ (C, N) is one (B*T, C) @ (C, N) GEMM.
//   - A product with a single row or column is a matrix-vector product (cblas_?gemv).
// Threads: OpenBLAS always runs single-threaded (see parallel.cpp); strata's own threads split
// the work. The work items are the batch's GEMMs, each cut along its larger output dim into
// `parts` pieces when there are fewer GEMMs than threads (e.g. one (B*T, C) @ (C, V) product):
//   c[:, j0:j1] = a @ b[:, j0:j1]   or   c[i0:i1, :] = a[i0:i1, :] @ b.
// A piece's elements are the same sums over k, in the same order, as in the uncut product, and
// the cuts fall on multiples of 64 (so OpenBLAS's edge kernels see the same edges; 1024 for
// matrix-vector products, see gemv_columns); the result does not depend on the thread count
// (tested bitwise). One pool of threads means no second pool spins or waits while the other
// works (docs/internals/threads.md).
#include "tensor/linalg.h"

#include "tensor/parallel.h"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <numeric>
#include <optional>

namespace strata {
namespace {

// A work item (one GEMM or a piece of one) has at least this many multiply-adds.
constexpr int64_t kMinItemMacs = int64_t(1) << 18;  // e.g. 64 x 64 x 64: ~10 us

// How BLAS reads one matrix: `transposed` false means element (i, j) sits at i*ld + j (row-major,
// "N"); true means it sits at j*ld + i (the row-major storage of the transpose, "T").
struct MatrixLayout {
  bool transposed;
  int64_t ld;
};

// The BLAS layout of a (rows, cols) matrix with strides (row_stride, col_stride), if it has one.
// A dimension of size 1 is never stepped along, so its stride does not matter.
std::optional<MatrixLayout> blas_layout(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
  if (col_stride == 1 || cols == 1) {
    const int64_t ld = rows > 1 ? row_stride : std::max<int64_t>(cols, 1);
    if (ld >= std::max<int64_t>(cols, 1)) return MatrixLayout{false, ld};
  }
  if (row_stride == 1 || rows == 1) {
    const int64_t ld = cols > 1 ? col_stride : std::max<int64_t>(rows, 1);
    if (ld >= std::max<int64_t>(rows, 1)) return MatrixLayout{true, ld};
  }
  return std::nullopt;
}

// BLAS takes 32-bit sizes.
int blas_int(int64_t value, const char* what) {
  check(value <= INT_MAX, "matmul: {} = {} exceeds the BLAS limit of {}; hint: split the product into pieces",
        what, value, INT_MAX);
  return static_cast<int>(value);
}

// y = op(M) x for M stored row-major (rows, cols); `transposed` multiplies by M's transpose.
template <class T>
void gemv(bool transposed, int rows, int cols, const T* mat, int ld, const T* x, int incx, T* y, int incy) {
  const auto t = transposed ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemv(CblasRowMajor, t, rows, cols, 1.0f, mat, ld, x, incx, 0.0f, y, incy);
  else
    cblas_dgemv(CblasRowMajor, t, rows, cols, 1.0, mat, ld, x, incx, 0.0, y, incy);
}

// y (cols) = M^T x for M stored row-major (rows, cols): y[j] = sum_p M[p, j] x[p], as gemv calls on
// fixed blocks of kGemvBlock columns. OpenBLAS's transposed gemv rounds a column differently
// depending on where it falls in the call's own internal blocks, so the calls always start at the
// same columns, however the product is cut into pieces (pieces of vector products start at
// multiples of kGemvBlock).
constexpr int64_t kGemvBlock = 1024;
template <class T>
void gemv_columns(int rows, int cols, const T* mat, int ld, const T* x, int incx, T* y, int incy) {
  for (int64_t j = 0; j < cols; j += kGemvBlock)
    gemv(true, rows, static_cast<int>(std::min(kGemvBlock, cols - j)), mat + j, ld, x, incx, y + j * incy, incy);
}

// c (n, m) = op(a) (n, k) @ op(b) (k, m), row-major, with c's rows ldc elements apart. A product
// with one row or one column is a matrix-vector product: gemv does it without gemm's packing of
// the matrix, 2-4x faster for e.g. (1, 512) @ (512, 10000) (the next-token step of generation).
template <class T>
void gemm(const T* a, MatrixLayout la, const T* b, MatrixLayout lb, T* c, int n, int k, int m, int ldc) {
  const int lda = static_cast<int>(la.ld), ldb = static_cast<int>(lb.ld);
  if (n == 1) {  // c[0, j] = sum_p a[0, p] b[p, j]: b's transpose times a's row
    const int incx = la.transposed ? lda : 1;
    if (lb.transposed)
      gemv(false, m, k, b, ldb, a, incx, c, 1);  // b stored as (m, k)
    else
      gemv_columns(k, m, b, ldb, a, incx, c, 1);  // b stored as (k, m)
  } else if (m == 1) {  // c[i, 0] = sum_p a[i, p] b[p, 0]: a times b's column
    const int incx = lb.transposed ? 1 : ldb;
    if (la.transposed)
      gemv_columns(k, n, a, lda, b, incx, c, ldc);  // a stored as (k, n)
    else
      gemv(false, n, k, a, lda, b, incx, c, ldc);  // a stored as (n, k)
  } else {
    const auto ta = la.transposed ? CblasTrans : CblasNoTrans;
    const auto tb = lb.transposed ? CblasTrans : CblasNoTrans;
    if constexpr (std::is_same_v<T, float>)
      cblas_sgemm(CblasRowMajor, ta, tb, n, m, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
    else
      cblas_dgemm(CblasRowMajor, ta, tb, n, m, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
  }
}

// One operand as the GEMM loop sees it: its (possibly copied) tensor, the BLAS layout of its
// matrices and, per output batch dim, the stride between consecutive matrices (0: broadcast).
struct Operand {
  Tensor t;
  MatrixLayout layout;
  Strides batch_strides;
};

// Prepares operand `t` (at least 2-D) for the output batch shape `batch`.
Operand make_operand(Tensor t, const Shape& batch) {
  const int64_t rows = t.size(-2), cols = t.size(-1);
  auto layout = blas_layout(rows, cols, t.stride(-2), t.stride(-1));
  if (!layout) {  // e.g. a slice with step along both dims: the only case that copies
    t = t.contiguous();
    layout = blas_layout(rows, cols, t.stride(-2), t.stride(-1));
  }
  Strides strides = Dims::filled(batch.size(), 0);
  const int64_t lead = batch.size() - (t.dim() - 2);  // t's batch dims align to the right
  for (int64_t d = 0; d < t.dim() - 2; ++d)
    if (t.size(d) != 1) strides[lead + d] = t.stride(d);
  return {t, *layout, strides};
}

// How each of `count` GEMMs (rows, k) @ (k, cols) is cut into pieces along its larger output dim.
struct PieceCut {
  bool rows;       // cut along rows (else columns)
  int64_t length;  // the size of the cut dim
  int64_t parts;   // pieces per GEMM (1: not cut)
  int64_t piece;   // the size of every piece but the last, a multiple of kPieceAlign
};

// Enough pieces that count * parts items share evenly among `threads` (parts = threads /
// gcd(count, threads)), as long as each piece keeps kMinItemMacs and `align` rows/columns: 64
// for a GEMM (a multiple of OpenBLAS's kernel tiles), kGemvBlock for a matrix-vector product.
// The last piece takes the remainder, so every piece has at least `align` > 1 rows/columns and
// the product's kind (GEMM or matrix-vector) never changes by cutting.
PieceCut cut_pieces(int64_t count, int64_t rows, int64_t k, int64_t cols, int threads) {
  PieceCut cut{rows >= cols, std::max(rows, cols), 1, std::max(rows, cols)};
  const int64_t align = rows == 1 || cols == 1 ? kGemvBlock : 64;
  int64_t parts = threads / std::gcd(count, static_cast<int64_t>(threads));
  parts = std::min({parts, cut.length / align, rows * k * cols / kMinItemMacs});
  if (parts <= 1) return cut;
  cut.piece = std::max(align, (cut.length + parts - 1) / parts / align * align);
  cut.parts = cut.length / cut.piece;
  return cut;
}

// For the inner-dimension error: a transpose that would make the shapes fit.
std::string transpose_hint(const Tensor& a, const Tensor& b) {
  if (b.dim() >= 2 && b.size(-1) == a.size(-1)) return "; b's last dim matches, so b.mT() may be what you meant";
  if (a.dim() >= 2 && b.dim() >= 2 && a.size(-2) == b.size(-2))
    return "; a's second-to-last dim matches, so a.mT() may be what you meant";
  return "";
}

}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  check(a_in.defined() && b_in.defined(), "matmul: an operand is an undefined tensor");
  check(a_in.dim() >= 1 && b_in.dim() >= 1,
        "matmul: both operands need at least 1 dimension, got a{} @ b{}; hint: scale by a scalar with mul()",
        a_in.shape(), b_in.shape());
  check(a_in.dtype() == b_in.dtype(), "matmul: dtypes differ: a{} {} @ b{} {}; hint: convert one with .to()",
        a_in.shape(), a_in.dtype(), b_in.shape(), b_in.dtype());
  check(is_floating(a_in.dtype()),
        "matmul: {} operands are not supported (BLAS multiplies float32 and float64 only), a{} @ b{}; "
        "hint: convert with .to(DType::f32), or .to(DType::f64) for integers exact up to 2^53",
        a_in.dtype(), a_in.shape(), b_in.shape());

  // 1-D operands are promoted, a (k) -> (1, k) and b (k) -> (k, 1); the added dims are dropped below.
  const Tensor a = a_in.dim() == 1 ? a_in.unsqueeze(0) : a_in;  // (..., n, k)
  const Tensor b = b_in.dim() == 1 ? b_in.unsqueeze(1) : b_in;  // (..., k, m)
  const int64_t n = a.size(-2), k = a.size(-1), m = b.size(-1);
  if (b.size(-2) != k)
    fail("matmul: inner dimensions differ: a{} @ b{}; hint: a's last dim ({}) must equal b's {} dim ({}){}",
         a_in.shape(), b_in.shape(), k, b_in.dim() == 1 ? "only" : "second-to-last", b.size(-2),
         transpose_hint(a_in, b_in));

  // Batch dims broadcast (aligned at the right; equal sizes or 1).
  const int64_t a_batch = a.dim() - 2, b_batch = b.dim() - 2;
  const int64_t nbatch = std::max(a_batch, b_batch);
  Shape batch = Dims::filled(nbatch, 1);
  for (int64_t d = 0; d < nbatch; ++d) {
    const int64_t da = d - (nbatch - a_batch), db = d - (nbatch - b_batch);
    const int64_t sa = da >= 0 ? a.size(da) : 1, sb = db >= 0 ? b.size(db) : 1;
    check(sa == sb || sa == 1 || sb == 1,
          "matmul: batch dimensions do not broadcast: a{} @ b{} (size {} vs {} at batch dim {}); "
          "hint: leading dims must be equal or 1, aligned from the right",
          a_in.shape(), b_in.shape(), sa, sb, d);
    batch[d] = sa == 1 ? sb : sa;
  }

  Shape out_shape = batch;
  out_shape.push_back(n);
  out_shape.push_back(m);
  Tensor out = empty(out_shape, a.dtype());  // (..., n, m)
  Shape result_shape = batch;  // without the dims that 1-D promotion added
  if (a_in.dim() > 1) result_shape.push_back(n);
  if (b_in.dim() > 1) result_shape.push_back(m);
  if (out.numel() == 0) return out.view(result_shape);
  if (k == 0) return out.zero_().view(result_shape);  // an empty sum

  Operand A = make_operand(a, batch), B = make_operand(b, batch);

  // Fold trailing batch dims into a's rows where b is broadcast along them and a's rows continue
  // evenly: then rows * ld == the batch stride (or a has one row, whose stride is free). The
  // output is contiguous, so its rows always continue.
  int64_t rows = n;
  std::vector<int64_t> sizes, a_strides, b_strides;  // the batch dims left to loop over
  for (int64_t d = 0; d < nbatch; ++d) {
    if (batch[d] == 1) continue;
    sizes.push_back(batch[d]);
    a_strides.push_back(A.batch_strides[d]);
    b_strides.push_back(B.batch_strides[d]);
  }
  while (!sizes.empty() && !A.layout.transposed && b_strides.back() == 0) {
    const int64_t s = a_strides.back();
    if (rows == 1 && s >= std::max<int64_t>(k, 1))
      A.layout.ld = s;
    else if (rows == 1 || s != rows * A.layout.ld)
      break;
    rows *= sizes.back();
    sizes.pop_back();
    a_strides.pop_back();
    b_strides.pop_back();
  }
  int64_t count = 1;  // GEMMs to run
  for (int64_t s : sizes) count *= s;

  const int in = blas_int(rows, "rows"), ik = blas_int(k, "k"), im = blas_int(m, "columns");
  blas_int(std::max(A.layout.ld, B.layout.ld), "the leading dimension");

  const int threads = in_parallel_region() ? 1 : get_num_threads();  // (also puts OpenBLAS on one thread)
  const PieceCut cut = cut_pieces(count, rows, k, m, threads);
  visit_floating(a.dtype(), "matmul", [&]<class T>() {
    const T* pa = A.t.data<T>();
    const T* pb = B.t.data<T>();
    T* pc = out.data<T>();
    // Item = (GEMM i, piece p): rows or columns [p*piece, next) of GEMM i's output, where the
    // last piece takes the remainder.
    auto run = [&](int64_t lo, int64_t hi) {
      for (int64_t item = lo; item < hi; ++item) {
        const int64_t i = item / cut.parts, p = item % cut.parts;
        int64_t oa = 0, ob = 0;  // offsets of batch i (row-major over `sizes`)
        for (int64_t d = sizes.size() - 1, r = i; d >= 0; --d) {
          const int64_t idx = r % sizes[d];
          r /= sizes[d];
          oa += idx * a_strides[d];
          ob += idx * b_strides[d];
        }
        const int64_t begin = p * cut.piece, len = p + 1 < cut.parts ? cut.piece : cut.length - begin;
        T* c = pc + i * rows * m;
        if (cut.rows)  // a's rows begin..begin+len: row r sits at r*ld ("N") or r ("T")
          gemm(pa + oa + begin * (A.layout.transposed ? 1 : A.layout.ld), A.layout, pb + ob, B.layout, c + begin * m,
               static_cast<int>(len), ik, im, im);
        else  // b's columns begin..begin+len: column j sits at j ("N") or j*ld ("T")
          gemm(pa + oa, A.layout, pb + ob + begin * (B.layout.transposed ? B.layout.ld : 1), B.layout, c + begin, in,
               ik, static_cast<int>(len), im);
      }
    };
    if (count * rows * k * m < 2 * kMinItemMacs)  // too little work to share
      run(0, count * cut.parts);
    else
      parallel_for(0, count * cut.parts, 1, run);
  });
  return out.view(result_shape);
}

Tensor outer(const Tensor& a, const Tensor& b) {
  check(a.dim() == 1 && b.dim() == 1, "outer: needs 1-D operands, got a{} and b{}; hint: flatten them first",
        a.shape(), b.shape());
  return matmul(a.unsqueeze(1), b.unsqueeze(0));  // (n, 1) @ (1, m) -> (n, m)
}

}  // namespace strata
