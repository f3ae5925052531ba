// einsum.cpp: einsum and einops-style rearrange / repeat / reduce, as parse -> plan -> execute.
//
// einsum. An equation gives every dimension of every operand a label; the result is
//   out[output labels] = sum over all other labels of  prod_k operand_k[labels of k].
// Labels repeated inside one operand read its diagonal ("ii->i"); labels missing from the output
// are summed ("ij,jk->ik" is a matrix product, "ii" a trace). Without "->" the output is the
// ellipsis dimensions followed by the labels that occur exactly once, in alphabetical (ASCII)
// order, like torch.einsum. A label's sizes must agree between operands, or be 1 to broadcast.
// Operands are contracted left to right; each pairwise product permutes and reshapes both sides
// into (batch..., M, K) and (batch..., K, N) and runs ONE batched matmul (see EinsumProduct in
// einsum_plan.h).
//
// rearrange / repeat / reduce. "b t (h d) -> b h t d" splits dim 2 into (h, d) (a reshape),
// moves the axes (a permute) and merges groups (a reshape). Only the final reshape may copy, and
// only when the strides cannot express the merged groups, so rearrange is a view whenever it can
// be. repeat adds axes only on the right as stride-0 (expanded) dims; reduce sums / averages /
// takes the max or min over the left axes missing on the right.
#include "tensor/einsum.h"

#include "tensor/einsum_plan.h"
#include "tensor/linalg.h"
#include "tensor/ops.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace strata {
namespace {

// ---- Shared: removing dimensions ---------------------------------------------------------------

using Reducer = Tensor (*)(const Tensor&, const Dims&, bool);

// x reduced by `reducer` over `dims` (ascending), which disappear. A size-1 dim is squeezed
// instead (reducing one element gives that element), which needs no copy.
Tensor reduce_out(const Tensor& x, const Dims& dims, Reducer reducer) {
  Dims wide;
  for (int64_t d : dims)
    if (x.size(d) != 1) wide.push_back(d);
  Tensor y = wide.empty() ? x : reducer(x, wide, /*keepdim=*/true);
  for (int64_t i = dims.size() - 1; i >= 0; --i) y = y.squeeze(dims[i]);
  return y;
}

bool contains(std::string_view s, char c) { return s.find(c) != std::string_view::npos; }

// ---- einsum: parsing -----------------------------------------------------------------------------

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// How a label reads in an error message: "label j", or "dimension 0 of ..." for an ellipsis dim.
std::string label_name(char label) {
  return is_letter(label) ? fmt::format("label {}", label) : fmt::format("dimension {} of ...", label - '0');
}

// One subscript as written: its letters, and where "..." sits among them (-1: nowhere).
struct Subscript {
  std::string letters;
  int64_t ellipsis_at = -1;
};

// `where` is "operand 2" or "the output"; `at` the error prefix quoting the equation.
Subscript parse_subscript(const std::string& at, std::string_view text, const std::string& where) {
  Subscript sub;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ') continue;
    if (is_letter(c)) {
      sub.letters += c;
    } else if (text.substr(i, 3) == "...") {
      check(sub.ellipsis_at < 0, "{}: ... appears twice in {}", at, where);
      sub.ellipsis_at = static_cast<int64_t>(sub.letters.size());
      i += 2;
    } else {
      fail("{}: invalid character '{}' in {}; hint: labels are letters a-z and A-Z, and ... stands for "
           "broadcast dimensions",
           at, c, where);
    }
  }
  return sub;
}

// The labels of a subscript with its "..." replaced by the ellipsis labels it covers: the last
// `covered` of the `total` digits '0' .. '0'+total-1.
std::string expand_ellipsis(const Subscript& sub, int64_t covered, int64_t total) {
  if (sub.ellipsis_at < 0) return sub.letters;
  std::string dots;
  for (int64_t k = total - covered; k < total; ++k) dots += static_cast<char>('0' + k);
  return sub.letters.substr(0, sub.ellipsis_at) + dots + sub.letters.substr(sub.ellipsis_at);
}

// ---- einsum: planning ----------------------------------------------------------------------------

