// random.h: a seeded, reproducible random number generator.
//
// The algorithm is counter-based (Philox-4x32-10): the k-th random 32-bit word of a generator is a
// pure function of (seed, k), so a tensor filled in parallel chunks gets the same values for any
// thread count, and a run repeats exactly given its seed. See random.cpp for the derivations of
// uniform, normal (Box-Muller) and truncated normal values.
#pragma once

#include "tensor/tensor.h"

#include <array>
#include <cstdint>

namespace strata {

// The Philox-4x32-10 block function: 4 random 32-bit words from a 128-bit counter and a 64-bit
// key (the building block of Generator; exposed for its known-answer tests).
std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);

class Generator {
 public:
  explicit Generator(uint64_t seed = 0);
  uint64_t seed() const { return seed_; }
  // Words consumed so far; with seed() it is the full state (for checkpoints).
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset);

  // Reserves n counter values and returns the first (used by the fill functions).
  uint64_t advance(uint64_t n);

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// The process-wide default generator (seed 0 until manual_seed is called).
Generator& default_generator();
void manual_seed(uint64_t seed);

// Fresh tensors (floating dtypes) with values from the named distribution.
Tensor rand(const Shape& shape, DType dtype = DType::f32, Generator* gen = nullptr);  // U[0, 1)
Tensor uniform(const Shape& shape, double lo, double hi, DType dtype = DType::f32, Generator* gen = nullptr);
Tensor randn(const Shape& shape, DType dtype = DType::f32, Generator* gen = nullptr);  // N(0, 1)
Tensor normal(const Shape& shape, double mean, double std, DType dtype = DType::f32, Generator* gen = nullptr);
// N(mean, std^2) conditioned on [a, b] (torch.nn.init.trunc_normal_ semantics: a, b absolute).
Tensor trunc_normal(const Shape& shape, double mean, double std, double a, double b, DType dtype = DType::f32,
                    Generator* gen = nullptr);
// Integers uniform in [low, high), as int64, int32, uint16 or uint8.
Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype = DType::i64, Generator* gen = nullptr);
// One draw per row of `probs` (..., n) (non-negative weights, need not sum to 1): int64 (...,).
Tensor multinomial(const Tensor& probs, Generator* gen = nullptr);

}  // namespace strata
