// index.h: joining, splitting and indexing tensors.
#pragma once

#include "tensor/tensor.h"

#include <vector>

namespace strata {

// Joins tensors of equal shape except along `dim`.
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Joins tensors of equal shape along a new dimension `dim`.
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Views of consecutive pieces of `split_size` along dim (the last may be shorter).
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);
// Views of pieces with the given sizes (which must add up to x.size(dim)).
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 0);
// `chunks` nearly equal views along dim (torch.chunk).
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);

// Indices are int64 or int32 (token ids of either width); negative or out-of-range ones throw.
//
// out[..., i, ...] = x[..., index[..., i, ...], ...] along dim; index has x's rank.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// Rows of x picked by a 1-D or N-D integer index along dim (embedding lookup: index_select(W, 0, ids)
// with ids of any shape gives ids.shape + W.shape[1:]; a 0-d index removes dim, like x.select).
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// Returns a copy of x with src added at the positions given by index along dim (scatter_add),
// the adjoint of gather.
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
// Returns a copy of x with src's slices added at x's positions index[i] along dim (index_add),
// the adjoint of index_select.
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
// x where mask is false, value where it is true (mask broadcasts to x).
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
// Lower / upper triangle of the last two dims (diagonal > 0 moves above the main diagonal).
Tensor tril(const Tensor& x, int64_t diagonal = 0);
Tensor triu(const Tensor& x, int64_t diagonal = 0);
// int64 ids (any shape) -> (..., num_classes) int64 one-hot.
Tensor one_hot(const Tensor& ids, int64_t num_classes);

}  // namespace strata
