// optimizer.h: the Optimizer base class that SGD and AdamW (and your own optimizers) derive from.
//
// An optimizer holds a list of parameters (leaf Variables that require grad) and one learning
// rate. Each call of step() walks the parameters in order and, for every parameter that has a
// gradient, counts one more step for it and calls the subclass's update(param, grad, state) under
// a NoGradGuard; parameters without a gradient are skipped, as in torch.optim. A derived class
// only writes update() (the math of one step for one tensor) and names the buffers it keeps.
//
// Per-parameter state is a step count and named buffers (AdamW's "exp_avg" and "exp_avg_sq", SGD's
// "momentum_buffer"), created lazily by update() on a parameter's first step. state_dict() flattens
// all of it into named tensors, so a checkpoint holds only tensors (a safetensors file):
//
//   "lr"                    0-d float64, the current learning rate
//   "state.<i>.step"        0-d int64, steps taken by parameter i (absent if it never had a gradient)
//   "state.<i>.<buffer>"    the buffer, with parameter i's shape and dtype
//
// <i> is the parameter's position in the list the optimizer was built with, as in torch. The other
// options (betas, eps, weight decay, momentum) are not saved: rebuild the optimizer with the same
// options, then load_state_dict(), and training continues bitwise as if never interrupted.
#pragma once

#include "autograd/variable.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace strata {

// Parameters with their dotted names (what a Module's named_parameters() lists). The names only
// make error messages clearer; the state is keyed by position.
using NamedVariables = std::vector<std::pair<std::string, Variable>>;

// What an optimizer remembers about one parameter between steps.
struct ParamState {
  int64_t step = 0;                       // updates applied so far (counts the current one in update())
  std::map<std::string, Tensor> buffers;  // each with the parameter's shape and dtype, contiguous
};

class Optimizer {
 public:
  // `kind` names the optimizer in error messages ("AdamW"). The parameters must be distinct,
  // contiguous leaf Variables that require grad (so float32 or float64); the list must not be empty.
  Optimizer(std::string kind, std::vector<Variable> params, double lr);
  Optimizer(std::string kind, const NamedVariables& params, double lr);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient.
  void step();
  // Drops every parameter's gradient (torch's zero_grad(set_to_none=True)).
  void zero_grad();

  double lr() const { return lr_; }
  void set_lr(double lr);

  const std::vector<Variable>& params() const { return params_; }
  const ParamState& state(size_t i) const { return states_.at(i); }

  // The state as named tensors (copies; see the file comment for the keys).
  std::map<std::string, Tensor> state_dict() const;
  // Restores a state_dict() of an optimizer of the same kind over parameters of the same shapes
  // and dtypes. Every missing, unexpected, mis-shaped or mis-typed key (and an "lr" that set_lr
  // would refuse) is reported in one Error, and on error nothing is changed. Tensors are copied
  // (converted to contiguous).
  void load_state_dict(const std::map<std::string, Tensor>& state_dict);

 protected:
  // One step for one parameter: `param` (contiguous) is updated in place from `grad` (contiguous,
  // same shape and dtype). `state.step` already counts this step (1 on the first one).
  virtual void update(Tensor& param, const Tensor& grad, ParamState& state) = 0;
  // The buffers update() keeps for a parameter once it has taken a step (checked on load).
  virtual std::vector<std::string> buffer_names() const = 0;

  const std::string& kind() const { return kind_; }
  // "parameter 3 (layers.0.attn.q_proj.weight)", for messages.
  std::string describe_param(size_t i) const;

 private:
  Optimizer(std::string kind, std::vector<Variable> params, std::vector<std::string> names, double lr);

  std::string kind_;
  std::vector<Variable> params_;
  std::vector<std::string> names_;  // empty strings when built without names
  std::vector<ParamState> states_;
  double lr_;
};

// Checks that `value` is finite and >= 0; throws "<kind>: invalid <what> <value> ..." otherwise.
void check_non_negative(const std::string& kind, const char* what, double value);

}  // namespace strata
