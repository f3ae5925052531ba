// functions_einsum.cpp: einsum and einops rearrange / repeat / reduce on Variables.
//
// Both backward passes work from the forward's plan (tensor/einsum_plan.h), which did all the
// parsing: nothing here reads an equation or a pattern.
//
// einsum. In the plan's labels (every "..." spelled out), an equation is a list of operand terms
// T_i and an output term O: y[O] = sum over the labels not in O of prod_i x_i[T_i]. y is linear in
// each operand, so its gradient w.r.t. x_i is the same sum with x_i replaced by g:
//   dx_i[U_i] = einsum(O, T_j (j != i) -> U_i)(g, x_j (j != i))
// where U_i are x_i's distinct labels. Two cases need care:
//   - a label only x_i has (summed in the forward, e.g. "ij->i"): nothing else carries it, so the
//     gradient is constant along it: computed without it, then expanded;
//   - a label repeated in T_i (a diagonal, e.g. "ii->i"): only the diagonal elements were read, so
//     the gradient is zeros with the computed values written onto that diagonal (a strided view).
// Labels that broadcast (size 1 in x_i, larger elsewhere) are summed back to size 1.
//
// einops. The forward is x.reshape(unflat) -> reduce -> permute -> unsqueeze -> expand -> reshape
// (AxesPlan). Each view step has an adjoint: a reshape is undone by a reshape, a permutation by
// its inverse, an expand by summing over the expanded dims. So a gradient goes back through the
// plan's steps in reverse (to_left_axes): rearrange only moves elements and gets them moved back;
// repeat's copies are summed; reduce's gradient is then spread over the elements it combined.
#include "autograd/function_helpers.h"
#include "tensor/einsum_plan.h"

#include <algorithm>