// Index of `c` in `labels` (the plan guarantees it is there).
int64_t position(std::string_view labels, char c) { return static_cast<int64_t>(labels.find(c)); }

// A value per label (letters and ellipsis digits are ASCII).
using LabelTable = std::array<int64_t, 128>;

// The equation with every "..." spelled out: one label per dim of each operand, and the output.
struct Labels {
  std::vector<std::string> inputs;
  std::string output;
};

Labels label_equation(const std::string& at, const std::string& equation, const std::vector<Shape>& shapes) {
  const int64_t n_ops = static_cast<int64_t>(shapes.size());
  check(n_ops > 0, "{}: needs at least one operand", at);
  const size_t arrow = equation.find("->");
  check(arrow == std::string::npos || equation.find("->", arrow + 2) == std::string::npos,
        "{}: -> appears more than once", at);
  const std::string_view lhs = std::string_view(equation).substr(0, arrow);
  std::vector<Subscript> subs;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    subs.push_back(parse_subscript(at, lhs.substr(start, comma - start), fmt::format("operand {}", subs.size())));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  check(static_cast<int64_t>(subs.size()) == n_ops,
        "{}: the equation has {} operand subscripts but {} operands were given", at, subs.size(), n_ops);

  // Ranks, and how many dims "..." spans (the most any operand gives it).
  std::vector<int64_t> covered(n_ops, 0);
  int64_t n_ellipsis = 0;
  for (int64_t k = 0; k < n_ops; ++k) {
    const int64_t named = static_cast<int64_t>(subs[k].letters.size()), ndim = shapes[k].size();
    if (subs[k].ellipsis_at < 0) {
      check(ndim == named, "{}: operand {} has {} dims (shape {}) but its subscript names {}", at, k, ndim,
            shapes[k], named);
    } else {
      check(ndim >= named, "{}: operand {} has {} dims (shape {}) but its subscript names {} besides ...", at, k,
            ndim, shapes[k], named);
      covered[k] = ndim - named;
      n_ellipsis = std::max(n_ellipsis, covered[k]);
    }
  }
  Labels labels;
  for (int64_t k = 0; k < n_ops; ++k) labels.inputs.push_back(expand_ellipsis(subs[k], covered[k], n_ellipsis));

  // The output: explicit, or the ellipsis dims then the letters used exactly once, sorted.
  if (arrow == std::string::npos) {
    labels.output = expand_ellipsis(Subscript{"", 0}, n_ellipsis, n_ellipsis);
    for (char c = 'A'; c <= 'z'; ++c) {
      if (!is_letter(c)) continue;
      int64_t uses = 0;
      for (const Subscript& sub : subs) uses += std::count(sub.letters.begin(), sub.letters.end(), c);
      if (uses == 1) labels.output += c;
    }
  } else {
    const Subscript out = parse_subscript(at, std::string_view(equation).substr(arrow + 2), "the output");
    labels.output = expand_ellipsis(out, n_ellipsis, n_ellipsis);
  }
  return labels;
}

// The size of every label after broadcasting (sizes must be equal, or 1 against any size), checked.
// A label repeated within one operand needs equal sizes there (it reads a diagonal).
LabelTable label_sizes(const std::string& at, const Labels& labels, const std::vector<Shape>& shapes) {
  LabelTable size, from;  // from[c]: the operand that set size[c], for messages
  size.fill(-1);
  for (size_t k = 0; k < shapes.size(); ++k) {
    const std::string& in = labels.inputs[k];
    for (size_t d = 0; d < in.size(); ++d) {
      const char c = in[d];
      const int64_t n = shapes[k][d], first = shapes[k][position(in, c)];
      check(n == first,
            "{}: {} appears twice in operand {} (shape {}) with sizes {} and {}; a repeated label takes the "
            "diagonal and needs equal sizes",
            at, label_name(c), k, shapes[k], first, n);
      if (size[c] < 0 || (size[c] == 1 && n != 1)) {
        size[c] = n;
        from[c] = static_cast<int64_t>(k);
      } else {
        check(n == size[c] || n == 1,
              "{}: {} has size {} in operand {} but {} in operand {} (sizes must match, or be 1 to broadcast)", at,
              label_name(c), size[c], from[c], n, k);
      }
    }
  }
  return size;
}

