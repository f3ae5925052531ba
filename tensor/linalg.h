// linalg.h: matrix products through OpenBLAS.
//
// matmul follows torch.matmul: 1-D operands are promoted (and the added dim removed after),
// leading (batch) dimensions broadcast, and the last two dims multiply: (..., n, k) @ (..., k, m)
// -> (..., n, m). Each 2-D operand is handed to cblas_sgemm/dgemm as it lies in memory: a
// row-major matrix as is, a transposed view (strides (1, ld)) with a transpose flag, never
// copied; only layouts BLAS cannot read (e.g. both strides > 1) are copied first.
#pragma once

#include "tensor/tensor.h"

namespace strata {

Tensor matmul(const Tensor& a, const Tensor& b);
// out[i, j] = a[i] * b[j] for 1-D a and b.
Tensor outer(const Tensor& a, const Tensor& b);

}  // namespace strata
