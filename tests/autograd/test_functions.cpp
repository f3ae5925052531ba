// test_functions.cpp: every differentiable op against central differences (f64 gradcheck), the
// check that op_list.h and the gradcheck cases cover each other, fused ops against their composed
// twins, and the documented edge cases of the ops.
//
// gradcheck tolerances: atol 1e-6, rtol 1e-5 (gradcheck's own defaults are looser: atol 1e-5, rtol
// 1e-3). In f64 with eps 1e-6, the central difference has truncation error ~eps^2 |f'''| ~ 1e-12
// and rounding error ~1e-16 |L| / eps ~ 1e-10 for these O(1) functions, so a correct backward
// agrees to ~1e-9; a wrong derivative is off by O(1).
#include "autograd/functions.h"
#include "autograd/op_list.h"
#include "tensor/index.h"
#include "tensor/ops.h"
#include "tensor/random.h"
#include "tests/testing/tensor_testing.h"

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace strata;
using namespace strata::testing;

namespace {

using Fn = std::function<Variable(const std::vector<Variable>&)>;

struct GradcheckCase {
  std::string op;     // the op_list.h entry it covers
  std::string label;  // what this case exercises
  Fn fn;
  std::vector<Tensor> inputs;  // f64 values; each becomes a leaf that requires grad
};

constexpr GradcheckOptions kOptions{.eps = 1e-6, .atol = 1e-6, .rtol = 1e-5, .max_samples = 64, .seed = 7};

Tensor rnd(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  return random_tensor(shape, DType::f64, lo, hi, seed);
}
// Values bounded away from 0 (for kinks and poles at 0): |x| in [0.2, 1], random signs.
Tensor away_from_zero(const Shape& shape, uint64_t seed) {
  Tensor magnitude = rnd(shape, seed, 0.2, 1.0);
  return where(gt(rnd(shape, seed + 1), 0.0), magnitude, neg(magnitude));
}
Tensor ids(std::vector<int64_t> v, Shape shape) { return from_vector(v, shape); }
Tensor bools(std::vector<uint8_t> v, Shape shape) { return from_vector(v, shape).to(DType::b8); }

// The op computed by fn on its first input.
Fn one(Variable (*f)(const Variable&, Location)) {
  return [f](const std::vector<Variable>& x) { return f(x[0], Location::current()); };
}

// A causal mask (T, T): query i attends to keys j <= i.
Tensor causal(int64_t T) { return tril(ones({T, T}, DType::b8)); }

std::vector<GradcheckCase> gradcheck_cases() {
  using V = const std::vector<Variable>&;
  std::vector<GradcheckCase> c;
  auto add_case = [&](std::string op, std::string label, Fn fn, std::vector<Tensor> inputs) {
    c.push_back({std::move(op), std::move(label), std::move(fn), std::move(inputs)});
  };

  // Elementwise, unary.
  const Shape s{3, 4};
  add_case("neg", "", one(neg), {rnd(s, 1)});
  add_case("abs", "kink at 0 avoided", one(abs), {away_from_zero(s, 2)});
  add_case("exp", "", one(exp), {rnd(s, 3)});
  add_case("log", "positive inputs", one(log), {rnd(s, 4, 0.2, 2.0)});
  add_case("sqrt", "positive inputs", one(sqrt), {rnd(s, 5, 0.2, 2.0)});
  add_case("rsqrt", "positive inputs", one(rsqrt), {rnd(s, 6, 0.2, 2.0)});
  add_case("sin", "", one(sin), {rnd(s, 7, -3, 3)});
  add_case("cos", "", one(cos), {rnd(s, 8, -3, 3)});
  add_case("tanh", "", one(tanh), {rnd(s, 9, -2, 2)});
  add_case("sigmoid", "", one(sigmoid), {rnd(s, 10, -4, 4)});
  add_case("silu", "", one(silu), {rnd(s, 11, -4, 4)});
  add_case("relu", "kink at 0 avoided", one(relu), {away_from_zero(s, 12)});
  add_case("gelu", "exact erf form", one(gelu), {rnd(s, 13, -3, 3)});
  add_case("square", "", one(square), {rnd(s, 14)});
  add_case("pow", "x^3", [](V x) { return pow(x[0], 3.0); }, {rnd(s, 15)});
  add_case("pow", "x^-1.5", [](V x) { return pow(x[0], -1.5); }, {rnd(s, 16, 0.3, 2.0)});
  add_case("clamp", "", [](V x) { return clamp(x[0], -0.5, 0.5); }, {rnd(s, 17)});

  // Elementwise, binary with broadcasting.
  add_case("add", "(2,3,4) + (3,1)", [](V x) { return add(x[0], x[1]); }, {rnd({2, 3, 4}, 20), rnd({3, 1}, 21)});
  add_case("sub", "(4) - (2,3,4)", [](V x) { return sub(x[0], x[1]); }, {rnd({4}, 22), rnd({2, 3, 4}, 23)});
  add_case("mul", "(2,1,4) * (3,1)", [](V x) { return mul(x[0], x[1]); }, {rnd({2, 1, 4}, 24), rnd({3, 1}, 25)});
  add_case("mul", "a value times itself", [](V x) { return x[0] * x[0]; }, {rnd(s, 26)});
  add_case("div", "(3,4) / (4)", [](V x) { return div(x[0], x[1]); }, {rnd(s, 27), away_from_zero({4}, 28)});
  // Ties: the central difference of max at a tie is exactly 1/2 for each side, torch's split.
  add_case("maximum", "with ties", [](V x) { return maximum(x[0], x[1]); },
           {tensor({0.5, -0.2, 0.3, 0.9, -1.0, 0.0}, {2, 3}, DType::f64), tensor({0.1, -0.2, 0.7}, DType::f64)});
  add_case("minimum", "with ties", [](V x) { return minimum(x[0], x[1]); },
           {tensor({0.5, -0.2, 0.3, 0.9, -1.0, 0.0}, {2, 3}, DType::f64), tensor({0.1, -0.2, 0.7}, DType::f64)});
  add_case("add_scalar", "", [](V x) { return x[0] + 2.5; }, {rnd(s, 29)});
  add_case("mul_scalar", "", [](V x) { return -3.0 * x[0]; }, {rnd(s, 30)});
  add_case("div_scalar", "", [](V x) { return x[0] / 4.0; }, {rnd(s, 31)});
  add_case("add_constant", "a broadcast to the constant's shape",
           [](V x) { return add(x[0], rnd({2, 3, 4}, 32)); }, {rnd({3, 1}, 33)});
  add_case("mul_constant", "", [](V x) { return mul(x[0], rnd({3, 4}, 34)); }, {rnd({4}, 35)});
  add_case("where", "cond (3,1), a (3,4), b (4)",
           [](V x) { return where(bools({1, 0, 1}, {3, 1}), x[0], x[1]); }, {rnd(s, 36), rnd({4}, 37)});
  add_case("masked_fill", "", [](V x) { return masked_fill(x[0], bools({0, 1, 1, 0}, {4}), -7.0); }, {rnd(s, 38)});

  // Reductions.
  const Shape s3{2, 3, 4};
  add_case("sum", "dim 1", [](V x) { return sum(x[0], {1}); }, {rnd(s3, 40)});
  add_case("sum", "all", [](V x) { return sum(x[0]); }, {rnd(s3, 41)});
  add_case("mean", "dims (0, 2), keepdim", [](V x) { return mean(x[0], {0, -1}, true); }, {rnd(s3, 42)});
  add_case("var", "unbiased over dim 2", [](V x) { return var(x[0], {2}); }, {rnd(s3, 43)});
  add_case("var", "population, all dims", [](V x) { return var(x[0], {}, 0); }, {rnd(s3, 44)});
  add_case("amax", "dim 1, one tie", [](V x) { return amax(x[0], {1}); },
           {tensor({0.3, 0.9, 0.9, -0.1, 0.2, 0.5}, {2, 3}, DType::f64)});
  add_case("amax", "all, keepdim", [](V x) { return amax(x[0], {}, true); }, {rnd(s3, 45)});
  add_case("amin", "dim 0", [](V x) { return amin(x[0], {0}); }, {rnd(s3, 46)});
  add_case("logsumexp", "dim -1", [](V x) { return logsumexp(x[0], {-1}); }, {rnd(s3, 47, -3, 3)});
  add_case("logsumexp", "dims (0, 1), keepdim", [](V x) { return logsumexp(x[0], {0, 1}, true); }, {rnd(s3, 48)});
  add_case("softmax", "dim 1", [](V x) { return softmax(x[0], 1); }, {rnd(s3, 49, -3, 3)});
  add_case("log_softmax", "dim -1", [](V x) { return log_softmax(x[0], -1); }, {rnd(s3, 50, -3, 3)});

  // Views and movement.
  add_case("view", "", [](V x) { return view(x[0], {4, -1}); }, {rnd(s3, 60)});
  add_case("reshape", "of a transposed leaf (copies)", [](V x) { return reshape(x[0], {-1}); },
           {rnd({4, 3}, 61).mT()});
  add_case("permute", "", [](V x) { return permute(x[0], {2, 0, 1}); }, {rnd(s3, 62)});
  add_case("transpose", "", [](V x) { return transpose(x[0], 0, -1); }, {rnd(s3, 63)});
  add_case("mT", "", [](V x) { return mT(x[0]); }, {rnd(s3, 64)});
  add_case("slice", "step 2", [](V x) { return slice(x[0], 2, 1, 4, 2); }, {rnd(s3, 65)});
  add_case("narrow", "", [](V x) { return narrow(x[0], 1, 1, 2); }, {rnd(s3, 66)});
  add_case("select", "negative index", [](V x) { return select(x[0], 1, -1); }, {rnd(s3, 67)});
  add_case("expand", "(3,1) -> (2,3,4)", [](V x) { return expand(x[0], {2, 3, 4}); }, {rnd({3, 1}, 68)});
  add_case("unsqueeze", "", [](V x) { return unsqueeze(x[0], 1); }, {rnd(s, 69)});
  add_case("squeeze", "", [](V x) { return squeeze(x[0], 1); }, {rnd({3, 1, 4}, 70)});
  add_case("flatten", "dims 1..2", [](V x) { return flatten(x[0], 1); }, {rnd(s3, 71)});
  add_case("unflatten", "", [](V x) { return unflatten(x[0], 1, {2, 2}); }, {rnd(s, 72)});
  add_case("diagonal", "offset 1 of dims (1, 2)", [](V x) { return diagonal(x[0], 1, 1, 2); }, {rnd(s3, 73)});
  add_case("contiguous", "of a transposed leaf", [](V x) { return contiguous(x[0]); }, {rnd({4, 3}, 74).mT()});
  add_case("tril", "", [](V x) { return tril(x[0]); }, {rnd({4, 4}, 75)});
  add_case("triu", "diagonal 1", [](V x) { return triu(x[0], 1); }, {rnd(s3, 76)});

  // Linear algebra, joining, indexing.
  add_case("matmul", "(3,4) @ (4,5)", [](V x) { return matmul(x[0], x[1]); }, {rnd({3, 4}, 80), rnd({4, 5}, 81)});
  add_case("matmul", "batched (2,3,4) @ shared (4,5)", [](V x) { return matmul(x[0], x[1]); },
           {rnd(s3, 82), rnd({4, 5}, 83)});
  add_case("matmul", "shared (3,4) @ batched (2,4,5)", [](V x) { return matmul(x[0], x[1]); },
           {rnd({3, 4}, 84), rnd({2, 4, 5}, 85)});
  add_case("matmul", "broadcast batch (2,1,3,4) @ (5,4,2)", [](V x) { return matmul(x[0], x[1]); },
           {rnd({2, 1, 3, 4}, 86), rnd({5, 4, 2}, 87)});
  add_case("matmul", "transposed leaf operand", [](V x) { return matmul(x[0], x[1]); },
           {rnd({4, 3}, 88).mT(), rnd({4, 5}, 89)});
  add_case("matmul", "1-D @ 2-D", [](V x) { return matmul(x[0], x[1]); }, {rnd({4}, 90), rnd({4, 5}, 91)});
  add_case("matmul", "batched 3-D @ 1-D", [](V x) { return matmul(x[0], x[1]); }, {rnd(s3, 92), rnd({4}, 93)});
  add_case("matmul", "1-D @ 1-D", [](V x) { return matmul(x[0], x[1]); }, {rnd({4}, 94), rnd({4}, 95)});
  add_case("outer", "", [](V x) { return outer(x[0], x[1]); }, {rnd({3}, 96), rnd({4}, 97)});
  add_case("cat", "three inputs along dim 1", [](V x) { return cat({x[0], x[1], x[2]}, 1); },
           {rnd({2, 1, 4}, 98), rnd(s3, 99), rnd({2, 2, 4}, 100)});
  add_case("stack", "new dim -1", [](V x) { return stack({x[0], x[1]}, -1); }, {rnd(s, 101), rnd(s, 102)});
  add_case("split", "uneven pieces, recombined",
           [](V x) {
             std::vector<Variable> p = split(x[0], 2, 1);  // sizes 2, 2, 1
             return cat({p[2] * 3.0, p[0], p[1] * p[1]}, 1);
           },
           {rnd({2, 5}, 103)});
  add_case("chunk", "", [](V x) { return chunk(x[0], 2, 0)[1] * 2.0; }, {rnd({5, 3}, 104)});
  add_case("gather", "dim 1, repeated indices",
           [](V x) { return gather(x[0], 1, ids({0, 0, 3, 2, 1, 1}, {3, 2})); }, {rnd(s, 105)});
  add_case("index_select", "2-D index with repeats along dim 1",
           [](V x) { return index_select(x[0], 1, ids({3, 0, 3, 1}, {2, 2})); }, {rnd(s, 106)});
  add_case("embedding", "ids (2,3) with repeats",
           [](V x) { return embedding(x[0], ids({4, 1, 4, 0, 4, 2}, {2, 3})); }, {rnd({5, 3}, 107)});

  // einsum and einops.
  add_case("einsum", "batched matmul bij,bjk->bik", [](V x) { return einsum("bij,bjk->bik", {x[0], x[1]}); },
           {rnd(s3, 110), rnd({2, 4, 5}, 111)});
  add_case("einsum", "implicit output ij,jk", [](V x) { return einsum("ij,jk", {x[0], x[1]}); },
           {rnd({3, 4}, 112), rnd({4, 2}, 113)});
  add_case("einsum", "diagonal ii->i", [](V x) { return einsum("ii->i", {x[0]}); }, {rnd({4, 4}, 114)});
  add_case("einsum", "trace ii", [](V x) { return einsum("ii", {x[0]}); }, {rnd({4, 4}, 115)});
  add_case("einsum", "label summed in one operand only ij,k->ik",
           [](V x) { return einsum("ij,k->ik", {x[0], x[1]}); }, {rnd({3, 4}, 116), rnd({2}, 117)});
  add_case("einsum", "ellipsis broadcast ...ij,...jk->...ik",
           [](V x) { return einsum("...ij,...jk->...ik", {x[0], x[1]}); }, {rnd({2, 3, 4}, 118), rnd({4, 2}, 119)});
  add_case("einsum", "three operands i,ij,j->", [](V x) { return einsum("i,ij,j->", {x[0], x[1], x[2]}); },
           {rnd({3}, 120), rnd({3, 4}, 121), rnd({4}, 122)});
  add_case("einsum", "diagonal beside another operand iij,jk->ik",
           [](V x) { return einsum("iij,jk->ik", {x[0], x[1]}); }, {rnd({3, 3, 4}, 123), rnd({4, 2}, 124)});
  add_case("einsum", "ellipsis summed out ...ij->j", [](V x) { return einsum("...ij->j", {x[0]}); },
           {rnd({2, 3, 4}, 125)});
  add_case("rearrange", "split heads b t (h d) -> b h t d",
           [](V x) { return rearrange(x[0], "b t (h d) -> b h t d", {{"h", 2}}); }, {rnd({2, 3, 4}, 130)});
  add_case("rearrange", "merge heads b h t d -> b t (h d)",
           [](V x) { return rearrange(x[0], "b h t d -> b t (h d)"); }, {rnd({2, 2, 3, 2}, 131)});
  add_case("rearrange", "ellipsis ... h w -> ... w h", [](V x) { return rearrange(x[0], "... h w -> ... w h"); },
           {rnd(s3, 132)});
  add_case("rearrange", "unit axes, a 3-cycle a 1 b c -> c a 1 b",
           [](V x) { return rearrange(x[0], "a 1 b c -> c a 1 b"); }, {rnd({2, 1, 3, 4}, 138)});
  add_case("repeat", "new axis h w -> h w c", [](V x) { return repeat(x[0], "h w -> h w c", {{"c", 3}}); },
           {rnd(s, 133)});
  add_case("repeat", "into a group h w -> (r h) w", [](V x) { return repeat(x[0], "h w -> (r h) w", {{"r", 2}}); },
           {rnd(s, 134)});
  add_case("repeat", "anonymous axis, permuted h w -> w 2 h", [](V x) { return repeat(x[0], "h w -> w 2 h"); },
           {rnd(s, 139)});
  add_case("reduce", "sum b t c -> b c", [](V x) { return reduce(x[0], "b t c -> b c", "sum"); }, {rnd(s3, 135)});
  add_case("reduce", "mean over a group (t p) c -> t c",
           [](V x) { return reduce(x[0], "(t p) c -> t c", "mean", {{"p", 2}}); }, {rnd({6, 3}, 136)});
  add_case("reduce", "max with a tie", [](V x) { return reduce(x[0], "a b -> a", "max"); },
           {tensor({0.3, 0.9, 0.9, -0.1, 0.2, 0.5}, {2, 3}, DType::f64)});
  add_case("reduce", "min", [](V x) { return reduce(x[0], "a b c -> b", "min"); }, {rnd(s3, 137)});
  add_case("reduce", "max over a group and an axis, permuted (a p) b c -> c a",
           [](V x) { return reduce(x[0], "(a p) b c -> c a", "max", {{"p", 2}}); }, {rnd({4, 3, 2}, 140)});
  add_case("reduce", "max reducing nothing a b -> b a", [](V x) { return reduce(x[0], "a b -> b a", "max"); },
           {rnd(s, 141)});

  // Fused ops.
  add_case("cross_entropy", "logits (2,3,5)", [](V x) { return cross_entropy(x[0], ids({0, 4, 2, 2, 1, 3}, {2, 3})); },
           {rnd({2, 3, 5}, 140, -3, 3)});
  add_case("cross_entropy", "logits (4,7), 1-D targets",
           [](V x) { return cross_entropy(x[0], ids({6, 0, 3, 3}, {4})); }, {rnd({4, 7}, 141, -3, 3)});
  add_case("rms_norm", "x (2,3,8), weight (8)", [](V x) { return rms_norm(x[0], x[1]); },
           {rnd({2, 3, 8}, 142), rnd({8}, 143, 0.5, 1.5)});
  add_case("rms_norm", "eps 0.1, transposed x", [](V x) { return rms_norm(x[0], x[1], 0.1); },
           {rnd({6, 4}, 144).mT(), rnd({6}, 145, 0.5, 1.5)});
  add_case("swiglu", "", [](V x) { return swiglu(x[0], x[1]); }, {rnd(s, 146, -4, 4), rnd(s, 147)});
  add_case("scaled_dot_product_attention", "3-D, no mask",
           [](V x) { return scaled_dot_product_attention(x[0], x[1], x[2]); },
           {rnd({2, 3, 4}, 150), rnd({2, 5, 4}, 151), rnd({2, 5, 3}, 152)});
  add_case("scaled_dot_product_attention", "4-D, causal mask",
           [](V x) { return scaled_dot_product_attention(x[0], x[1], x[2], causal(4)); },
           {rnd({2, 2, 4, 3}, 153), rnd({2, 2, 4, 3}, 154), rnd({2, 2, 4, 3}, 155)});
  add_case("scaled_dot_product_attention", "random mask (2,1,3,5), keys shared across heads",
           [](V x) {
             Tensor mask = bools({1, 0, 1, 0, 0, /**/ 0, 1, 1, 1, 0, /**/ 1, 1, 0, 0, 1,
                                  0, 0, 0, 0, 1, /**/ 1, 1, 1, 1, 1, /**/ 0, 0, 1, 0, 1},
                                 {2, 1, 3, 5});  // every query row allows at least one key
             return scaled_dot_product_attention(x[0], x[1], x[2], mask);
           },
           {rnd({2, 2, 3, 4}, 156), rnd({2, 1, 5, 4}, 157), rnd({2, 1, 5, 2}, 158)});
  return c;
}

// The op names recorded on the tape behind `y`.
std::set<std::string> recorded_ops(const Variable& y) {
  std::set<std::string> ops;
  std::vector<Node*> stack{y.node().get()};
  std::set<Node*> seen;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (!n || !seen.insert(n).second) continue;
    if (!n->is_leaf()) ops.insert(n->op);
    for (const auto& in : n->inputs) stack.push_back(in.get());
  }
  return ops;
}

