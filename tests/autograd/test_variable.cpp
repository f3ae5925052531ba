// test_variable.cpp: the tape: recording, reverse order, gradient accumulation and its shape checks,
// retain_graph, grad mode, detach, grad(), the version counter, anomaly mode and the Graphviz dump.
#include "autograd/variable.h"

#include "autograd/functions.h"
#include "tests/testing/tensor_testing.h"

#include <string>
#include <thread>
#include <vector>

using namespace strata;
using namespace strata::testing;

namespace {

// A recorded identity op whose backward appends `label` to `log` and passes g through.
Variable logged_identity(const Variable& x, const char* label, std::vector<std::string>& log) {
  return record(label, std::source_location::current(), x.data(), {x}, {},
                [label, &log](const BackwardInput& in) -> std::vector<Tensor> {
                  log.push_back(label);
                  return {in.grad};
                });
}

}  // namespace

TEST_CASE("a leaf requires grad; ops on it record a node, ops on constants do not") {
  Variable w(tensor({1, 2, 3}), true);
  Variable c(tensor({4, 5, 6}));
  CHECK(w.requires_grad());
  CHECK(w.is_leaf());
  CHECK_FALSE(c.requires_grad());
  Variable y = w * c;
  CHECK(y.requires_grad());
  CHECK_FALSE(y.is_leaf());
  CHECK(std::string(y.node()->op) == "mul");
  CHECK(y.node()->inputs.size() == 2);
  CHECK(y.node()->inputs[0] == w.node());
  CHECK(y.node()->inputs[1] == nullptr);  // c needs no gradient
  CHECK_FALSE((c * c).requires_grad());
  CHECK(y.node()->sequence > w.node()->sequence);
}

TEST_CASE("backward runs the nodes newest to oldest (reverse tape order)") {
  std::vector<std::string> log;
  Variable x(tensor({1.0}), true);
  Variable a = logged_identity(x, "a", log);
  Variable b = logged_identity(a, "b", log);
  Variable c = logged_identity(x, "c", log);  // a second branch from x, recorded after b
  Variable d = logged_identity(b + c, "d", log);
  backward(d);
  CHECK(log == std::vector<std::string>{"d", "c", "b", "a"});
  CHECK(x.grad().item<double>() == 2.0);  // two paths from x to d, each with derivative 1
}

