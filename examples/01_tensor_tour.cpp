// 01_tensor_tour.cpp: a guided tour of strata's tensor layer.
//
// Build and run:   ninja -C build && ./build/examples/01_tensor_tour
//
// 1. A Tensor is a view: storage + offset + shape + strides + dtype. Element [i, j] of a
//    contiguous (R, C) tensor sits at storage[offset + i*C + j], so its strides are (C, 1).
// 2. Views change only those numbers: transpose swaps strides, slice moves the offset and scales
//    a stride, expand gives a broadcast dimension stride 0. No data moves; writing through a view
//    writes the original.
// 3. Elementwise ops broadcast like NumPy: shapes are aligned from the right and each pair of
//    sizes must be equal or 1. (3, 1) + (4,) -> (3, 4).
// 4. Reductions take a list of dims and keepdim; softmax is fused and numerically stable.
// 5. matmul hands transposed views to BLAS as a transpose flag instead of copying them.
// 6. einsum and rearrange describe a computation by index names:
//      einsum("bij,bjk->bik", {a, b})                      batched matrix product
//      rearrange(x, "b t (h d) -> b h t d", {{"h", 2}})     split heads, a view when possible
// 7. Tensors print like PyTorch's, and everything that can go wrong throws strata::Error with a
//    message naming the operation and the shapes.
#include "tensor/einsum.h"
#include "tensor/format.h"
#include "tensor/linalg.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"
#include "tensor/random.h"

#include <fmt/core.h>

using namespace strata;

int main() {
  fmt::print("{}\n\n", thread_info());

  // 1. A contiguous tensor and its strides.
  Tensor x = arange(0.0, 12.0, 1.0, DType::f32).view({3, 4});
  fmt::print("x = {}\nstrides of x: {}\n\n", x, x.strides());

  // 2. Views share storage.
  Tensor xt = x.transpose(0, 1);  // (4, 3), strides (1, 4)
  fmt::print("x.T strides: {} (same storage: {})\n", xt.strides(), xt.shares_storage(x));
  Tensor every_other = x.slice(1, 0, 4, 2);  // columns 0 and 2
  every_other.fill_(-1.0);                   // writes into x
  fmt::print("after filling x[:, ::2] with -1: {}\n\n", x);

  // 3. Broadcasting: (3, 1) + (4,) -> (3, 4).
  Tensor col = tensor({10, 20, 30}, {3, 1});
  Tensor row = tensor({1, 2, 3, 4});
  fmt::print("col + row = {}\n\n", col + row);

  // 4. Reductions and softmax.
  Tensor logits = tensor({1, 2, 3, 1, 1, 1}, {2, 3});
  fmt::print("sum over dim 1 = {}\nsoftmax = {}\n\n", sum(logits, {1}), softmax(logits, -1));

  // 5. matmul with a transposed operand (no copy is made for BLAS).
  Tensor a = randn({2, 3});
  fmt::print("a @ a.T = {}\n\n", matmul(a, a.mT()));

  // 6. einsum and rearrange.
  Tensor batch = randn({2, 3, 4}), other = randn({2, 4, 5});
  Tensor bmm = einsum("bij,bjk->bik", {batch, other});
  fmt::print("einsum bij,bjk->bik gives shape {}\n", bmm.shape());
  Tensor tokens = randn({2, 5, 8});  // (B, T, C) with C = heads * head_dim
  Tensor heads = rearrange(tokens, "b t (h d) -> b h t d", {{"h", 2}});
  fmt::print("rearrange b t (h d) -> b h t d: {} -> {}\n\n", tokens.shape(), heads.shape());

  // 7. Errors say what went wrong.
  try {
    matmul(randn({4, 64, 768}), randn({512, 768}));
  } catch (const Error& e) {
    fmt::print("error: {}\n", e.what());
  }
  return 0;
}