std::vector<Variable> leaves_of(const std::vector<Tensor>& values) {
  std::vector<Variable> leaves;
  for (const Tensor& t : values) leaves.emplace_back(t, true);
  return leaves;
}

}  // namespace

TEST_CASE("gradcheck: every case in f64") {
  for (const GradcheckCase& gc : gradcheck_cases()) {
    CAPTURE(gc.op);
    CAPTURE(gc.label);
    const GradcheckResult r = gradcheck(gc.fn, leaves_of(gc.inputs), kOptions);
    INFO(r.message);
    CHECK(r.ok);
  }
}

TEST_CASE("op_list.h and the gradcheck cases cover each other") {
  std::set<std::string> listed, covered, recorded;
  for (const OpInfo& op : kAutogradOps) {
    CHECK_MESSAGE(listed.insert(std::string(op.name)).second, "listed twice: ", op.name);
  }
  for (const GradcheckCase& gc : gradcheck_cases()) {
    covered.insert(gc.op);
    for (const std::string& op : recorded_ops(gc.fn(leaves_of(gc.inputs)))) recorded.insert(op);
  }
  for (const std::string& op : listed) CHECK_MESSAGE(covered.count(op), "no gradcheck case for listed op ", op);
  for (const std::string& op : covered) CHECK_MESSAGE(listed.count(op), "a case covers ", op, ", missing in op_list.h");
  for (const std::string& op : recorded)
    CHECK_MESSAGE(listed.count(op), "op ", op, " is recorded on the tape but missing in op_list.h");
  // Every primitive and fused entry is an op name that the cases actually record.
  for (const OpInfo& op : kAutogradOps)
    if (op.kind != OpKind::composed)
      CHECK_MESSAGE(recorded.count(std::string(op.name)), "op ", op.name, " never appears on the tape");
}

