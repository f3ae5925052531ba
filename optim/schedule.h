// schedule.h: learning-rate schedules. Call one per step and hand the result to the optimizer:
//
//   opt.set_lr(lr_cosine_schedule(t, lr_max, lr_min, warmup_iters, cosine_cycle_iters));
//   opt.step();
#pragma once

#include <cstdint>

namespace strata {

// Cosine annealing with linear warm-up (the CS336 / LLaMA schedule), for step t >= 0 with
// warm-up length Tw = warmup_iters and end of the cosine Tc = cosine_cycle_iters >= Tw:
//
//   t < Tw:        lr_max * t / Tw                                         (linear warm-up from 0)
//   Tw <= t <= Tc: lr_min + (1 + cos(pi * (t - Tw) / (Tc - Tw))) / 2 * (lr_max - lr_min)
//   t > Tc:        lr_min
//
// The cosine phase starts at lr_max and ends at lr_min (when Tc == Tw it is empty: t >= Tw gives lr_min).
double lr_cosine_schedule(int64_t t, double lr_max, double lr_min, int64_t warmup_iters, int64_t cosine_cycle_iters);

}  // namespace strata
