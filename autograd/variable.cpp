// variable.cpp: the tape. Recording ops (record), running it backwards (backward, grad), grad
// mode, anomaly mode and the Graphviz dump.
//
// Reverse mode in one paragraph: for a loss L and a node computing y = f(x1, ..., xn), the chain
// rule gives dL/dxi = (dL/dy) * (dy/dxi); the node's closure computes exactly that product from
// g = dL/dy. A value used by several ops receives one contribution per use, and its gradient is
// their sum. Running the closures in reverse tape order guarantees that when a node's turn comes,
// every op that used its value (all newer) has already contributed: its g is complete.
#include "autograd/variable.h"

#include "autograd/function_helpers.h"
#include "tensor/ops.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace strata {

namespace {

thread_local bool t_grad_mode = true;
std::atomic<bool> g_detect_anomaly{false};
std::atomic<uint64_t> g_next_sequence{0};

// "autograd/functions_fused.cpp:42": the path as the compiler saw it, without the "../" prefixes
// that a build directory adds.
std::string format_where(const std::source_location& where) {
  std::string_view file = where.file_name();
  while (file.starts_with("../") || file.starts_with("./")) file.remove_prefix(file.find('/') + 1);
  return fmt::format("{}:{}", file, where.line());
}

// The first element that is NaN or +-Inf, as (flat index, value); nothing for finite tensors and
// integer dtypes.
std::optional<std::pair<int64_t, double>> first_non_finite(const Tensor& t) {
  if (!t.defined() || !is_floating(t.dtype())) return std::nullopt;
  return visit_floating(t.dtype(), "anomaly check", [&]<class T>() -> std::optional<std::pair<int64_t, double>> {
    const T* p = t.data<T>();
    int64_t flat = 0;
    std::optional<std::pair<int64_t, double>> found;
    for_each_offset(t.shape(), t.strides(), [&](int64_t off) {
      if (!found && !std::isfinite(p[off])) found = std::pair{flat, double(p[off])};
      ++flat;
    });
    return found;
  });
}

std::string describe_non_finite(const Tensor& t, std::pair<int64_t, double> bad) {
  const char* what = std::isnan(bad.second) ? "NaN" : bad.second > 0 ? "+Inf" : "-Inf";
  return fmt::format("{} at index {} of a tensor of shape {}", what, detail::unravel(bad.first, t.shape()),
                     t.shape());
}

// Anomaly mode, forward: the output of `op` must be finite. Says whether an input already was not
// (then the NaN came from outside the tape, e.g. a parameter).
void check_forward_finite(const char* op, const std::source_location& where, const Tensor& output,
                          const std::vector<Variable>& inputs) {
  auto bad = first_non_finite(output);
  if (!bad) return;
  std::string origin = "its inputs are finite, so this op produced it";
  for (size_t i = 0; i < inputs.size(); ++i)
    if (first_non_finite(inputs[i].data())) {
      origin = fmt::format("its input {} already holds NaN/Inf (a leaf or data from outside the tape)", i);
      break;
    }
  fail("anomaly: the forward of '{}' (called at {}) produced {}; {}; hint: look at that line's inputs", op,
       format_where(where), describe_non_finite(output, *bad), origin);
}

// A gradient that a leaf may keep and later add into in place: `g` itself when nothing else
// refers to its storage and it is contiguous, else a copy. (A closure may return the same tensor
// for two inputs, e.g. add; two leaves must never share one gradient buffer.)
Tensor owned(Tensor g) {
  if (g.storage().use_count() == 1 && g.is_contiguous()) return g;
  return g.clone();
}

// Collects the nodes reachable from `root` that can carry a gradient, newest first.
std::vector<Node*> reverse_tape(Node* root) {
  std::vector<Node*> nodes;
  std::unordered_set<Node*> seen{root};
  std::vector<Node*> stack{root};
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    nodes.push_back(n);
    for (const auto& in : n->inputs)
      if (in && seen.insert(in.get()).second) stack.push_back(in.get());
  }
  std::sort(nodes.begin(), nodes.end(), [](Node* a, Node* b) { return a->sequence > b->sequence; });
  return nodes;
}

