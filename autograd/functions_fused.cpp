// functions_fused.cpp: ops with a hand-written backward, for speed and numerical care: the hot
// path of training a Transformer LM. Each has a composed twin in tests/autograd/test_functions.cpp
// (the same math from primitive ops) that it must match in value and gradient.
//
// Letters: N rows (all leading dims flattened), V vocabulary, C channels, Tq/Tk query/key
// positions, dk/dv head sizes.
#include "autograd/function_helpers.h"
#include "tensor/index.h"
#include "tensor/linalg.h"
#include "tensor/simd.h"

#include <cmath>
#include <limits>

namespace strata {

using detail::Grads;
using detail::sum_to;

namespace {

// y[j] = exp(x[j] - shift) * factor for j < n, in SIMD batches (the tail as a padded batch, so every
// element goes through the same formula).
template <class T>
void exp_shifted_scaled(const T* x, T* y, int64_t n, T shift, T factor) {
  constexpr int64_t W = simd::width<T>;
  const simd::batch<T> s(shift), f(factor);
  int64_t j = 0;
  for (; j + W <= n; j += W) simd::store(y + j, simd::exp(simd::load(x + j) - s) * f);
  if (j < n) simd::store_partial(y + j, 1, simd::exp(simd::load_partial(x + j, 1, n - j, shift) - s) * f, n - j);
}

}  // namespace

// ---- Cross-entropy from logits ------------------------------------------------------------------------
// Per row, loss_n = logsumexp(z_n) - z_n[t_n]; the result is the mean over the N rows. With
// p = softmax(z_n):
//   d loss_n / d z_nv = p_v - [v == t_n]
// so dz = (g / N) (p - onehot(t)). The forward never forms p (logsumexp is stable for any logits)
// and saves lse_n = logsumexp(z_n); the backward forms p_v = exp(z_nv - lse_n), already scaled by
// g / N, in one vectorised pass over the logits, then fixes the target entries.
// See docs/internals/softmax_cross_entropy.md.
Variable cross_entropy(const Variable& logits, const Tensor& targets, Location loc) {
  check(logits.dim() >= 1, "cross_entropy: logits need a class dimension, got shape {}", logits.shape());
  check(targets.dtype() == DType::i64, "cross_entropy: targets must be int64 class ids, got {}", targets.dtype());
  Shape lead = logits.shape();
  const int64_t V = lead.back();
  lead.erase(lead.size() - 1);
  check(targets.shape() == lead,
        "cross_entropy: logits of shape {} need targets of shape {} (one class id per row), got {}", logits.shape(),
        lead, targets.shape());
  const int64_t N = lead.numel();
  check(N > 0 && V > 0, "cross_entropy: empty logits of shape {}", logits.shape());
  Tensor t = targets.reshape({N}).contiguous();  // (N)
  const int64_t* tp = t.data<int64_t>();
  for (int64_t n = 0; n < N; ++n)
    check(tp[n] >= 0 && tp[n] < V, "cross_entropy: target {} at row {} is outside [0, {}) (the logits' last dim)",
          tp[n], n, V);

  Tensor z = logits.data().reshape({N, V}).contiguous();   // (N, V)
  Tensor lse = logsumexp(z, {1});                          // (N)
  Tensor picked = gather(z, 1, t.view({N, 1})).view({N});  // (N)
  Tensor loss = mean(lse - picked);                        // ()
  return record("cross_entropy", loc, loss, {logits}, {z, t, lse},
                [shape = logits.shape()](const BackwardInput& in) -> Grads {
                  const Tensor &z = in.saved[0], &t = in.saved[1], &lse = in.saved[2];
                  const int64_t N = z.size(0), V = z.size(1);
                  const double scale = in.grad.item<double>() / double(N);
                  const int64_t* tp = t.data<int64_t>();
                  Tensor dz = empty({N, V}, z.dtype());  // (N, V)
                  visit_floating(dz.dtype(), "cross_entropy backward", [&]<class T>() {
                    const T *pz = z.data<T>(), *pl = lse.data<T>();
                    T* pd = dz.data<T>();
                    parallel_for(0, N, 4, [&](int64_t lo, int64_t hi) {
                      for (int64_t n = lo; n < hi; ++n) {
                        exp_shifted_scaled(pz + n * V, pd + n * V, V, pl[n], T(scale));  // p * g / N
                        pd[n * V + tp[n]] -= T(scale);
                      }
                    });
                  });
                  return {dz.view(shape)};
                });
}

// ---- RMSNorm ------------------------------------------------------------------------------------------
// Per row x (C): r = 1 / sqrt(mean(x^2) + eps), xhat = x r, y = xhat * w. The forward saves r.
// With dxhat = g * w, and dr/dx_j = -r^3 x_j / C:
//   dx_j = r dxhat_j - x_j r^3 / C sum_i dxhat_i x_i = r (dxhat_j - xhat_j mean_i(dxhat_i xhat_i))
//   dw   = sum over rows of g * xhat
// Row sums accumulate in double. dw is summed over fixed blocks of rows and then over the blocks
// in order, so it is the same for any thread count.
Variable rms_norm(const Variable& x, const Variable& weight, double eps, Location loc) {
  check(x.dim() >= 1 && weight.dim() == 1 && weight.size(0) == x.size(-1),
        "rms_norm: the weight must be (C,) for x of shape (..., C); got x {} and weight {}", x.shape(), weight.shape());
  check(x.dtype() == weight.dtype(), "rms_norm: x is {} but the weight is {}; hint: convert with .to()", x.dtype(),
        weight.dtype());
  const int64_t C = x.size(-1), N = x.numel() / std::max<int64_t>(C, 1);
  Tensor xc = x.data().contiguous();       // (N, C) in memory
  Tensor wc = weight.data().contiguous();  // (C)
  Tensor y = empty(x.shape(), x.dtype());  // (..., C)
  Tensor rstd = empty({N}, x.dtype());     // (N)
  visit_floating(x.dtype(), "rms_norm", [&]<class T>() {
    const T* px = xc.data<T>();
    const T* pw = wc.data<T>();
    T* py = y.data<T>();
    T* pr = rstd.data<T>();
    parallel_for(0, N, 16, [&](int64_t lo, int64_t hi) {
      for (int64_t n = lo; n < hi; ++n) {
        const T* row = px + n * C;
        double ss = 0;
        for (int64_t c = 0; c < C; ++c) ss += double(row[c]) * double(row[c]);
        const T r = T(1.0 / std::sqrt(ss / double(C) + eps));
        pr[n] = r;
        for (int64_t c = 0; c < C; ++c) py[n * C + c] = row[c] * r * pw[c];
      }
    });
  });

  return record("rms_norm", loc, y, {x, weight}, {xc, wc, rstd}, [](const BackwardInput& in) -> Grads {
    const Tensor &xc = in.saved[0], &wc = in.saved[1], &rstd = in.saved[2];
    const int64_t C = wc.size(0), N = rstd.size(0);
    constexpr int64_t kRows = 32;  // rows per block of the dw sum
    const int64_t blocks = (N + kRows - 1) / kRows;
    Tensor g = in.grad.contiguous();
    Tensor dx = empty(xc.shape(), xc.dtype());
    Tensor partial = zeros({blocks, C}, DType::f64);  // per block: sum of g * xhat
    visit_floating(xc.dtype(), "rms_norm backward", [&]<class T>() {
      const T* px = xc.data<T>();
      const T* pw = wc.data<T>();
      const T* pr = rstd.data<T>();
      const T* pg = g.data<T>();
      T* pdx = dx.data<T>();
      double* pp = partial.data<double>();
      parallel_for(0, N, kRows, [&](int64_t lo, int64_t hi) {
        double* dw = pp + (lo / kRows) * C;
        for (int64_t n = lo; n < hi; ++n) {
          const T* xr = px + n * C;
          const T* gr = pg + n * C;
          const T r = pr[n];
          double dot = 0;  // sum_i dxhat_i xhat_i
          for (int64_t c = 0; c < C; ++c) {
            const T xhat = xr[c] * r;
            dot += double(gr[c] * pw[c]) * double(xhat);
            dw[c] += double(gr[c]) * double(xhat);
          }
          const T m = T(dot / double(C));
          for (int64_t c = 0; c < C; ++c) pdx[n * C + c] = r * (gr[c] * pw[c] - xr[c] * r * m);
        }
      });
    });
    Tensor dw;
    if (in.needs[1]) dw = sum(partial, {0}).to(wc.dtype());
    return {in.needs[0] ? dx.view(in.grad.shape()) : Tensor(), dw};
  });
}

// ---- SwiGLU gate ----------------------------------------------------------------------------------------
// y = silu(a) b = a s(a) b, s = sigmoid:
//   da = g b s (1 + a (1 - s))      (silu'(a) = s (1 + a (1 - s)))
//   db = g a s
// Both in one pass over the elements.
Variable swiglu(const Variable& a, const Variable& b, Location loc) {
  check(a.shape() == b.shape() && a.dtype() == b.dtype(),
        "swiglu: the gate and the value must have the same shape and dtype, got {} ({}) and {} ({})", a.shape(),
        a.dtype(), b.shape(), b.dtype());
  Tensor y = silu(a.data()) * b.data();
  return record("swiglu", loc, y, {a, b}, {a.data(), b.data()}, [](const BackwardInput& in) -> Grads {
    Tensor a = in.saved[0].contiguous(), b = in.saved[1].contiguous(), g = in.grad.contiguous();
    Tensor s = sigmoid(a);
    Tensor da = empty_like(a), db = empty_like(b);
    visit_floating(a.dtype(), "swiglu backward", [&]<class T>() {
      const T *pa = a.data<T>(), *pb = b.data<T>(), *pg = g.data<T>(), *ps = s.data<T>();
      T *pda = da.data<T>(), *pdb = db.data<T>();
      detail::parallel_elements(a.numel(), [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) {
          const T gs = pg[i] * ps[i];
          pda[i] = gs * pb[i] * (T(1) + pa[i] * (T(1) - ps[i]));
          pdb[i] = gs * pa[i];
        }
      });
    });
    return {in.needs[0] ? da : Tensor(), in.needs[1] ? db : Tensor()};
  });
}