// Takes the diagonal of each repeated label, recording the (d1, d2) of each x.diagonal(0, d1, d2)
// (which removes dims d1 and d2 and appends their diagonal); returns the labels left.
std::string take_diagonals(std::string labels, std::vector<std::pair<int64_t, int64_t>>& diagonals) {
  for (size_t i = 0; i < labels.size();) {
    const size_t j = labels.find(labels[i], i + 1);
    if (j == std::string::npos) {
      ++i;
      continue;
    }
    diagonals.emplace_back(i, j);
    const char c = labels[i];
    labels.erase(j, 1);
    labels.erase(i, 1);
    labels += c;  // the label now at i is new: look at i again
  }
  return labels;
}

// The product of `left` and `right` (labels, each once), keeping the labels in `needed`.
EinsumProduct plan_product(const std::string& left, const std::string& right, const std::string& needed,
                           const LabelTable& size) {
  EinsumProduct p;
  for (char c : left) {
    if (!contains(right, c))
      p.left_only += c;
    else if (contains(needed, c))
      p.batch += c;
    else
      p.contracted += c;
  }
  for (char c : right)
    if (!contains(left, c)) p.right_only += c;

  auto numel = [&](const std::string& group) {
    int64_t n = 1;
    for (char c : group) n *= size[c];
    return n;
  };
  const int64_t M = numel(p.left_only), K = numel(p.contracted), N = numel(p.right_only);
  for (char c : p.batch + p.left_only + p.contracted) p.left_perm.push_back(position(left, c));
  for (char c : p.batch + p.contracted + p.right_only) p.right_perm.push_back(position(right, c));
  // Batch dims stay apart: matmul loops over batch dims of any strides, where merging them could
  // force a copy (e.g. b and h in "bthd,bshd->bhts"). Only beyond kMaxDims - 2 of them are they
  // merged into one, to leave room for the two matrix dims.
  if (static_cast<int64_t>(p.batch.size()) <= kMaxDims - 2) {
    for (char c : p.batch) p.left_shape.push_back(size[c]);
  } else {
    p.left_shape.push_back(numel(p.batch));
  }
  p.right_shape = p.left_shape;
  p.left_shape.push_back(M);
  p.left_shape.push_back(K);
  p.right_shape.push_back(K);
  p.right_shape.push_back(N);
  p.use_matmul = !p.contracted.empty();
  p.result_labels = p.batch + p.left_only + p.right_only;
  for (char c : p.result_labels) p.result_shape.push_back(size[c]);
  return p;
}

