// tensor.cpp: the Tensor view itself: layout queries, views (pure stride arithmetic), and creation.
//
// Every view below only computes a new (offset, shape, strides) over the same Storage:
//   transpose(i, j):     swap shape[i]<->shape[j] and strides[i]<->strides[j]
//   slice(d, a, b, s):   offset += a*strides[d]; shape[d] = ceil((b-a)/s); strides[d] *= s
//   select(d, i):        offset += i*strides[d]; drop dimension d
//   expand:              a size-1 dimension gets stride 0, so every index reads the same element
//   diagonal(o, i, j):   offset += o*strides[j] (or -o*strides[i]); the new dim has stride s_i + s_j
// The copying operations (copy_, contiguous, to, ...) live in ops_elementwise.cpp with the kernels.
#include "tensor/tensor.h"

#include "tensor/ops.h"

#include <algorithm>
#include <cmath>

namespace strata {

Tensor::Tensor(std::shared_ptr<Storage> storage, int64_t offset, Shape shape, Strides strides, DType dtype)
    : storage_(std::move(storage)), offset_(offset), shape_(shape), strides_(strides), dtype_(dtype) {
  check(shape_.size() == strides_.size(), "Tensor: shape {} and strides {} differ in length", shape_, strides_);
  for (int64_t s : shape_) check(s >= 0, "Tensor: negative size in shape {}", shape_);
}

int64_t Tensor::size(int64_t d) const { return shape_[wrap_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return strides_[wrap_dim(d, dim(), "stride")]; }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int64_t d = dim() - 1; d >= 0; --d) {
    if (shape_[d] == 1) continue;  // the stride of a size-1 dim never matters
    if (strides_[d] != expected) return false;
    expected *= shape_[d];
  }
  return true;
}

void* Tensor::data_ptr() const {
  check(defined(), "Tensor::data_ptr: the tensor is undefined (default-constructed)");
  return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(element_size());
}

template <class T>
T Tensor::item() const {
  check(numel() == 1, "item: needs a tensor with one element, got shape {}", shape_);
  return at<T>(Dims::filled(dim(), 0));
}

template <class T>
T Tensor::at(const Dims& index) const {
  check(index.size() == dim(), "at: index {} has {} entries for a tensor of shape {}", index, index.size(), shape_);
  int64_t off = 0;
  for (int64_t d = 0; d < dim(); ++d) {
    int64_t i = index[d] < 0 ? index[d] + shape_[d] : index[d];
    check(i >= 0 && i < shape_[d], "at: index {} is out of range for shape {} (dim {})", index, shape_, d);
    off += i * strides_[d];
  }
  return visit_dtype(dtype_, [&]<class S>() { return static_cast<T>(static_cast<S*>(data_ptr())[off]); });
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  std::vector<T> out;
  out.reserve(numel());
  visit_dtype(dtype_, [&]<class S>() {
    const S* p = static_cast<const S*>(data_ptr());
    for_each_offset(shape_, strides_, [&](int64_t off) { out.push_back(static_cast<T>(p[off])); });
  });
  return out;
}

// ---- Views ---------------------------------------------------------------------------------------

namespace {

// Replaces a single -1 in `shape` by the size that makes the element count equal `numel`.
Shape infer_size(Shape shape, int64_t numel, const Shape& from, const char* op) {
  int64_t known = 1, unknown = -1;
  for (int64_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      check(unknown < 0, "{}: only one dimension can be -1, got {}", op, shape);
      unknown = i;
    } else {
      check(shape[i] >= 0, "{}: invalid size {} in shape {}", op, shape[i], shape);
      known *= shape[i];
    }
  }
  if (unknown >= 0) {
    check(known != 0 && numel % known == 0, "{}: shape {} is invalid for a tensor of shape {} ({} elements)", op,
          shape, from, numel);
    shape[unknown] = numel / known;
  }
  check(shape.numel() == numel, "{}: shape {} is invalid for a tensor of shape {} ({} elements); hint: the "
        "element counts must match", op, shape, from, numel);
  return shape;
}

