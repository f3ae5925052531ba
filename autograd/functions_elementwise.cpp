// functions_elementwise.cpp: elementwise ops on Variables and their backward.
//
// For y = f(x) elementwise, dL/dx = dL/dy * f'(x): each backward below multiplies the incoming
// gradient g by the derivative written above it. Binary ops broadcast, so each input's gradient
// is summed back to that input's shape (sum_to). Ops written in terms of others (sub, minimum,
// div by a scalar, masked_fill) have no backward of their own.
#include "autograd/function_helpers.h"
#include "tensor/index.h"

#include <cmath>
#include <numbers>

namespace strata {

using detail::Grads;
using detail::sum_to;

namespace {

// One differentiable input, its derivative given as a function of (g, saved tensors).
template <class F>
Variable unary(const char* op, const Location& loc, const Variable& x, Tensor y, std::vector<Tensor> saved,
               F derivative) {
  return record(op, loc, std::move(y), {x}, std::move(saved),
                [derivative](const BackwardInput& in) -> Grads { return {derivative(in.grad, in.saved)}; });
}

}  // namespace

// ---- Unary ------------------------------------------------------------------------------------------

// y = -x: dx = -g
Variable neg(const Variable& x, Location loc) {
  return unary("neg", loc, x, neg(x.data()), {}, [](const Tensor& g, auto) { return neg(g); });
}

// y = |x|: dx = g * sign(x) (0 at x = 0, like torch)
Variable abs(const Variable& x, Location loc) {
  return unary("abs", loc, x, abs(x.data()), {x.data()},
               [](const Tensor& g, auto s) { return where(gt(s[0], 0.0), g, where(lt(s[0], 0.0), neg(g), 0.0)); });
}

// y = e^x: dx = g * e^x = g * y
Variable exp(const Variable& x, Location loc) {
  Tensor y = exp(x.data());
  return unary("exp", loc, x, y, {y}, [](const Tensor& g, auto s) { return g * s[0]; });
}

// y = ln x: dx = g / x
Variable log(const Variable& x, Location loc) {
  return unary("log", loc, x, log(x.data()), {x.data()}, [](const Tensor& g, auto s) { return g / s[0]; });
}

// y = sqrt(x): dx = g / (2 sqrt(x)) = g / (2y)
Variable sqrt(const Variable& x, Location loc) {
  Tensor y = sqrt(x.data());
  return unary("sqrt", loc, x, y, {y}, [](const Tensor& g, auto s) { return g / (s[0] * 2.0); });
}

// y = x^(-1/2): dx = g * (-1/2) x^(-3/2) = -g y^3 / 2
Variable rsqrt(const Variable& x, Location loc) {
  Tensor y = rsqrt(x.data());
  return unary("rsqrt", loc, x, y, {y}, [](const Tensor& g, auto s) { return g * pow(s[0], 3.0) * -0.5; });
}

// y = sin x: dx = g cos x
Variable sin(const Variable& x, Location loc) {
  return unary("sin", loc, x, sin(x.data()), {x.data()}, [](const Tensor& g, auto s) { return g * cos(s[0]); });
}

// y = cos x: dx = -g sin x
Variable cos(const Variable& x, Location loc) {
  return unary("cos", loc, x, cos(x.data()), {x.data()}, [](const Tensor& g, auto s) { return neg(g * sin(s[0])); });
}

// y = tanh x: dx = g (1 - y^2)
Variable tanh(const Variable& x, Location loc) {
  Tensor y = tanh(x.data());
  return unary("tanh", loc, x, y, {y}, [](const Tensor& g, auto s) { return g * (1.0 - square(s[0])); });
}

// y = s(x) = 1 / (1 + e^-x): dx = g s (1 - s) = g y (1 - y)
Variable sigmoid(const Variable& x, Location loc) {
  Tensor y = sigmoid(x.data());
  return unary("sigmoid", loc, x, y, {y}, [](const Tensor& g, auto s) { return g * s[0] * (1.0 - s[0]); });
}

// y = max(x, 0): dx = g where x > 0, else 0
Variable relu(const Variable& x, Location loc) {
  return unary("relu", loc, x, relu(x.data()), {x.data()},
               [](const Tensor& g, auto s) { return where(gt(s[0], 0.0), g, 0.0); });
}

// y = x Phi(x), Phi the standard normal CDF: dx = g (Phi(x) + x phi(x)), phi(x) = e^(-x^2/2) / sqrt(2 pi)
Variable gelu(const Variable& x, Location loc) {
  return unary("gelu", loc, x, gelu(x.data()), {x.data()}, [](const Tensor& g, auto s) {
    Tensor gc = g.contiguous(), xc = s[0].contiguous();
    Tensor dx = empty_like(xc);
    visit_floating(xc.dtype(), "gelu backward", [&]<class T>() {
      const T* pg = gc.data<T>();
      const T* px = xc.data<T>();
      T* pd = dx.data<T>();
      detail::parallel_elements(xc.numel(), [&](int64_t lo, int64_t hi) {
        const T inv_sqrt2 = T(std::numbers::sqrt2 / 2),
                inv_sqrt_2pi = T(std::numbers::inv_sqrtpi / std::numbers::sqrt2);
        for (int64_t i = lo; i < hi; ++i) {
          const T cdf = T(0.5) * (T(1) + std::erf(px[i] * inv_sqrt2));
          const T pdf = std::exp(T(-0.5) * px[i] * px[i]) * inv_sqrt_2pi;
          pd[i] = pg[i] * (cdf + px[i] * pdf);
        }
      });
    });
    return dx;
  });
}

// y = x^2: dx = 2 g x
Variable square(const Variable& x, Location loc) {
  return unary("square", loc, x, square(x.data()), {x.data()}, [](const Tensor& g, auto s) { return g * s[0] * 2.0; });
}

// y = x^p: dx = g p x^(p-1)
Variable pow(const Variable& x, double exponent, Location loc) {
  return unary("pow", loc, x, pow(x.data(), exponent), {x.data()}, [exponent](const Tensor& g, auto s) {
    return exponent == 0.0 ? zeros_like(g) : g * pow(s[0], exponent - 1.0) * exponent;
  });
}

// y = min(max(x, lo), hi): dx = g where lo <= x <= hi, else 0 (the bounds pass the gradient, like torch)
Variable clamp(const Variable& x, double lo, double hi, Location loc) {
  return unary("clamp", loc, x, clamp(x.data(), lo, hi), {x.data()},
               [lo, hi](const Tensor& g, auto s) { return where(ge(s[0], lo), where(le(s[0], hi), g, 0.0), 0.0); });
}

// y = x s(x), s = sigmoid. dy/dx = s + x s (1 - s) = s (1 + x (1 - s)), evaluated in one fused pass.
Variable silu(const Variable& x, Location loc) {
  return unary("silu", loc, x, silu(x.data()), {x.data()}, [](const Tensor& g, auto s) {
    Tensor gc = g.contiguous(), xc = s[0].contiguous();
    Tensor sig = sigmoid(xc);  // (...) the vectorised tensor kernel; the rest is one pass
    Tensor dx = empty_like(xc);
    visit_floating(xc.dtype(), "silu backward", [&]<class T>() {
      const T* pg = gc.data<T>();
      const T* px = xc.data<T>();
      const T* ps = sig.data<T>();
      T* pd = dx.data<T>();
      detail::parallel_elements(xc.numel(), [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) pd[i] = pg[i] * ps[i] * (T(1) + px[i] * (T(1) - ps[i]));
      });
    });
    return dx;
  });
}