TEST_CASE("gradcheck reports a wrong backward") {
  // A deliberately wrong op: forward x^2, backward claims 3x.
  Fn wrong = [](const std::vector<Variable>& x) {
    return record("wrong_square", Location::current(), square(x[0].data()), {x[0]}, {x[0].data()},
                  [](const BackwardInput& in) -> std::vector<Tensor> { return {in.grad * in.saved[0] * 3.0}; });
  };
  const GradcheckResult r = gradcheck(wrong, leaves_of({rnd({5}, 1)}), kOptions);
  CHECK_FALSE(r.ok);
  CHECK(r.max_abs_error > 0.01);
  CHECK(r.message.find("input 0") != std::string::npos);
  CHECK(r.message.find("central differences") != std::string::npos);
}

TEST_CASE("gradcheck samples elements of large inputs, and checks its inputs") {
  int calls = 0;
  Fn f = [&calls](const std::vector<Variable>& x) {
    ++calls;
    return tanh(x[0]);
  };
  GradcheckOptions few = kOptions;
  few.max_samples = 10;
  CHECK(gradcheck(f, leaves_of({rnd({100, 100}, 2)}), few).ok);
  CHECK(calls == 1 + 2 * 10);  // the analytic pass, then two evaluations per probed element
  CHECK(error_of([&] { gradcheck(f, {Variable(rnd({3}, 3).to(DType::f32), true)}); }).find("float64") !=
        std::string::npos);
}