// Strides that let `new_shape` view memory laid out with (old_shape, old_strides), or false when
// impossible. Walks both shapes in chunks whose element counts match; inside each old chunk the
// dims must be contiguous with each other (stride[d] == stride[d+1] * shape[d+1]).
bool view_strides(const Shape& old_shape, const Strides& old_strides, const Shape& new_shape, Strides& out) {
  out = Dims::filled(new_shape.size(), 1);
  if (old_shape.numel() == 0) {
    out = contiguous_strides(new_shape);
    return true;
  }
  int64_t new_d = new_shape.size() - 1;
  int64_t old_d = old_shape.size() - 1;
  while (old_d >= 0 || new_d >= 0) {
    // Skip size-1 dims on both sides: their strides are free.
    if (new_d >= 0 && new_shape[new_d] == 1) {
      out[new_d] = (new_d + 1 < new_shape.size()) ? out[new_d + 1] * new_shape[new_d + 1] : 1;
      --new_d;
      continue;
    }
    if (old_d >= 0 && old_shape[old_d] == 1) {
      --old_d;
      continue;
    }
    if (old_d < 0 || new_d < 0) return false;
    // Collect one chunk: old dims [old_lo, old_d] and new dims [new_lo, new_d] with equal products.
    int64_t old_n = old_shape[old_d], new_n = new_shape[new_d];
    int64_t chunk_stride = old_strides[old_d];  // stride of the innermost old dim of the chunk
    int64_t stride = chunk_stride;
    out[new_d] = stride;
    int64_t old_lo = old_d, new_lo = new_d;
    while (old_n != new_n) {
      if (old_n < new_n) {
        --old_lo;
        while (old_lo >= 0 && old_shape[old_lo] == 1) --old_lo;
        if (old_lo < 0) return false;
        // The old dims of a chunk must form one contiguous run.
        int64_t inner = old_lo + 1;
        while (old_shape[inner] == 1) ++inner;
        if (old_strides[old_lo] != old_strides[inner] * old_shape[inner]) return false;
        old_n *= old_shape[old_lo];
      } else {
        stride *= new_shape[new_lo];
        --new_lo;
        if (new_lo < 0) return false;
        out[new_lo] = stride;
        new_n *= new_shape[new_lo];
      }
    }
    old_d = old_lo - 1;
    new_d = new_lo - 1;
  }
  return true;
}

}  // namespace

Tensor Tensor::view(Shape shape) const {
  shape = infer_size(shape, numel(), shape_, "view");
  Strides strides;
  check(view_strides(shape_, strides_, shape, strides),
        "view: cannot view a tensor of shape {} with strides {} as shape {} without copying; hint: use "
        "reshape(), which copies when it must, or call contiguous() first",
        shape_, strides_, shape);
  return Tensor(storage_, offset_, shape, strides, dtype_);
}

Tensor Tensor::reshape(Shape shape) const {
  shape = infer_size(shape, numel(), shape_, "reshape");
  Strides strides;
  if (view_strides(shape_, strides_, shape, strides)) return Tensor(storage_, offset_, shape, strides, dtype_);
  return contiguous().view(shape);
}

Tensor Tensor::permute(const Dims& order) const {
  check(order.size() == dim(), "permute: order {} has {} entries for a tensor with {} dimensions", order,
        order.size(), dim());
  Shape shape;
  Strides strides;
  bool seen[kMaxDims] = {};
  for (int64_t i = 0; i < dim(); ++i) {
    int64_t d = wrap_dim(order[i], dim(), "permute");
    check(!seen[d], "permute: dim {} appears twice in order {}", d, order);
    seen[d] = true;
    shape.push_back(shape_[d]);
    strides.push_back(strides_[d]);
  }
  return Tensor(storage_, offset_, shape, strides, dtype_);
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  int64_t a = wrap_dim(dim0, dim(), "transpose"), b = wrap_dim(dim1, dim(), "transpose");
  Shape shape = shape_;
  Strides strides = strides_;
  std::swap(shape[a], shape[b]);
  std::swap(strides[a], strides[b]);
  return Tensor(storage_, offset_, shape, strides, dtype_);
}

