// tensor.h: the strided N-d Tensor, the centre of strata.
//
// A Tensor is a *view*: a shared Storage (flat bytes) plus
//   offset   where element [0, 0, ...] sits in the storage, in elements,
//   shape    the size of each dimension, outermost first,
//   strides  how many elements to step in storage to move by one along each dimension,
//   dtype    the element type.
// Element [i0, i1, ..., ik] lives at storage[offset + i0*s0 + i1*s1 + ... + ik*sk].
//
// Because the layout is only numbers, many operations are free: transpose swaps two strides,
// slicing moves the offset and scales a stride, expand sets a stride to 0 (every index along
// that dimension reads the same element). Copying a Tensor copies the view, never the data:
// O(1). `contiguous()` and `clone()` are the explicit copies; `reshape` copies only when the
// strides cannot express the new shape. See docs/internals/strides_and_views.md.
//
// The operations on tensors live beside this file: ops.h (elementwise, reductions, softmax),
// linalg.h (matmul), index.h (cat, gather, ...), einsum.h (einsum, rearrange), random.h, io.h.
#pragma once

#include "tensor/dtype.h"
#include "tensor/shape.h"
#include "tensor/storage.h"

#include <memory>
#include <vector>

namespace strata {

class Tensor {
 public:
  // An undefined tensor (no storage); defined() is false.
  Tensor() = default;
  // The general constructor: a view of `storage`.
  Tensor(std::shared_ptr<Storage> storage, int64_t offset, Shape shape, Strides strides, DType dtype);

  // ---- Layout ----------------------------------------------------------------------------
  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const Strides& strides() const { return strides_; }
  int64_t dim() const { return shape_.size(); }
  int64_t size(int64_t dim) const;    // negative dims count from the end
  int64_t stride(int64_t dim) const;  // idem
  int64_t numel() const { return shape_.numel(); }
  int64_t offset() const { return offset_; }
  size_t element_size() const { return dtype_size(dtype_); }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  // Same storage (and so possibly overlapping data)?
  bool shares_storage(const Tensor& other) const { return storage_ == other.storage_; }

  // Pointer to element [0, 0, ...]. The typed form checks that T matches the dtype.
  void* data_ptr() const;
  template <class T>
  T* data() const {
    check(dtype_v<T> == dtype_, "Tensor::data<{}>: the tensor holds {}", dtype_name(dtype_v<T>), dtype_);
    return static_cast<T*>(data_ptr());
  }
  // The value of a one-element tensor, converted to T.
  template <class T>
  T item() const;
  // One element by index (negative indices count from the end), converted to T. For tests and
  // small programs; loops over data use data<T>() and strides.
  template <class T>
  T at(const Dims& index) const;
  // The elements in row-major order, converted to T.
  template <class T>
  std::vector<T> to_vector() const;

  // ---- Views (no copy) ---------------------------------------------------------------------
  // `view` needs strides compatible with the new shape; -1 in `shape` is inferred.
  Tensor view(Shape shape) const;
  // Like view, but copies when the strides cannot express `shape`.
  Tensor reshape(Shape shape) const;
  Tensor permute(const Dims& order) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  // Transpose of the last two dimensions (matrix transpose, batched).
  Tensor mT() const;
  // Elements start, start+step, ... < end along `dim` (end is clamped; negatives count from the end).
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  // Index `index` along `dim`; the dimension disappears.
  Tensor select(int64_t dim, int64_t index) const;
  // Broadcast size-1 dimensions to `shape` (stride 0); -1 keeps a size; new leading dims allowed.
  Tensor expand(const Shape& shape) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze() const;  // drops every size-1 dimension
  Tensor squeeze(int64_t dim) const;
  // Merges dims start..end (inclusive) into one; may copy, like reshape.
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  // Splits `dim` into `sizes` (one entry may be -1).
  Tensor unflatten(int64_t dim, const Shape& sizes) const;
  // The diagonal of dims (dim1, dim2) with `offset` (> 0 above); it becomes the last dimension.
  Tensor diagonal(int64_t offset = 0, int64_t dim1 = 0, int64_t dim2 = 1) const;

