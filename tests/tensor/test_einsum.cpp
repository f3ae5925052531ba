// test_einsum.cpp: einsum and rearrange / repeat / reduce (tensor/einsum.cpp).
//
// Three kinds of tests:
//   - plans: plan_einsum / plan_axes on shapes alone, checked step by step (no data);
//   - values: einsum against a brute-force reference that loops over every assignment of values
//     to the labels and sums the products (no parsing, no matmul: labels are spelled out per
//     dim), and rearrange / repeat / reduce against hand-written index loops;
//   - errors: the exact message text, which quotes the pattern and names the axis.
#include "tensor/einsum.h"

#include "tensor/einsum_plan.h"

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

using namespace strata;

// Shapes, strides and dim lists print as [2, 3] in failed checks.
template <>
struct doctest::StringMaker<Dims> {
  static doctest::String convert(const Dims& d) { return fmt::format("{}", d).c_str(); }
};

namespace {

// Deterministic, irregular test values (no two equal, mixed signs), as `dtype`.
Tensor values(const Shape& shape, double seed, DType dtype = DType::f64) {
  std::vector<double> v(shape.numel());
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(1.7 * double(i) + seed) + 0.1 * seed;
  return from_vector(v, shape).to(dtype);
}

// The reference: out[out_labels] = sum over the other labels of prod_k operand_k[labels_k], by
// brute force over every assignment of values to the labels. labels_k has one letter per dim of
// operand k; a dim of size 1 broadcasts (always read at index 0). Row-major over out_labels.
std::vector<double> reference_einsum(const std::string& out_labels, const std::vector<std::string>& labels,
                                     const std::vector<Tensor>& operands) {
  std::string all;
  std::vector<int64_t> size;
  for (size_t k = 0; k < operands.size(); ++k)
    for (size_t d = 0; d < labels[k].size(); ++d) {
      const size_t at = all.find(labels[k][d]);
      if (at == std::string::npos) {
        all += labels[k][d];
        size.push_back(operands[k].size(d));
      } else if (size[at] == 1) {
        size[at] = operands[k].size(d);
      }
    }
  int64_t out_numel = 1;
  for (char c : out_labels) out_numel *= size[all.find(c)];
  std::vector<double> out(out_numel, 0.0);
  std::vector<int64_t> value(all.size(), 0);
  std::function<void(size_t)> loop = [&](size_t depth) {
    if (depth < all.size()) {
      for (value[depth] = 0; value[depth] < size[depth]; ++value[depth]) loop(depth + 1);
      return;
    }
    double product = 1.0;
    for (size_t k = 0; k < operands.size(); ++k) {
      Dims index;
      for (size_t d = 0; d < labels[k].size(); ++d)
        index.push_back(operands[k].size(d) == 1 ? 0 : value[all.find(labels[k][d])]);
      product *= operands[k].at<double>(index);
    }
    int64_t flat = 0;
    for (char c : out_labels) flat = flat * size[all.find(c)] + value[all.find(c)];
    out[flat] += product;
  };
  loop(0);
  return out;
}

// Checks t's elements (row-major) against `expected` within `tol` (absolute, relative above 1).
void check_values(const Tensor& t, const std::vector<double>& expected, double tol) {
  const std::vector<double> got = t.to_vector<double>();
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i << ": got " << got[i] << ", expected " << expected[i]);
    CHECK(std::abs(got[i] - expected[i]) <= tol * std::max(1.0, std::abs(expected[i])));
  }
}

// f64 results differ from the reference only by summation order: a few ulps of the largest
// partial sums (|values| < 2, at most ~100 terms here), far below 1e-12.
constexpr double kTolF64 = 1e-12;
// f32 (BLAS sgemm, sums of <= 64 products of values < 2): rounding ~ 64 * 2^-24 * 4 ~ 2e-5 worst
// case; 1e-4 leaves margin for the order BLAS uses.
constexpr double kTolF32 = 1e-4;

// 0, 1, 2, ... as float64 in `shape` (readable index arithmetic in the rearrange tests).
Tensor iota(const Shape& shape) { return arange(0.0, double(shape.numel()), 1.0, DType::f64).view(shape); }

}  // namespace

// ---- einsum plans --------------------------------------------------------------------------------

