// functions_einsum.cpp: einsum and einops rearrange / repeat / reduce on Variables.
//
// einsum. With every "..." spelled out as letters, an equation is a list of operand terms T_i and
// an output term O: y[O] = sum over the labels not in O of prod_i x_i[T_i]. y is linear in each
// operand, so its gradient w.r.t. x_i is the same sum with x_i replaced by g:
//   dx_i[U_i] = einsum(O, T_j (j != i) -> U_i)(g, x_j (j != i))
// where U_i are x_i's distinct labels. Two cases need care:
//   - a label only x_i has (summed in the forward, e.g. "ij->i"): nothing else carries it, so the
//     gradient is constant along it: computed without it, then expanded;
//   - a label repeated in T_i (a diagonal, e.g. "ii->i"): only the diagonal elements were read, so
//     the gradient is zeros with the computed values written onto that diagonal (a strided view).
// Labels that broadcast (size 1 in x_i, larger elsewhere) are summed back to size 1.
//
// einops. rearrange only moves elements, so its inverse is the same pattern read right to left;
// repeat copies elements, so its backward sums the copies (reduce with the sides swapped); reduce
// "sum" spreads each gradient over the elements summed (repeat with the sides swapped).
#include "autograd/function_helpers.h"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace strata {

using detail::Grads;

