// index.cpp: joining, splitting and indexing tensors.
//
//   cat, stack       copy each input into its slice of one new tensor
//   split, chunk     views (narrow), no copy
//   gather           out[i][j][k] = x[i][index[i][j][k]][k]                      (dim = 1)
//   index_select     out[a, i..., c] = x[a, index[i...], c]   (index of any shape; dim = 1 here)
//   scatter_add      out = x;  out[i][index[i][j][k]][k] += src[i][j][k]         the adjoint of gather
//   index_add        out = x;  out[a, index[i...], c] += src[a, i..., c]         the adjoint of index_select
//   masked_fill, tril, triu, one_hot
//
// The four indexing ops share one description, IndexLoop: an iteration shape walked with three
// sets of strides, into the index, into the *indexed* tensor (whose position along `dim` comes
// from the index) and into the *dense* tensor (whose position is the iteration position).
// Gathers copy indexed -> dense; scatters add dense -> indexed.
//
// Threads: gathers write each output element once, so rows run in parallel freely. Scatters may
// add several values into one element (repeated indices); to keep the sum's order fixed, threads
// split the iteration only along a dim whose positions land in disjoint outputs, and within one
// output element the addends always come in row-major iteration order. So results are bitwise
// identical for any thread count.
#include "tensor/index.h"

#include "tensor/parallel.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <array>

namespace strata {
namespace {

// A parallel chunk holds about this many elements.
constexpr int64_t kChunkElements = int64_t(1) << 15;

// Calls f(offsets) for rows [row_begin, row_end) of `shape`, in row-major order. A row is one run
// along the last dim; rows are numbered row-major over the other dims; offsets[t] is where the row
// starts in operand t (in elements, from strides[t]).
template <size_t N, class F>
void for_each_row(const Shape& shape, const std::array<Strides, N>& strides, int64_t row_begin, int64_t row_end,
                  F&& f) {
  const int64_t nd = shape.size() - 1;  // the dims above the row
  Dims index = Dims::filled(nd, 0);
  std::array<int64_t, N> off{};
  for (int64_t d = nd - 1, r = row_begin; d >= 0; --d) {
    index[d] = r % shape[d];
    r /= shape[d];
    for (size_t t = 0; t < N; ++t) off[t] += index[d] * strides[t][d];
  }
  for (int64_t row = row_begin; row < row_end; ++row) {
    f(off);
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (++index[d] < shape[d]) {
        for (size_t t = 0; t < N; ++t) off[t] += strides[t][d];
        break;
      }
      for (size_t t = 0; t < N; ++t) off[t] -= strides[t][d] * (shape[d] - 1);
      index[d] = 0;
    }
  }
}

// Calls body(j, j * s0, j * s1) for j = 0 .. len-1: the walk along one row of two strided operands
// (and a contiguous one). The unit-stride case is spelled out so that the compiler vectorises it.
template <class Body>
void for_each_in_row(int64_t len, int64_t s0, int64_t s1, Body&& body) {
  if (s0 == 1 && s1 == 1)
    for (int64_t j = 0; j < len; ++j) body(j, j, j);
  else
    for (int64_t j = 0; j < len; ++j) body(j, j * s0, j * s1);
}

// for_each_row over all rows of a non-empty, at least 1-D `shape`, rows split among threads.
template <size_t N, class F>
void parallel_rows(const Shape& shape, const std::array<Strides, N>& strides, F&& f) {
  const int64_t len = shape.back();
  const int64_t rows = shape.numel() / len;
  const int64_t grain = std::max<int64_t>(1, kChunkElements / len);
  parallel_for(0, rows, grain, [&](int64_t lo, int64_t hi) { for_each_row(shape, strides, lo, hi, f); });
}

// Calls f.template operator()<I>() with I the C++ type of an integer index tensor.
template <class F>
void visit_index(const Tensor& index, const char* op, F&& f) {
  switch (index.dtype()) {
    case DType::i64: return f.template operator()<int64_t>();
    case DType::i32: return f.template operator()<int32_t>();
    default:
      fail("{}: the index must be int64 or int32, got {} index{}; hint: convert with .to(DType::i64)", op,
           index.dtype(), index.shape());
  }
}

// The shared description of gather, index_select, scatter_add and index_add (see the top).
struct IndexLoop {
  const char* op;
  Shape shape;        // the iteration shape
  Strides index;      // into the index tensor (0 along dims it does not vary in)
  Strides indexed;    // into the indexed tensor, 0 along the dims the index stands for
  Strides dense;      // into the dense tensor
  int64_t dim;        // the indexed dim (for messages)
  int64_t dim_size;   // valid indices are 0 .. dim_size - 1
  int64_t dim_stride; // the indexed tensor's stride along dim

