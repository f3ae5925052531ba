// variable.h: Variable, a Tensor that autograd can differentiate, and the tape that records ops.
//
// A Variable holds a Tensor (its value) and, when it takes part in differentiation, a Node:
//   - a leaf Variable created with requires_grad=true (a parameter) has a leaf node that
//     accumulates its gradient;
//   - the result of an op on Variables that require grad has a node recording the op's name,
//     where it was called, its input nodes, the tensors its backward reads, and a backward
//     closure that maps the output's gradient to the inputs' gradients.
// Nodes are numbered in creation order: that order is the tape. An op's inputs always exist
// before its output, so the reverse of the tape is a valid order for the chain rule:
// backward(loss) collects the nodes the loss depends on and runs their closures from the newest
// to the oldest, and every node's gradient is complete (all its consumers are newer) before its
// own closure runs. After a closure has run, it and the tensors it saved are freed unless
// retain_graph is set. See docs/internals/tape.md.
//
// The ops on Variables (add, matmul, softmax, cross_entropy, ...) are declared in functions.h.
// Ops record themselves only when grad mode is on (see NoGradGuard) and an input requires grad.
// Gradients are plain Tensors: there is no differentiation of a backward (no double backward).
#pragma once

#include "tensor/tensor.h"

#include <functional>
#include <memory>
#include <source_location>
#include <span>
#include <string>
#include <vector>

namespace strata {

// What a backward closure receives.
struct BackwardInput {
  const Tensor& grad;               // dL/d(output), with the output's shape
  std::span<const Tensor> saved;    // the tensors the forward saved (checked unchanged)
  const std::vector<bool>& needs;   // needs[i]: input i wants a gradient
};
// Returns one gradient per input, each with that input's shape (undefined when not needed).
using BackwardFn = std::function<std::vector<Tensor>(const BackwardInput&)>;

// One entry of the tape.
struct Node {
  const char* op = "leaf";         // the op's name ("matmul"); "leaf" for leaves
  std::source_location where;      // where the op was called (leaves: where grad was requested)
  uint64_t sequence = 0;           // tape position: creation order
  Shape shape;                     // the value this node produced
  DType dtype = DType::f32;
  // One per Variable input of the op; null for an input that needs no gradient.
  std::vector<std::shared_ptr<Node>> inputs;
  BackwardFn backward;             // empty for leaves, and once freed
  std::vector<Tensor> saved;       // what backward reads; freed with the closure
  std::vector<uint64_t> saved_versions;  // storage versions of `saved` at forward time
  bool freed = false;              // the closure ran and was freed (no retain_graph)
  bool leaf = false;
  // Leaves only.
  Tensor grad;                     // accumulated dL/d(leaf)
  std::string name;                // debug name (parameters: their dotted name)

  bool is_leaf() const { return leaf; }
  // "op (file:line)" for messages.
  std::string describe() const;

  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Releases long chains of inputs iteratively (a recursive release overflows the stack on
  // graphs thousands of ops deep).
  ~Node();
};

class Variable {
 public:
  Variable() = default;
  // Wraps a tensor. With requires_grad, the Variable is a leaf whose .grad() backward fills.
  explicit Variable(Tensor data, bool requires_grad = false);

  bool defined() const { return data_.defined(); }
  // The value. data() is shared with the Variable: writing into it (e.g. an optimizer step under
  // NoGradGuard) changes the Variable.
  const Tensor& data() const { return data_; }
  Tensor& data() { return data_; }

  // Gradient of the last backward w.r.t. this leaf (undefined before any backward, and for
  // non-leaves).
  Tensor grad() const;
  // Replaces the leaf's gradient (shape and dtype must match the value's).
  void set_grad(const Tensor& g);
  // Drops the gradient (like torch's zero_grad(set_to_none=True)).
  void zero_grad();

  bool requires_grad() const { return node_ != nullptr; }
  // Makes this Variable a leaf that requires grad (or not). Only leaves can change.
  Variable& requires_grad_(bool on = true, std::source_location where = std::source_location::current());
  bool is_leaf() const { return !node_ || node_->is_leaf(); }
  // The same value, cut from the graph.
  Variable detach() const { return Variable(data_, false); }

  // Debug name shown in error messages and graph dumps (e.g. "layers.0.attn.q_proj.weight").
  const std::string& name() const;
  Variable& set_name(std::string name);

  // Layout shortcuts.
  const Shape& shape() const { return data_.shape(); }
  int64_t dim() const { return data_.dim(); }
  int64_t size(int64_t d) const { return data_.size(d); }
  int64_t numel() const { return data_.numel(); }
  DType dtype() const { return data_.dtype(); }
  template <class T>
  T item() const { return data_.item<T>(); }

  const std::shared_ptr<Node>& node() const { return node_; }
  // Used by op implementations (functions_*.cpp): the Variable that an op returns.
  static Variable make_result(Tensor data, std::shared_ptr<Node> node) {
    Variable v(std::move(data));
    v.node_ = std::move(node);
    return v;
  }

 private:
  Tensor data_;
  std::shared_ptr<Node> node_;
  std::string name_;  // the name while there is no node to hold it
};

// ---- Recording ----------------------------------------------------------------------------------
// The one way an op enters the tape (used by functions_*.cpp). Checks `output` for NaN/Inf in
// anomaly mode; when grad mode is on and some input requires grad, returns `output` with a new
// node holding `saved` (their versions recorded) and `backward`; otherwise a plain Variable.
Variable record(const char* op, const std::source_location& where, Tensor output,
                const std::vector<Variable>& inputs, std::vector<Tensor> saved, BackwardFn backward);

// ---- Grad mode ------------------------------------------------------------------------------------
// Per thread; on by default.
bool grad_mode_enabled();
// While alive, ops record nothing (inference, optimizer steps).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool saved_;
};

// ---- Backward -------------------------------------------------------------------------------------
struct BackwardOptions {
  bool retain_graph = false;
};
// Computes d(loss)/d(leaf) for every leaf the scalar `loss` depends on and accumulates it into
// the leaves' .grad(). `grad_output` (default: ones, for a one-element loss) seeds the loss.
void backward(const Variable& loss, const Tensor& grad_output = Tensor(), BackwardOptions options = {});

// Gradients of `output` w.r.t. `inputs` only, returned instead of accumulated (torch.autograd.grad).
// An input the output does not depend on gets zeros.
std::vector<Tensor> grad(const Variable& output, const std::vector<Variable>& inputs,
                         const Tensor& grad_output = Tensor(), BackwardOptions options = {});

// ---- Debug aids -----------------------------------------------------------------------------------
// Anomaly mode (process-wide): every op checks its forward output, and backward checks each
// gradient it produces, for NaN/Inf; the first one throws an Error naming the op and the source
// location where it was called.
void set_detect_anomaly(bool on);
bool detect_anomaly_enabled();
class DetectAnomalyGuard {
 public:
  DetectAnomalyGuard() : saved_(detect_anomaly_enabled()) { set_detect_anomaly(true); }
  ~DetectAnomalyGuard() { set_detect_anomaly(saved_); }
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool saved_;
};

// Graphviz text of the graph behind `output` (one box per op, one ellipse per leaf, shapes on edges).
// Render with `dot -Tsvg graph.dot -o graph.svg`.
std::string to_dot(const Variable& output);

}  // namespace strata