namespace {

// ---- einsum ---------------------------------------------------------------------------------------

struct EinsumTerms {
  std::vector<std::string> inputs;  // one label per dimension of each operand
  std::string output;
};

// Spells out "..." with fresh letters and makes an implicit output explicit (torch's rules:
// broadcast dims first, then the labels used exactly once, in alphabetical order).
EinsumTerms expand_equation(const std::string& equation, const std::vector<Tensor>& operands) {
  std::string eq;
  for (char c : equation)
    if (!std::isspace(static_cast<unsigned char>(c))) eq += c;
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  check(terms.size() == operands.size(), "einsum '{}': {} operand terms for {} operands", equation, terms.size(),
        operands.size());

  // Letters for the ellipsis dims: unused ones.
  int64_t ellipsis_dims = 0;
  for (size_t i = 0; i < terms.size(); ++i)
    if (terms[i].find("...") != std::string::npos)
      ellipsis_dims = std::max<int64_t>(ellipsis_dims, operands[i].dim() - int64_t(terms[i].size() - 3));
  std::string fresh;
  for (char c : std::string_view("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
    if (int64_t(fresh.size()) < ellipsis_dims && eq.find(c) == std::string::npos) fresh += c;
  auto spell = [&](const std::string& term, int64_t dims) {
    const size_t dots = term.find("...");
    if (dots == std::string::npos) return term;
    return term.substr(0, dots) + fresh.substr(fresh.size() - dims) + term.substr(dots + 3);
  };

  EinsumTerms out;
  for (size_t i = 0; i < terms.size(); ++i) {
    const bool dots = terms[i].find("...") != std::string::npos;
    out.inputs.push_back(spell(terms[i], dots ? operands[i].dim() - int64_t(terms[i].size() - 3) : 0));
    check(int64_t(out.inputs[i].size()) == operands[i].dim(),
          "einsum '{}': term '{}' has {} labels for operand {} of shape {}", equation, terms[i], out.inputs[i].size(),
          i, operands[i].shape());
  }
  if (arrow != std::string::npos) {
    out.output = spell(eq.substr(arrow + 2), ellipsis_dims);
  } else {
    std::string once;
    for (char c = 'A'; c <= 'z'; ++c) {
      if (!std::isalpha(static_cast<unsigned char>(c)) || fresh.find(c) != std::string::npos) continue;
      int64_t uses = 0;
      for (const std::string& t : out.inputs) uses += std::count(t.begin(), t.end(), c);
      if (uses == 1) once += c;
    }
    out.output = fresh + once;
  }
  return out;
}

// The size of label c in a term of a tensor's dims.
int64_t label_size(const std::string& term, const Tensor& t, char c) { return t.size(int64_t(term.find(c))); }

// dL/dx_i for y = einsum(terms), given g = dL/dy.
Tensor einsum_operand_grad(const EinsumTerms& terms, const std::vector<Tensor>& operands, size_t i, const Tensor& g) {
  const std::string& ti = terms.inputs[i];
  const Tensor& x = operands[i];
  std::string unique;  // U_i, in order of first appearance
  for (char c : ti)
    if (unique.find(c) == std::string::npos) unique += c;
  std::string others = terms.output;
  std::vector<Tensor> args{g};
  std::string eq = terms.output;
  for (size_t j = 0; j < operands.size(); ++j) {
    if (j == i) continue;
    eq += "," + terms.inputs[j];
    others += terms.inputs[j];
    args.push_back(operands[j]);
  }
  std::string kept;  // labels of U_i that g or another operand carries
  for (char c : unique)
    if (others.find(c) != std::string::npos) kept += c;
  Tensor grad = einsum(eq + "->" + kept, args);  // (kept...)

  // Back to U_i: sum labels that broadcast in x_i, insert and expand labels only x_i has.
  Shape unique_shape;
  for (int64_t p = 0; p < int64_t(unique.size()); ++p) {
    const char c = unique[p];
    const int64_t size = label_size(ti, x, c);
    unique_shape.push_back(size);
    if (kept.find(c) == std::string::npos)
      grad = grad.unsqueeze(p);
    else if (size == 1 && grad.size(p) != 1)
      grad = sum(grad, {p}, /*keepdim=*/true);
  }
  grad = grad.expand(unique_shape);
  if (unique.size() == ti.size()) return grad;

  // Repeated labels: write onto the diagonal view of zeros (each unique label's stride is the sum
  // of the strides of the dims it labels).
  Tensor dx = zeros(x.shape(), x.dtype());
  Strides strides = Dims::filled(unique.size(), 0);
  for (size_t d = 0; d < ti.size(); ++d) strides[unique.find(ti[d])] += dx.stride(int64_t(d));
  Tensor(dx.storage(), dx.offset(), unique_shape, strides, dx.dtype()).copy_(grad);
  return dx;
}

// ---- einops -------------------------------------------------------------------------------------

// One side of an einops pattern: groups of axes, each group one dimension ("..." is its own group
// and may span several). Axes are names, or numbers (anonymous axes of that size).
struct EinopsSide {
  std::vector<std::vector<std::string>> groups;
  std::vector<bool> parenthesized;
};

EinopsSide parse_einops_side(std::string_view text, const std::string& pattern) {
  EinopsSide side;
  bool open = false;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '(') {
      check(!open, "rearrange '{}': nested parentheses", pattern);
      open = true;
      side.groups.emplace_back();
      side.parenthesized.push_back(true);
      ++i;
    } else if (c == ')') {
      check(open, "rearrange '{}': unbalanced ')'", pattern);
      open = false;
      ++i;
    } else {
      size_t j = i;
      if (text.substr(i, 3) == "...") {
        j = i + 3;
      } else {
        while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_')) ++j;
        check(j > i, "rearrange '{}': unexpected character '{}'", pattern, c);
      }
      std::string axis(text.substr(i, j - i));
      if (open) {
        side.groups.back().push_back(axis);
      } else {
        side.groups.push_back({axis});
        side.parenthesized.push_back(false);
      }
      i = j;
    }
  }
  check(!open, "rearrange '{}': unbalanced '('", pattern);
  return side;
}

// The inverse of an einops pattern, with the axis sizes it needs: "lhs -> rhs" becomes
// "rhs -> lhs"; the sizes of every named axis are taken from x's shape and `sizes`; anonymous
// axes other than 1 become named ones (each occurrence is its own axis in einops).
struct InversePattern {
  std::string pattern;
  AxisSizes sizes;
};

InversePattern invert_einops(const std::string& pattern, const Shape& x_shape, const AxisSizes& sizes) {
  const size_t arrow = pattern.find("->");
  check(arrow != std::string::npos, "rearrange '{}': the pattern has no '->'", pattern);
  EinopsSide lhs = parse_einops_side(std::string_view(pattern).substr(0, arrow), pattern);
  EinopsSide rhs = parse_einops_side(std::string_view(pattern).substr(arrow + 2), pattern);
  InversePattern inv{"", sizes};

  // Sizes of lhs axes from x's shape: per group, the one axis of unknown size is the quotient.
  int64_t groups = 0;
  bool has_ellipsis = false;
  for (const auto& g : lhs.groups) (g.size() == 1 && g[0] == "...") ? void(has_ellipsis = true) : void(++groups);
  const int64_t ellipsis_dims = x_shape.size() - groups;
  check(has_ellipsis ? ellipsis_dims >= 0 : ellipsis_dims == 0,
        "rearrange '{}': the left side has {} axes but the input has shape {}", pattern, groups, x_shape);
  int64_t dim = 0;
  for (const auto& g : lhs.groups) {
    if (g.size() == 1 && g[0] == "...") {
      dim += ellipsis_dims;
      continue;
    }
    int64_t known = 1;
    std::string unknown;
    for (const std::string& axis : g) {
      if (std::isdigit(static_cast<unsigned char>(axis[0])))
        known *= std::stoll(axis);
      else if (auto it = inv.sizes.find(axis); it != inv.sizes.end())
        known *= it->second;
      else
        unknown = axis;
    }
    if (!unknown.empty()) inv.sizes[unknown] = known ? x_shape[dim] / known : 0;
    ++dim;
  }

  int anonymous = 0;
  auto serialize = [&](const EinopsSide& side) {
    std::string text;
    for (size_t k = 0; k < side.groups.size(); ++k) {
      if (!text.empty()) text += ' ';
      if (side.parenthesized[k]) text += '(';
      for (size_t a = 0; a < side.groups[k].size(); ++a) {
        std::string axis = side.groups[k][a];
        if (std::isdigit(static_cast<unsigned char>(axis[0])) && axis != "1") {
          std::string name = fmt::format("anonymous{}", anonymous++);
          inv.sizes[name] = std::stoll(axis);
          axis = name;
        }
        text += (a ? " " : "") + axis;
      }
      if (side.parenthesized[k]) text += ')';
    }
    return text;
  };
  inv.pattern = serialize(rhs) + " -> " + serialize(lhs);
  // Keep only the sizes of axes the inverse pattern names.
  for (auto it = inv.sizes.begin(); it != inv.sizes.end();) {
    bool used = false;
    for (const EinopsSide* side : {&lhs, &rhs})
      for (const auto& g : side->groups) used |= std::find(g.begin(), g.end(), it->first) != g.end();
    used |= it->first.starts_with("anonymous");
    it = used ? std::next(it) : inv.sizes.erase(it);
  }
  return inv;
}

}  // namespace