// ---- Binary (broadcasting) -------------------------------------------------------------------------

// y = a + b: da = g, db = g (each summed to its input's shape)
Variable add(const Variable& a, const Variable& b, Location loc) {
  return record("add", loc, add(a.data(), b.data()), {a, b}, {},
                [sa = a.shape(), sb = b.shape()](const BackwardInput& in) -> Grads {
                  return {in.needs[0] ? sum_to(in.grad, sa) : Tensor(), in.needs[1] ? sum_to(in.grad, sb) : Tensor()};
                });
}

// a - b = a + (-b)
Variable sub(const Variable& a, const Variable& b, Location loc) { return add(a, neg(b, loc), loc); }

// y = a b: da = g b, db = g a
Variable mul(const Variable& a, const Variable& b, Location loc) {
  return record("mul", loc, mul(a.data(), b.data()), {a, b}, {a.data(), b.data()},
                [](const BackwardInput& in) -> Grads {
                  const Tensor &a = in.saved[0], &b = in.saved[1];
                  return {in.needs[0] ? sum_to(in.grad * b, a.shape()) : Tensor(),
                          in.needs[1] ? sum_to(in.grad * a, b.shape()) : Tensor()};
                });
}

// y = a / b: da = g / b, db = -g a / b^2 = -(g / b) (a / b)
Variable div(const Variable& a, const Variable& b, Location loc) {
  return record("div", loc, div(a.data(), b.data()), {a, b}, {a.data(), b.data()},
                [](const BackwardInput& in) -> Grads {
                  const Tensor &a = in.saved[0], &b = in.saved[1];
                  Tensor ga = in.grad / b;
                  Tensor gb = in.needs[1] ? sum_to(neg(ga * a / b), b.shape()) : Tensor();
                  return {in.needs[0] ? sum_to(ga, a.shape()) : Tensor(), gb};
                });
}