// The gradient seeding `output`: `grad_output`, or ones for a one-element output.
Tensor seed_gradient(const char* api, const Variable& output, const Tensor& grad_output) {
  check(output.defined(), "{}: the output is an undefined Variable", api);
  check(output.requires_grad(),
        "{}: the output (shape {}) does not require grad: no op on its path had an input that requires grad; "
        "hint: create parameters with requires_grad=true, and do not compute the loss under NoGradGuard",
        api, output.shape());
  if (!grad_output.defined()) {
    check(output.numel() == 1,
          "{}: the output has shape {}; a gradient is implied only for a one-element output; "
          "hint: pass grad_output, or reduce the output (sum/mean) first",
          api, output.shape());
    return ones_like(output.data());
  }
  check(grad_output.shape() == output.shape() && grad_output.dtype() == output.dtype(),
        "{}: grad_output has shape {} ({}) but the output has shape {} ({})", api, grad_output.shape(),
        grad_output.dtype(), output.shape(), output.dtype());
  return grad_output;
}

// Runs the tape behind `root` backwards from `seed`. With `capture` empty, leaf gradients are
// accumulated into the leaves; otherwise the gradients reaching the captured nodes are stored in
// `captured` (same order) and no leaf is touched.
void run_backward(Node* root, Tensor seed, bool retain_graph, const std::vector<Node*>& capture,
                  std::vector<Tensor>* captured) {
  NoGradGuard no_grad;  // closures compute with Tensors; nothing they do is recorded
  const bool anomaly = detect_anomaly_enabled();
  std::unordered_map<Node*, Tensor> pending;  // gradient summed so far, per node
  pending.emplace(root, std::move(seed));

  // The checks in this loop are `if (...) fail`, not check(): check's arguments are evaluated even
  // when the condition holds, and describe() formats a string (per node, saved tensor and gradient).
  for (Node* node : reverse_tape(root)) {
    auto it = pending.find(node);
    if (it == pending.end()) continue;  // nothing flowed here (every path to it gave no gradient)
    Tensor g = std::move(it->second);
    pending.erase(it);

    if (!capture.empty()) {
      auto c = std::find(capture.begin(), capture.end(), node);
      if (c != capture.end()) (*captured)[c - capture.begin()] = g;
    }
    if (node->is_leaf()) {
      if (!capture.empty()) continue;
      if (node->grad.defined()) {
        if (node->grad.shape() != g.shape() || node->grad.dtype() != g.dtype())
          fail("backward: a gradient of shape {} ({}) for {} cannot be added to its .grad of shape {} ({}): the "
               "leaf's value changed shape since that gradient was computed; hint: zero_grad() first",
               g.shape(), g.dtype(), node->describe(), node->grad.shape(), node->grad.dtype());
        node->grad.add_(g);
      } else {
        node->grad = owned(std::move(g));
      }
      continue;
    }

    if (node->freed)
      fail("backward: the graph behind '{}' was already freed by an earlier backward; hint: pass "
           "BackwardOptions{{.retain_graph = true}} to the first backward to run backward twice",
           node->describe());
    for (size_t i = 0; i < node->saved.size(); ++i)
      if (node->saved[i].version() != node->saved_versions[i])
        fail("backward: an in-place change to a tensor saved for backward by {} (saved tensor {}, shape {}: "
             "version {} at the forward, {} now); hint: use clone() before changing it in place, or change a copy",
             node->describe(), i, node->saved[i].shape(), node->saved_versions[i], node->saved[i].version());

    std::vector<bool> needs(node->inputs.size());
    for (size_t i = 0; i < needs.size(); ++i) needs[i] = node->inputs[i] != nullptr;
    std::vector<Tensor> grads = node->backward(BackwardInput{g, node->saved, needs});
    g = Tensor();
    if (grads.size() != node->inputs.size())
      fail("backward of {}: returned {} gradients for {} inputs", node->describe(), grads.size(), node->inputs.size());

    for (size_t i = 0; i < grads.size(); ++i) {
      Node* input = node->inputs[i].get();
      if (!input || !grads[i].defined()) continue;
      if (grads[i].shape() != input->shape || grads[i].dtype() != input->dtype)
        fail("backward of {}: the gradient for input {} has shape {} ({}) but that input has shape {} ({})",
             node->describe(), i, grads[i].shape(), grads[i].dtype(), input->shape, input->dtype);
      if (anomaly)
        if (auto bad = first_non_finite(grads[i]))
          fail(
              "anomaly: the backward of {} produced a gradient for its input {} with {}; hint: the forward "
              "of that op is where the instability is (e.g. log or sqrt near 0, overflowing exp)",
              node->describe(), i, describe_non_finite(grads[i], *bad));
      auto [slot, fresh] = pending.try_emplace(input, std::move(grads[i]));
      if (!fresh) slot->second = add(slot->second, grads[i]);
    }
    if (!retain_graph) {
      node->backward = nullptr;
      node->saved.clear();
      node->saved_versions.clear();
      node->freed = true;
    }
  }
}

}  // namespace