Tensor Tensor::mT() const {
  check(dim() >= 2, "mT: needs at least 2 dimensions, got shape {}", shape_);
  return transpose(-2, -1);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  d = wrap_dim(d, dim(), "slice");
  check(step > 0, "slice: step must be positive, got {}", step);
  const int64_t n = shape_[d];
  auto clamp_index = [n](int64_t i) { return std::clamp(i < 0 ? i + n : i, int64_t{0}, n); };
  start = clamp_index(start);
  end = std::max(clamp_index(end), start);
  Shape shape = shape_;
  Strides strides = strides_;
  shape[d] = (end - start + step - 1) / step;
  strides[d] *= step;
  return Tensor(storage_, offset_ + start * strides_[d], shape, strides, dtype_);
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  d = wrap_dim(d, dim(), "narrow");
  if (start < 0) start += shape_[d];
  check(start >= 0 && length >= 0 && start + length <= shape_[d],
        "narrow: start {} + length {} exceeds size {} of dim {} (shape {})", start, length, shape_[d], d, shape_);
  return slice(d, start, start + length);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  d = wrap_dim(d, dim(), "select");
  const int64_t n = shape_[d];
  int64_t i = index < 0 ? index + n : index;
  check(i >= 0 && i < n, "select: index {} is out of range for dim {} of size {} (shape {})", index, d, n, shape_);
  Shape shape = shape_;
  Strides strides = strides_;
  shape.erase(d);
  strides.erase(d);
  return Tensor(storage_, offset_ + i * strides_[d], shape, strides, dtype_);
}

Tensor Tensor::expand(const Shape& shape) const {
  check(shape.size() >= dim(), "expand: target {} has fewer dimensions than the tensor's shape {}", shape, shape_);
  const int64_t lead = shape.size() - dim();
  Shape out_shape;
  Strides out_strides;
  for (int64_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      check(shape[i] >= 0, "expand: new leading dimension {} cannot be {} (target {})", i, shape[i], shape);
      out_shape.push_back(shape[i]);
      out_strides.push_back(0);
      continue;
    }
    int64_t own = shape_[i - lead];
    int64_t want = shape[i] == -1 ? own : shape[i];
    check(own == want || own == 1,
          "expand: the size of dim {} is {} and cannot expand to {} (tensor {} -> target {}); only size-1 dims "
          "expand", i - lead, own, want, shape_, shape);
    out_shape.push_back(want);
    out_strides.push_back(own == want ? strides_[i - lead] : 0);
  }
  return Tensor(storage_, offset_, out_shape, out_strides, dtype_);
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = wrap_dim(d, dim() + 1, "unsqueeze");
  Shape shape = shape_;
  Strides strides = strides_;
  shape.insert(d, 1);
  strides.insert(d, d < dim() ? strides_[d] * shape_[d] : 1);
  return Tensor(storage_, offset_, shape, strides, dtype_);
}

Tensor Tensor::squeeze() const {
  Shape shape;
  Strides strides;
  for (int64_t d = 0; d < dim(); ++d) {
    if (shape_[d] == 1) continue;
    shape.push_back(shape_[d]);
    strides.push_back(strides_[d]);
  }
  return Tensor(storage_, offset_, shape, strides, dtype_);
}

Tensor Tensor::squeeze(int64_t d) const {
  d = wrap_dim(d, dim(), "squeeze");
  if (shape_[d] != 1) return *this;  // like torch: a no-op on a dim that is not of size 1
  Shape shape = shape_;
  Strides strides = strides_;
  shape.erase(d);
  strides.erase(d);
  return Tensor(storage_, offset_, shape, strides, dtype_);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  int64_t a = wrap_dim(start_dim, dim(), "flatten"), b = wrap_dim(end_dim, dim(), "flatten");
  check(a <= b, "flatten: start_dim {} comes after end_dim {} (shape {})", start_dim, end_dim, shape_);
  Shape shape;
  for (int64_t d = 0; d < a; ++d) shape.push_back(shape_[d]);
  int64_t merged = 1;
  for (int64_t d = a; d <= b; ++d) merged *= shape_[d];
  shape.push_back(merged);
  for (int64_t d = b + 1; d < dim(); ++d) shape.push_back(shape_[d]);
  return reshape(shape);
}

Tensor Tensor::unflatten(int64_t d, const Shape& sizes) const {
  d = wrap_dim(d, dim(), "unflatten");
  Shape inner = infer_size(sizes, shape_[d], Shape{shape_[d]}, "unflatten");
  Shape shape;
  for (int64_t i = 0; i < d; ++i) shape.push_back(shape_[i]);
  for (int64_t s : inner) shape.push_back(s);
  for (int64_t i = d + 1; i < dim(); ++i) shape.push_back(shape_[i]);
  return view(shape);  // splitting one dim is always expressible by strides
}

