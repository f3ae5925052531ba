// feedforward.h: the position-wise feed-forward networks of the Transformer block.
//
//   SwiGLU (the default):          FFN(x) = W2 (SiLU(W1 x) ⊙ W3 x)
//   SiLUFeedForward ("silu"):      FFN(x) = W2 SiLU(W1 x)
//
// with SiLU(a) = a σ(a), W1, W3 (d_ff, d_model) and W2 (d_model, d_ff), no biases. Both derive from
// FeedForward so a TransformerBlock holds either one as `ffn`.
#pragma once

#include "autograd/variable.h"
#include "nn/linear.h"
#include "nn/module.h"

#include <memory>
#include <string>

namespace strata {

class FeedForward : public Module {
 public:
  // x (..., d_model) -> (..., d_model)
  virtual Variable forward(const Variable& x) const = 0;
  Variable operator()(const Variable& x) const { return forward(x); }
};

class SwiGLU : public FeedForward {
 public:
  SwiGLU(int64_t d_model, int64_t d_ff, Generator* gen = nullptr, DType dtype = DType::f32);
  std::string type_name() const override { return "SwiGLU"; }
  Variable forward(const Variable& x) const override;

  std::shared_ptr<Linear> w1;  // (d_ff, d_model)
  std::shared_ptr<Linear> w2;  // (d_model, d_ff)
  std::shared_ptr<Linear> w3;  // (d_ff, d_model)
};

class SiLUFeedForward : public FeedForward {
 public:
  SiLUFeedForward(int64_t d_model, int64_t d_ff, Generator* gen = nullptr, DType dtype = DType::f32);
  std::string type_name() const override { return "SiLUFeedForward"; }
  Variable forward(const Variable& x) const override;

  std::shared_ptr<Linear> w1;  // (d_ff, d_model)
  std::shared_ptr<Linear> w2;  // (d_model, d_ff)
};

// The feed-forward named by a model config's ffn_type: "swiglu" or "silu".
std::shared_ptr<FeedForward> make_feedforward(const std::string& ffn_type, int64_t d_model, int64_t d_ff,
                                              Generator* gen = nullptr, DType dtype = DType::f32);

}  // namespace strata