// ---- Node ---------------------------------------------------------------------------------------

std::string Node::describe() const {
  if (leaf) return name.empty() ? std::string("a leaf") : fmt::format("leaf '{}'", name);
  return fmt::format("'{}' (called at {})", op, format_where(where));
}

Node::~Node() {
  // Take over every input this node is the last owner of, so releasing a chain is a loop.
  std::vector<std::shared_ptr<Node>> stack = std::move(inputs);
  while (!stack.empty()) {
    std::shared_ptr<Node> n = std::move(stack.back());
    stack.pop_back();
    if (n && n.use_count() == 1)
      for (auto& in : n->inputs) stack.push_back(std::move(in));
  }
}

// ---- Variable -------------------------------------------------------------------------------------

Variable::Variable(Tensor data, bool requires_grad) : data_(std::move(data)) {
  if (requires_grad) requires_grad_(true);
}

Tensor Variable::grad() const { return node_ && node_->is_leaf() ? node_->grad : Tensor(); }

void Variable::set_grad(const Tensor& g) {
  check(node_ && node_->is_leaf(),
        "set_grad: only a leaf that requires grad holds a gradient; hint: call "
        "requires_grad_() first");
  check(!g.defined() || (g.shape() == shape() && g.dtype() == dtype()),
        "set_grad: the gradient has shape {} ({}) but '{}' has shape {} ({})", g.shape(), g.dtype(), name(), shape(),
        dtype());
  node_->grad = g.defined() ? g.contiguous() : g;
}

void Variable::zero_grad() {
  if (node_ && node_->is_leaf()) node_->grad = Tensor();
}

Variable& Variable::requires_grad_(bool on, std::source_location where) {
  check(is_leaf(),
        "requires_grad_: {} is the result of an op; only leaves can change whether they require grad; "
        "hint: use detach() to get a leaf",
        node_ ? node_->describe() : std::string("this Variable"));
  if (on == requires_grad()) return *this;
  if (!on) {
    name_ = node_->name;
    node_.reset();
    return *this;
  }
  check(defined() && is_floating(dtype()), "requires_grad_: only floating tensors can require grad, got {}",
        defined() ? dtype_name(dtype()) : std::string_view("an undefined Variable"));
  node_ = std::make_shared<Node>();
  node_->leaf = true;
  node_->where = where;
  node_->sequence = g_next_sequence.fetch_add(1, std::memory_order_relaxed);
  node_->shape = shape();
  node_->dtype = dtype();
  node_->name = std::move(name_);
  name_.clear();
  return *this;
}

const std::string& Variable::name() const { return node_ ? node_->name : name_; }

Variable& Variable::set_name(std::string name) {
  (node_ ? node_->name : name_) = std::move(name);
  return *this;
}

// ---- Recording ------------------------------------------------------------------------------------