Variable einsum(const std::string& equation, const std::vector<Variable>& operands, Location loc) {
  std::vector<Tensor> data;
  for (const Variable& v : operands) data.push_back(v.data());
  Tensor y = einsum(equation, data);
  return record("einsum", loc, y, operands, data, [equation](const BackwardInput& in) -> Grads {
    std::vector<Tensor> xs(in.saved.begin(), in.saved.end());
    EinsumTerms terms = expand_equation(equation, xs);
    Grads grads(xs.size());
    for (size_t i = 0; i < xs.size(); ++i)
      if (in.needs[i]) grads[i] = detail::sum_to(einsum_operand_grad(terms, xs, i, in.grad), xs[i].shape());
    return grads;
  });
}

// A permutation of elements: dx = g moved back by the inverse pattern
Variable rearrange(const Variable& x, const std::string& pattern, const AxisSizes& sizes, Location loc) {
  Tensor y = rearrange(x.data(), pattern, sizes);  // first: the tensor layer reports a bad pattern
  InversePattern inv = invert_einops(pattern, x.shape(), sizes);
  return record("rearrange", loc, y, {x}, {},
                [inv](const BackwardInput& in) -> Grads { return {rearrange(in.grad, inv.pattern, inv.sizes)}; });
}

// Each x element is copied to several outputs: dx = the sum of the copies' gradients
Variable repeat(const Variable& x, const std::string& pattern, const AxisSizes& sizes, Location loc) {
  Tensor y = repeat(x.data(), pattern, sizes);
  InversePattern inv = invert_einops(pattern, x.shape(), sizes);
  return record("repeat", loc, y, {x}, {},
                [inv](const BackwardInput& in) -> Grads { return {reduce(in.grad, inv.pattern, "sum", inv.sizes)}; });
}

// sum: dx = g copied to every summed element; mean: the same over the count n; max/min: g shared
// evenly by the elements equal to the extremum (like amax).
Variable reduce(const Variable& x, const std::string& pattern, const std::string& reduction, const AxisSizes& sizes,
                Location loc) {
  check(reduction == "sum" || reduction == "mean" || reduction == "max" || reduction == "min",
        "reduce '{}': unknown reduction '{}' (expected sum, mean, max or min)", pattern, reduction);
  Tensor y = reduce(x.data(), pattern, reduction, sizes);
  InversePattern inv = invert_einops(pattern, x.shape(), sizes);
  const double n = double(x.numel()) / double(std::max<int64_t>(y.numel(), 1));
  return record("reduce", loc, y, {x}, {x.data(), y},
                [inv, reduction, n, pattern, sizes](const BackwardInput& in) -> Grads {
                  Tensor spread = repeat(in.grad, inv.pattern, inv.sizes);  // x's shape
                  if (reduction == "sum") return {spread};
                  if (reduction == "mean") return {spread * (1.0 / n)};
                  const Tensor& x = in.saved[0];
                  Tensor is_extreme = eq(x, repeat(in.saved[1], inv.pattern, inv.sizes)).to(x.dtype());
                  Tensor count = repeat(reduce(is_extreme, pattern, "sum", sizes), inv.pattern, inv.sizes);
                  return {spread * is_extreme / count};
                });
}

}  // namespace strata
