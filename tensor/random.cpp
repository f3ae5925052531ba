// random.cpp: the Philox-4x32-10 generator and the distributions built on it.
//
// Philox (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011) is a keyed
// bijection of a 128-bit counter: four 32-bit words (c0, c1, c2, c3) and a 64-bit key (k0, k1)
// go through 10 rounds of
//     (hi0, lo0) = M0 * c0,   (hi1, lo1) = M1 * c2        (32x32 -> 64-bit products)
//     (c0, c1, c2, c3) <- (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
// with the key bumped by the Weyl constants (W0, W1) between rounds. The output block is four
// random 32-bit words. Checked against the Random123 known-answer vectors in the tests.
//
// Our stream: word k of a generator with seed s is word (k mod 4) of the block with
//     counter = (low 32 bits of k/4, high 32 bits of k/4, 0, 0),   key = (low, high 32 bits of s).
// Word k is a pure function of (s, k); a generator's state is just (seed, offset = words used).
// Each fill reserves a fixed number of words per item (Generator::advance) and item i reads
// only its own words, so chunks filled in parallel give the same tensor for any thread count.
//
// From words to values (all arithmetic in double; the result is then rounded to the dtype, so
// a float32 tensor holds the float64 tensor's values rounded, for the same seed and offset):
//   uniform  two words -> 53 random bits -> u = bits * 2^-53 in [0, 1); lo + (hi - lo) * u.
//   randn    Box-Muller: two uniforms u1 in (0, 1] and u2 give two independent N(0, 1) values
//            r cos(2 pi u2) and r sin(2 pi u2) with r = sqrt(-2 ln u1). 4 words per pair.
//   trunc_normal  inverse CDF: with alpha = (a - mean)/std, beta = (b - mean)/std, a uniform
//            p in [Phi(alpha), Phi(beta)] gives x = Phi^-1(p), which is distributed as N(0, 1)
//            conditioned on [alpha, beta]. One draw per value (no rejection loop, so the word
//            count per value is fixed). Exact range: the value mean + std * x is clamped to
//            [a, b] after rounding to the dtype.
//   randint  64 random bits x -> low + floor(x * n / 2^64) for n = high - low (Lemire's
//            multiply-shift without the rejection step: bias at most n / 2^64, below 1e-9 for
//            any n < 2^34, so no vocabulary or index range can show it).
//   multinomial  u uniform in [0, sum of weights); the first index whose running sum exceeds u.
#include "tensor/random.h"

#include "tensor/parallel.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>

namespace strata {

// ---- Philox-4x32-10 ----------------------------------------------------------------------------

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key) {
  constexpr uint64_t M0 = 0xD2511F53, M1 = 0xCD9E8D57;
  constexpr uint32_t W0 = 0x9E3779B9, W1 = 0xBB67AE85;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += W0;
      key[1] += W1;
    }
    const uint64_t p0 = M0 * ctr[0], p1 = M1 * ctr[2];
    ctr = {uint32_t(p1 >> 32) ^ ctr[1] ^ key[0], uint32_t(p1), uint32_t(p0 >> 32) ^ ctr[3] ^ key[1],
           uint32_t(p0)};
  }
  return ctr;
}

namespace {

// Reads the words first, first + 1, ... of the stream of `seed`, one Philox block at a time.
class WordStream {
 public:
  WordStream(uint64_t seed, uint64_t first) : key_{uint32_t(seed), uint32_t(seed >> 32)}, next_(first) {}

  uint32_t next_u32() {
    const uint64_t block = next_ / 4;
    if (block != block_ || !filled_) {
      words_ = philox4x32_10({uint32_t(block), uint32_t(block >> 32), 0, 0}, key_);
      block_ = block;
      filled_ = true;
    }
    return words_[next_++ % 4];
  }
  uint64_t next_u64() {
    const uint64_t hi = next_u32();
    return hi << 32 | next_u32();
  }
  // Uniform in [0, 1), a multiple of 2^-53.
  double next_double() { return double(next_u64() >> 11) * 0x1p-53; }