// The plan of an equation already spelled out as labels, shared by both plan_einsum. `at` quotes
// the equation as written.
EinsumPlan plan_labels(const std::string& at, const Labels& labels, const std::vector<Shape>& shapes) {
  for (char c : labels.output) {
    check(std::count(labels.output.begin(), labels.output.end(), c) == 1, "{}: {} appears twice in the output", at,
          label_name(c));
    bool used = false;
    for (const std::string& input : labels.inputs) used = used || contains(input, c);
    check(used, "{}: {} of the output appears in no operand", at, label_name(c));
  }
  const LabelTable size = label_sizes(at, labels, shapes);
  const int64_t n_ops = static_cast<int64_t>(shapes.size());

  // Each operand alone, step 1: diagonals. Then `present[k]` lists the labels operand k holds at
  // their full size: one of size 1 that broadcasts against a larger size elsewhere is not
  // present, since the operand is constant along it.
  EinsumPlan plan;
  plan.output_labels = labels.output;
  plan.operands.resize(n_ops);
  std::vector<std::string> diagonal_labels(n_ops), present(n_ops);
  for (int64_t k = 0; k < n_ops; ++k) {
    EinsumOperandPlan& op = plan.operands[k];
    op.labels = labels.inputs[k];
    diagonal_labels[k] = take_diagonals(op.labels, op.diagonals);
    for (char c : diagonal_labels[k])
      if (shapes[k][position(op.labels, c)] == size[c]) present[k] += c;
  }
  // Step 2: keep a present label only if the output or another operand has it; sum the rest.
  for (int64_t k = 0; k < n_ops; ++k) {
    EinsumOperandPlan& op = plan.operands[k];
    for (size_t i = 0; i < diagonal_labels[k].size(); ++i) {
      const char c = diagonal_labels[k][i];
      bool keep = contains(labels.output, c);
      for (int64_t j = 0; j < n_ops; ++j) keep = keep || (j != k && contains(present[j], c));
      if (keep && contains(present[k], c))
        op.reduced_labels += c;
      else
        op.sum_dims.push_back(static_cast<int64_t>(i));
    }
  }

  // Contract left to right, keeping what the output and the operands still to come need.
  std::string result = plan.operands[0].reduced_labels;
  for (int64_t k = 1; k < n_ops; ++k) {
    std::string needed = labels.output;
    for (int64_t j = k + 1; j < n_ops; ++j) needed += plan.operands[j].reduced_labels;
    plan.products.push_back(plan_product(result, plan.operands[k].reduced_labels, needed, size));
    result = plan.products.back().result_labels;
  }
  for (char c : labels.output) {
    plan.output_perm.push_back(position(result, c));
    plan.output_shape.push_back(size[c]);
  }
  return plan;
}

}  // namespace

EinsumPlan plan_einsum(const std::string& equation, const std::vector<Shape>& shapes) {
  const std::string at = fmt::format("einsum \"{}\"", equation);
  return plan_labels(at, label_equation(at, equation, shapes), shapes);
}

EinsumPlan plan_einsum(const std::vector<std::string>& inputs, const std::string& output,
                       const std::vector<Shape>& shapes) {
  const std::string at = fmt::format("einsum \"{}->{}\"", fmt::join(inputs, ","), output);
  check(inputs.size() == shapes.size() && !shapes.empty(), "{}: {} label strings for {} operands", at,
        inputs.size(), shapes.size());
  for (size_t k = 0; k < shapes.size(); ++k)
    check(static_cast<int64_t>(inputs[k].size()) == shapes[k].size(),
          "{}: operand {} has {} dims (shape {}) but {} labels", at, k, shapes[k].size(), shapes[k], inputs[k].size());
  return plan_labels(at, Labels{inputs, output}, shapes);
}

Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands) {
  std::vector<Shape> shapes;
  for (size_t k = 0; k < operands.size(); ++k) {
    check(operands[k].defined(), "einsum \"{}\": operand {} is an undefined tensor", equation, k);
    check(operands[k].dtype() == operands[0].dtype(),
          "einsum \"{}\": operand {} is {} but operand 0 is {}; hint: convert with .to(DType::...) first",
          equation, k, operands[k].dtype(), operands[0].dtype());
    shapes.push_back(operands[k].shape());
  }
  return einsum(plan_einsum(equation, shapes), operands);
}

Tensor einsum(const EinsumPlan& plan, const std::vector<Tensor>& operands) {
  auto prepare = [&](size_t k) {
    const EinsumOperandPlan& op = plan.operands[k];
    Tensor x = operands[k];
    for (auto [d1, d2] : op.diagonals) x = x.diagonal(0, d1, d2);
    return reduce_out(x, op.sum_dims, &sum);
  };
  Tensor result = prepare(0);
  for (size_t k = 1; k < operands.size(); ++k) {
    const EinsumProduct& p = plan.products[k - 1];
    const Tensor a = result.permute(p.left_perm).reshape(p.left_shape);        // (batch..., M, K)
    const Tensor b = prepare(k).permute(p.right_perm).reshape(p.right_shape);  // (batch..., K, N)
    const Tensor c = p.use_matmul ? matmul(a, b) : mul(a, b);                  // (batch..., M, N)
    result = c.reshape(p.result_shape);
  }
  return result.permute(plan.output_perm);
}

