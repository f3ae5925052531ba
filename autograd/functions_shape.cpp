// functions_shape.cpp: views and movement on Variables, and joining/splitting.
//
// A view only rearranges which element sits where, so its backward routes each output gradient
// element back to the input element it came from:
//   - reshapes (view, reshape, squeeze, unsqueeze, flatten, unflatten) keep row-major order, so
//     the gradient is reshaped back;
//   - permute/transpose: the gradient is permuted back by the inverse permutation;
//   - picking views (slice, narrow, select, diagonal): the gradient is written through the same
//     view into zeros of the input's shape (elements not picked get 0);
//   - expand: each input element was copied to many outputs, so the copies' gradients are summed.
#include "autograd/function_helpers.h"
#include "tensor/index.h"

namespace strata {

using detail::Grads;

namespace {

// An op whose output is `out`, a reshape of x: dx = g reshaped to x's shape.
Variable reshape_of(const char* op, const Location& loc, const Variable& x, Tensor out) {
  return record(op, loc, std::move(out), {x}, {},
                [sx = x.shape()](const BackwardInput& in) -> Grads { return {in.grad.reshape(sx)}; });
}

// An op whose output is pick(x) for a view `pick` selecting some of x's elements:
// dx = zeros with g written into pick(dx).
template <class Pick>
Variable picked_view(const char* op, const Location& loc, const Variable& x, Pick pick) {
  return record(op, loc, pick(x.data()), {x}, {},
                [sx = x.shape(), dtype = x.dtype(), pick](const BackwardInput& in) -> Grads {
                  Tensor dx = zeros(sx, dtype);
                  pick(dx).copy_(in.grad);
                  return {dx};
                });
}

}  // namespace

Variable view(const Variable& x, const Shape& shape, Location loc) {
  return reshape_of("view", loc, x, x.data().view(shape));
}
Variable reshape(const Variable& x, const Shape& shape, Location loc) {
  return reshape_of("reshape", loc, x, x.data().reshape(shape));
}
Variable unsqueeze(const Variable& x, int64_t dim, Location loc) {
  return reshape_of("unsqueeze", loc, x, x.data().unsqueeze(dim));
}
Variable squeeze(const Variable& x, int64_t dim, Location loc) {
  return reshape_of("squeeze", loc, x, x.data().squeeze(dim));
}
Variable flatten(const Variable& x, int64_t start_dim, int64_t end_dim, Location loc) {
  return reshape_of("flatten", loc, x, x.data().flatten(start_dim, end_dim));
}
Variable unflatten(const Variable& x, int64_t dim, const Shape& sizes, Location loc) {
  return reshape_of("unflatten", loc, x, x.data().unflatten(dim, sizes));
}

// y = x, copied into contiguous memory: dx = g
Variable contiguous(const Variable& x, Location loc) {
  return record("contiguous", loc, x.data().contiguous(), {x}, {},
                [](const BackwardInput& in) -> Grads { return {in.grad}; });
}

// y[i_order[0], ..., i_order[n-1]] = x[i_0, ..., i_n-1]: dx = g permuted by the inverse order
Variable permute(const Variable& x, const Dims& order, Location loc) {
  Tensor y = x.data().permute(order);
  Dims inverse = Dims::filled(order.size(), 0);
  for (int64_t i = 0; i < order.size(); ++i) inverse[wrap_dim(order[i], order.size(), "permute")] = i;
  return record("permute", loc, y, {x}, {},
                [inverse](const BackwardInput& in) -> Grads { return {in.grad.permute(inverse)}; });
}

// A transposition is its own inverse: dx = g transposed the same way
Variable transpose(const Variable& x, int64_t dim0, int64_t dim1, Location loc) {
  return record("transpose", loc, x.data().transpose(dim0, dim1), {x}, {},
                [dim0, dim1](const BackwardInput& in) -> Grads { return {in.grad.transpose(dim0, dim1)}; });
}

Variable mT(const Variable& x, Location loc) { return transpose(x, -2, -1, loc); }

Variable slice(const Variable& x, int64_t dim, int64_t start, int64_t end, int64_t step, Location loc) {
  return picked_view("slice", loc, x, [=](const Tensor& t) { return t.slice(dim, start, end, step); });
}
Variable narrow(const Variable& x, int64_t dim, int64_t start, int64_t length, Location loc) {
  return picked_view("narrow", loc, x, [=](const Tensor& t) { return t.narrow(dim, start, length); });
}
Variable select(const Variable& x, int64_t dim, int64_t index, Location loc) {
  return picked_view("select", loc, x, [=](const Tensor& t) { return t.select(dim, index); });
}
Variable diagonal(const Variable& x, int64_t offset, int64_t dim1, int64_t dim2, Location loc) {
  return picked_view("diagonal", loc, x, [=](const Tensor& t) { return t.diagonal(offset, dim1, dim2); });
}

// y = x broadcast to `shape`: every copy of x_i adds its gradient, dx = g summed to x's shape
Variable expand(const Variable& x, const Shape& shape, Location loc) {
  return record("expand", loc, x.data().expand(shape), {x}, {},
                [sx = x.shape()](const BackwardInput& in) -> Grads { return {detail::sum_to(in.grad, sx)}; });
}

// Lower/upper triangle: y = x on the kept entries, 0 elsewhere, so dx = g on the kept entries.
Variable tril(const Variable& x, int64_t diagonal, Location loc) {
  return record("tril", loc, tril(x.data(), diagonal), {x}, {},
                [diagonal](const BackwardInput& in) -> Grads { return {tril(in.grad, diagonal)}; });
}
Variable triu(const Variable& x, int64_t diagonal, Location loc) {
  return record("triu", loc, triu(x.data(), diagonal), {x}, {},
                [diagonal](const BackwardInput& in) -> Grads { return {triu(in.grad, diagonal)}; });
}

// ---- Joining and splitting ----------------------------------------------------------------------------

// y = [x_0, x_1, ...] along dim: dx_i = the slice of g where x_i was placed
Variable cat(const std::vector<Variable>& xs, int64_t dim, Location loc) {
  check(!xs.empty(), "cat: needs at least one tensor");
  std::vector<Tensor> data;
  std::vector<int64_t> sizes;
  const int64_t d = wrap_dim(dim, xs[0].dim(), "cat");
  for (const Variable& x : xs) {
    data.push_back(x.data());
    sizes.push_back(x.size(d));
  }
  return record("cat", loc, cat(data, d), xs, {}, [d, sizes](const BackwardInput& in) -> Grads {
    Grads grads(sizes.size());
    int64_t start = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (in.needs[i]) grads[i] = in.grad.narrow(d, start, sizes[i]);
      start += sizes[i];
    }
    return grads;
  });
}