 private:
  std::array<uint32_t, 2> key_;
  uint64_t next_;
  uint64_t block_ = 0;
  bool filled_ = false;
  std::array<uint32_t, 4> words_{};
};

// Runs draw(i, stream) for items i in [0, n), in parallel chunks; item i's stream starts at its
// own words (words_per_item of them, reserved from `gen`), so the result does not depend on the
// chunking.
template <class F>
void for_each_draw(int64_t n, uint64_t words_per_item, Generator& gen, F&& draw) {
  const uint64_t seed = gen.seed();
  const uint64_t first = gen.advance(uint64_t(n) * words_per_item);
  parallel_for(0, n, 1 << 14, [&](int64_t lo, int64_t hi) {
    WordStream stream(seed, first + uint64_t(lo) * words_per_item);
    for (int64_t i = lo; i < hi; ++i) draw(i, stream);
  });
}

Generator& pick(Generator* gen) { return gen ? *gen : default_generator(); }

// The largest value of T that is < x (for clamping to a half-open [lo, hi)).
template <class T>
T below(double x) {
  T t = static_cast<T>(x);
  return t < x ? t : std::nextafter(t, -std::numeric_limits<T>::infinity());
}

// The smallest and largest values of T inside [lo, hi] (to keep a closed range exact after
// rounding to T).
template <class T>
std::pair<T, T> inside(double lo, double hi, const char* op) {
  T tlo = static_cast<T>(lo), thi = static_cast<T>(hi);
  if (tlo < lo) tlo = std::nextafter(tlo, std::numeric_limits<T>::infinity());
  if (thi > hi) thi = std::nextafter(thi, -std::numeric_limits<T>::infinity());
  check(tlo <= thi, "{}: no {} value lies in [{}, {}]", op, dtype_name(dtype_v<T>), lo, hi);
  return {tlo, thi};
}

void check_shape(const Shape& shape, const char* op) {
  for (int64_t s : shape) check(s >= 0, "{}: negative size in shape {}", op, shape);
}

// Standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2, accurate in the lower tail.
double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

// Phi^-1(p) for p in (0, 1): Wichura's algorithm AS 241 (PPND16, Applied Statistics 37, 1988),
// rational approximations on three ranges with relative error about 1e-16. p = 0 gives -inf.
double normal_quantile(double p) {
  const double q = p - 0.5;
  if (std::fabs(q) <= 0.425) {
    const double r = 0.180625 - q * q;
    return q *
           (((((((2.5090809287301226727e+3 * r + 3.3430575583588128105e+4) * r + 6.7265770927008700853e+4) * r +
                4.5921953931549871457e+4) * r + 1.3731693765509461125e+4) * r + 1.9715909503065514427e+3) * r +
             1.3314166789178437745e+2) * r + 3.3871328727963666080e+0) /
           (((((((5.2264952788528545610e+3 * r + 2.8729085735721942674e+4) * r + 3.9307895800092710610e+4) * r +
                2.1213794301586595867e+4) * r + 5.3941960214247511077e+3) * r + 6.8718700749205790830e+2) * r +
             4.2313330701600911252e+1) * r + 1.0);
  }
  double r = q < 0 ? p : 1.0 - p;
  if (r <= 0) return q < 0 ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  r = std::sqrt(-std::log(r));
  double x;
  if (r <= 5.0) {
    r -= 1.6;
    x = (((((((7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r + 2.41780725177450611770e-1) * r +
             1.27045825245236838258e+0) * r + 3.64784832476320460504e+0) * r + 5.76949722146069140550e+0) * r +
          4.63033784615654529590e+0) * r + 1.42343711074968357734e+0) /
        (((((((1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r + 1.51986665636164571966e-2) * r +
             1.48103976427480074590e-1) * r + 6.89767334985100004550e-1) * r + 1.67638483018380384940e+0) * r +
          2.05319162663775882187e+0) * r + 1.0);
  } else {
    r -= 5.0;
    x = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 1.24266094738807843860e-3) * r +
             2.65321895265761230930e-2) * r + 2.96560571828504891230e-1) * r + 1.78482653991729133580e+0) * r +
          5.46378491116411436990e+0) * r + 6.65790464350110377720e+0) /
        (((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r + 1.84631831751005468180e-5) * r +
             7.86869131145613259100e-4) * r + 1.48753612908506148525e-2) * r + 1.36929880922735805310e-1) * r +
          5.99832206555887937690e-1) * r + 1.0);
  }
  return q < 0 ? -x : x;
}

}  // namespace