TEST_CASE("einsum plan: batch matmul is one (batch, M, K) @ (batch, K, N) product") {
  const EinsumPlan plan = plan_einsum("bij,bjk->bik", {{2, 3, 4}, {2, 4, 5}});
  REQUIRE(plan.products.size() == 1);
  const EinsumProduct& p = plan.products[0];
  CHECK(p.batch == "b");
  CHECK(p.contracted == "j");
  CHECK(p.left_only == "i");
  CHECK(p.right_only == "k");
  CHECK(p.left_perm == Dims{0, 1, 2});
  CHECK(p.right_perm == Dims{0, 1, 2});
  CHECK(p.left_shape == Shape{2, 3, 4});
  CHECK(p.right_shape == Shape{2, 4, 5});
  CHECK(p.use_matmul);
  CHECK(p.result_labels == "bik");
  CHECK(p.result_shape == Shape{2, 3, 5});
  CHECK(plan.output_perm == Dims{0, 1, 2});
  CHECK(plan.output_shape == Shape{2, 3, 5});
  for (const EinsumOperandPlan& op : plan.operands) {
    CHECK(op.diagonals.empty());
    CHECK(op.sum_dims.empty());
  }
}

TEST_CASE("einsum plan: x @ W^T permutes W into a transposed (K, N) view") {
  const EinsumPlan plan = plan_einsum("ij,kj->ik", {{8, 16}, {32, 16}});
  const EinsumProduct& p = plan.products[0];
  CHECK(p.batch.empty());
  CHECK(p.contracted == "j");
  CHECK(p.right_perm == Dims{1, 0});  // "kj" -> (j, k)
  CHECK(p.left_shape == Shape{8, 16});
  CHECK(p.right_shape == Shape{16, 32});
  CHECK(plan.output_shape == Shape{8, 32});
}

TEST_CASE("einsum plan: batch dims stay apart (no copy to merge strided b and h)") {
  // Attention scores from (b, t, h, d) queries and keys: b and h are batch dims whose strides
  // (t*h*d, d) cannot merge into one, so they stay two batch dims of the matmul.
  const EinsumPlan plan = plan_einsum("bthd,bshd->bhts", {{2, 5, 4, 8}, {2, 6, 4, 8}});
  const EinsumProduct& p = plan.products[0];
  CHECK(p.batch == "bh");
  CHECK(p.left_perm == Dims{0, 2, 1, 3});
  CHECK(p.left_shape == Shape{2, 4, 5, 8});
  CHECK(p.right_perm == Dims{0, 2, 3, 1});
  CHECK(p.right_shape == Shape{2, 4, 8, 6});
  CHECK(plan.output_shape == Shape{2, 4, 5, 6});
  // Beyond kMaxDims - 2 batch labels they merge into one, leaving room for the matrix dims.
  const EinsumPlan many = plan_einsum("abcdefg,abcdefg->abcdefg", {Shape::filled(7, 2), Shape::filled(7, 2)});
  CHECK(many.products[0].left_shape == Shape{128, 1, 1});
  CHECK(many.products[0].result_shape == Shape::filled(7, 2));
}

TEST_CASE("einsum plan: implicit output is the labels seen once, sorted (uppercase first)") {
  CHECK(plan_einsum("ij,jk", {{2, 3}, {3, 4}}).output_labels == "ik");
  CHECK(plan_einsum("ba", {{2, 3}}).output_labels == "ab");
  CHECK(plan_einsum("ba", {{2, 3}}).output_perm == Dims{1, 0});
  CHECK(plan_einsum("bA", {{2, 3}}).output_labels == "Ab");
  CHECK(plan_einsum("ii", {{3, 3}}).output_labels.empty());
  CHECK(plan_einsum("...ij", {{5, 2, 3}}).output_labels == "0ij");
  CHECK(plan_einsum(" i j -> j i ", {{2, 3}}).output_labels == "ji");  // spaces are ignored
}

TEST_CASE("einsum plan: repeated labels take diagonals, unneeded labels are summed") {
  SUBCASE("trace") {
    const EinsumPlan plan = plan_einsum("ii", {{3, 3}});
    const EinsumOperandPlan& op = plan.operands[0];
    CHECK(op.diagonals == std::vector<std::pair<int64_t, int64_t>>{{0, 1}});
    CHECK(op.sum_dims == Dims{0});
    CHECK(op.reduced_labels.empty());
    CHECK(plan.output_shape == Shape{});
  }
  SUBCASE("diagonal: the diagonal becomes the last dim") {
    const EinsumPlan plan = plan_einsum("iij->ji", {{2, 2, 5}});
    const EinsumOperandPlan& op = plan.operands[0];
    CHECK(op.diagonals == std::vector<std::pair<int64_t, int64_t>>{{0, 1}});
    CHECK(op.sum_dims.empty());
    CHECK(op.reduced_labels == "ji");
    CHECK(plan.output_perm == Dims{0, 1});
    CHECK(plan.output_shape == Shape{5, 2});
  }
  SUBCASE("a label in one operand only, absent from the output, is summed before the product") {
    const EinsumPlan plan = plan_einsum("ij,jk->k", {{2, 3}, {3, 4}});
    CHECK(plan.operands[0].sum_dims == Dims{0});
    CHECK(plan.operands[0].reduced_labels == "j");
    CHECK(plan.operands[1].sum_dims.empty());
    CHECK(plan.products[0].contracted == "j");
    CHECK(plan.products[0].left_shape == Shape{1, 3});
  }
  SUBCASE("sum over all") {
    const EinsumPlan plan = plan_einsum("ij->", {{2, 3}});
    CHECK(plan.operands[0].sum_dims == Dims{0, 1});
    CHECK(plan.output_shape == Shape{});
  }
}

