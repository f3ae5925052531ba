// module.cpp: the registry of Module and everything built on it (names, state dicts, files, modes).
#include "nn/module.h"

#include "tensor/io.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

namespace strata {

void Module::check_new_name(const std::string& name, const char* what) const {
  check(!name.empty() && name.find('.') == std::string::npos,
        "{}::register_{}: invalid name '{}'; hint: a name is one non-empty path component without '.'",
        type_name(), what, name);
  bool taken = false;
  for (const auto& [n, p] : parameters_) taken |= n == name;
  for (const auto& b : buffers_) taken |= b.name == name;
  for (const auto& [n, m] : children_) taken |= n == name;
  check(!taken, "{}::register_{}: the name '{}' is already registered in this module", type_name(), what, name);
}

Variable Module::register_parameter(const std::string& name, const Tensor& value) {
  check_new_name(name, "parameter");
  check(value.defined() && is_floating(value.dtype()),
        "{}::register_parameter('{}'): a parameter needs a defined float32/float64 tensor", type_name(), name);
  Variable param(value, /*requires_grad=*/true);
  parameters_.emplace_back(name, param);
  return param;
}

Tensor Module::register_buffer(const std::string& name, const Tensor& value, bool persistent) {
  check_new_name(name, "buffer");
  check(value.defined(), "{}::register_buffer('{}'): the tensor is undefined", type_name(), name);
  buffers_.push_back({name, value, persistent});
  return value;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name, "module");
  check(module != nullptr, "{}::register_module('{}'): the module is null", type_name(), name);
  children_.emplace_back(name, std::move(module));
}

void Module::visit(const std::function<void(const std::string&, const Module&)>& f) const {
  std::set<const Module*> seen;
  std::function<void(const std::string&, const Module&)> walk = [&](const std::string& prefix, const Module& m) {
    if (!seen.insert(&m).second) return;
    f(prefix, m);
    for (const auto& [name, child] : m.children_) walk(prefix + name + ".", *child);
  };
  walk("", *this);
}

std::vector<std::pair<std::string, Variable>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Variable>> out;
  visit([&](const std::string& prefix, const Module& m) {
    for (const auto& [name, p] : m.parameters_) out.emplace_back(prefix + name, p);
  });
  return out;
}

std::vector<Variable> Module::parameters() const {
  std::vector<Variable> out;
  for (auto& [name, p] : named_parameters()) out.push_back(p);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor>> out;
  visit([&](const std::string& prefix, const Module& m) {
    for (const auto& b : m.buffers_) out.emplace_back(prefix + b.name, b.value);
  });
  return out;
}

std::vector<std::pair<std::string, const Module*>> Module::named_modules() const {
  std::vector<std::pair<std::string, const Module*>> out;
  visit([&](const std::string& prefix, const Module& m) {
    // prefix is "a.b." for module a.b; the root's is "".
    out.emplace_back(prefix.empty() ? prefix : prefix.substr(0, prefix.size() - 1), &m);
  });
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const auto& [name, p] : named_parameters()) n += p.numel();
  return n;
}

StateDict Module::state_dict() const {
  StateDict out;
  visit([&](const std::string& prefix, const Module& m) {
    for (const auto& [name, p] : m.parameters_) out.emplace(prefix + name, p.data());
    for (const auto& b : m.buffers_)
      if (b.persistent) out.emplace(prefix + b.name, b.value);
  });
  return out;
}

namespace {
// "3 missing keys" / "1 missing key".
std::string count_of(size_t n, const char* what) { return fmt::format("{} {}{}", n, what, n == 1 ? "" : "s"); }
}  // namespace

void Module::load_state_dict(const StateDict& state, bool strict) {
  StateDict own = state_dict();
  std::vector<std::string> missing, unexpected, mismatched;
  for (const auto& [name, target] : own) {
    auto it = state.find(name);
    if (it == state.end()) {
      missing.push_back(name);
      continue;
    }
    const Tensor& source = it->second;
    if (!source.defined())
      mismatched.push_back(fmt::format("{} is undefined in the state dict", name));
    else if (source.shape() != target.shape())
      mismatched.push_back(
          fmt::format("{} has shape {} in the state dict but {} in the model", name, source.shape(), target.shape()));
    else if (source.dtype() != target.dtype() && !(is_floating(source.dtype()) && is_floating(target.dtype())))
      mismatched.push_back(
          fmt::format("{} has dtype {} in the state dict but {} in the model", name, source.dtype(), target.dtype()));
  }
  for (const auto& [name, source] : state)
    if (!own.contains(name)) unexpected.push_back(name);

  const bool key_errors = strict && (!missing.empty() || !unexpected.empty());
  if (key_errors || !mismatched.empty()) {
    std::string message = fmt::format("load_state_dict: the state dict does not fit {}:", type_name());
    if (strict && !missing.empty())
      message += fmt::format("\n  {}: {}", count_of(missing.size(), "missing key"), fmt::join(missing, ", "));
    if (strict && !unexpected.empty())
      message += fmt::format("\n  {}: {}", count_of(unexpected.size(), "unexpected key"), fmt::join(unexpected, ", "));
    for (const auto& m : mismatched) message += "\n  mismatch: " + m;
    message += "\nhint: keys are the dotted names of named_parameters() (plus persistent buffers); check that "
               "the model was built with the same config as the weights";
    if (strict && mismatched.empty()) message += "; strict=false ignores missing and unexpected keys";
    throw Error(message);
  }
  for (auto& [name, target] : own) {
    auto it = state.find(name);
    if (it == state.end()) continue;
    Tensor destination = target;  // shares storage with the module's parameter or buffer
    destination.copy_(it->second.to(target.dtype()));
  }
}

void Module::save(const std::string& path) const { save_safetensors(path, state_dict(), {{"format", "pt"}}); }

void Module::load(const std::string& path, bool strict) {
  SafetensorsFile file = load_safetensors(path);
  try {
    load_state_dict(file.tensors, strict);
  } catch (const Error& e) {
    throw Error(fmt::format("{} (file {})", e.what(), path));
  }
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (auto& [name, p] : named_parameters()) p.zero_grad();
}

void Module::name_parameters() const {
  for (auto& [name, p] : named_parameters()) p.set_name(name);
}

}  // namespace strata