// ---- Generator -------------------------------------------------------------------------------

Generator::Generator(uint64_t seed) : seed_(seed) {}

void Generator::set_state(uint64_t seed, uint64_t offset) {
  seed_ = seed;
  offset_ = offset;
}

uint64_t Generator::advance(uint64_t n) {
  const uint64_t first = offset_;
  offset_ += n;
  return first;
}

Generator& default_generator() {
  static Generator gen(0);
  return gen;
}

void manual_seed(uint64_t seed) { default_generator().set_state(seed, 0); }

// ---- Distributions ---------------------------------------------------------------------------

namespace {

// U[lo, hi) values; `op` names the public function in errors.
Tensor uniform_impl(const char* op, const Shape& shape, double lo, double hi, DType dtype, Generator* gen) {
  check_shape(shape, op);
  check(std::isfinite(lo) && std::isfinite(hi) && lo < hi, "{}: need finite lo < hi, got lo={} hi={}", op, lo, hi);
  Tensor out = empty(shape, dtype);
  visit_floating(dtype, op, [&]<class T>() {
    T* p = out.data<T>();
    const T top = below<T>(hi);
    for_each_draw(out.numel(), 2, pick(gen), [&](int64_t i, WordStream& s) {
      p[i] = std::min(static_cast<T>(lo + (hi - lo) * s.next_double()), top);
    });
  });
  return out;
}

// N(mean, std^2) values by Box-Muller; `op` names the public function in errors.
Tensor normal_impl(const char* op, const Shape& shape, double mean, double std, DType dtype, Generator* gen) {
  check_shape(shape, op);
  check(std::isfinite(mean) && std::isfinite(std) && std >= 0,
        "{}: need a finite mean and std >= 0, got mean={} std={}", op, mean, std);
  Tensor out = empty(shape, dtype);
  visit_floating(dtype, op, [&]<class T>() {
    T* p = out.data<T>();
    const int64_t n = out.numel();
    // Item j is the Box-Muller pair that fills elements 2j and 2j + 1.
    for_each_draw((n + 1) / 2, 4, pick(gen), [&](int64_t j, WordStream& s) {
      const double r = std::sqrt(-2.0 * std::log(1.0 - s.next_double()));  // 1 - u is in (0, 1]
      const double theta = 2.0 * std::numbers::pi * s.next_double();
      p[2 * j] = static_cast<T>(mean + std * r * std::cos(theta));
      if (2 * j + 1 < n) p[2 * j + 1] = static_cast<T>(mean + std * r * std::sin(theta));
    });
  });
  return out;
}

}  // namespace

Tensor rand(const Shape& shape, DType dtype, Generator* gen) { return uniform_impl("rand", shape, 0.0, 1.0, dtype, gen); }

Tensor uniform(const Shape& shape, double lo, double hi, DType dtype, Generator* gen) {
  return uniform_impl("uniform", shape, lo, hi, dtype, gen);
}

Tensor randn(const Shape& shape, DType dtype, Generator* gen) { return normal_impl("randn", shape, 0.0, 1.0, dtype, gen); }

Tensor normal(const Shape& shape, double mean, double std, DType dtype, Generator* gen) {
  return normal_impl("normal", shape, mean, std, dtype, gen);
}