  // A 0-d iteration is one row of one element.
  void at_least_1d() {
    if (!shape.empty()) return;
    shape = {1};
    index = indexed = dense = {0};
  }

  template <class I>
  int64_t offset_of(I value) const {
    if (value < 0 || value >= dim_size) [[unlikely]]
      fail("{}: index {} is out of range for dim {} with size {}; hint: valid indices are 0 to {}", op,
           static_cast<int64_t>(value), dim, dim_size, dim_size - 1);
    return static_cast<int64_t>(value) * dim_stride;
  }
};

// dense[p] = indexed[p with its dim-th coordinate replaced by index[p]] for every position p.
template <class T, class I>
void run_gather(const IndexLoop& L, const I* index, const T* indexed, T* dense) {
  const int64_t len = L.shape.back();
  const int64_t is = L.index.back(), xs = L.indexed.back(), ds = L.dense.back();
  parallel_rows<3>(L.shape, {L.index, L.indexed, L.dense}, [&](const std::array<int64_t, 3>& off) {
    const I* ip = index + off[0];
    const T* xp = indexed + off[1];
    T* dp = dense + off[2];
    if (is == 0) {  // one index for the whole row, e.g. an embedding row
      const T* row = xp + L.offset_of(ip[0]);
      for_each_in_row(len, ds, xs, [&](int64_t, int64_t o, int64_t i) { dp[o] = row[i]; });
    } else {
      for (int64_t j = 0; j < len; ++j) dp[j * ds] = xp[j * xs + L.offset_of(ip[j * is])];
    }
  });
}

// indexed[p with its dim-th coordinate replaced by index[p]] += dense[p] for every position p, in
// row-major order of p. `indexed` is a fresh contiguous tensor, so the dims along which its stride
// is not 0 ("free" dims) map distinct positions to distinct elements: threads split one of them.
template <class T, class I>
void run_scatter(const IndexLoop& L, const I* index, T* indexed, const T* dense) {
  const int64_t nd = L.shape.size();
  const int64_t is = L.index.back(), xs = L.indexed.back(), ds = L.dense.back();
  const std::array<Strides, 3> strides{L.index, L.indexed, L.dense};
  auto add_rows = [&](const Shape& shape, int64_t oi, int64_t ox, int64_t od) {
    const int64_t len = shape.back();
    for_each_row<3>(shape, strides, 0, shape.numel() / len, [&](const std::array<int64_t, 3>& off) {
      const I* ip = index + oi + off[0];
      T* xp = indexed + ox + off[1];
      const T* dp = dense + od + off[2];
      if (is == 0) {
        T* row = xp + L.offset_of(ip[0]);
        for_each_in_row(len, xs, ds, [&](int64_t, int64_t o, int64_t i) { row[o] += dp[i]; });
      } else {
        for (int64_t j = 0; j < len; ++j) xp[j * xs + L.offset_of(ip[j * is])] += dp[j * ds];
      }
    });
  };
  // Threads split the largest free dim above the rows. Splitting the rows themselves (when only
  // the last dim is free, as in the embedding backward) makes every thread walk every row, and
  // measured slower than one thread; those stay serial.
  int64_t p = -1;
  for (int64_t d = 0; d + 1 < nd; ++d)
    if (L.indexed[d] != 0 && L.shape[d] > 1 && (p < 0 || L.shape[d] > L.shape[p])) p = d;
  if (p < 0) return add_rows(L.shape, 0, 0, 0);
  // The pieces decide only which thread adds into which outputs, never the order of one
  // element's addends, so the result does not depend on them.
  const int64_t grain = std::max<int64_t>(1, kChunkElements / (L.shape.numel() / L.shape[p]));
  parallel_for(0, L.shape[p], grain, [&](int64_t lo, int64_t hi) {
    Shape part = L.shape;
    part[p] = hi - lo;
    add_rows(part, lo * L.index[p], lo * L.indexed[p], lo * L.dense[p]);
  });
}

// The dims of `shape` before and after `dim`, with `middle` in between.
Dims splice(const Dims& outer, int64_t dim, const Dims& middle) {
  Dims d;
  for (int64_t i = 0; i < dim; ++i) d.push_back(outer[i]);
  for (int64_t v : middle) d.push_back(v);
  for (int64_t i = dim + 1; i < outer.size(); ++i) d.push_back(outer[i]);
  return d;
}

// The IndexLoop of index_select / index_add: the iteration shape is x's with `dim` replaced by the
// index's shape. `x` is the indexed tensor, `dense` has the iteration shape.
IndexLoop select_loop(const char* op, const Tensor& x, int64_t dim, const Tensor& index, const Tensor& dense) {
  IndexLoop L{op,
              splice(x.shape(), dim, index.shape()),
              splice(Dims::filled(x.dim(), 0), dim, index.strides()),
              splice(x.strides(), dim, Dims::filled(index.dim(), 0)),
              dense.strides(),
              dim,
              x.size(dim),
              x.stride(dim)};
  L.at_least_1d();
  return L;
}

// The IndexLoop of gather / scatter_add: the iteration shape is the index's.
IndexLoop elementwise_loop(const char* op, const Tensor& x, int64_t dim, const Tensor& index, const Tensor& dense) {
  Strides indexed = x.strides();
  if (x.dim() > 0) indexed[dim] = 0;
  IndexLoop L{op, index.shape(), index.strides(), indexed, dense.strides(), dim,
              x.dim() > 0 ? x.size(dim) : 1, x.dim() > 0 ? x.stride(dim) : 0};
  L.at_least_1d();
  return L;
}

// index_select's result rank, checked against the limit.
void check_select_rank(const char* op, const Tensor& x, const Tensor& index) {
  check(x.dim() - 1 + index.dim() <= kMaxDims,
        "{}: x{} with an index{} would give {} dims, more than {}; hint: flatten the index first", op, x.shape(),
        index.shape(), x.dim() - 1 + index.dim(), kMaxDims);
}

// gather / scatter_add: index has x's rank and fits inside x (except along dim) and inside `other`.
void check_elementwise_index(const char* op, const Tensor& x, int64_t dim, const Tensor& index,
                             const Tensor* src) {
  check(index.dim() == x.dim(), "{}: the index{} needs as many dims as x{}", op, index.shape(), x.shape());
  for (int64_t d = 0; d < x.dim(); ++d) {
    check(d == dim || index.size(d) <= x.size(d),
          "{}: index{} is larger than x{} at dim {}; hint: only dim {} may be larger", op, index.shape(), x.shape(),
          d, dim);
    if (src)
      check(index.size(d) <= src->size(d), "{}: index{} is larger than src{} at dim {}", op, index.shape(),
            src->shape(), d);
  }
}

int64_t wrap_index_dim(const Tensor& x, int64_t dim, const char* op) {
  return x.dim() == 0 && (dim == 0 || dim == -1) ? 0 : wrap_dim(dim, x.dim(), op);
}

// Lower (keep j <= i + diagonal) or upper (keep j >= i + diagonal) triangle of the last two dims.
Tensor triangle(const Tensor& x, int64_t diagonal, bool lower, const char* op) {
  check(x.dim() >= 2, "{}: needs at least 2 dims, got x{}", op, x.shape());
  Tensor out = empty(x.shape(), x.dtype());
  if (out.numel() == 0) return out;
  const int64_t n = x.size(-2), len = x.size(-1), xs = x.stride(-1);
  visit_dtype(x.dtype(), [&]<class T>() {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const int64_t grain = std::max<int64_t>(1, kChunkElements / len);
    parallel_for(0, x.numel() / len, grain, [&](int64_t lo, int64_t hi) {
      int64_t row = lo;
      for_each_row<2>(x.shape(), {x.strides(), out.strides()}, lo, hi, [&](const std::array<int64_t, 2>& off) {
        const int64_t i = row++ % n;  // the row's index along dim -2
        // Columns before `split` are kept by tril and zeroed by triu.
        const int64_t split = std::clamp<int64_t>(lower ? i + diagonal + 1 : i + diagonal, 0, len);
        const T* xr = px + off[0];
        T* orow = po + off[1];
        for_each_in_row(len, 1, xs, [&](int64_t j, int64_t, int64_t k) { orow[j] = (j < split) == lower ? xr[k] : T(0); });
      });
    });
  });
  return out;
}

// The shared steps of scatter_add and index_add: checks, out = x.clone(), the additions.
template <class MakeLoop>
Tensor scatter_into_copy(const char* op, const Tensor& x, const Tensor& index, const Tensor& src,
                         MakeLoop make_loop) {
  check(src.dtype() == x.dtype(), "{}: src is {} but x is {}; hint: convert with .to()", op, src.dtype(),
        x.dtype());
  check(x.dtype() != DType::b8, "{}: cannot add bool tensors; hint: convert with .to(DType::u8)", op);
  Tensor out = x.clone();
  const IndexLoop L = make_loop(out);
  if (L.shape.numel() == 0) return out;
  visit_index(index, op, [&]<class I>() {
    visit_dtype(x.dtype(), [&]<class T>() { run_scatter(L, index.data<I>(), out.data<T>(), src.data<T>()); });
  });
  return out;
}

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  check(!tensors.empty(), "cat: needs at least one tensor");
  const Tensor& first = tensors[0];
  check(first.dim() > 0, "cat: tensor 0 is 0-d and has no dim to join along; hint: use stack()");
  dim = wrap_dim(dim, first.dim(), "cat");
  Shape shape = first.shape();
  shape[dim] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    check(t.dtype() == first.dtype(), "cat: tensor {} is {} but tensor 0 is {}; hint: convert with .to()", i,
          t.dtype(), first.dtype());
    bool same = t.dim() == first.dim();
    for (int64_t d = 0; same && d < t.dim(); ++d) same = d == dim || t.size(d) == first.size(d);
    check(same, "cat: tensor {} has shape {} but tensor 0 has {}; all dims except dim {} must match", i,
          t.shape(), first.shape(), dim);
    shape[dim] += t.size(dim);
  }
  Tensor out = empty(shape, first.dtype());
  int64_t start = 0;
  for (const Tensor& t : tensors) {
    if (t.numel() > 0) out.narrow(dim, start, t.size(dim)).copy_(t);
    start += t.size(dim);
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  check(!tensors.empty(), "stack: needs at least one tensor");
  dim = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> parts;
  parts.reserve(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    check(tensors[i].shape() == tensors[0].shape(), "stack: tensor {} has shape {} but tensor 0 has {}; "
          "stack needs equal shapes", i, tensors[i].shape(), tensors[0].shape());
    parts.push_back(tensors[i].unsqueeze(dim));
  }
  return cat(parts, dim);
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  dim = wrap_dim(dim, x.dim(), "split");
  const int64_t size = x.size(dim);
  check(split_size > 0 || (split_size == 0 && size == 0),
        "split: split_size must be positive, got {} for x{}", split_size, x.shape());
  std::vector<Tensor> parts;
  for (int64_t start = 0; start < size; start += split_size)
    parts.push_back(x.narrow(dim, start, std::min(split_size, size - start)));
  if (parts.empty()) parts.push_back(x);  // torch gives one (empty) piece
  return parts;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  dim = wrap_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    check(s >= 0, "split: sizes must not be negative, got {}", fmt::join(sizes, ", "));
    total += s;
  }
  check(total == x.size(dim), "split: sizes [{}] add up to {} but x{} has {} along dim {}",
        fmt::join(sizes, ", "), total, x.shape(), x.size(dim), dim);
  std::vector<Tensor> parts;
  int64_t start = 0;
  for (int64_t s : sizes) {
    parts.push_back(x.narrow(dim, start, s));
    start += s;
  }
  return parts;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  check(chunks > 0, "chunk: the number of chunks must be positive, got {}", chunks);
  dim = wrap_dim(dim, x.dim(), "chunk");
  // Like torch.chunk: pieces of ceil(size / chunks), so there may be fewer than `chunks`.
  const int64_t split_size = (x.size(dim) + chunks - 1) / chunks;
  return split(x, split_size, dim);
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  dim = wrap_index_dim(x, dim, "gather");
  check_elementwise_index("gather", x, dim, index, nullptr);
  Tensor out = empty(index.shape(), x.dtype());
  if (out.numel() == 0) return out;
  const IndexLoop L = elementwise_loop("gather", x, dim, index, out);
  visit_index(index, "gather", [&]<class I>() {
    visit_dtype(x.dtype(), [&]<class T>() { run_gather(L, index.data<I>(), x.data<T>(), out.data<T>()); });
  });
  return out;
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  dim = wrap_index_dim(x, dim, "index_select");
  check(x.dim() > 0, "index_select: x is 0-d; hint: there is nothing to select from");
  check_select_rank("index_select", x, index);
  Tensor out = empty(splice(x.shape(), dim, index.shape()), x.dtype());
  if (out.numel() == 0) return out;
  const IndexLoop L = select_loop("index_select", x, dim, index, out);
  visit_index(index, "index_select", [&]<class I>() {
    visit_dtype(x.dtype(), [&]<class T>() { run_gather(L, index.data<I>(), x.data<T>(), out.data<T>()); });
  });
  return out;
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  dim = wrap_index_dim(x, dim, "scatter_add");
  check(src.dim() == x.dim(), "scatter_add: src{} needs as many dims as x{}", src.shape(), x.shape());
  check_elementwise_index("scatter_add", x, dim, index, &src);
  return scatter_into_copy("scatter_add", x, index, src, [&](const Tensor& out) {
    // Iterate over the index's positions; src is read at the same positions.
    return elementwise_loop("scatter_add", out, dim, index, src);
  });
}

Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  dim = wrap_index_dim(x, dim, "index_add");
  check(x.dim() > 0, "index_add: x is 0-d; hint: there is nothing to add into");
  check_select_rank("index_add", x, index);
  const Shape expected = splice(x.shape(), dim, index.shape());
  check(src.shape() == expected,
        "index_add: src has shape {} but x{} with index{} along dim {} needs {} (x's shape with dim {} "
        "replaced by the index's)", src.shape(), x.shape(), index.shape(), dim, expected, dim);
  return scatter_into_copy("index_add", x, index, src,
                           [&](const Tensor& out) { return select_loop("index_add", out, dim, index, src); });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  check(mask.dtype() == DType::b8, "masked_fill: the mask must be bool, got {}; hint: build it with a "
        "comparison such as gt(x, 0)", mask.dtype());
  bool fits = mask.dim() <= x.dim();
  for (int64_t d = 1; fits && d <= mask.dim(); ++d) fits = mask.size(-d) == 1 || mask.size(-d) == x.size(-d);
  check(fits, "masked_fill: mask{} does not broadcast to x{}; hint: mask dims must equal x's or be 1, "
        "aligned from the right", mask.shape(), x.shape());
  Tensor out = empty(x.shape(), x.dtype());
  if (out.numel() == 0) return out;
  // 0-d x: one row of one element.
  const Tensor xv = x.dim() == 0 ? x.unsqueeze(0) : x;
  const Tensor mv = mask.expand(xv.shape());
  const Tensor ov = x.dim() == 0 ? out.unsqueeze(0) : out;
  const int64_t len = xv.size(-1), xs = xv.stride(-1), ms = mv.stride(-1);
  visit_dtype(x.dtype(), [&]<class T>() {
    const T fill = static_cast<T>(value);
    const T* px = xv.data<T>();
    const bool* pm = mv.data<bool>();
    T* po = ov.data<T>();
    parallel_rows<3>(xv.shape(), {xv.strides(), mv.strides(), ov.strides()}, [&](const std::array<int64_t, 3>& off) {
      const T* xr = px + off[0];
      const bool* mr = pm + off[1];
      T* orow = po + off[2];
      for_each_in_row(len, ms, xs, [&](int64_t j, int64_t m, int64_t k) { orow[j] = mr[m] ? fill : xr[k]; });
    });
  });
  return out;
}