// ---- rearrange / repeat / reduce -------------------------------------------------------------------
namespace {

const char* op_name(AxisOp op) {
  switch (op) {
    case AxisOp::rearrange: return "rearrange";
    case AxisOp::repeat: return "repeat";
    case AxisOp::reduce: return "reduce";
  }
  return "?";
}

// An axis as written: a name, "..." or an integer literal (an anonymous axis of that size).
struct Axis {
  std::string name;  // the text: "h", "...", "1"
  int64_t literal = -1;  // the size of an anonymous axis, -1 for names and "..."
};
// One dimension of a side: a parenthesised group "(h d)" (maybe empty: size 1) or one bare axis.
struct Group {
  std::vector<Axis> axes;
  bool parenthesised = false;
};

bool is_name_start(char c) { return is_letter(c) || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::vector<Group> parse_side(const std::string& at, std::string_view text, const char* side) {
  std::vector<Group> groups;
  bool in_group = false;
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == ' ') {
      ++i;
      continue;
    }
    if (c == '(') {
      check(!in_group, "{}: nested parentheses on the {} side", at, side);
      groups.push_back(Group{{}, true});
      in_group = true;
      ++i;
      continue;
    }
    if (c == ')') {
      check(in_group, "{}: ')' without '(' on the {} side", at, side);
      in_group = false;
      ++i;
      continue;
    }
    Axis axis;
    if (text.substr(i, 3) == "...") {
      axis.name = "...";
      i += 3;
    } else if (is_name_start(c) || is_digit(c)) {
      const size_t start = i;
      while (i < text.size() && (is_name_start(text[i]) || is_digit(text[i]))) ++i;
      axis.name = std::string(text.substr(start, i - start));
      if (is_digit(c)) {
        for (char d : axis.name)
          check(is_digit(d), "{}: axis name {} on the {} side starts with a digit", at, axis.name, side);
        axis.literal = std::stoll(axis.name);
        check(axis.literal > 0, "{}: anonymous axis {} on the {} side must be positive", at, axis.name, side);
      }
    } else {
      fail("{}: invalid character '{}' on the {} side; hint: axes are names, integer literals, (groups) and ...",
           at, c, side);
    }
    if (in_group)
      groups.back().axes.push_back(axis);
    else
      groups.push_back(Group{{axis}, false});
  }
  check(!in_group, "{}: '(' without ')' on the {} side", at, side);
  return groups;
}

// "(h d)" or "h", for messages.
std::string group_text(const Group& g) {
  std::string s;
  for (const Axis& a : g.axes) s += (s.empty() ? "" : " ") + a.name;
  return g.parenthesised ? "(" + s + ")" : s;
}

// The names used on a side, each at most once ("..." included); literals are anonymous.
std::vector<std::string> side_names(const std::string& at, const std::vector<Group>& groups, const char* side) {
  std::vector<std::string> names;
  for (const Group& g : groups)
    for (const Axis& a : g.axes) {
      if (a.literal > 0) continue;
      check(std::find(names.begin(), names.end(), a.name) == names.end(), "{}: axis {} appears twice on the {} side",
            at, a.name, side);
      names.push_back(a.name);
    }
  return names;
}

}  // namespace

