// rope.h: rotary position embedding (RoPE, Su et al. 2021) with the CS336 conventions.
//
// The query/key vector x (d_k) of the token at position p is cut into d_k/2 *interleaved* pairs
// (x[2k], x[2k+1]), and pair k is rotated by the angle  p * theta^(-2k/d_k):
//
//   [y[2k]  ]   [cos a  -sin a] [x[2k]  ]
//   [y[2k+1]] = [sin a   cos a] [x[2k+1]],   a = p * theta^(-2k/d_k),  k = 0 .. d_k/2 - 1
//
// A rotation is linear, so the gradient is the inverse rotation (by -a) of the output gradient;
// autograd composes it from the elementwise ops. cos a and sin a for every position below
// max_seq_len are computed once (in double, then rounded to the dtype) and kept as non-persistent
// buffers: they are not part of the state dict.
#pragma once

#include "autograd/variable.h"
#include "nn/module.h"

namespace strata {

class RotaryPositionalEmbedding : public Module {
 public:
  RotaryPositionalEmbedding(double theta, int64_t d_k, int64_t max_seq_len, DType dtype = DType::f32);
  std::string type_name() const override { return "RotaryPositionalEmbedding"; }

  // x (..., T, d_k); token_positions int64 (..., T) in [0, max_seq_len), broadcast against x's
  // leading dims by NumPy rules (e.g. (T) for every batch and head) -> (..., T, d_k).
  Variable forward(const Variable& x, const Tensor& token_positions) const;
  Variable operator()(const Variable& x, const Tensor& token_positions) const { return forward(x, token_positions); }

  double theta;
  int64_t d_k, max_seq_len;
  Tensor cos_cached;  // (max_seq_len, d_k/2): cos(p * theta^(-2k/d_k))
  Tensor sin_cached;  // (max_seq_len, d_k/2)
};
using RoPE = RotaryPositionalEmbedding;

}  // namespace strata