// ---- Scaled dot-product attention -----------------------------------------------------------------------
// Forward, per batch entry:  S = q k^T / sqrt(dk) (masked: -inf where the mask is false),
// P = softmax(S) over keys, O = P v.  Saved: q, k, v, P and O. The scores S are one fresh tensor:
// scaled and masked in place, then turned into P by the tensor layer's fused softmax.
// Backward (see docs/internals/attention_backward.md):
//   dv = P^T dO
//   dP = dO v^T
//   dS = P * (dP - D),  D_i = sum_j P_ij dP_ij = sum_d dO_id O_id   (softmax backward, row-wise)
//   dq = dS k / sqrt(dk),  dk = dS^T q / sqrt(dk)
// D from dO and O costs (Tq, dv) instead of (Tq, Tk). Masked entries have P = 0, hence dS = 0.
namespace {

// s = mask ? s * scale : -inf, in place, for the fresh contiguous scores s (..., Tq, Tk) and a
// bool mask broadcastable to them. One pass instead of a scaling and a where.
void scale_and_mask(Tensor& s, const std::optional<Tensor>& mask, double scale) {
  const int64_t n = s.size(-1), rows = s.numel() / std::max<int64_t>(n, 1);
  Tensor m;  // the mask viewed with s's shape (stride 0 where it broadcasts)
  if (mask) {
    check(broadcast_shapes(mask->shape(), s.shape(), "scaled_dot_product_attention") == s.shape(),
          "scaled_dot_product_attention: the mask of shape {} does not broadcast to the scores' shape {}",
          mask->shape(), s.shape());
    m = mask->expand(s.shape());
  }
  visit_floating(s.dtype(), "scaled_dot_product_attention", [&]<class T>() {
    T* ps = s.data<T>();
    const T c = T(scale), minus_inf = -std::numeric_limits<T>::infinity();
    parallel_for(0, rows, 64, [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        T* row = ps + r * n;
        if (!m.defined()) {
          for (int64_t j = 0; j < n; ++j) row[j] *= c;
          continue;
        }
        int64_t off = 0;  // where row r of the (expanded) mask starts
        for (int64_t d = s.dim() - 2, rest = r; d >= 0; --d) {
          off += (rest % s.size(d)) * m.stride(d);
          rest /= s.size(d);
        }
        const bool* allowed = m.data<bool>() + off;
        const int64_t step = m.stride(-1);
        for (int64_t j = 0; j < n; ++j) row[j] = allowed[j * step] ? row[j] * c : minus_inf;
      }
    });
  });
}

}  // namespace