// ---- Fused ops against their composed twins ---------------------------------------------------------
// Each fused op and the same formula written with primitive ops must agree in value and in every
// gradient. Tolerances: in f64 both are exact to ~1e-15 relative per operation, so 1e-12 leaves a
// margin for the different order of operations; in f32, 2e-5 absolute on O(1) values is ~200 f32
// ulps, the accumulated rounding of a few dozen operations in different orders.

namespace {

struct TwinTolerance {
  DType dtype;
  double atol, rtol;
};
constexpr TwinTolerance kTwinTolerances[] = {{DType::f64, 1e-12, 1e-12}, {DType::f32, 2e-5, 2e-5}};

// Runs fused and composed on the same inputs, in f64 and in f32, and compares values and gradients
// (seeded with the same random grad_output).
void check_twins(const Fn& fused, const Fn& composed, const std::vector<Tensor>& values) {
  for (const TwinTolerance& tol : kTwinTolerances) {
    INFO("dtype ", dtype_name(tol.dtype));
    std::vector<Tensor> inputs;
    for (const Tensor& v : values) inputs.push_back(v.to(tol.dtype));
    std::vector<Variable> a = leaves_of(inputs), b = leaves_of(inputs);
    Variable ya = fused(a), yb = composed(b);
    CHECK_TENSOR_CLOSE(ya.data(), yb.data(), tol.atol, tol.rtol);
    Tensor seed = random_tensor(ya.shape(), tol.dtype, -1, 1, 99);
    std::vector<Tensor> ga = grad(ya, a, seed), gb = grad(yb, b, seed);
    for (size_t i = 0; i < ga.size(); ++i) {
      CAPTURE(i);
      CHECK_TENSOR_CLOSE(ga[i], gb[i], tol.atol, tol.rtol);
    }
  }
}

Variable composed_cross_entropy(const Variable& z, const Tensor& t) {
  // mean(logsumexp(z) - z[t])
  return mean(logsumexp(z, {-1}) - squeeze(gather(z, -1, t.unsqueeze(-1)), -1));
}
Variable composed_rms_norm(const Variable& x, const Variable& w, double eps) {
  return x * rsqrt(mean(square(x), {-1}, true) + eps) * w;
}
Variable composed_attention(const Variable& q, const Variable& k, const Variable& v,
                            const std::optional<Tensor>& mask) {
  Variable s = matmul(q, mT(k)) / std::sqrt(double(q.size(-1)));
  if (mask) s = masked_fill(s, logical_not(*mask), -std::numeric_limits<double>::infinity());
  return matmul(softmax(s, -1), v);
}

}  // namespace

