// schedule.cpp: the cosine schedule with linear warm-up (formula in schedule.h).
#include "optim/schedule.h"

#include "tensor/error.h"

#include <cmath>
#include <numbers>

namespace strata {

double lr_cosine_schedule(int64_t t, double lr_max, double lr_min, int64_t warmup_iters, int64_t cosine_cycle_iters) {
  check(t >= 0, "lr_cosine_schedule: step t = {} is negative", t);
  check(warmup_iters >= 0 && cosine_cycle_iters >= warmup_iters,
        "lr_cosine_schedule: need 0 <= warmup_iters <= cosine_cycle_iters, got warmup_iters = {}, "
        "cosine_cycle_iters = {}; hint: cosine_cycle_iters is the step where the cosine ends, counted from 0 "
        "(warm-up included)", warmup_iters, cosine_cycle_iters);
  if (t < warmup_iters) return lr_max * double(t) / double(warmup_iters);
  if (t >= cosine_cycle_iters) return lr_min;  // equals the cosine's value at t == Tc, and avoids 0/0 when Tc == Tw
  const double progress = double(t - warmup_iters) / double(cosine_cycle_iters - warmup_iters);  // in [0, 1)
  return lr_min + 0.5 * (1 + std::cos(std::numbers::pi * progress)) * (lr_max - lr_min);
}

}  // namespace strata