Tensor tril(const Tensor& x, int64_t diagonal) { return triangle(x, diagonal, true, "tril"); }
Tensor triu(const Tensor& x, int64_t diagonal) { return triangle(x, diagonal, false, "triu"); }

Tensor one_hot(const Tensor& ids, int64_t num_classes) {
  check(ids.dim() < kMaxDims, "one_hot: ids{} already has {} dims, the most a tensor may have", ids.shape(),
        kMaxDims);
  Tensor out;
  visit_index(ids, "one_hot", [&]<class I>() {
    const I* p = ids.data<I>();
    if (num_classes == -1) {  // like torch: one more than the largest id
      check(ids.numel() > 0, "one_hot: cannot infer num_classes from an empty ids tensor; hint: pass it");
      int64_t largest = 0;
      for_each_offset(ids.shape(), ids.strides(), [&](int64_t o) { largest = std::max<int64_t>(largest, p[o]); });
      num_classes = largest + 1;
    }
    check(num_classes > 0, "one_hot: num_classes must be positive (or -1 to infer it), got {}", num_classes);
    Shape shape = ids.shape();
    shape.push_back(num_classes);
    out = zeros(shape, DType::i64);  // (..., num_classes)
    int64_t* po = out.data<int64_t>();
    int64_t row = 0;
    for_each_offset(ids.shape(), ids.strides(), [&](int64_t o) {
      const int64_t id = p[o];
      check(id >= 0 && id < num_classes, "one_hot: class id {} is out of range for num_classes {}; hint: ids "
            "must be 0 to {}", id, num_classes, num_classes - 1);
      po[row++ * num_classes + id] = 1;
    });
  });
  return out;
}

}  // namespace strata
