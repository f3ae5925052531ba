// einsum_plan.h: the plans behind einsum and rearrange / repeat / reduce (einsum.h).
//
// A plan is what a pattern means for inputs of given shapes, worked out without touching data:
// a list of view operations (diagonal, permute, reshape, expand), reductions and products.
// plan_einsum and plan_axes are pure functions of the pattern and the shapes; they do every
// check (and throw every pattern error), so the executors in einsum.cpp only replay the steps.
//
// einsum labels. Inside a plan each dimension carries a one-character label: the letter from the
// equation, or a digit for a dimension covered by `...`: the ellipsis spans E broadcast
// dimensions (E = the most any operand covers), numbered '0' .. '0'+E-1 outermost first, and an
// operand whose `...` covers e <= E dimensions holds the last e of them (NumPy broadcasting).
#pragma once

#include "tensor/einsum.h"  // AxisSizes
#include "tensor/shape.h"

#include <string>
#include <utility>
#include <vector>

namespace strata {

// ---- einsum ----------------------------------------------------------------------------------
// What happens to one operand on its own, before it meets another:
//   1. for each (d1, d2) in `diagonals`: x = x.diagonal(0, d1, d2), the diagonal of a label
//      repeated in this operand; it becomes the last dimension;
//   2. x summed over `sum_dims` (ascending): labels needed by no other operand nor the output,
//      and labels of size 1 here that broadcast against a larger size elsewhere (the operand
//      is constant along them, so they are squeezed away; size-1 dims are always squeezed,
//      never summed, since the sum over one element is that element).
struct EinsumOperandPlan {
  std::string labels;  // one label per input dimension
  std::vector<std::pair<int64_t, int64_t>> diagonals;
  Dims sum_dims;
  std::string reduced_labels;  // labels of the dimensions left after steps 1 and 2
};

// One product of the running result (`left`: operand 0, then the previous product) with the next
// operand (`right`), through one batched matmul. Label groups:
//   batch       in both, needed later (by the output or a later operand)
//   contracted  in both, not needed later: summed by the matmul
//   left_only / right_only  in one of them (needed later, or step 2 above would have summed it)
// Steps:
//   left.permute(left_perm)   (batch..., left_only..., contracted...) -> reshape left_shape  (batch..., M, K)
//   right.permute(right_perm) (batch..., contracted..., right_only...) -> reshape right_shape (batch..., K, N)
//   matmul -> (batch..., M, N) -> reshape result_shape (batch..., left_only..., right_only...)
// M, K, N are the products of the group sizes (1 for an empty group). The batch dims keep their
// sizes (matmul loops over them whatever their strides), except that more than kMaxDims - 2 of
// them are merged into one. With nothing contracted (K = 1, e.g. an outer product) `use_matmul`
// is false and a broadcasting mul of (batch..., M, 1) and (batch..., 1, N) gives the same
// (batch..., M, N) without a GEMM per batch entry.
struct EinsumProduct {
  std::string batch, contracted, left_only, right_only;
  Dims left_perm, right_perm;
  Shape left_shape, right_shape;
  bool use_matmul = true;
  Shape result_shape;
  std::string result_labels;  // batch + left_only + right_only
};

// The whole einsum: prepare every operand, contract left to right, then permute the last result
// (operand 0 itself when there is one operand) into the output order.
struct EinsumPlan {
  std::vector<EinsumOperandPlan> operands;
  std::vector<EinsumProduct> products;  // operands.size() - 1 of them
  Dims output_perm;
  std::string output_labels;
  Shape output_shape;
};

// Parses `equation` (torch.einsum syntax: "bij,bjk->bik", implicit output "ij,jk", "...") for
// operands of the given shapes and plans it. Throws strata::Error quoting the equation.
EinsumPlan plan_einsum(const std::string& equation, const std::vector<Shape>& shapes);

// Plans an equation already spelled out in plan labels (letters, and digits for ellipsis dims, as
// above): one string per operand with a label per dim, and the output's. Nothing is parsed: this
// is how einsum's backward contracts a plan's labels in another order.
EinsumPlan plan_einsum(const std::vector<std::string>& inputs, const std::string& output,
                       const std::vector<Shape>& shapes);

// Replays `plan` on operands of the shapes it was made for (einsum(equation, operands) checks the
// operands, plans, then calls this).
Tensor einsum(const EinsumPlan& plan, const std::vector<Tensor>& operands);

// ---- rearrange / repeat / reduce ---------------------------------------------------------------
enum class AxisOp { rearrange, repeat, reduce };

// Pattern "left -> right" (einops grammar): axis names, parenthesised groups "(h d)" whose
// sizes multiply into one dimension, integer literals for anonymous axes ("1" a unit axis), and
// one "..." for the dimensions not named. An elementary axis is a single name, literal or
// ellipsis dimension (named "...0", "...1", ... in the plan). Steps:
//   x.reshape(unflat_shape)        one dimension per elementary axis of the left side
//   reduced over reduce_dims       left axes absent on the right (reduce), or unit axes dropped
//   permute(permutation)           the remaining axes in their right-side order
//   unsqueeze each of new_axes     axes only on the right (repeat's new axes, unit axes)
//   expand(expanded_shape)         one dimension per elementary axis of the right side
//   reshape(output_shape)          groups merged; a view whenever the strides allow it
struct AxesPlan {
  std::vector<std::string> left_axes, right_axes;  // elementary axes, in pattern order
  Shape unflat_shape;
  Dims reduce_dims;  // ascending
  Dims permutation;
  Dims new_axes;  // ascending positions among the right's elementary axes
  Shape expanded_shape;
  Shape output_shape;
};

// Plans `op` with `pattern` for an input of `shape`; `sizes` gives axis sizes by name (one unknown
// per group is inferred). Throws strata::Error quoting the pattern and naming the axis.
AxesPlan plan_axes(AxisOp op, const std::string& pattern, const Shape& shape, const AxisSizes& sizes);

}  // namespace strata
