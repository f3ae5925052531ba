// shape.h: `Dims`, a small fixed-capacity list of up to 8 int64 values, used for shapes, strides
// and lists of dimensions. It lives inline (no heap), so copying a Tensor stays O(1).
//
// Shapes and strides are outermost first (row-major): a contiguous (2, 3, 4) tensor has strides
// (12, 4, 1). A stride of 0 marks a broadcast dimension.
#pragma once

#include "tensor/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace strata {

constexpr int kMaxDims = 8;

class Dims {
 public:
  Dims() = default;
  Dims(std::initializer_list<int64_t> values) { assign(values.begin(), values.end()); }
  explicit Dims(const std::vector<int64_t>& values) { assign(values.begin(), values.end()); }
  // n copies of `value`.
  static Dims filled(int64_t n, int64_t value) {
    Dims d;
    for (int64_t i = 0; i < n; ++i) d.push_back(value);
    return d;
  }

  int64_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  int64_t& operator[](int64_t i) { return v_[i]; }
  int64_t operator[](int64_t i) const { return v_[i]; }
  int64_t back() const { return v_[n_ - 1]; }
  const int64_t* begin() const { return v_.data(); }
  const int64_t* end() const { return v_.data() + n_; }
  int64_t* begin() { return v_.data(); }
  int64_t* end() { return v_.data() + n_; }
  const int64_t* data() const { return v_.data(); }

  void push_back(int64_t value) {
    check(n_ < kMaxDims, "Dims: more than {} dimensions are not supported", kMaxDims);
    v_[n_++] = value;
  }
  void insert(int64_t pos, int64_t value) {
    push_back(0);
    for (int64_t i = n_ - 1; i > pos; --i) v_[i] = v_[i - 1];
    v_[pos] = value;
  }
  void erase(int64_t pos) {
    for (int64_t i = pos; i + 1 < n_; ++i) v_[i] = v_[i + 1];
    --n_;
  }
  std::vector<int64_t> vec() const { return {begin(), end()}; }

  // Product of all entries (1 for an empty list: the number of elements of a 0-d tensor).
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t x : *this) n *= x;
    return n;
  }

  friend bool operator==(const Dims& a, const Dims& b) {
    if (a.n_ != b.n_) return false;
    for (int64_t i = 0; i < a.n_; ++i)
      if (a.v_[i] != b.v_[i]) return false;
    return true;
  }

 private:
  template <class It>
  void assign(It first, It last) {
    for (; first != last; ++first) push_back(*first);
  }
  std::array<int64_t, kMaxDims> v_{};
  int64_t n_ = 0;
};

using Shape = Dims;
using Strides = Dims;

// Row-major (C order) strides of a shape. A size-0 dimension counts as 1, as in torch, so an
// empty tensor never gets a stride 0 (which would mean "broadcast").
inline Strides contiguous_strides(const Shape& shape) {
  Strides s = Dims::filled(shape.size(), 1);
  for (int64_t i = shape.size() - 2; i >= 0; --i) s[i] = s[i + 1] * std::max<int64_t>(shape[i + 1], 1);
  return s;
}

// Maps a possibly negative dim (-1 = last) into [0, ndim); throws naming `op` when out of range.
inline int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  int64_t d = dim < 0 ? dim + ndim : dim;
  check(d >= 0 && d < ndim, "{}: dim {} is out of range for a tensor with {} dimensions (valid: {} to {})",
        op, dim, ndim, -ndim, ndim - 1);
  return d;
}

// NumPy broadcasting of two shapes (aligned at the right; sizes equal or 1). Throws naming `op`.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace strata

template <>
struct fmt::formatter<strata::Dims> : fmt::formatter<std::string_view> {
  auto format(const strata::Dims& d, fmt::format_context& ctx) const {
    auto out = ctx.out();
    *out++ = '[';
    for (int64_t i = 0; i < d.size(); ++i) {
      if (i) out = fmt::format_to(out, ", ");
      out = fmt::format_to(out, "{}", d[i]);
    }
    *out++ = ']';
    return out;
  }
};