namespace strata {

using detail::Grads;

namespace {

// ---- einsum ---------------------------------------------------------------------------------------

// dL/dx_i for y = einsum(plan), given g = dL/dy.
Tensor einsum_operand_grad(const EinsumPlan& plan, const std::vector<Tensor>& operands, size_t i, const Tensor& g) {
  const std::string& ti = plan.operands[i].labels;
  const Tensor& x = operands[i];
  std::string unique;  // U_i, in order of first appearance
  for (char c : ti)
    if (unique.find(c) == std::string::npos) unique += c;
  std::vector<std::string> terms{plan.output_labels};  // O, then T_j (j != i)
  std::vector<Tensor> args{g};
  std::vector<Shape> shapes{g.shape()};
  std::string others = plan.output_labels;
  for (size_t j = 0; j < operands.size(); ++j) {
    if (j == i) continue;
    terms.push_back(plan.operands[j].labels);
    others += terms.back();
    args.push_back(operands[j]);
    shapes.push_back(operands[j].shape());
  }
  std::string kept;  // labels of U_i that g or another operand carries
  for (char c : unique)
    if (others.find(c) != std::string::npos) kept += c;
  Tensor grad = einsum(plan_einsum(terms, kept, shapes), args);  // (kept...)

  // Back to U_i: sum labels that broadcast in x_i, insert and expand labels only x_i has.
  Shape unique_shape;
  for (int64_t p = 0; p < int64_t(unique.size()); ++p) {
    const char c = unique[p];
    const int64_t size = x.size(int64_t(ti.find(c)));
    unique_shape.push_back(size);
    if (kept.find(c) == std::string::npos)
      grad = grad.unsqueeze(p);
    else if (size == 1 && grad.size(p) != 1)
      grad = sum(grad, {p}, /*keepdim=*/true);
  }
  grad = grad.expand(unique_shape);
  if (unique.size() == ti.size()) return grad;

  // Repeated labels: write onto the diagonal view of zeros (each unique label's stride is the sum
  // of the strides of the dims it labels).
  Tensor dx = zeros(x.shape(), x.dtype());
  Strides strides = Dims::filled(unique.size(), 0);
  for (size_t d = 0; d < ti.size(); ++d) strides[unique.find(ti[d])] += dx.stride(int64_t(d));
  Tensor(dx.storage(), dx.offset(), unique_shape, strides, dx.dtype()).copy_(grad);
  return dx;
}

// ---- einops -------------------------------------------------------------------------------------

// t summed over `dims` (ascending), which go unless keepdim; t itself when `dims` is empty (to
// sum, an empty list means every dim).
Tensor sum_over(const Tensor& t, const Dims& dims, bool keepdim) { return dims.empty() ? t : sum(t, dims, keepdim); }

// A tensor of the output's shape taken back through the plan's view steps in reverse, to one dim
// per left elementary axis (plan.unflat_shape) with the reduced axes as size 1: reshape to the
// right's elementary axes, sum over the new ones (repeat's copies; unit axes), invert the
// permutation, put the reduced axes back.
Tensor to_left_axes(const AxesPlan& plan, const Tensor& t) {
  Tensor u = sum_over(t.reshape(plan.expanded_shape), plan.new_axes, /*keepdim=*/false);
  Dims inverse = Dims::filled(plan.permutation.size(), 0);
  for (int64_t j = 0; j < plan.permutation.size(); ++j) inverse[plan.permutation[j]] = j;
  u = u.permute(inverse);
  for (int64_t d : plan.reduce_dims) u = u.unsqueeze(d);  // ascending: each lands at its place
  return u;
}

}  // namespace

// Linear in each operand: dx_i = einsum(O, T_j (j != i) -> U_i)(g, x_j (j != i)), summed to x_i's shape
Variable einsum(const std::string& equation, const std::vector<Variable>& operands, Location loc) {
  std::vector<Tensor> data;
  for (const Variable& v : operands) data.push_back(v.data());
  Tensor y = einsum(equation, data);
  return record("einsum", loc, y, operands, data, [equation](const BackwardInput& in) -> Grads {
    std::vector<Tensor> xs(in.saved.begin(), in.saved.end());
    std::vector<Shape> shapes;
    for (const Tensor& x : xs) shapes.push_back(x.shape());
    const EinsumPlan plan = plan_einsum(equation, shapes);
    Grads grads(xs.size());
    for (size_t i = 0; i < xs.size(); ++i)
      if (in.needs[i]) grads[i] = detail::sum_to(einsum_operand_grad(plan, xs, i, in.grad), xs[i].shape());
    return grads;
  });
}

// A permutation of elements: dx = g moved back
Variable rearrange(const Variable& x, const std::string& pattern, const AxisSizes& sizes, Location loc) {
  Tensor y = rearrange(x.data(), pattern, sizes);  // first: the tensor layer reports a bad pattern
  const AxesPlan plan = plan_axes(AxisOp::rearrange, pattern, x.shape(), sizes);
  return record("rearrange", loc, y, {x}, {}, [plan, sx = x.shape()](const BackwardInput& in) -> Grads {
    return {to_left_axes(plan, in.grad).reshape(sx)};
  });
}

// Each x element is copied to several outputs: dx = the sum of the copies' gradients
Variable repeat(const Variable& x, const std::string& pattern, const AxisSizes& sizes, Location loc) {
  Tensor y = repeat(x.data(), pattern, sizes);
  const AxesPlan plan = plan_axes(AxisOp::repeat, pattern, x.shape(), sizes);
  return record("repeat", loc, y, {x}, {}, [plan, sx = x.shape()](const BackwardInput& in) -> Grads {
    return {to_left_axes(plan, in.grad).reshape(sx)};
  });
}

// sum: dx = g copied to every summed element; mean: the same over the count n; max/min: g shared
// evenly by the elements equal to the extremum (like amax).
Variable reduce(const Variable& x, const std::string& pattern, const std::string& reduction, const AxisSizes& sizes,
                Location loc) {
  Tensor y = reduce(x.data(), pattern, reduction, sizes);
  const AxesPlan plan = plan_axes(AxisOp::reduce, pattern, x.shape(), sizes);
  const double n = double(x.numel()) / double(std::max<int64_t>(y.numel(), 1));
  // Only max and min read x and y in the backward; sum and mean keep neither alive.
  std::vector<Tensor> saved;
  if (reduction == "max" || reduction == "min") saved = {x.data(), y};
  return record("reduce", loc, y, {x}, std::move(saved),
                [plan, reduction, n, sx = x.shape()](const BackwardInput& in) -> Grads {
                  Tensor g = to_left_axes(plan, in.grad);  // (unflat...) with the reduced axes as 1
                  if (reduction == "sum") return {g.expand(plan.unflat_shape).reshape(sx)};
                  if (reduction == "mean") return {(g * (1.0 / n)).expand(plan.unflat_shape).reshape(sx)};
                  const Tensor x = in.saved[0].reshape(plan.unflat_shape);
                  Tensor is_extreme = eq(x, to_left_axes(plan, in.saved[1])).to(x.dtype());
                  Tensor count = sum_over(is_extreme, plan.reduce_dims, /*keepdim=*/true);
                  return {(g / count * is_extreme).reshape(sx)};
                });
}

}  // namespace strata
