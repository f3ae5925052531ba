// feedforward.cpp: SwiGLU and the plain SiLU feed-forward network.
#include "nn/feedforward.h"

#include "autograd/functions.h"

namespace strata {

SwiGLU::SwiGLU(int64_t d_model, int64_t d_ff, Generator* gen, DType dtype) {
  w1 = register_module("w1", std::make_shared<Linear>(d_model, d_ff, gen, dtype));
  w2 = register_module("w2", std::make_shared<Linear>(d_ff, d_model, gen, dtype));
  w3 = register_module("w3", std::make_shared<Linear>(d_model, d_ff, gen, dtype));
}

Variable SwiGLU::forward(const Variable& x) const {
  // swiglu(a, b) = silu(a) * b, one fused op.
  return (*w2)(swiglu((*w1)(x), (*w3)(x)));  // (..., d_ff) -> (..., d_model)
}

SiLUFeedForward::SiLUFeedForward(int64_t d_model, int64_t d_ff, Generator* gen, DType dtype) {
  w1 = register_module("w1", std::make_shared<Linear>(d_model, d_ff, gen, dtype));
  w2 = register_module("w2", std::make_shared<Linear>(d_ff, d_model, gen, dtype));
}

Variable SiLUFeedForward::forward(const Variable& x) const {
  return (*w2)(silu((*w1)(x)));  // (..., d_ff) -> (..., d_model)
}

std::shared_ptr<FeedForward> make_feedforward(const std::string& ffn_type, int64_t d_model, int64_t d_ff,
                                              Generator* gen, DType dtype) {
  if (ffn_type == "swiglu") return std::make_shared<SwiGLU>(d_model, d_ff, gen, dtype);
  if (ffn_type == "silu") return std::make_shared<SiLUFeedForward>(d_model, d_ff, gen, dtype);
  fail("make_feedforward: unknown ffn_type '{}'; hint: use \"swiglu\" or \"silu\"", ffn_type);
}

}  // namespace strata