// y = max(a, b): da = g where a > b, db = g where b > a; on ties each gets g / 2 (like torch)
Variable maximum(const Variable& a, const Variable& b, Location loc) {
  return record("maximum", loc, maximum(a.data(), b.data()), {a, b}, {a.data(), b.data()},
                [](const BackwardInput& in) -> Grads {
                  const Tensor &a = in.saved[0], &b = in.saved[1];
                  Tensor tie = where(eq(a, b), in.grad * 0.5, 0.0);
                  return {in.needs[0] ? sum_to(where(gt(a, b), in.grad, tie), a.shape()) : Tensor(),
                          in.needs[1] ? sum_to(where(lt(a, b), in.grad, tie), b.shape()) : Tensor()};
                });
}

// min(a, b) = -max(-a, -b) (ties split the same way)
Variable minimum(const Variable& a, const Variable& b, Location loc) {
  return neg(maximum(neg(a, loc), neg(b, loc), loc), loc);
}

// y = a + c (c a constant): da = g
Variable add(const Variable& a, double b, Location loc) {
  return record("add_scalar", loc, add(a.data(), b), {a}, {},
                [](const BackwardInput& in) -> Grads { return {in.grad}; });
}

// y = c a: da = c g
Variable mul(const Variable& a, double b, Location loc) {
  return record("mul_scalar", loc, mul(a.data(), b), {a}, {},
                [b](const BackwardInput& in) -> Grads { return {in.grad * b}; });
}

// a / c = a * (1/c)
Variable div(const Variable& a, double b, Location loc) { return mul(a, 1.0 / b, loc); }

// y = a + C (C a constant tensor, possibly broadcasting a): da = g summed to a's shape
Variable add(const Variable& a, const Tensor& b, Location loc) {
  return record("add_constant", loc, add(a.data(), b), {a}, {},
                [sa = a.shape()](const BackwardInput& in) -> Grads { return {sum_to(in.grad, sa)}; });
}

// y = a C: da = g C summed to a's shape
Variable mul(const Variable& a, const Tensor& b, Location loc) {
  return record("mul_constant", loc, mul(a.data(), b), {a}, {b},
                [sa = a.shape()](const BackwardInput& in) -> Grads { return {sum_to(in.grad * in.saved[0], sa)}; });
}

// y = cond ? a : b: da = g where cond, db = g where !cond
Variable where(const Tensor& cond, const Variable& a, const Variable& b, Location loc) {
  return record("where", loc, where(cond, a.data(), b.data()), {a, b}, {cond},
                [sa = a.shape(), sb = b.shape()](const BackwardInput& in) -> Grads {
                  const Tensor& c = in.saved[0];
                  return {in.needs[0] ? sum_to(where(c, in.grad, 0.0), sa) : Tensor(),
                          in.needs[1] ? sum_to(where(logical_not(c), in.grad, 0.0), sb) : Tensor()};
                });
}

// masked_fill(x, mask, v) = where(mask, v, x), v a constant
Variable masked_fill(const Variable& x, const Tensor& mask, double value, Location loc) {
  return where(mask, Variable(full(Shape{}, value, x.dtype())), x, loc);
}

}  // namespace strata
