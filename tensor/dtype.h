// dtype.h: the element types a Tensor can hold, and `visit_dtype`, which turns a runtime DType
// into a compile-time C++ type:
//
//   visit_dtype(t.dtype(), [&]<class T>() { T* p = t.data<T>(); ... });
//
// f32 is the compute type; f64 is for exact gradient checks; i64/i32 hold token ids; u16 holds
// token files; u8 and b8 (bool) hold masks. There is no silent promotion: mixing dtypes in one
// arithmetic op throws, and `Tensor::to(dtype)` converts explicitly.
#pragma once

#include "tensor/error.h"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace strata {

enum class DType : uint8_t { f32, f64, i64, i32, u16, u8, b8 };

constexpr DType kDTypes[] = {DType::f32, DType::f64, DType::i64, DType::i32,
                             DType::u16, DType::u8, DType::b8};

constexpr std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::i64: return "int64";
    case DType::i32: return "int32";
    case DType::u16: return "uint16";
    case DType::u8: return "uint8";
    case DType::b8: return "bool";
  }
  return "?";
}

constexpr size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i64: return 8;
    case DType::i32: return 4;
    case DType::u16: return 2;
    case DType::u8: return 1;
    case DType::b8: return 1;
  }
  return 0;
}

constexpr bool is_floating(DType dtype) { return dtype == DType::f32 || dtype == DType::f64; }

// The C++ type of a DType, and back.
template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::f64; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::i64; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::i32; };
template <> struct dtype_of<uint16_t> { static constexpr DType value = DType::u16; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::u8; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::b8; };
template <class T> constexpr DType dtype_v = dtype_of<T>::value;

// Calls f.template operator()<T>() with T the C++ type of `dtype`.
template <class F>
decltype(auto) visit_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::f32: return f.template operator()<float>();
    case DType::f64: return f.template operator()<double>();
    case DType::i64: return f.template operator()<int64_t>();
    case DType::i32: return f.template operator()<int32_t>();
    case DType::u16: return f.template operator()<uint16_t>();
    case DType::u8: return f.template operator()<uint8_t>();
    case DType::b8: return f.template operator()<bool>();
  }
  fail("visit_dtype: unknown dtype {}", static_cast<int>(dtype));
}

// Same, for ops defined only on floating types (f32, f64); others throw naming `op`.
template <class F>
decltype(auto) visit_floating(DType dtype, std::string_view op, F&& f) {
  switch (dtype) {
    case DType::f32: return f.template operator()<float>();
    case DType::f64: return f.template operator()<double>();
    default:
      fail("{}: needs a floating dtype (float32 or float64), got {}; hint: convert with .to(DType::f32)",
           op, dtype_name(dtype));
  }
}

// Same, for ops defined on every dtype but bool (bool throws naming `op`). f returns void.
template <class F>
void visit_numeric(DType dtype, std::string_view op, F&& f) {
  if (dtype == DType::b8)
    fail("{}: not defined for bool tensors; hint: convert with .to(DType::i64) or .to(DType::f32)", op);
  visit_dtype(dtype, [&]<class T>() {
    if constexpr (!std::is_same_v<T, bool>) f.template operator()<T>();
  });
}

}  // namespace strata

template <>
struct fmt::formatter<strata::DType> : fmt::formatter<std::string_view> {
  auto format(strata::DType d, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(strata::dtype_name(d), ctx);
  }
};