// stack = cat of the inputs, each with a new size-1 dim
Variable stack(const std::vector<Variable>& xs, int64_t dim, Location loc) {
  check(!xs.empty(), "stack: needs at least one tensor");
  const int64_t d = wrap_dim(dim, xs[0].dim() + 1, "stack");
  std::vector<Variable> expanded;
  for (const Variable& x : xs) expanded.push_back(unsqueeze(x, d, loc));
  return cat(expanded, d, loc);
}

namespace {
// The pieces of x along dim with the sizes the tensor layer's `pieces` has: narrow views.
std::vector<Variable> narrow_like(const Variable& x, const std::vector<Tensor>& pieces, int64_t dim,
                                  const Location& loc) {
  const int64_t d = wrap_dim(dim, x.dim(), "split");
  std::vector<Variable> out;
  int64_t start = 0;
  for (const Tensor& p : pieces) {
    out.push_back(narrow(x, d, start, p.size(d), loc));
    start += p.size(d);
  }
  return out;
}
}  // namespace

std::vector<Variable> split(const Variable& x, int64_t split_size, int64_t dim, Location loc) {
  return narrow_like(x, split(x.data(), split_size, dim), dim, loc);
}
std::vector<Variable> chunk(const Variable& x, int64_t chunks, int64_t dim, Location loc) {
  return narrow_like(x, chunk(x.data(), chunks, dim), dim, loc);
}

}  // namespace strata