TEST_CASE("fused ops equal their composed twins in value and gradient") {
  SUBCASE("cross_entropy") {
    Tensor t = ids({3, 0, 9, 9, 1, 5, 2, 7}, {2, 4});
    check_twins([&](auto x) { return cross_entropy(x[0], t); }, [&](auto x) { return composed_cross_entropy(x[0], t); },
                {rnd({2, 4, 10}, 1, -5, 5)});
  }
  SUBCASE("rms_norm") {
    check_twins([](auto x) { return rms_norm(x[0], x[1], 1e-5); },
                [](auto x) { return composed_rms_norm(x[0], x[1], 1e-5); },
                {rnd({3, 5, 64}, 2), rnd({64}, 3, 0.5, 1.5)});
  }
  SUBCASE("silu") {
    check_twins([](auto x) { return silu(x[0]); }, [](auto x) { return x[0] * sigmoid(x[0]); },
                {rnd({7, 9}, 4, -6, 6)});
  }
  SUBCASE("swiglu") {
    check_twins([](auto x) { return swiglu(x[0], x[1]); }, [](auto x) { return x[0] * sigmoid(x[0]) * x[1]; },
                {rnd({7, 9}, 5, -6, 6), rnd({7, 9}, 6)});
  }
  SUBCASE("scaled_dot_product_attention with a causal mask") {
    check_twins([](auto x) { return scaled_dot_product_attention(x[0], x[1], x[2], causal(6)); },
                [](auto x) { return composed_attention(x[0], x[1], x[2], causal(6)); },
                {rnd({2, 3, 6, 8}, 7), rnd({2, 3, 6, 8}, 8), rnd({2, 3, 6, 5}, 9)});
  }
  SUBCASE("scaled_dot_product_attention without a mask, Tq != Tk") {
    check_twins([](auto x) { return scaled_dot_product_attention(x[0], x[1], x[2]); },
                [](auto x) { return composed_attention(x[0], x[1], x[2], std::nullopt); },
                {rnd({4, 3, 8}, 10), rnd({4, 7, 8}, 11), rnd({4, 7, 2}, 12)});
  }
}