TEST_CASE("a value used several times sums its gradients; repeated backward accumulates into .grad") {
  Variable x(tensor({2.0, -3.0}, DType::f64), true);
  // y = x*x + x: dy/dx = 2x + 1
  backward(sum(x * x + x));
  CHECK(x.grad().to_vector<double>() == std::vector<double>{5.0, -5.0});
  backward(sum(x * x + x));
  CHECK(x.grad().to_vector<double>() == std::vector<double>{10.0, -10.0});
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("two leaves never share one gradient buffer") {
  // add's backward returns the same tensor for both inputs; scaling one leaf's gradient in place
  // (as clip_grad_norm_ does) must not change the other's.
  Variable a(zeros({3}), true), b(zeros({3}), true);
  backward(sum(a + b));
  a.grad().mul_(10.0);
  CHECK(b.grad().to_vector<float>() == std::vector<float>{1, 1, 1});
}

TEST_CASE("gradient shapes are checked, and the error names the op") {
  Variable x(ones({2, 3}), true);
  Variable y = record("broken_op", std::source_location::current(), x.data(), {x}, {},
                      [](const BackwardInput&) -> std::vector<Tensor> {
                        return {zeros({3, 2})};
                      });
  const std::string msg = error_of([&] { backward(sum(y)); });
  CHECK(msg.find("broken_op") != std::string::npos);
  CHECK(msg.find("[3, 2]") != std::string::npos);
  CHECK(msg.find("[2, 3]") != std::string::npos);
  CHECK(msg.find("test_variable.cpp") != std::string::npos);

  CHECK(error_of([&] { x.set_grad(zeros({3})); }).find("set_grad") != std::string::npos);
}

TEST_CASE("a leaf whose value is replaced by another shape: new graphs follow, old gradients are refused") {
  Variable w(ones({2}), true);
  w.set_name("w");
  backward(sum(w * 3.0));
  w.data() = ones({3});  // e.g. loading a checkpoint of another size
  const std::string msg = error_of([&] { backward(sum(w * 3.0)); });
  CHECK(msg.find("leaf 'w'") != std::string::npos);
  CHECK(msg.find("zero_grad") != std::string::npos);
  w.zero_grad();
  backward(sum(w * 3.0));
  CHECK(w.grad().to_vector<float>() == std::vector<float>{3, 3, 3});
}

TEST_CASE("backward frees the graph; a second backward needs retain_graph") {
  Variable x(tensor({3.0}, DType::f64), true);
  Variable y = exp(x);
  backward(y, Tensor(), {.retain_graph = true});
  CHECK(y.node()->saved.size() == 1);  // kept
  backward(y);                         // allowed, and frees
  CHECK(x.grad().item<double>() == doctest::Approx(2 * std::exp(3.0)));
  CHECK(y.node()->saved.empty());
  const std::string msg = error_of([&] { backward(y); });
  CHECK(msg.find("already freed") != std::string::npos);
  CHECK(msg.find("exp") != std::string::npos);
  CHECK(msg.find("retain_graph") != std::string::npos);
}

TEST_CASE("backward checks its seed") {
  Variable x(ones({2}), true);
  CHECK(error_of([&] { backward(x * 2.0); }).find("one-element") != std::string::npos);
  CHECK(error_of([&] { backward(Variable(ones({1}))); }).find("does not require grad") != std::string::npos);
  CHECK(error_of([&] { backward(x * 2.0, ones({3})); }).find("grad_output") != std::string::npos);
  backward(x * 2.0, tensor({1.0, 10.0}));  // an explicit seed for a non-scalar output
  CHECK(x.grad().to_vector<float>() == std::vector<float>{2, 20});
}

TEST_CASE("NoGradGuard stops recording, per thread, and restores the mode") {
  Variable x(ones({2}), true);
  {
    NoGradGuard guard;
    CHECK_FALSE(grad_mode_enabled());
    CHECK_FALSE((x * 2.0).requires_grad());
    bool other_thread_mode = false;
    std::thread([&] { other_thread_mode = grad_mode_enabled(); }).join();
    CHECK(other_thread_mode);  // grad mode is thread_local
    { NoGradGuard nested; }
    CHECK_FALSE(grad_mode_enabled());
  }
  CHECK(grad_mode_enabled());
  CHECK((x * 2.0).requires_grad());
}

TEST_CASE("detach cuts the graph") {
  Variable x(tensor({2.0}, DType::f64), true);
  // y = x * detach(x): only the first factor is differentiated, dy/dx = x
  backward(x * x.detach());
  CHECK(x.grad().item<double>() == 2.0);
  CHECK_FALSE(x.detach().requires_grad());
  CHECK(x.detach().data().shares_storage(x.data()));
}

TEST_CASE("requires_grad_ and names on leaves") {
  Variable w(zeros({2}));
  w.set_name("layer.weight");
  w.requires_grad_();
  CHECK(w.name() == "layer.weight");
  CHECK(w.node()->name == "layer.weight");
  Variable y = w * 2.0;
  CHECK(error_of([&] { y.requires_grad_(false); }).find("only leaves") != std::string::npos);
  w.requires_grad_(false);
  CHECK_FALSE(w.requires_grad());
  CHECK(w.name() == "layer.weight");
  CHECK(error_of([&] { Variable(arange(3), true); }).find("floating") != std::string::npos);
}

TEST_CASE("grad() returns gradients without touching .grad, for leaves and intermediate values") {
  Variable x(tensor({1.0, 2.0}, DType::f64), true);
  Variable h = x * x;  // dh/dx = 2x
  Variable y = sum(h * 3.0);
  std::vector<Tensor> g = grad(y, {x, h});
  CHECK(g[0].to_vector<double>() == std::vector<double>{6.0, 12.0});
  CHECK(g[1].to_vector<double>() == std::vector<double>{3.0, 3.0});
  CHECK_FALSE(x.grad().defined());
  Variable unused(ones({2}, DType::f64), true);
  Variable y2 = sum(x);
  CHECK(grad(y2, {unused})[0].to_vector<double>() == std::vector<double>{0.0, 0.0});
}

TEST_CASE("an in-place change to a saved tensor is detected at backward") {
  Variable x(tensor({1.0, 2.0}), true);
  Variable w(tensor({3.0, 4.0}), true);
  Variable y = sum(x * w);  // mul saves x and w
  w.data().add_(1.0);       // e.g. an optimizer step before backward
  const std::string msg = error_of([&] { backward(y); });
  CHECK(msg.find("in-place change to a tensor saved for backward by 'mul'") != std::string::npos);
  CHECK(msg.find("test_variable.cpp") != std::string::npos);
  CHECK(msg.find("clone()") != std::string::npos);

  // Changing a clone is fine.
  Variable x2(tensor({1.0, 2.0}), true);
  Tensor saved_copy = x2.data().clone();
  Variable y2 = sum(x2 * x2);
  saved_copy.add_(1.0);
  backward(y2);
  CHECK(x2.grad().to_vector<float>() == std::vector<float>{2, 4});
}

TEST_CASE("anomaly mode names the first op that produces NaN/Inf and where it was called") {
  DetectAnomalyGuard anomaly;
  SUBCASE("in the forward") {
    Variable x(tensor({1.0, -1.0}), true);
    Variable ok = x * 2.0;
    const int line = __LINE__ + 1;
    const std::string msg = error_of([&] { Variable bad = log(ok); });
    CHECK(msg.find("anomaly") != std::string::npos);
    CHECK(msg.find("'log'") != std::string::npos);
    CHECK(msg.find(fmt::format("test_variable.cpp:{}", line)) != std::string::npos);
    CHECK(msg.find("NaN at index [1]") != std::string::npos);
  }
  SUBCASE("through an operator, at the line of the expression") {
    Variable a(tensor({1.0}), true), b(tensor({0.0}), true);
    const int line = __LINE__ + 1;
    const std::string msg = error_of([&] { Variable q = a / b; });
    CHECK(msg.find("'div'") != std::string::npos);
    CHECK(msg.find(fmt::format("test_variable.cpp:{}", line)) != std::string::npos);
  }
  SUBCASE("in the backward") {
    Variable x(tensor({0.0, 4.0}), true);
    Variable y = sum(sqrt(x));  // finite forward; d sqrt(x)/dx = 1 / (2 sqrt x) is inf at 0
    const std::string msg = error_of([&] { backward(y); });
    CHECK(msg.find("backward of 'sqrt'") != std::string::npos);
    CHECK(msg.find("+Inf at index [0]") != std::string::npos);
  }
  SUBCASE("a NaN already in a leaf is reported as coming from the input") {
    Variable x(tensor({std::nan("")}), true);
    CHECK(error_of([&] { Variable y = x * 2.0; }).find("its input 0 already holds NaN") != std::string::npos);
  }
}

TEST_CASE("without anomaly mode, NaN passes silently") {
  Variable x(tensor({-1.0}), true);
  CHECK(std::isnan(log(x).item<float>()));
}

TEST_CASE("to_dot draws ops as boxes, leaves as ellipses, shapes on edges") {
  Variable x(ones({4, 3}));
  Variable w(ones({2, 3}), true);
  w.set_name("W");
  Variable loss = sum(relu(matmul(x, mT(w))));
  const std::string dot = to_dot(loss);
  CHECK(dot.starts_with("digraph strata {"));
  CHECK(dot.find("label=\"W\\n[2, 3] float32\"") != std::string::npos);
  CHECK(dot.find("shape=box, label=\"matmul\\ntests/autograd/test_variable.cpp:") != std::string::npos);
  for (const char* op : {"transpose", "relu", "sum"}) CHECK(dot.find(op) != std::string::npos);
  CHECK(dot.find("[label=\"[4, 2]\"]") != std::string::npos);  // matmul -> relu carries (4, 2)
  CHECK(dot.find("output [] float32") != std::string::npos);
}

TEST_CASE("deep graphs: backward and destruction do not recurse") {
  // 50000 chained ops; a recursive traversal or a recursive release of the node chain would
  // overflow the stack.
  Variable x(tensor({1.0}, DType::f64), true);
  {
    Variable y = x;
    for (int i = 0; i < 50000; ++i) y = y * 1.0;
    backward(y);
  }
  CHECK(x.grad().item<double>() == 1.0);
}