Variable record(const char* op, const std::source_location& where, Tensor output, const std::vector<Variable>& inputs,
                std::vector<Tensor> saved, BackwardFn backward) {
  if (detect_anomaly_enabled()) check_forward_finite(op, where, output, inputs);
  const bool any = std::any_of(inputs.begin(), inputs.end(), [](const Variable& v) { return v.requires_grad(); });
  if (!any || !grad_mode_enabled()) return Variable(std::move(output));

  auto node = std::make_shared<Node>();
  node->op = op;
  node->where = where;
  node->sequence = g_next_sequence.fetch_add(1, std::memory_order_relaxed);
  node->shape = output.shape();
  node->dtype = output.dtype();
  node->inputs.reserve(inputs.size());
  for (const Variable& v : inputs) {
    // A leaf's value may have been replaced (w.data() = ...) since it was made a leaf: its node
    // describes the value as it is now.
    if (v.requires_grad() && v.node()->is_leaf()) {
      v.node()->shape = v.shape();
      v.node()->dtype = v.dtype();
    }
    node->inputs.push_back(v.node());
  }
  node->saved_versions.reserve(saved.size());
  for (const Tensor& t : saved) node->saved_versions.push_back(t.version());
  node->saved = std::move(saved);
  node->backward = std::move(backward);
  return Variable::make_result(std::move(output), std::move(node));
}

// ---- Modes ----------------------------------------------------------------------------------------

bool grad_mode_enabled() { return t_grad_mode; }
NoGradGuard::NoGradGuard() : saved_(t_grad_mode) { t_grad_mode = false; }
NoGradGuard::~NoGradGuard() { t_grad_mode = saved_; }

void set_detect_anomaly(bool on) { g_detect_anomaly.store(on, std::memory_order_relaxed); }
bool detect_anomaly_enabled() { return g_detect_anomaly.load(std::memory_order_relaxed); }

// ---- Backward ------------------------------------------------------------------------------------

void backward(const Variable& loss, const Tensor& grad_output, BackwardOptions options) {
  Tensor seed = seed_gradient("backward", loss, grad_output);
  run_backward(loss.node().get(), std::move(seed), options.retain_graph, {}, nullptr);
}

std::vector<Tensor> grad(const Variable& output, const std::vector<Variable>& inputs, const Tensor& grad_output,
                         BackwardOptions options) {
  Tensor seed = seed_gradient("grad", output, grad_output);
  std::vector<Node*> capture;
  for (size_t i = 0; i < inputs.size(); ++i) {
    check(inputs[i].requires_grad(), "grad: input {} (shape {}) does not require grad", i, inputs[i].shape());
    capture.push_back(inputs[i].node().get());
  }
  std::vector<Tensor> result(inputs.size());
  run_backward(output.node().get(), std::move(seed), options.retain_graph, capture, &result);
  for (size_t i = 0; i < result.size(); ++i)
    if (!result[i].defined()) result[i] = zeros_like(inputs[i].data());
  return result;
}

// ---- Graphviz -------------------------------------------------------------------------------------

std::string to_dot(const Variable& output) {
  check(output.requires_grad(), "to_dot: the Variable (shape {}) has no graph: it does not require grad",
        output.shape());
  auto quote = [](std::string_view s) {
    std::string out;
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out;
  };
  std::string dot = "digraph strata {\n  rankdir=BT;\n  node [fontname=\"monospace\"];\n";
  std::vector<Node*> nodes = reverse_tape(output.node().get());
  std::reverse(nodes.begin(), nodes.end());  // oldest first: the order the ops ran
  for (Node* n : nodes) {
    if (n->is_leaf())
      dot += fmt::format("  n{} [shape=ellipse, label=\"{}\\n{} {}\"];\n", n->sequence,
                         quote(n->name.empty() ? "leaf" : n->name), n->shape, n->dtype);
    else
      dot += fmt::format("  n{} [shape=box, label=\"{}\\n{}\"];\n", n->sequence, quote(n->op),
                         quote(format_where(n->where)));
    for (const auto& in : n->inputs)
      if (in) dot += fmt::format("  n{} -> n{} [label=\"{}\"];\n", in->sequence, n->sequence, in->shape);
  }
  dot += fmt::format("  out [shape=plaintext, label=\"output {} {}\"];\n  n{} -> out;\n}}\n", output.shape(),
                     output.dtype(), output.node()->sequence);
  return dot;
}

}  // namespace strata