Variable scaled_dot_product_attention(const Variable& q, const Variable& k, const Variable& v,
                                      const std::optional<Tensor>& mask, Location loc) {
  check(q.dim() >= 2 && k.dim() >= 2 && v.dim() >= 2 && q.size(-1) == k.size(-1) && k.size(-2) == v.size(-2),
        "scaled_dot_product_attention: need q (..., Tq, dk), k (..., Tk, dk), v (..., Tk, dv); got q {}, k {}, v {}",
        q.shape(), k.shape(), v.shape());
  check(!mask || mask->dtype() == DType::b8,
        "scaled_dot_product_attention: the mask must be bool (true = attend), got {}",
        mask ? mask->dtype() : DType::b8);
  const double scale = 1.0 / std::sqrt(double(q.size(-1)));
  Tensor s = matmul(q.data(), k.data().mT());  // (..., Tq, Tk)
  scale_and_mask(s, mask, scale);
  Tensor p = softmax(s, -1);       // (..., Tq, Tk)
  Tensor o = matmul(p, v.data());  // (..., Tq, dv)
  return record("scaled_dot_product_attention", loc, o, {q, k, v}, {q.data(), k.data(), v.data(), p, o},
                [scale](const BackwardInput& in) -> Grads {
                  const Tensor &q = in.saved[0], &k = in.saved[1], &v = in.saved[2], &o = in.saved[4];
                  const Tensor& g = in.grad;  // (..., Tq, dv)
                  Tensor dv = in.needs[2] ? sum_to(matmul(in.saved[3].mT(), g), v.shape()) : Tensor();
                  if (!in.needs[0] && !in.needs[1]) return {Tensor(), Tensor(), dv};
                  Tensor ds = matmul(g, v.mT()).contiguous();                  // (..., Tq, Tk) dP, then dS
                  Tensor d = sum(g * o, {-1}, /*keepdim=*/true).contiguous();  // (..., Tq, 1)
                  Tensor p = in.saved[3].expand(ds.shape()).contiguous();
                  const int64_t Tk = ds.size(-1), rows = ds.numel() / std::max<int64_t>(Tk, 1);
                  visit_floating(ds.dtype(), "scaled_dot_product_attention backward", [&]<class T>() {
                    const T *pp = p.data<T>(), *pd = d.data<T>();
                    T* pds = ds.data<T>();
                    parallel_for(0, rows, 64, [&](int64_t lo, int64_t hi) {
                      for (int64_t r = lo; r < hi; ++r)
                        for (int64_t j = r * Tk; j < (r + 1) * Tk; ++j) pds[j] = pp[j] * (pds[j] - pd[r]) * T(scale);
                    });
                  });
                  // ds now holds dS / sqrt(dk)
                  Tensor dq = in.needs[0] ? sum_to(matmul(ds, k), q.shape()) : Tensor();
                  Tensor dk = in.needs[1] ? sum_to(matmul(ds.mT(), q), k.shape()) : Tensor();
                  return {dq, dk, dv};
                });
}

}  // namespace strata