// ---- Documented edge cases ----------------------------------------------------------------------------

TEST_CASE("cross_entropy is stable for huge logits and checks its targets") {
  // Logits x1000: logsumexp never exponentiates a large number; the loss is finite and exact.
  Variable z(tensor({1000.0, 0.0, -1000.0, 0.0, 2000.0, 0.0}, {2, 3}, DType::f32), true);
  Variable loss = cross_entropy(z, ids({1, 1}, {2}));
  // row 0: lse = 1000, loss 1000 - 0; row 1: lse = 2000, loss 2000 - 2000 = 0; mean 500
  CHECK(loss.item<float>() == 500.0f);
  backward(loss);
  // d/dz = (softmax - onehot) / 2: row 0 = (1, -1, 0) / 2, row 1 = 0
  CHECK(z.grad().to_vector<float>() == std::vector<float>{0.5f, -0.5f, 0.0f, 0.0f, 0.0f, 0.0f});

  CHECK(error_of([&] { cross_entropy(z, ids({1, 3}, {2})); }).find("target 3 at row 1 is outside [0, 3)") !=
        std::string::npos);
  CHECK(error_of([&] { cross_entropy(z, ids({1, 1, 0}, {3})); }).find("targets of shape [2]") != std::string::npos);
}

TEST_CASE("attention: a query row with no allowed key gives NaN (like torch's masked softmax)") {
  Variable q(rnd({2, 3}, 1), true), k(rnd({2, 3}, 2), true), v(rnd({2, 3}, 3), true);
  Tensor mask = bools({1, 0, 0, 0}, {2, 2});  // query 1 may attend to nothing
  Variable o = scaled_dot_product_attention(q, k, v, mask);
  std::vector<double> out = o.data().to_vector<double>();
  CHECK(std::isfinite(out[0]));
  CHECK(std::isnan(out[3]));
  DetectAnomalyGuard anomaly;
  CHECK(error_of([&] { scaled_dot_product_attention(q, k, v, mask); }).find("'scaled_dot_product_attention'") !=
        std::string::npos);
}

