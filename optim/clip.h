// clip.h: gradient clipping by global L2 norm (torch.nn.utils.clip_grad_norm_, CS336 semantics).
//
// The norm is taken over all gradients together, as if they were one long vector:
//
//   norm = sqrt(sum over parameters p, elements i of grad_p[i]^2)       (accumulated in double)
//
// and when norm > max_norm every gradient is scaled by max_norm / (norm + 1e-6), so the new norm is
// just under max_norm. Parameters without a gradient are skipped. Returns the norm before clipping
// (NaN or Inf if a gradient holds one; then nothing is scaled).
#pragma once

#include "autograd/variable.h"

#include <vector>

namespace strata {

double clip_grad_norm_(const std::vector<Variable>& params, double max_norm);

}  // namespace strata
