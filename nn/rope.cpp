// rope.cpp: the rotary position embedding, composed from differentiable elementwise ops.
#include "nn/rope.h"

#include "autograd/functions.h"
#include "tensor/index.h"

#include <cmath>
#include <vector>

namespace strata {

RotaryPositionalEmbedding::RotaryPositionalEmbedding(double theta, int64_t d_k, int64_t max_seq_len, DType dtype)
    : theta(theta), d_k(d_k), max_seq_len(max_seq_len) {
  check(d_k > 0 && d_k % 2 == 0, "RoPE: d_k ({}) must be positive and even (it is cut into pairs)", d_k);
  check(max_seq_len > 0 && theta > 0, "RoPE: max_seq_len ({}) and theta ({}) must be positive", max_seq_len, theta);
  const int64_t half = d_k / 2;
  std::vector<double> c(max_seq_len * half), s(max_seq_len * half);
  for (int64_t p = 0; p < max_seq_len; ++p) {
    for (int64_t k = 0; k < half; ++k) {
      const double angle = double(p) * std::pow(theta, -2.0 * double(k) / double(d_k));
      c[p * half + k] = std::cos(angle);
      s[p * half + k] = std::sin(angle);
    }
  }
  cos_cached = register_buffer("cos_cached", from_vector(c, {max_seq_len, half}).to(dtype), /*persistent=*/false);
  sin_cached = register_buffer("sin_cached", from_vector(s, {max_seq_len, half}).to(dtype), /*persistent=*/false);
}

Variable RotaryPositionalEmbedding::forward(const Variable& x, const Tensor& token_positions) const {
  check(x.dim() >= 2 && x.size(-1) == d_k, "RoPE: input of shape {} must be (..., T, d_k = {})", x.shape(), d_k);
  check(token_positions.dtype() == DType::i64 && token_positions.dim() >= 1 &&
            token_positions.size(-1) == x.size(-2),
        "RoPE: token_positions must be int64 (..., T) with T = {} (input {}), got {} {}", x.size(-2), x.shape(),
        token_positions.dtype(), token_positions.shape());
  const Tensor positions = token_positions.contiguous();
  const int64_t* p = positions.data<int64_t>();
  for (int64_t i = 0; i < positions.numel(); ++i)
    check(p[i] >= 0 && p[i] < max_seq_len,
          "RoPE: token position {} is outside [0, max_seq_len = {}); hint: sequences longer than the context the "
          "model was built for are not supported",
          p[i], max_seq_len);

  const Tensor cos_a = index_select(cos_cached, 0, positions);  // (..., T, d_k/2)
  const Tensor sin_a = index_select(sin_cached, 0, positions);  // (..., T, d_k/2)
  const Variable pairs = unflatten(x, -1, {d_k / 2, 2});         // (..., T, d_k/2, 2)
  const Variable even = select(pairs, -1, 0);                    // x[2k]    (..., T, d_k/2)
  const Variable odd = select(pairs, -1, 1);                     // x[2k+1]  (..., T, d_k/2)
  const Variable rotated_even = mul(even, cos_a) - mul(odd, sin_a);
  const Variable rotated_odd = mul(even, sin_a) + mul(odd, cos_a);
  return flatten(stack({rotated_even, rotated_odd}, -1), -2, -1);  // (..., T, d_k/2, 2) -> (..., T, d_k)
}

}  // namespace strata
