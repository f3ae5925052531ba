// optimizer.cpp: the parts every optimizer shares: parameter checks, the step loop that skips
// parameters without a gradient, zero_grad, and the state_dict round trip.
#include "optim/optimizer.h"

#include <cmath>
#include <set>

namespace strata {

namespace {

std::string state_key(size_t i, const std::string& name) { return fmt::format("state.{}.{}", i, name); }

std::vector<Variable> variables_of(const NamedVariables& params) {
  std::vector<Variable> out;
  for (const auto& [name, var] : params) out.push_back(var);
  return out;
}
std::vector<std::string> names_of(const NamedVariables& params) {
  std::vector<std::string> out;
  for (const auto& [name, var] : params) out.push_back(name);
  return out;
}

}  // namespace

void check_non_negative(const std::string& kind, const char* what, double value) {
  check(std::isfinite(value) && value >= 0, "{}: invalid {} {} (must be finite and >= 0)", kind, what, value);
}

Optimizer::Optimizer(std::string kind, std::vector<Variable> params, double lr)
    : Optimizer(std::move(kind), std::move(params), {}, lr) {}

Optimizer::Optimizer(std::string kind, const NamedVariables& params, double lr)
    : Optimizer(std::move(kind), variables_of(params), names_of(params), lr) {}

Optimizer::Optimizer(std::string kind, std::vector<Variable> params, std::vector<std::string> names, double lr)
    : kind_(std::move(kind)), params_(std::move(params)), names_(std::move(names)), states_(params_.size()) {
  names_.resize(params_.size());
  check(!params_.empty(), "{}: got an empty parameter list; hint: pass model.parameters()", kind_);
  set_lr(lr);
  std::set<const void*> seen;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Variable& p = params_[i];
    check(p.defined(), "{}: {} is undefined", kind_, describe_param(i));
    check(p.requires_grad() && p.is_leaf(),
          "{}: {} is not a leaf that requires grad; hint: optimize the parameters themselves "
          "(Variable(tensor, /*requires_grad=*/true)), not results computed from them",
          kind_, describe_param(i));
    check(p.data().is_contiguous(),
          "{}: {} of shape {} is not contiguous; hint: make the tensor .contiguous() before wrapping it "
          "in a Variable", kind_, describe_param(i), p.shape());
    check(seen.insert(p.data().data_ptr()).second,
          "{}: {} appears twice in the parameter list; each parameter must be listed once", kind_,
          describe_param(i));
  }
}

std::string Optimizer::describe_param(size_t i) const {
  const std::string& name = names_[i].empty() ? params_[i].name() : names_[i];
  return name.empty() ? fmt::format("parameter {}", i) : fmt::format("parameter {} ({})", i, name);
}

void Optimizer::set_lr(double lr) {
  check_non_negative(kind_, "learning rate", lr);
  lr_ = lr;
}

void Optimizer::step() {
  NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor grad = params_[i].grad();
    if (!grad.defined()) continue;
    Tensor& param = params_[i].data();
    check(grad.shape() == param.shape() && grad.dtype() == param.dtype(),
          "{}.step: {} is {}{} but its gradient is {}{}", kind_, describe_param(i), param.dtype(), param.shape(),
          grad.dtype(), grad.shape());
    ParamState& state = states_[i];
    ++state.step;
    update(param, grad.contiguous(), state);
    param.bump_version();
  }
}

void Optimizer::zero_grad() {
  for (Variable& p : params_) p.zero_grad();
}

std::map<std::string, Tensor> Optimizer::state_dict() const {
  std::map<std::string, Tensor> out;
  out["lr"] = scalar_tensor(lr_, DType::f64);
  for (size_t i = 0; i < params_.size(); ++i) {
    const ParamState& state = states_[i];
    if (state.step == 0) continue;
    out[state_key(i, "step")] = scalar_tensor(double(state.step), DType::i64);
    for (const auto& [name, buffer] : state.buffers) out[state_key(i, name)] = buffer.clone();
  }
  return out;
}

void Optimizer::load_state_dict(const std::map<std::string, Tensor>& dict) {
  // Check everything first and collect every problem; only then change the state.
  std::vector<std::string> problems;
  std::set<std::string> used;
  auto lookup = [&](const std::string& key) -> const Tensor* {
    auto it = dict.find(key);
    if (it == dict.end()) return nullptr;
    used.insert(key);
    return &it->second;
  };

  double lr = lr_;
  if (const Tensor* t = lookup("lr")) {
    // The loaded rate passes the same check as set_lr().
    if (t->numel() != 1 || !is_floating(t->dtype()))
      problems.push_back(fmt::format("\"lr\" must be a one-element float tensor, got {}{}", t->dtype(), t->shape()));
    else if (const double value = t->item<double>(); !(std::isfinite(value) && value >= 0))
      problems.push_back(fmt::format("\"lr\" is {} (must be finite and >= 0)", value));
    else
      lr = value;
  } else {
    problems.push_back("missing key \"lr\"");
  }

  std::vector<ParamState> states(params_.size());
  const std::vector<std::string> buffers = buffer_names();
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& param = params_[i].data();
    const Tensor* step = lookup(state_key(i, "step"));
    if (step == nullptr) continue;  // the parameter has not taken a step yet: fresh state
    if (step->numel() == 1 && step->dtype() == DType::i64 && step->item<int64_t>() >= 1) {
      states[i].step = step->item<int64_t>();
    } else {
      problems.push_back(fmt::format("\"{}\" must be a one-element int64 tensor >= 1, got {}{}",
                                     state_key(i, "step"), step->dtype(), step->shape()));
    }
    for (const std::string& name : buffers) {
      const std::string key = state_key(i, name);
      const Tensor* buffer = lookup(key);
      if (buffer == nullptr) {
        problems.push_back(fmt::format("missing key \"{}\"", key));
      } else if (buffer->shape() != param.shape() || buffer->dtype() != param.dtype()) {
        problems.push_back(fmt::format("\"{}\" is {}{} but {} is {}{}", key, buffer->dtype(), buffer->shape(),
                                       describe_param(i), param.dtype(), param.shape()));
      } else {
        states[i].buffers[name] = buffer->clone();
      }
    }
  }
  for (const auto& [key, value] : dict)
    if (!used.count(key)) problems.push_back(fmt::format("unexpected key \"{}\"", key));

  if (!problems.empty()) {
    fail("{}.load_state_dict: {} problem(s): {}; hint: build the optimizer with the same parameters "
         "(same order, shapes and dtypes) as the one that saved the state",
         kind_, problems.size(), fmt::join(problems, "; "));
  }
  lr_ = lr;
  states_ = std::move(states);
}

}  // namespace strata