Tensor trunc_normal(const Shape& shape, double mean, double std, double a, double b, DType dtype, Generator* gen) {
  check_shape(shape, "trunc_normal");
  check(std::isfinite(mean) && std::isfinite(std) && std > 0,
        "trunc_normal: need a finite mean and std > 0, got mean={} std={}", mean, std);
  check(std::isfinite(a) && std::isfinite(b) && a < b, "trunc_normal: need finite a < b, got a={} b={}", a, b);
  // Sample in the lower half of the bell (mirroring when the interval lies mostly above the
  // mean): there Phi is tiny rather than near 1, and erfc keeps its relative precision.
  double alpha = (a - mean) / std, beta = (b - mean) / std;
  const bool mirror = alpha + beta > 0;
  if (mirror) {
    std::swap(alpha, beta);
    alpha = -alpha;
    beta = -beta;
  }
  const double p_lo = normal_cdf(alpha), p_hi = normal_cdf(beta);
  Tensor out = empty(shape, dtype);
  visit_floating(dtype, "trunc_normal", [&]<class T>() {
    T* p = out.data<T>();
    const auto [lo, hi] = inside<T>(a, b, "trunc_normal");
    for_each_draw(out.numel(), 2, pick(gen), [&](int64_t i, WordStream& s) {
      double x = std::clamp(normal_quantile(p_lo + (p_hi - p_lo) * s.next_double()), alpha, beta);
      if (mirror) x = -x;
      p[i] = std::clamp(static_cast<T>(mean + std * x), lo, hi);
    });
  });
  return out;
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype, Generator* gen) {
  check_shape(shape, "randint");
  check(low < high, "randint: need low < high, got low={} high={}", low, high);
  Tensor out = empty(shape, dtype);
  auto fill = [&]<class T>() {
    check(low >= int64_t(std::numeric_limits<T>::min()) && high - 1 <= int64_t(std::numeric_limits<T>::max()),
          "randint: the range [{}, {}) does not fit in {}; hint: use DType::i64", low, high, dtype);
    T* p = out.data<T>();
    const uint64_t n = uint64_t(high) - uint64_t(low);  // exact modulo 2^64, and 0 < n <= 2^64 - 1
    for_each_draw(out.numel(), 2, pick(gen), [&](int64_t i, WordStream& s) {
      const uint64_t k = uint64_t((unsigned __int128)s.next_u64() * n >> 64);
      p[i] = static_cast<T>(uint64_t(low) + k);
    });
  };
  switch (dtype) {
    case DType::i64: fill.template operator()<int64_t>(); break;
    case DType::i32: fill.template operator()<int32_t>(); break;
    case DType::u16: fill.template operator()<uint16_t>(); break;
    case DType::u8: fill.template operator()<uint8_t>(); break;
    default: fail("randint: needs an integer dtype (int64, int32, uint16, uint8), got {}", dtype);
  }
  return out;
}

Tensor multinomial(const Tensor& probs, Generator* gen) {
  check(probs.defined() && probs.dim() >= 1 && probs.size(-1) >= 1,
        "multinomial: probs must have shape (..., n) with n >= 1, got {}", probs.shape());
  const Tensor w = probs.contiguous();  // (rows, n) in memory
  const int64_t n = w.size(-1), rows = w.numel() / n;
  Shape out_shape = w.shape();
  out_shape.erase(out_shape.size() - 1);
  Tensor out = empty(out_shape, DType::i64);  // (...,)
  int64_t* idx = out.data<int64_t>();
  visit_floating(w.dtype(), "multinomial", [&]<class T>() {
    const T* p = w.data<T>();
    for_each_draw(rows, 2, pick(gen), [&](int64_t row, WordStream& s) {
      const T* wr = p + row * n;
      double total = 0;
      for (int64_t j = 0; j < n; ++j) {
        check(wr[j] >= 0 && std::isfinite(double(wr[j])),
              "multinomial: row {} of probs{} has weight {} at index {}; weights must be finite and >= 0",
              row, probs.shape(), wr[j], j);
        total += wr[j];
      }
      check(total > 0, "multinomial: row {} of probs{} sums to 0; hint: every row needs a positive weight", row,
            probs.shape());
      // The running sums below repeat the additions above, so the last one equals `total` > u.
      const double u = s.next_double() * total;
      double running = 0;
      int64_t pick_j = n - 1;
      for (int64_t j = 0; j < n; ++j) {
        running += wr[j];
        if (running > u) {
          pick_j = j;
          break;
        }
      }
      idx[row] = pick_j;
    });
  });
  return out;
}

}  // namespace strata