TEST_CASE("ops report bad arguments, naming the op") {
  Variable x(ones({2, 3}), true);
  CHECK(error_of([&] { rms_norm(x, Variable(ones({4}))); }).find("rms_norm") != std::string::npos);
  CHECK(error_of([&] { swiglu(x, Variable(ones({3}))); }).find("swiglu") != std::string::npos);
  CHECK(error_of([&] { scaled_dot_product_attention(x, Variable(ones({2, 4})), x); })
            .find("scaled_dot_product_attention") != std::string::npos);
  CHECK(error_of([&] { embedding(Variable(ones({3}), true), ids({0}, {1})); }).find("embedding") != std::string::npos);
  CHECK(error_of([&] { reduce(x, "a b -> a", "median"); }).find("median") != std::string::npos);
}

TEST_CASE("fused ops give bitwise the same values and gradients on 1 and 2 threads") {
  // Sizes that split every fused kernel into several parallel chunks (rms_norm: blocks of 32 rows;
  // cross_entropy: 4 rows; attention: 64 rows; swiglu: 16384 elements).
  const Tensor t = randint(0, 50, {3, 40}, DType::i64);
  const std::vector<std::pair<std::string, std::function<Variable(const std::vector<Variable>&)>>> ops = {
      {"cross_entropy", [&](auto x) { return cross_entropy(x[0], t); }},
      {"rms_norm", [](auto x) { return rms_norm(x[1], x[2]); }},
      {"swiglu", [](auto x) { return swiglu(x[3], x[4]); }},
      {"scaled_dot_product_attention",
       [](auto x) { return scaled_dot_product_attention(x[5], x[6], x[7], causal(40)); }},
  };
  const std::vector<Tensor> values = {rnd({3, 40, 50}, 1, -4, 4).to(DType::f32), rnd({3, 40, 64}, 2).to(DType::f32),
                                      rnd({64}, 3).to(DType::f32),         rnd({70, 300}, 4).to(DType::f32),
                                      rnd({70, 300}, 5).to(DType::f32),    rnd({2, 4, 40, 8}, 6).to(DType::f32),
                                      rnd({2, 4, 40, 8}, 7).to(DType::f32), rnd({2, 4, 40, 8}, 8).to(DType::f32)};
  for (const auto& [name, op] : ops) {
    CAPTURE(name);
    std::vector<std::vector<float>> results[2];
    for (int n : {1, 2}) {
      with_threads(n, [&] {
        std::vector<Variable> x = leaves_of(values);
        Variable y = op(x);
        std::vector<Tensor> g = grad(y, x, random_tensor(y.shape(), DType::f32, -1, 1, 9));
        results[n - 1].push_back(y.data().to_vector<float>());
        for (const Tensor& gi : g) results[n - 1].push_back(gi.to_vector<float>());
      });
    }
    CHECK(results[0] == results[1]);
  }
}