TEST_CASE("einsum plan: outer product uses a broadcast mul, not a GEMM with K = 1") {
  const EinsumPlan plan = plan_einsum("i,j->ij", {{3}, {4}});
  const EinsumProduct& p = plan.products[0];
  CHECK(!p.use_matmul);
  CHECK(p.left_shape == Shape{3, 1});
  CHECK(p.right_shape == Shape{1, 4});
  CHECK(p.result_shape == Shape{3, 4});
}

TEST_CASE("einsum plan: ellipsis dims are labelled '0'.. and broadcast right-aligned") {
  const EinsumPlan plan = plan_einsum("...ij,...jk->...ik", {{2, 3, 4, 5}, {3, 5, 6}});
  CHECK(plan.operands[0].labels == "01ij");
  CHECK(plan.operands[1].labels == "1jk");
  const EinsumProduct& p = plan.products[0];
  CHECK(p.batch == "1");
  CHECK(p.left_only == "0i");
  CHECK(p.contracted == "j");
  CHECK(p.right_only == "k");
  CHECK(p.left_shape == Shape{3, 8, 5});
  CHECK(p.right_shape == Shape{3, 5, 6});
  CHECK(p.result_labels == "10ik");
  CHECK(plan.output_labels == "01ik");
  CHECK(plan.output_perm == Dims{1, 0, 2, 3});
  CHECK(plan.output_shape == Shape{2, 3, 4, 6});
}

TEST_CASE("einsum plan: a size-1 dim broadcasting against a larger one is squeezed away") {
  // Operand 0 is constant along dim 0 of "...", so it drops out of that operand.
  const EinsumPlan plan = plan_einsum("...i,...i", {{1, 3}, {4, 3}});
  CHECK(plan.operands[0].sum_dims == Dims{0});
  CHECK(plan.operands[0].reduced_labels == "i");
  CHECK(plan.operands[1].reduced_labels == "0i");
  CHECK(plan.products[0].contracted == "i");
  CHECK(plan.products[0].right_only == "0");
  CHECK(plan.output_shape == Shape{4});
}

TEST_CASE("einsum plan: three operands contract left to right") {
  // Bilinear form out[b, a] = sum_{n, m} x[b, n] W[a, n, m] y[b, m].
  const EinsumPlan plan = plan_einsum("bn,anm,bm->ba", {{2, 3}, {4, 3, 5}, {2, 5}});
  REQUIRE(plan.products.size() == 2);
  const EinsumProduct& first = plan.products[0];  // (bn) with (anm): b is still needed by operand 2
  CHECK(first.batch.empty());
  CHECK(first.contracted == "n");
  CHECK(first.left_only == "b");
  CHECK(first.right_only == "am");
  CHECK(first.right_perm == Dims{1, 0, 2});
  CHECK(first.result_labels == "bam");
  const EinsumProduct& second = plan.products[1];  // (bam) with (bm)
  CHECK(second.batch == "b");
  CHECK(second.contracted == "m");
  CHECK(second.left_only == "a");
  CHECK(second.right_only.empty());
  CHECK(second.left_shape == Shape{2, 4, 5});
  CHECK(second.right_shape == Shape{2, 5, 1});
  CHECK(plan.output_perm == Dims{0, 1});
  CHECK(plan.output_shape == Shape{2, 4});
}

