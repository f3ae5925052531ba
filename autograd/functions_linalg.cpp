// functions_linalg.cpp: matmul and indexing on Variables, and their backward.
//
// matmul: for Y = A B (A (n, k), B (k, m)), Y_ij = sum_p A_ip B_pj, so
//   dL/dA_ip = sum_j G_ij B_pj  ->  dA = G B^T   (n, m) @ (m, k)
//   dL/dB_pj = sum_i G_ij A_ip  ->  dB = A^T G   (k, n) @ (n, m)
// Batch dimensions broadcast, so each gradient is summed back to its operand's shape; 1-D operands
// are promoted to matrices (a row for A, a column for B) exactly as the forward does.
//
// Indexing ops copy elements; their backward adds each output gradient into the input position it
// was read from: gather <-> scatter_add, index_select <-> index_add.
#include "autograd/function_helpers.h"
#include "tensor/index.h"
#include "tensor/linalg.h"

namespace strata {

using detail::Grads;
using detail::sum_to;

Variable matmul(const Variable& a, const Variable& b, Location loc) {
  check(a.dim() >= 1 && b.dim() >= 1, "matmul: both operands need at least 1 dimension, got shapes {} and {}",
        a.shape(), b.shape());
  return record("matmul", loc, matmul(a.data(), b.data()), {a, b}, {a.data(), b.data()},
                [](const BackwardInput& in) -> Grads {
                  const Tensor &a = in.saved[0], &b = in.saved[1];
                  // Promote 1-D operands as the forward did: a (k) -> (1, k), b (k) -> (k, 1), and give
                  // g the removed dims back.
                  Tensor a2 = a.dim() == 1 ? a.unsqueeze(0) : a;  // (..., n, k)
                  Tensor b2 = b.dim() == 1 ? b.unsqueeze(1) : b;  // (..., k, m)
                  Tensor g = in.grad;
                  if (a.dim() == 1) g = g.unsqueeze(g.dim() - (b.dim() == 1 ? 0 : 1));
                  if (b.dim() == 1) g = g.unsqueeze(g.dim());  // (..., n, m)
                  Tensor ga, gb;
                  if (in.needs[0]) ga = sum_to(matmul(g, b2.mT()), a2.shape()).reshape(a.shape());
                  if (in.needs[1]) {
                    if (b2.dim() == 2 && a2.dim() > 2) {
                      // B is shared by every batch (a Linear layer's weight): one GEMM over all rows,
                      // dB = A^T G with A as (rows, k) and G as (rows, m), instead of a batch then a sum.
                      const int64_t k = a2.size(-1), m = g.size(-1);
                      gb = matmul(a2.reshape({-1, k}).mT(), g.reshape({-1, m}));
                    } else {
                      gb = sum_to(matmul(a2.mT(), g), b2.shape());
                    }
                    gb = gb.reshape(b.shape());
                  }
                  return {ga, gb};
                });
}

// outer(a, b) = a[:, None] * b[None, :]
Variable outer(const Variable& a, const Variable& b, Location loc) {
  check(a.dim() == 1 && b.dim() == 1, "outer: needs two 1-D operands, got shapes {} and {}", a.shape(), b.shape());
  return mul(unsqueeze(a, 1, loc), unsqueeze(b, 0, loc), loc);
}

// y[..i..] = x[..index[..i..]..] along dim: dx = scatter_add of g at the same positions
Variable gather(const Variable& x, int64_t dim, const Tensor& index, Location loc) {
  return record("gather", loc, gather(x.data(), dim, index), {x}, {index},
                [dim, sx = x.shape()](const BackwardInput& in) -> Grads {
                  return {scatter_add(zeros(sx, in.grad.dtype()), dim, in.saved[0], in.grad)};
                });
}

// y = the slices x[..., index[j], ...] along dim (index of any shape): dx = index_add of g's slices.
// Several j with the same index add up (an embedding row used by several tokens).
Variable index_select(const Variable& x, int64_t dim, const Tensor& index, Location loc) {
  const int64_t d = wrap_dim(dim, x.dim(), "index_select");
  return record("index_select", loc, index_select(x.data(), d, index), {x}, {index},
                [d, sx = x.shape()](const BackwardInput& in) -> Grads {
                  const Tensor& index = in.saved[0];
                  // g is x.shape[:d] + index.shape + x.shape[d+1:]; index_add takes a 1-D index.
                  Shape flat;
                  for (int64_t i = 0; i < d; ++i) flat.push_back(sx[i]);
                  flat.push_back(index.numel());
                  for (int64_t i = d + 1; i < sx.size(); ++i) flat.push_back(sx[i]);
                  return {index_add(zeros(sx, in.grad.dtype()), d, index.reshape({-1}), in.grad.reshape(flat))};
                });
}

// embedding(W, ids) = index_select(W, 0, ids): (V, C), (...) -> (..., C)
Variable embedding(const Variable& weight, const Tensor& ids, Location loc) {
  check(weight.dim() == 2, "embedding: the weight must be (num_embeddings, dim), got shape {}", weight.shape());
  return index_select(weight, 0, ids, loc);
}

}  // namespace strata