AxesPlan plan_axes(AxisOp op, const std::string& pattern, const Shape& shape, const AxisSizes& sizes) {
  const std::string at = fmt::format("{} \"{}\"", op_name(op), pattern);
  const size_t arrow = pattern.find("->");
  check(arrow != std::string::npos && pattern.find("->", arrow + 2) == std::string::npos,
        "{}: the pattern needs exactly one -> between the input and output axes", at);
  const std::vector<Group> lhs = parse_side(at, std::string_view(pattern).substr(0, arrow), "left");
  const std::vector<Group> rhs = parse_side(at, std::string_view(pattern).substr(arrow + 2), "right");
  const std::vector<std::string> left_names = side_names(at, lhs, "left");
  const std::vector<std::string> right_names = side_names(at, rhs, "right");
  auto on = [](const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  for (const auto& [name, n] : sizes) {
    check(on(left_names, name) || on(right_names, name), "{}: sizes gives axis {}, which the pattern does not use",
          at, name);
    check(n > 0, "{}: the size of axis {} must be positive, got {}", at, name, n);
  }

  // Match the left groups to the input's dims; "..." takes the dims no group names.
  for (const Group& g : lhs)
    for (const Axis& a : g.axes)
      check(!g.parenthesised || a.name != "...", "{}: ... inside parentheses on the left side cannot be split", at);
  const bool has_ellipsis = on(left_names, "...");
  const int64_t n_groups = static_cast<int64_t>(lhs.size());
  if (has_ellipsis)
    check(shape.size() >= n_groups - 1, "{}: the left side names at least {} dims but the input has {} (shape {})",
          at, n_groups - 1, shape.size(), shape);
  else
    check(shape.size() == n_groups, "{}: the left side names {} dims but the input has {} (shape {})", at,
          n_groups, shape.size(), shape);
  const int64_t n_ellipsis = shape.size() - (n_groups - 1);
  auto n_elementary = [&](const std::vector<Group>& groups) {
    int64_t n = 0;
    for (const Group& g : groups)
      for (const Axis& a : g.axes) n += a.name == "..." ? n_ellipsis : 1;
    return n;
  };
  check(n_elementary(lhs) <= kMaxDims && n_elementary(rhs) <= kMaxDims,
        "{}: more than {} axes on one side (input shape {}); tensors have at most {} dims", at, kMaxDims, shape,
        kMaxDims);

  // Left elementary axes and their sizes; one unknown per group is inferred.
  AxesPlan plan;
  std::vector<int64_t> literal;  // per left elementary axis: its literal size, or -1 if named
  int64_t dim = 0;
  for (const Group& g : lhs) {
    if (!g.parenthesised && g.axes[0].name == "...") {
      for (int64_t k = 0; k < n_ellipsis; ++k, ++dim) {
        plan.left_axes.push_back(fmt::format("...{}", k));
        plan.unflat_shape.push_back(shape[dim]);
        literal.push_back(-1);
      }
      continue;
    }
    int64_t known = 1, unknown = -1;
    std::string given;  // "h=3 d=5", for messages
    for (const Axis& a : g.axes) {
      const auto it = sizes.find(a.name);
      const int64_t n = a.literal > 0 ? a.literal : it != sizes.end() ? it->second : -1;
      if (n < 0) {
        if (unknown >= 0)
          fail("{}: cannot infer the sizes of both {} and {} in {} (dim {} of the input has size {}); hint: give "
               "all but one of a group's axes in sizes",
               at, plan.left_axes[unknown], a.name, group_text(g), dim, shape[dim]);
        unknown = static_cast<int64_t>(plan.left_axes.size());
      } else {
        known *= n;
        given += fmt::format("{}{}={}", given.empty() ? "" : " ", a.name, n);
      }
      plan.left_axes.push_back(a.name);
      plan.unflat_shape.push_back(n);
      literal.push_back(a.literal);
    }
    if (unknown < 0) {
      check(known == shape[dim], "{}: dim {} of the input (shape {}) has size {}, but {} has size {} ({})", at, dim,
            shape, shape[dim], group_text(g), known, given);
    } else {
      check(shape[dim] % known == 0,
            "{}: dim {} of the input (shape {}) has size {}, not divisible by {} ({}) to infer {} in {}", at, dim,
            shape, shape[dim], known, given, plan.left_axes[unknown], group_text(g));
      plan.unflat_shape[unknown] = shape[dim] / known;
    }
    ++dim;
  }

  // Right elementary axes: each comes from a left axis (`source`) or is new (source -1), sized by
  // its literal or by `sizes`. A parenthesised group merges into one output dim; a bare axis, and
  // each dim of a bare "...", is one output dim.
  std::vector<int64_t> source;
  for (const Group& g : rhs) {
    int64_t merged = 1;
    for (const Axis& a : g.axes) {
      check(a.name != "..." || has_ellipsis, "{}: ... on the right side but not on the left", at);
      for (int64_t k = 0; k < (a.name == "..." ? n_ellipsis : 1); ++k) {
        const std::string name = a.name == "..." ? fmt::format("...{}", k) : a.name;
        const auto it = std::find(plan.left_axes.begin(), plan.left_axes.end(), name);
        const int64_t from = a.literal < 0 && it != plan.left_axes.end() ? it - plan.left_axes.begin() : -1;
        int64_t n;
        if (from >= 0) {
          n = plan.unflat_shape[from];
        } else if (a.literal > 0) {
          check(a.literal == 1 || op == AxisOp::repeat,
                "{}: anonymous axis {} on the right; {} only allows 1 (a unit axis); hint: repeat adds axes of "
                "other sizes",
                at, a.name, op_name(op));
          n = a.literal;
        } else {
          check(op == AxisOp::repeat, "{}: unknown axis {} on the right: it is not on the left side", at, name);
          const auto given = sizes.find(name);
          check(given != sizes.end(), "{}: new axis {} on the right needs its size; hint: pass {{{{\"{}\", n}}}}",
                at, name, name);
          n = given->second;
        }
        plan.right_axes.push_back(name);
        plan.expanded_shape.push_back(n);
        source.push_back(from);
        if (g.parenthesised)
          merged *= n;
        else
          plan.output_shape.push_back(n);
      }
    }
    if (g.parenthesised) plan.output_shape.push_back(merged);
  }

  // Left axes absent on the right are reduced (reduce) or, when unit axes, dropped; the others are
  // numbered in order and permuted into their right-side order.
  std::vector<int64_t> kept_index(plan.left_axes.size(), -1);
  int64_t n_kept = 0;
  for (size_t i = 0; i < plan.left_axes.size(); ++i) {
    if (std::find(source.begin(), source.end(), static_cast<int64_t>(i)) != source.end()) {
      kept_index[i] = n_kept++;
      continue;
    }
    check(op == AxisOp::reduce || literal[i] == 1,
          "{}: axis {} is missing on the right; {} keeps every axis but unit ones; hint: reduce removes axes", at,
          plan.left_axes[i], op_name(op));
    plan.reduce_dims.push_back(static_cast<int64_t>(i));
  }
  for (size_t j = 0; j < source.size(); ++j) {
    if (source[j] >= 0)
      plan.permutation.push_back(kept_index[source[j]]);
    else
      plan.new_axes.push_back(static_cast<int64_t>(j));
  }
  return plan;
}

namespace {

// The executor shared by the three: replays an AxesPlan, reducing with `reducer`.
Tensor apply_axes(const Tensor& x, AxisOp op, const std::string& pattern, const AxisSizes& sizes,
                  Reducer reducer) {
  const AxesPlan plan = plan_axes(op, pattern, x.shape(), sizes);
  Tensor y = reduce_out(x.reshape(plan.unflat_shape), plan.reduce_dims, reducer).permute(plan.permutation);
  for (int64_t d : plan.new_axes) y = y.unsqueeze(d);
  return y.expand(plan.expanded_shape).reshape(plan.output_shape);
}

}  // namespace

// rearrange and repeat drop only unit axes, which reduce_out squeezes: `sum` is never called.
Tensor rearrange(const Tensor& x, const std::string& pattern, const AxisSizes& sizes) {
  return apply_axes(x, AxisOp::rearrange, pattern, sizes, &sum);
}

Tensor repeat(const Tensor& x, const std::string& pattern, const AxisSizes& sizes) {
  return apply_axes(x, AxisOp::repeat, pattern, sizes, &sum);
}

Tensor reduce(const Tensor& x, const std::string& pattern, const std::string& reduction, const AxisSizes& sizes) {
  Reducer reducer = reduction == "sum" ? &sum
                    : reduction == "mean" ? &mean
                    : reduction == "max"  ? &amax
                    : reduction == "min"  ? &amin
                                          : nullptr;
  check(reducer != nullptr, "reduce \"{}\": unknown reduction \"{}\"; hint: use \"sum\", \"mean\", \"max\" or \"min\"",
        pattern, reduction);
  return apply_axes(x, AxisOp::reduce, pattern, sizes, reducer);
}

}  // namespace strata