  // ---- Copies ------------------------------------------------------------------------------
  Tensor contiguous() const;  // this tensor itself when already contiguous
  Tensor clone() const;       // always a fresh contiguous copy
  Tensor to(DType dtype) const;  // converted copy (this tensor itself when the dtype matches)

  // ---- In-place writes (bump the storage version) ----------------------------------------
  // Copies `src` (broadcast to this shape, same dtype) into this tensor's elements.
  Tensor& copy_(const Tensor& src);
  Tensor& fill_(double value);
  Tensor& zero_() { return fill_(0.0); }
  // Elementwise in-place arithmetic; `other` broadcasts to this tensor's shape.
  Tensor& add_(const Tensor& other, double alpha = 1.0);  // this += alpha * other
  Tensor& sub_(const Tensor& other);
  Tensor& mul_(const Tensor& other);
  Tensor& div_(const Tensor& other);
  Tensor& add_(double value);
  Tensor& mul_(double value);
  Tensor& clamp_(double lo, double hi);
  // Marks the storage as written (for code that writes through data<T>() directly).
  void bump_version() const { storage_->bump_version(); }
  uint64_t version() const { return storage_ ? storage_->version() : 0; }

 private:
  std::shared_ptr<Storage> storage_;
  int64_t offset_ = 0;
  Shape shape_;
  Strides strides_;
  DType dtype_ = DType::f32;
};

// ---- Creation ------------------------------------------------------------------------------
Tensor empty(const Shape& shape, DType dtype = DType::f32);  // uninitialised
Tensor zeros(const Shape& shape, DType dtype = DType::f32);
Tensor ones(const Shape& shape, DType dtype = DType::f32);
Tensor full(const Shape& shape, double value, DType dtype = DType::f32);
Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
// 0-d tensor holding `value`.
Tensor scalar_tensor(double value, DType dtype = DType::f32);
// start, start+step, ... < end (like torch.arange).
Tensor arange(double start, double end, double step = 1.0, DType dtype = DType::i64);
inline Tensor arange(int64_t end, DType dtype = DType::i64) { return arange(0.0, double(end), 1.0, dtype); }
// `steps` evenly spaced values from start to end inclusive.
Tensor linspace(double start, double end, int64_t steps, DType dtype = DType::f32);
Tensor eye(int64_t n, DType dtype = DType::f32);

// A contiguous tensor holding a copy of `values`, with `shape` (default 1-D).
template <class T>
Tensor from_vector(const std::vector<T>& values, Shape shape);
template <class T>
Tensor from_vector(const std::vector<T>& values) {
  return from_vector(values, Shape{static_cast<int64_t>(values.size())});
}
// Convenience for literals in tests and examples: tensor({1, 2, 3, 4}, {2, 2}).
inline Tensor tensor(std::initializer_list<double> values, Shape shape, DType dtype = DType::f32) {
  return from_vector(std::vector<double>(values), shape).to(dtype);
}
inline Tensor tensor(std::initializer_list<double> values, DType dtype = DType::f32) {
  return tensor(values, Shape{static_cast<int64_t>(values.size())}, dtype);
}

// ---- Strided iteration helper ----------------------------------------------------------------
// Calls f(offset) for the storage offset (in elements, relative to data_ptr) of each element of
// a tensor with `shape` and `strides`, in row-major order. The plain reference loop that the
// fast paths are tested against, and the loop used where speed does not matter.
template <class F>
void for_each_offset(const Shape& shape, const Strides& strides, F&& f) {
  const int64_t nd = shape.size();
  const int64_t n = shape.numel();
  if (n == 0) return;
  Dims index = Dims::filled(nd, 0);
  int64_t off = 0;
  for (int64_t count = 0; count < n; ++count) {
    f(off);
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (++index[d] < shape[d]) {
        off += strides[d];
        break;
      }
      off -= strides[d] * (shape[d] - 1);
      index[d] = 0;
    }
  }
}

}  // namespace strata
