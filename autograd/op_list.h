// op_list.h: every differentiable op of functions.h, listed once.
//
// X(name, kind) with kind one of
//   primitive  its own backward in functions_*.cpp (the name is also the op name on the tape),
//   composed   written with other ops, no backward of its own,
//   fused      hand-written backward of a whole formula, with a composed twin in the tests.
// Overloads with constant operands have their own entries: add_scalar is add(Variable, double),
// add_constant is add(Variable, Tensor).
//
// tests/autograd/test_functions.cpp fails when a listed op has no gradcheck case, and when an op
// recorded on the tape by those cases is missing here.
#pragma once

#include <string_view>

#define STRATA_AUTOGRAD_OPS(X)                                                                          \
  /* elementwise */                                                                                     \
  X(neg, primitive) X(abs, primitive) X(exp, primitive) X(log, primitive) X(sqrt, primitive)            \
  X(rsqrt, primitive) X(sin, primitive) X(cos, primitive) X(tanh, primitive) X(sigmoid, primitive)      \
  X(relu, primitive) X(gelu, primitive) X(square, primitive) X(pow, primitive) X(clamp, primitive)      \
  X(silu, fused)                                                                                        \
  X(add, primitive) X(sub, composed) X(mul, primitive) X(div, primitive) X(maximum, primitive)          \
  X(minimum, composed) X(add_scalar, primitive) X(mul_scalar, primitive) X(div_scalar, composed)        \
  X(add_constant, primitive) X(mul_constant, primitive) X(where, primitive) X(masked_fill, composed)    \
  /* reductions */                                                                                      \
  X(sum, primitive) X(mean, primitive) X(var, composed) X(amax, primitive) X(amin, composed)            \
  X(logsumexp, primitive) X(softmax, primitive) X(log_softmax, primitive)                               \
  /* views and movement */                                                                              \
  X(view, primitive) X(reshape, primitive) X(permute, primitive) X(transpose, primitive)                \
  X(mT, composed) X(slice, primitive) X(narrow, primitive) X(select, primitive) X(expand, primitive)    \
  X(unsqueeze, primitive) X(squeeze, primitive) X(flatten, primitive) X(unflatten, primitive)           \
  X(diagonal, primitive) X(contiguous, primitive) X(tril, primitive) X(triu, primitive)                 \
  /* linear algebra, joining, indexing */                                                               \
  X(matmul, primitive) X(outer, composed) X(cat, primitive) X(stack, composed) X(split, composed)       \
  X(chunk, composed) X(gather, primitive) X(index_select, primitive) X(embedding, composed)             \
  X(einsum, primitive) X(rearrange, primitive) X(repeat, primitive) X(reduce, primitive)                \
  /* fused */                                                                                           \
  X(cross_entropy, fused) X(rms_norm, fused) X(swiglu, fused) X(scaled_dot_product_attention, fused)

namespace strata {

enum class OpKind { primitive, composed, fused };

struct OpInfo {
  std::string_view name;
  OpKind kind;
};

inline constexpr OpInfo kAutogradOps[] = {
#define STRATA_OP_INFO(name, kind) OpInfo{#name, OpKind::kind},
    STRATA_AUTOGRAD_OPS(STRATA_OP_INFO)
#undef STRATA_OP_INFO
};

}  // namespace strata