TEST_CASE("einsum plan from labels: the parsed equation's plan, without parsing") {
  // "...ij,...jk->...ik" spelled out in plan labels (ellipsis dims are digits), as einsum's
  // backward passes them.
  const std::vector<Shape> shapes{{2, 3, 4, 5}, {3, 5, 6}};
  const EinsumPlan parsed = plan_einsum("...ij,...jk->...ik", shapes);
  const EinsumPlan labelled = plan_einsum({"01ij", "1jk"}, "01ik", shapes);
  CHECK(labelled.operands[0].labels == parsed.operands[0].labels);
  CHECK(labelled.operands[1].labels == parsed.operands[1].labels);
  CHECK(labelled.products[0].result_labels == parsed.products[0].result_labels);
  CHECK(labelled.products[0].left_shape == parsed.products[0].left_shape);
  CHECK(labelled.products[0].right_shape == parsed.products[0].right_shape);
  CHECK(labelled.output_perm == parsed.output_perm);
  CHECK(labelled.output_shape == parsed.output_shape);
  const std::vector<Tensor> operands{values(shapes[0], 0.2), values(shapes[1], 1.2)};
  check_values(einsum(labelled, operands), reference_einsum("01ik", {"01ij", "1jk"}, operands), kTolF64);

  // Errors quote the labels as given.
  auto message = [](const std::vector<std::string>& inputs, const std::string& output,
                    const std::vector<Shape>& shapes) {
    try {
      plan_einsum(inputs, output, shapes);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message({"i", "j"}, "ij", {{2}}) == "einsum \"i,j->ij\": 2 label strings for 1 operands");
  CHECK(message({"ij"}, "i", {{2}}) == "einsum \"ij->i\": operand 0 has 1 dims (shape [2]) but 2 labels");
  CHECK(message({"0i"}, "00", {{2, 3}}) == "einsum \"0i->00\": dimension 0 of ... appears twice in the output");
  CHECK(message({"0i"}, "1", {{2, 3}}) ==
        "einsum \"0i->1\": dimension 1 of ... of the output appears in no operand");
}

TEST_CASE("einsum errors quote the equation and name the label or operand") {
  auto message = [](const std::string& eq, const std::vector<Shape>& shapes) {
    try {
      plan_einsum(eq, shapes);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message("bij,bjk->bik", {{2, 2, 3}, {2, 4, 5}}) ==
        "einsum \"bij,bjk->bik\": label j has size 3 in operand 0 but 4 in operand 1 (sizes must match, or be 1 "
        "to broadcast)");
  CHECK(message("...i,...i", {{2, 3}, {4, 3}}) ==
        "einsum \"...i,...i\": dimension 0 of ... has size 2 in operand 0 but 4 in operand 1 (sizes must match, or "
        "be 1 to broadcast)");
  CHECK(message("ii", {{2, 3}}) ==
        "einsum \"ii\": label i appears twice in operand 0 (shape [2, 3]) with sizes 2 and 3; a repeated label "
        "takes the diagonal and needs equal sizes");
  CHECK(message("ij,jk", {{2, 3, 4}, {3, 4}}) ==
        "einsum \"ij,jk\": operand 0 has 3 dims (shape [2, 3, 4]) but its subscript names 2");
  CHECK(message("ijk...", {{2, 3}}) ==
        "einsum \"ijk...\": operand 0 has 2 dims (shape [2, 3]) but its subscript names 3 besides ...");
  CHECK(message("ij,jk->ik", {{2, 3}}) ==
        "einsum \"ij,jk->ik\": the equation has 2 operand subscripts but 1 operands were given");
  CHECK(message("ij->ik", {{2, 3}}) == "einsum \"ij->ik\": label k of the output appears in no operand");
  CHECK(message("ij->ii", {{2, 3}}) == "einsum \"ij->ii\": label i appears twice in the output");
  CHECK(message("i2", {{2, 3}}) ==
        "einsum \"i2\": invalid character '2' in operand 0; hint: labels are letters a-z and A-Z, and ... stands "
        "for broadcast dimensions");
  CHECK(message("...i...", {{2, 3}}) == "einsum \"...i...\": ... appears twice in operand 0");
  CHECK(message("i->i->i", {{2}}) == "einsum \"i->i->i\": -> appears more than once");
}

// ---- einsum values -------------------------------------------------------------------------------

TEST_CASE("einsum values match the brute-force reference") {
  struct Case {
    std::string equation;
    std::vector<Shape> shapes;
    std::string reference_out;                   // output labels, one per output dim
    std::vector<std::string> reference_labels;   // one label per operand dim ("..." spelled out)
  };
  const std::vector<Case> cases = {
      {"ij->ji", {{3, 4}}, "ji", {"ij"}},                                         // transpose
      {"ii", {{4, 4}}, "", {"ii"}},                                               // trace
      {"ii->i", {{4, 4}}, "i", {"ii"}},                                           // diagonal
      {"iij->ji", {{3, 3, 2}}, "ji", {"iij"}},                                    // diagonal, extra dim
      {"bij,bjk->bik", {{2, 3, 4}, {2, 4, 5}}, "bik", {"bij", "bjk"}},            // batch matmul
      {"bn,anm,bm->ba", {{2, 3}, {4, 3, 5}, {2, 5}}, "ba", {"bn", "anm", "bm"}},  // bilinear
      {"...ij,...jk->...ik", {{2, 3, 4, 5}, {3, 5, 2}}, "xyik", {"xyij", "yjk"}}, // ellipsis
      {"...ij->...ji", {{2, 3, 4}}, "xji", {"xij"}},
      {"ij,jk", {{3, 4}, {4, 2}}, "ik", {"ij", "jk"}},                            // implicit output
      {"kj,ji", {{3, 4}, {4, 2}}, "ik", {"kj", "ji"}},                            // implicit: sorted
      {"i,j->ij", {{3}, {4}}, "ij", {"i", "j"}},                                  // outer product
      {"ij->", {{3, 4}}, "", {"ij"}},                                             // sum over all
      {"ij->j", {{3, 4}}, "j", {"ij"}},                                           // column sums
      {"ij,ij->ij", {{3, 4}, {3, 4}}, "ij", {"ij", "ij"}},                        // elementwise
      {"bi,bi->b", {{5, 3}, {5, 3}}, "b", {"bi", "bi"}},                          // batched dot
      {"ij,kj->ik", {{3, 4}, {5, 4}}, "ik", {"ij", "kj"}},                        // x @ W^T
      {"ji,jk->ik", {{4, 3}, {4, 5}}, "ik", {"ji", "jk"}},                        // x^T @ y
      {"ij,jk,kl->il", {{2, 3}, {3, 4}, {4, 2}}, "il", {"ij", "jk", "kl"}},       // chain
      {"xi,ij,xj->i", {{2, 3}, {3, 4}, {2, 4}}, "i", {"xi", "ij", "xj"}},         // label skips an operand
      {"...i,...i", {{1, 3}, {4, 3}}, "x", {"xi", "xi"}},                         // ellipsis broadcast
      {"i,i->i", {{1}, {3}}, "i", {"i", "i"}},                                    // label broadcast (torch)
      {"bhqd,bhkd->bhqk", {{2, 2, 3, 4}, {2, 2, 5, 4}}, "bhqk", {"bhqd", "bhkd"}},  // attention scores
      {"iijj->ij", {{2, 2, 3, 3}}, "ij", {"iijj"}},                               // two diagonals
      {"iii->i", {{3, 3, 3}}, "i", {"iii"}},                                      // a label thrice
      {"bthd,bshd->bhts", {{2, 3, 2, 4}, {2, 5, 2, 4}}, "bhts", {"bthd", "bshd"}},  // strided batch dims
      {"abcdefg,abcdefg->abcdefg", {Shape::filled(7, 2), Shape::filled(7, 2)}, "abcdefg", {"abcdefg", "abcdefg"}},
      {"a...,...->...", {{2, 3}, {3}}, "x", {"ax", "x"}},                         // ellipsis in one operand
  };
  for (const Case& c : cases) {
    CAPTURE(c.equation);
    std::vector<Tensor> operands;
    for (size_t k = 0; k < c.shapes.size(); ++k) operands.push_back(values(c.shapes[k], 0.3 + double(k)));
    const Tensor out = einsum(c.equation, operands);
    const EinsumPlan plan = plan_einsum(c.equation, c.shapes);
    CHECK(out.shape() == plan.output_shape);
    check_values(out, reference_einsum(c.reference_out, c.reference_labels, operands), kTolF64);
  }
}

TEST_CASE("einsum reads strided, sliced and broadcast (stride 0) operands") {
  const Tensor a = values({4, 3}, 0.4).transpose(0, 1);                 // (3, 4), strides (1, 3)
  const Tensor b = values({4, 10}, 1.4).slice(1, 0, 10, 2);             // (4, 5), strides (10, 2)
  const Tensor c = values({5}, 2.4).unsqueeze(0).expand({3, 5});        // (3, 5), strides (0, 1)
  const Tensor out = einsum("ij,jk,ik->ik", {a, b, c});
  check_values(out, reference_einsum("ik", {"ij", "jk", "ik"}, {a, b, c}), kTolF64);
  const Tensor batched = values({2, 4, 3}, 0.9).permute({2, 0, 1});   // (3, 2, 4), non-contiguous
  check_values(einsum("bij,jk->bik", {batched, b}), reference_einsum("bik", {"bij", "jk"}, {batched, b}), kTolF64);
}

TEST_CASE("einsum literal values") {
  const Tensor m = tensor({1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3}, DType::f64);
  CHECK(einsum("ii", {m}).item<double>() == 15.0);
  CHECK(einsum("ii->i", {m}).to_vector<double>() == std::vector<double>{1, 5, 9});
  CHECK(einsum("ij->", {m}).item<double>() == 45.0);
  const Tensor a = tensor({1, 2}, DType::f64), b = tensor({3, 4, 5}, DType::f64);
  CHECK(einsum("i,j->ij", {a, b}).to_vector<double>() == std::vector<double>{3, 4, 5, 6, 8, 10});
}

TEST_CASE("einsum in float32 through sgemm") {
  const Tensor a = values({4, 8, 16}, 0.5, DType::f32), b = values({4, 16, 8}, 1.5, DType::f32);
  const Tensor out = einsum("bij,bjk->bik", {a, b});
  CHECK(out.dtype() == DType::f32);
  check_values(out, reference_einsum("bik", {"bij", "bjk"}, {a.to(DType::f64), b.to(DType::f64)}), kTolF32);
}

TEST_CASE("einsum of one operand is a view when it only permutes or takes diagonals") {
  const Tensor m = values({3, 3}, 0.1);
  const Tensor t = einsum("ij->ji", {m});
  CHECK(t.shares_storage(m));
  CHECK(t.strides() == Strides{1, 3});
  CHECK(einsum("ii->i", {m}).shares_storage(m));
}

TEST_CASE("einsum rejects operands of different dtypes") {
  CHECK_THROWS_WITH_AS(einsum("i,i->i", {zeros({2}), zeros({2}, DType::f64)}),
                       "einsum \"i,i->i\": operand 1 is float64 but operand 0 is float32; hint: convert with "
                       ".to(DType::...) first",
                       Error);
}

// ---- rearrange / repeat / reduce plans -------------------------------------------------------------

TEST_CASE("axes plan: split heads") {
  const AxesPlan plan = plan_axes(AxisOp::rearrange, "b t (h d) -> b h t d", {2, 5, 12}, {{"h", 3}});
  CHECK(plan.left_axes == std::vector<std::string>{"b", "t", "h", "d"});
  CHECK(plan.right_axes == std::vector<std::string>{"b", "h", "t", "d"});
  CHECK(plan.unflat_shape == Shape{2, 5, 3, 4});  // d = 12 / 3 inferred
  CHECK(plan.reduce_dims.empty());
  CHECK(plan.permutation == Dims{0, 2, 1, 3});
  CHECK(plan.new_axes.empty());
  CHECK(plan.expanded_shape == Shape{2, 3, 5, 4});
  CHECK(plan.output_shape == Shape{2, 3, 5, 4});
}

TEST_CASE("axes plan: merge heads") {
  const AxesPlan plan = plan_axes(AxisOp::rearrange, "b h t d -> b t (h d)", {2, 3, 5, 4}, {});
  CHECK(plan.unflat_shape == Shape{2, 3, 5, 4});
  CHECK(plan.permutation == Dims{0, 2, 1, 3});
  CHECK(plan.output_shape == Shape{2, 5, 12});
}

TEST_CASE("axes plan: repeat adds axes, reduce removes them") {
  const AxesPlan rep = plan_axes(AxisOp::repeat, "h w -> h w c", {2, 3}, {{"c", 4}});
  CHECK(rep.permutation == Dims{0, 1});
  CHECK(rep.new_axes == Dims{2});
  CHECK(rep.expanded_shape == Shape{2, 3, 4});
  CHECK(rep.output_shape == Shape{2, 3, 4});

  const AxesPlan tile = plan_axes(AxisOp::repeat, "h w -> (r h) w", {2, 3}, {{"r", 2}});
  CHECK(tile.new_axes == Dims{0});
  CHECK(tile.expanded_shape == Shape{2, 2, 3});
  CHECK(tile.output_shape == Shape{4, 3});

  const AxesPlan red = plan_axes(AxisOp::reduce, "b t c -> b c", {2, 5, 7}, {});
  CHECK(red.reduce_dims == Dims{1});
  CHECK(red.permutation == Dims{0, 1});
  CHECK(red.output_shape == Shape{2, 7});

  const AxesPlan pool = plan_axes(AxisOp::reduce, "b (t 2) c -> b t c", {2, 6, 7}, {});
  CHECK(pool.unflat_shape == Shape{2, 3, 2, 7});
  CHECK(pool.reduce_dims == Dims{2});
  CHECK(pool.output_shape == Shape{2, 3, 7});
}

TEST_CASE("axes plan: ellipsis and unit axes") {
  const AxesPlan flat = plan_axes(AxisOp::rearrange, "b ... c -> b c (...)", {2, 3, 4, 5}, {});
  CHECK(flat.left_axes == std::vector<std::string>{"b", "...0", "...1", "c"});
  CHECK(flat.permutation == Dims{0, 3, 1, 2});
  CHECK(flat.output_shape == Shape{2, 5, 12});

  const AxesPlan none = plan_axes(AxisOp::rearrange, "... h w -> ... w h", {2, 3}, {});
  CHECK(none.permutation == Dims{1, 0});
  CHECK(none.output_shape == Shape{3, 2});

  const AxesPlan squeeze = plan_axes(AxisOp::rearrange, "b 1 c -> b c", {2, 1, 3}, {});
  CHECK(squeeze.reduce_dims == Dims{1});
  CHECK(squeeze.output_shape == Shape{2, 3});

  const AxesPlan unsqueeze = plan_axes(AxisOp::rearrange, "b c -> b 1 c ()", {2, 3}, {});
  CHECK(unsqueeze.new_axes == Dims{1});
  CHECK(unsqueeze.output_shape == Shape{2, 1, 3, 1});
}

TEST_CASE("axes errors quote the pattern and name the axis") {
  auto message = [](AxisOp op, const std::string& pattern, const Shape& shape, const AxisSizes& sizes) {
    try {
      plan_axes(op, pattern, shape, sizes);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const AxisOp R = AxisOp::rearrange;
  CHECK(message(R, "h w -> h c", {2, 3}, {}) ==
        "rearrange \"h w -> h c\": unknown axis c on the right: it is not on the left side");
  CHECK(message(R, "h w -> h", {2, 3}, {}) ==
        "rearrange \"h w -> h\": axis w is missing on the right; rearrange keeps every axis but unit ones; hint: "
        "reduce removes axes");
  CHECK(message(R, "(h d) -> h d", {10}, {{"h", 3}}) ==
        "rearrange \"(h d) -> h d\": dim 0 of the input (shape [10]) has size 10, not divisible by 3 (h=3) to infer "
        "d in (h d)");
  CHECK(message(R, "(h d) -> h d", {12}, {{"h", 3}, {"d", 5}}) ==
        "rearrange \"(h d) -> h d\": dim 0 of the input (shape [12]) has size 12, but (h d) has size 15 (h=3 d=5)");
  CHECK(message(R, "(h d) -> h d", {12}, {}) ==
        "rearrange \"(h d) -> h d\": cannot infer the sizes of both h and d in (h d) (dim 0 of the input has size "
        "12); hint: give all but one of a group's axes in sizes");
  CHECK(message(R, "h h -> h", {2, 2}, {}) == "rearrange \"h h -> h\": axis h appears twice on the left side");
  CHECK(message(R, "h w -> w h", {2, 3, 4}, {}) ==
        "rearrange \"h w -> w h\": the left side names 2 dims but the input has 3 (shape [2, 3, 4])");
  CHECK(message(R, "h w c ... -> h", {2, 3}, {}) ==
        "rearrange \"h w c ... -> h\": the left side names at least 3 dims but the input has 2 (shape [2, 3])");
  CHECK(message(R, "h w -> w h", {2, 3}, {{"c", 3}}) ==
        "rearrange \"h w -> w h\": sizes gives axis c, which the pattern does not use");
  CHECK(message(R, "h w -> w h 2", {2, 3}, {}) ==
        "rearrange \"h w -> w h 2\": anonymous axis 2 on the right; rearrange only allows 1 (a unit axis); hint: "
        "repeat adds axes of other sizes");
  CHECK(message(R, "(h ...) -> h", {2}, {}) ==
        "rearrange \"(h ...) -> h\": ... inside parentheses on the left side cannot be split");
  CHECK(message(R, "h -> h ...", {2}, {}) == "rearrange \"h -> h ...\": ... on the right side but not on the left");
  CHECK(message(R, "h w", {2, 3}, {}) ==
        "rearrange \"h w\": the pattern needs exactly one -> between the input and output axes");
  CHECK(message(R, "(h w -> h w", {2, 3}, {}) == "rearrange \"(h w -> h w\": '(' without ')' on the left side");
  CHECK(message(R, "h w -> h+w", {2, 3}, {}) ==
        "rearrange \"h w -> h+w\": invalid character '+' on the right side; hint: axes are names, integer literals, "
        "(groups) and ...");
  CHECK(message(AxisOp::repeat, "h w -> h w c", {2, 3}, {}) ==
        "repeat \"h w -> h w c\": new axis c on the right needs its size; hint: pass {{\"c\", n}}");
  CHECK(message(AxisOp::reduce, "b t -> b c", {2, 3}, {}) ==
        "reduce \"b t -> b c\": unknown axis c on the right: it is not on the left side");
  CHECK_THROWS_WITH_AS(reduce(zeros({2, 3}), "b t -> b", "median"),
                       "reduce \"b t -> b\": unknown reduction \"median\"; hint: use \"sum\", \"mean\", \"max\" or "
                       "\"min\"",
                       Error);
}

// ---- rearrange / repeat / reduce values --------------------------------------------------------------

TEST_CASE("rearrange splits and merges heads") {
  const int64_t B = 2, T = 3, H = 2, D = 4;
  const Tensor x = iota({B, T, H * D});  // x[b, t, c] = (b*T + t)*H*D + c
  const Tensor y = rearrange(x, "b t (h d) -> b h t d", {{"h", H}});
  REQUIRE(y.shape() == Shape{B, H, T, D});
  CHECK(y.shares_storage(x));  // a pure view: reshape + permute
  std::vector<double> expected;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t d = 0; d < D; ++d) expected.push_back(double((b * T + t) * H * D + h * D + d));
  check_values(y, expected, 0.0);  // exact: values are copied, not computed

  // And back: (b h t d) -> (b t (h d)) restores x (a copy, since h and d are no longer adjacent).
  const Tensor back = rearrange(y, "b h t d -> b t (h d)");
  CHECK(back.shape() == x.shape());
  check_values(back, x.to_vector<double>(), 0.0);
}

TEST_CASE("rearrange transposes, splits a leading dim, and is a view when strides allow") {
  const Tensor x = iota({3, 4});
  const Tensor t = rearrange(x, "h w -> w h");
  CHECK(t.shares_storage(x));
  CHECK(t.strides() == Strides{1, 4});
  std::vector<double> expected;
  for (int64_t w = 0; w < 4; ++w)
    for (int64_t h = 0; h < 3; ++h) expected.push_back(double(h * 4 + w));
  check_values(t, expected, 0.0);

  const Tensor z = iota({6, 5});
  const Tensor s = rearrange(z, "(b1 b2) c -> b1 b2 c", {{"b1", 2}});
  CHECK(s.shape() == Shape{2, 3, 5});
  CHECK(s.shares_storage(z));
  check_values(s, z.to_vector<double>(), 0.0);  // same row-major order

  const Tensor e = iota({2, 3, 4, 5});
  const Tensor f = rearrange(e, "... h w -> ... w h");
  CHECK(f.shape() == Shape{2, 3, 5, 4});
  CHECK(f.at<double>({1, 2, 3, 0}) == e.at<double>({1, 2, 0, 3}));
  const Tensor g = rearrange(e, "b ... -> b (...)");
  CHECK(g.shape() == Shape{2, 60});
  CHECK(g.shares_storage(e));
  check_values(g, e.to_vector<double>(), 0.0);
}

TEST_CASE("repeat broadcasts new axes") {
  const Tensor x = iota({2, 3});
  const Tensor y = repeat(x, "h w -> h w c", {{"c", 4}});
  REQUIRE(y.shape() == Shape{2, 3, 4});
  std::vector<double> expected;
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t w = 0; w < 3; ++w)
      for (int64_t c = 0; c < 4; ++c) expected.push_back(double(h * 3 + w));
  check_values(y, expected, 0.0);

  const Tensor tiled = repeat(x, "h w -> (r h) w", {{"r", 2}});  // like torch x.repeat(2, 1)
  REQUIRE(tiled.shape() == Shape{4, 3});
  check_values(tiled, {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5}, 0.0);

  const Tensor interleaved = repeat(x, "h w -> h (w r)", {{"r", 2}});  // like torch repeat_interleave
  check_values(interleaved, {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5}, 0.0);
}

TEST_CASE("reduce: mean, max, sum, min over removed axes") {
  const int64_t B = 2, T = 3, C = 4;
  const Tensor x = values({B, T, C}, 0.7);
  std::vector<double> mean_bc, max_bc;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      double s = 0, m = -std::numeric_limits<double>::infinity();
      for (int64_t t = 0; t < T; ++t) {
        s += x.at<double>({b, t, c});
        m = std::max(m, x.at<double>({b, t, c}));
      }
      mean_bc.push_back(s / T);
      max_bc.push_back(m);
    }
  check_values(reduce(x, "b t c -> b c", "mean"), mean_bc, kTolF64);
  check_values(reduce(x, "b t c -> b c", "max"), max_bc, 0.0);  // max is exact

  // Everything but c summed, and a kept unit axis.
  std::vector<double> sum_c(C, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t c = 0; c < C; ++c) sum_c[c] += x.at<double>({b, t, c});
  const Tensor s = reduce(x, "... c -> 1 c", "sum");
  CHECK(s.shape() == Shape{1, C});
  check_values(s, sum_c, kTolF64);

  // Min-pool pairs along t: (t 2) with t = 2 on a length-4 axis.
  const Tensor p = values({1, 4, 2}, 0.2);
  std::vector<double> pooled;
  for (int64_t t = 0; t < 2; ++t)
    for (int64_t c = 0; c < 2; ++c)
      pooled.push_back(std::min(p.at<double>({0, 2 * t, c}), p.at<double>({0, 2 * t + 1, c})));
  check_values(reduce(p, "b (t 2) c -> b t c", "min"), pooled, 0.0);
}
