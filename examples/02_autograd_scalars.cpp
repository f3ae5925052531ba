// 02_autograd_scalars.cpp: reverse-mode autodiff from the ground up, micrograd-style, with strata's
// autograd layer.
//
// Build and run:   ninja -C build examples/02_autograd_scalars && ./build/examples/02_autograd_scalars
//
// 1. A Variable wraps a Tensor. Make it a leaf that requires grad (a parameter) with
//    Variable(t, /*requires_grad=*/true). Here the tensors are 0-d float64 scalars, so every value
//    below is one number, as in Karpathy's micrograd.
// 2. Each op on Variables computes its value and, if an input requires grad, records a node on the
//    tape: the op's name, where it was called, its inputs and a closure that turns the gradient of
//    its output into gradients of its inputs (the chain rule for that one op). For c = a * b the
//    closure returns (g * b, g * a).
// 3. backward(loss) seeds d(loss)/d(loss) = 1 and runs the closures from the newest node to the
//    oldest. A value used twice receives two contributions, which are added. Each leaf's gradient
//    lands in leaf.grad().
// 4. The same expression as micrograd's README gives the same numbers: g = 24.7041,
//    dg/da = 138.8338, dg/db = 645.5773.
// 5. One neuron, tanh(w . x + b), then a tiny 2-4-1 network trained by plain gradient descent to
//    compute XOR. The update runs under NoGradGuard (an optimizer step is not part of the graph),
//    and zero_grad() clears the accumulated gradients before the next step.
// 6. Debug aids: to_dot() prints the graph for Graphviz; DetectAnomalyGuard makes the first op that
//    produces NaN/Inf throw an Error naming the op and the line that called it.
// The tape itself is explained in docs/internals/tape.md.
#include "autograd/functions.h"
#include "tensor/format.h"
#include "tensor/ops.h"
#include "tensor/random.h"

#include <fmt/core.h>

#include <vector>

using namespace strata;

namespace {

Variable scalar(double value, bool requires_grad = true) {
  return Variable(scalar_tensor(value, DType::f64), requires_grad);
}
double value_of(const Variable& v) { return v.item<double>(); }
double grad_of(const Variable& v) { return v.grad().item<double>(); }

}  // namespace

int main() {
  // 1-3. A first expression: f = (a * b + a) and its partial derivatives.
  Variable a = scalar(-4.0), b = scalar(2.0);
  Variable f = a * b + a;  // a is used twice: df/da = b + 1 = 3, df/db = a = -4
  backward(f);
  fmt::print("f = a*b + a = {}   df/da = {}   df/db = {}\n\n", value_of(f), grad_of(a), grad_of(b));

  // 4. micrograd's README example, line by line.
  a = scalar(-4.0);
  b = scalar(2.0);
  Variable c = a + b;
  Variable d = a * b + pow(b, 3.0);
  c = c + c + 1.0;
  c = c + 1.0 + c + (-a);
  d = d + d * 2.0 + relu(b + a);
  d = d + 3.0 * d + relu(b - a);
  Variable e = c - d;
  Variable f2 = pow(e, 2.0);
  Variable g = f2 / 2.0;
  g = g + 10.0 * pow(f2, -1.0);  // 10 / f
  backward(g);
  fmt::print("micrograd's example: g = {:.4f}   dg/da = {:.4f}   dg/db = {:.4f}\n", value_of(g), grad_of(a),
             grad_of(b));
  fmt::print("(micrograd prints 24.7041, 138.8338 and 645.5773)\n\n");

  // 5a. One neuron with two inputs: out = tanh(w . x + bias).
  Variable x(tensor({2.0, 0.0}, DType::f64));  // an input: no gradient needed
  Variable w(tensor({-3.0, 1.0}, DType::f64), true);
  Variable bias = scalar(6.8813735870195432);
  Variable out = tanh(sum(w * x) + bias);
  backward(out);
  fmt::print("neuron: out = {:.4f}   d out/d w = {}   d out/d bias = {:.4f}\n\n", value_of(out), w.grad(),
             grad_of(bias));

  // 5b. A 2-4-1 network learning XOR with gradient descent on the mean squared error.
  Tensor inputs = tensor({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2}, DType::f64);  // (4, 2)
  Tensor targets = tensor({0, 1, 1, 0}, {4, 1}, DType::f64);              // (4, 1)
  Generator gen(42);
  Variable w1(randn({2, 4}, DType::f64, &gen), true), b1(zeros({4}, DType::f64), true);
  Variable w2(randn({4, 1}, DType::f64, &gen), true), b2(zeros({1}, DType::f64), true);
  std::vector<Variable> params{w1, b1, w2, b2};
  const double lr = 0.5;
  for (int step = 0; step <= 500; ++step) {
    Variable hidden = tanh(matmul(Variable(inputs), w1) + b1);  // (4, 4)
    Variable pred = sigmoid(matmul(hidden, w2) + b2);           // (4, 1)
    Variable loss = mean(square(pred - Variable(targets)));    // ()
    for (Variable& p : params) p.zero_grad();
    backward(loss);
    {
      NoGradGuard no_grad;  // the update is not part of the graph
      for (Variable& p : params) p.data().add_(p.grad(), -lr);
    }
    if (step % 100 == 0) fmt::print("step {:3d}: loss {:.6f}\n", step, value_of(loss));
  }
  {
    NoGradGuard no_grad;
    Variable pred = sigmoid(matmul(tanh(matmul(Variable(inputs), w1) + b1), w2) + b2);
    fmt::print("XOR predictions for 00, 01, 10, 11: {}\n\n", pred.data().view({4}));
  }

  // 6. The graph behind a small expression, for Graphviz (dot -Tsvg graph.dot -o graph.svg).
  Variable p = scalar(3.0).set_name("p"), q = scalar(-2.0).set_name("q");
  fmt::print("{}\n", to_dot(exp(p * q) + p));

  // Anomaly mode: log of a negative number is NaN; the error names the op and this file's line.
  try {
    DetectAnomalyGuard anomaly;
    Variable bad = log(q);
    (void)bad;
  } catch (const Error& err) {
    fmt::print("anomaly mode caught: {}\n", err.what());
  }
}
