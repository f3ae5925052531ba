// module.h: Module, the base of every layer, with a named registry of parameters, buffers and
// sub-modules, in the vocabulary of torch.nn.Module.
//
// A module registers what it owns under short names; the full name of a parameter is the dotted
// path from the root module, exactly as PyTorch writes it:
//
//   TransformerLM
//   ├── token_embeddings (Embedding)        token_embeddings.weight
//   ├── layers (ModuleList)
//   │   └── 0 (TransformerBlock)
//   │       └── attn ... q_proj (Linear)    layers.0.attn.q_proj.weight
//   └── lm_head (Linear)                    lm_head.weight
//
// named_parameters() lists parameters in registration order (depth first, a module's own entries
// before its children's), so files written here load in PyTorch and the other way round.
//
// Ownership: a parameter is a Variable (value + gradient slot), and copies of a Variable share both.
// The registry keeps one copy and the module's member (e.g. `Linear::weight`) another, so nothing
// may *replace* a member; everything that changes parameters writes into them in place
// (load_state_dict, optimizer steps). Buffers are plain Tensors (no gradient), shared the same way.
// A persistent buffer is part of the state dict; a non-persistent one (RoPE's cos/sin tables) is not.
#pragma once

#include "autograd/variable.h"
#include "tensor/tensor.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace strata {

// Dotted name -> tensor: what state_dict() returns, load_state_dict() takes and safetensors files hold.
using StateDict = std::map<std::string, Tensor>;

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  // A module is referred to (shared_ptr, reference), never copied: its members alias its registry.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The class name shown in error messages ("Linear", "TransformerLM").
  virtual std::string type_name() const { return "Module"; }

  // ---- Registration (from a module's constructor) ----------------------------------------------
  // A leaf Variable that requires grad, holding `value`; the returned copy shares value and grad.
  Variable register_parameter(const std::string& name, const Tensor& value);
  // A tensor that is part of the module's state but not trained. Non-persistent buffers are left
  // out of state_dict() (they are recomputed by the constructor, like RoPE's tables).
  Tensor register_buffer(const std::string& name, const Tensor& value, bool persistent = true);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

  // ---- Inspection ---------------------------------------------------------------------------------
  // Every parameter of this module and its descendants with its dotted name, in registration order.
  // A module reachable along two paths (a shared RoPE) is visited once, under its first path.
  std::vector<std::pair<std::string, Variable>> named_parameters() const;
  std::vector<Variable> parameters() const;
  // Every buffer (persistent or not), dotted names.
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;
  // This module ("") and every descendant, pre-order, dotted names.
  std::vector<std::pair<std::string, const Module*>> named_modules() const;
  // Direct children in registration order.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const { return children_; }
  // Total number of parameter elements.
  int64_t num_parameters() const;

  // ---- State ----------------------------------------------------------------------------------------
  // Parameters and persistent buffers by dotted name. The tensors share storage with the module.
  StateDict state_dict() const;
  // Copies each tensor of `state` into the parameter or buffer of the same name (converting between
  // float32 and float64). Every problem is collected first and reported in one Error: keys missing
  // from `state`, unexpected keys, wrong shapes and non-floating dtypes. With strict=false missing
  // and unexpected keys are allowed (wrong shapes never are). On error nothing is changed.
  void load_state_dict(const StateDict& state, bool strict = true);
  // The state dict as a safetensors file with PyTorch's dotted names (loadable by
  // safetensors.torch.load_file + load_state_dict), and back.
  void save(const std::string& path) const;
  void load(const std::string& path, bool strict = true);

  // ---- Modes and gradients ------------------------------------------------------------------------
  // Training mode (the default) or evaluation mode, for this module and every descendant.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Drops the gradient of every parameter (torch's zero_grad(set_to_none=True)).
  void zero_grad();
  // Gives every parameter Variable its dotted name (shown in autograd errors and graph dumps).
  void name_parameters() const;

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void check_new_name(const std::string& name, const char* what) const;
  // Calls f(prefix, module) for this module and its descendants, pre-order, each module once.
  void visit(const std::function<void(const std::string& prefix, const Module& m)>& f) const;

  struct Buffer {
    std::string name;
    Tensor value;
    bool persistent;
  };
  std::vector<std::pair<std::string, Variable>> parameters_;
  std::vector<Buffer> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// A list of sub-modules named "0", "1", ... (torch.nn.ModuleList), e.g. TransformerLM's `layers`.
template <class M>
class ModuleList : public Module {
 public:
  std::string type_name() const override { return "ModuleList"; }
  void push_back(std::shared_ptr<M> module) {
    register_module(std::to_string(items_.size()), module);
    items_.push_back(std::move(module));
  }
  size_t size() const { return items_.size(); }
  M& operator[](size_t i) const { return *items_.at(i); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<std::shared_ptr<M>> items_;
};

}  // namespace strata