Tensor Tensor::diagonal(int64_t off, int64_t dim1, int64_t dim2) const {
  int64_t a = wrap_dim(dim1, dim(), "diagonal"), b = wrap_dim(dim2, dim(), "diagonal");
  check(a != b, "diagonal: dim1 and dim2 must differ, both are {} (shape {})", a, shape_);
  int64_t start = offset_, n;
  if (off >= 0) {
    n = std::max<int64_t>(0, std::min(shape_[a], shape_[b] - off));
    if (n > 0) start += off * strides_[b];
  } else {
    n = std::max<int64_t>(0, std::min(shape_[a] + off, shape_[b]));
    if (n > 0) start -= off * strides_[a];
  }
  Shape shape;
  Strides strides;
  for (int64_t d = 0; d < dim(); ++d) {
    if (d == a || d == b) continue;
    shape.push_back(shape_[d]);
    strides.push_back(strides_[d]);
  }
  shape.push_back(n);
  strides.push_back(strides_[a] + strides_[b]);
  return Tensor(storage_, start, shape, strides, dtype_);
}

// ---- Creation ----------------------------------------------------------------------------------

Tensor empty(const Shape& shape, DType dtype) {
  for (int64_t s : shape) check(s >= 0, "empty: negative size in shape {}", shape);
  auto storage = Storage::allocate(static_cast<size_t>(shape.numel()) * dtype_size(dtype));
  return Tensor(std::move(storage), 0, shape, contiguous_strides(shape), dtype);
}
Tensor full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  t.fill_(value);
  return t;
}
Tensor zeros(const Shape& shape, DType dtype) { return full(shape, 0.0, dtype); }
Tensor ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }
Tensor empty_like(const Tensor& t) { return empty(t.shape(), t.dtype()); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype()); }
Tensor full_like(const Tensor& t, double value) { return full(t.shape(), value, t.dtype()); }
Tensor scalar_tensor(double value, DType dtype) { return full(Shape{}, value, dtype); }

Tensor arange(double start, double end, double step, DType dtype) {
  check(step != 0, "arange: step must be non-zero");
  check(std::isfinite(start) && std::isfinite(end) && std::isfinite(step),
        "arange: start {}, end {} and step {} must be finite", start, end, step);
  const int64_t n = std::max<int64_t>(0, static_cast<int64_t>(std::ceil((end - start) / step)));
  Tensor t = empty({n}, dtype);
  visit_dtype(dtype, [&]<class T>() {
    T* p = t.data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(start + static_cast<double>(i) * step);
  });
  return t;
}

Tensor linspace(double start, double end, int64_t steps, DType dtype) {
  check(steps >= 0, "linspace: steps must be non-negative, got {}", steps);
  Tensor t = empty({steps}, dtype);
  const double delta = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  visit_dtype(dtype, [&]<class T>() {
    T* p = t.data<T>();
    // Like torch: the first half counts up from start, the second half down from end, so both
    // endpoints are exact.
    const int64_t half = steps / 2;
    for (int64_t i = 0; i < steps; ++i)
      p[i] = static_cast<T>(i < half ? start + delta * static_cast<double>(i)
                                     : end - delta * static_cast<double>(steps - 1 - i));
  });
  return t;
}

Tensor eye(int64_t n, DType dtype) {
  Tensor t = zeros({n, n}, dtype);
  t.diagonal().fill_(1.0);
  return t;
}

template <class T>
Tensor from_vector(const std::vector<T>& values, Shape shape) {
  check(shape.numel() == static_cast<int64_t>(values.size()),
        "from_vector: {} values do not fill shape {} ({} elements)", values.size(), shape, shape.numel());
  Tensor t = empty(shape, dtype_v<T>);
  T* p = t.data<T>();
  for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];  // (std::vector<bool> has no data())
  return t;
}

// Explicit instantiations for every element type.
#define STRATA_INSTANTIATE(T)                                  \
  template T Tensor::item<T>() const;                          \
  template T Tensor::at<T>(const Dims&) const;                 \
  template std::vector<T> Tensor::to_vector<T>() const;        \
  template Tensor from_vector<T>(const std::vector<T>&, Shape);
STRATA_INSTANTIATE(float)
STRATA_INSTANTIATE(double)
STRATA_INSTANTIATE(int64_t)
STRATA_INSTANTIATE(int32_t)
STRATA_INSTANTIATE(uint16_t)
STRATA_INSTANTIATE(uint8_t)
STRATA_INSTANTIATE(bool)
#undef STRATA_INSTANTIATE

}  // namespace strata
