// test_ops_elementwise.cpp: the elementwise ops of ops.h and the in-place writes of tensor.h.
//
// Every op runs on contiguous, transposed, step-sliced and expanded (stride 0) inputs in float32
// and float64 and is compared with the scalar reference (naive::unary / naive::binary). The
// tolerances:
//   exact   for +, -, *, /, pow (libm on both sides), maximum, minimum, comparisons, neg, abs,
//           relu, square, sqrt, rsqrt: IEEE arithmetic rounds each of these the same way
//           wherever it runs (the build uses -ffp-contract=off, so no fused multiply-adds).
//   ulps    for exp, log, sin, cos, tanh, sigmoid, silu, gelu: the fast path uses xsimd's
//           polynomial approximations and the reference libm's; both are within a few ulp of
//           the true value, so they may differ by the sum of the two errors (kUlp below,
//           measured worst cases 1-2 ulp). gelu in float32 uses xsimd's erfc, measured up to 24
//           ulp from libm in the far negative tail (|gelu(x)| < 1e-5 for x < -4) and 9 ulp
//           elsewhere: allowed 32. In float64 both sides use libm's erfc.
// Besides, a fast op gives bitwise the same values for a strided input as for a contiguous copy
// of it: every element goes through the same SIMD formula (tails use padded batches).
#include "tensor/ops.h"

#include "tensor/parallel.h"
#include "tests/testing/tensor_testing.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

using namespace strata;
using namespace strata::testing;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Rows of 37 elements: 2 full AVX-512 float batches and a tail of 5 (4 and 5 with AVX2).
const Shape kSmall{6, 37};
// 70 * 1031 = 72170 elements: three parallel chunks of 32768.
const Shape kLarge{70, 1031};

struct UnaryCase {
  const char* name;
  naive::Unary ref;
  Tensor (*fast)(const Tensor&);
  double lo, hi;  // input range
  int64_t ulp;    // allowed distance from the reference (0 = exact)
};

// kUlp: the few ulp that two correct implementations of one function may differ by.
constexpr int64_t kUlp = 4;
const UnaryCase kUnary[] = {
    {"neg", naive::Unary::neg, [](const Tensor& x) { return neg(x); }, -10, 10, 0},
    {"abs", naive::Unary::abs, [](const Tensor& x) { return abs(x); }, -10, 10, 0},
    {"relu", naive::Unary::relu, [](const Tensor& x) { return relu(x); }, -10, 10, 0},
    {"square", naive::Unary::square, [](const Tensor& x) { return square(x); }, -10, 10, 0},
    {"sqrt", naive::Unary::sqrt, [](const Tensor& x) { return sqrt(x); }, 0, 100, 0},
    {"rsqrt", naive::Unary::rsqrt, [](const Tensor& x) { return rsqrt(x); }, 1e-3, 100, 0},
    {"exp", naive::Unary::exp, [](const Tensor& x) { return exp(x); }, -80, 80, kUlp},
    {"log", naive::Unary::log, [](const Tensor& x) { return log(x); }, 1e-6, 1e6, kUlp},
    {"sin", naive::Unary::sin, [](const Tensor& x) { return sin(x); }, -10, 10, kUlp},
    {"cos", naive::Unary::cos, [](const Tensor& x) { return cos(x); }, -10, 10, kUlp},
    {"tanh", naive::Unary::tanh, [](const Tensor& x) { return tanh(x); }, -10, 10, kUlp},
    {"sigmoid", naive::Unary::sigmoid, [](const Tensor& x) { return sigmoid(x); }, -20, 20, kUlp},
    {"silu", naive::Unary::silu, [](const Tensor& x) { return silu(x); }, -20, 20, kUlp},
    {"gelu", naive::Unary::gelu, [](const Tensor& x) { return gelu(x); }, -8, 8, 32},
};

struct BinaryCase {
  const char* name;
  naive::Binary ref;
  Tensor (*fast)(const Tensor&, const Tensor&);
  double lo, hi;
};
const BinaryCase kBinary[] = {
    {"add", naive::Binary::add, [](const Tensor& a, const Tensor& b) { return add(a, b); }, -10, 10},
    {"sub", naive::Binary::sub, [](const Tensor& a, const Tensor& b) { return sub(a, b); }, -10, 10},
    {"mul", naive::Binary::mul, [](const Tensor& a, const Tensor& b) { return mul(a, b); }, -10, 10},
    {"div", naive::Binary::div, [](const Tensor& a, const Tensor& b) { return div(a, b); }, 0.5, 10},
    {"pow", naive::Binary::pow, [](const Tensor& a, const Tensor& b) { return pow(a, b); }, 0.5, 4},
    {"maximum", naive::Binary::maximum, [](const Tensor& a, const Tensor& b) { return maximum(a, b); }, -10, 10},
    {"minimum", naive::Binary::minimum, [](const Tensor& a, const Tensor& b) { return minimum(a, b); }, -10, 10},
};

const DType kFloating[] = {DType::f32, DType::f64};

}  // namespace

TEST_CASE("broadcast_shapes follows NumPy and names the op in its error") {
  CHECK(broadcast_shapes({2, 1, 4}, {3, 1}, "add") == Shape{2, 3, 4});
  CHECK(broadcast_shapes({}, {5}, "add") == Shape{5});
  CHECK(broadcast_shapes({0, 1}, {1, 3}, "add") == Shape{0, 3});
  CHECK_THROWS_WITH_AS(broadcast_shapes({2, 3}, {4}, "mul"),
                       "mul: shapes [2, 3] and [4] do not broadcast: sizes 3 and 4 at dimension -1; hint: aligned "
                       "from the right, sizes must be equal or 1 (unsqueeze or reshape one operand)",
                       Error);
}

TEST_CASE("unary ops match the scalar reference on every layout") {
  for (const UnaryCase& c : kUnary)
    for (DType dtype : kFloating)
      for (const Shape& shape : {kSmall, kLarge})
        for (Layout layout : kLayouts) {
          const std::string what = fmt::format("{} {} {} {}", c.name, dtype, shape, layout_name(layout));
          const Tensor x = random_layout(shape, layout, dtype, c.lo, c.hi, 7);
          const Tensor got = c.fast(x);
          CHECK(got.is_contiguous());
          INFO(what);
          // exp's results below 1e-38 (float) are subnormal, which xsimd does not produce exactly.
          CHECK_TENSOR_ULP(got, naive::unary(c.ref, x), c.ulp, dtype == DType::f32 ? 1.2e-38 : 0.0);
          CHECK_TENSOR_BITWISE(got, c.fast(x.contiguous()));
        }
}

TEST_CASE("unary ops on special values") {
  for (DType dtype : kFloating) {
    const Tensor x = tensor({-kInf, -100, -1, -0.0, 0.0, 1, 100, kInf, kNaN}, dtype);
    const double subnormal = dtype == DType::f32 ? 1.2e-38 : 0.0;  // (see above)
    for (const UnaryCase& c : kUnary) {
      INFO(c.name);
      CHECK_TENSOR_ULP(c.fast(x), naive::unary(c.ref, x), c.ulp, subnormal);
    }
  }
}

TEST_CASE("unary ops give torch's values") {
  // From torch 1.13 in float64 (torch.nn.functional.gelu / silu, torch.sigmoid / tanh / exp) at
  // x = -3, -1, -0.5, 0, 0.5, 1, 3. float64 results must be within 4 ulp of these (xsimd's own
  // error), except gelu: torch computes x/2 (1 + erf(x/sqrt2)), which cancels for negative x, so
  // its value at -3 is itself only good to ~1e-16 absolute; allowed 1e-15 absolute. float32
  // results must be within 2 float32 ulp of the rounded values (gelu: 16, xsimd's float erfc).
  const std::initializer_list<double> x = {-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0};
  struct Want {
    Tensor (*f)(const Tensor&);
    std::initializer_list<double> values;
    int64_t ulp32;
    double abs64;
  };
  const Want wants[] = {
      {[](const Tensor& t) { return gelu(t); },
       {-0.00404969409489031, -0.15865525393145702, -0.15426876936299344, 0.0, 0.34573123063700656,
        0.841344746068543, 2.99595030590511},
       16, 1e-15},
      {[](const Tensor& t) { return silu(t); },
       {-0.14227761953270035, -0.2689414213699951, -0.1887703343990727, 0.0, 0.3112296656009273,
        0.7310585786300049, 2.8577223804672998},
       2, 0.0},
      {[](const Tensor& t) { return sigmoid(t); },
       {0.04742587317756678, 0.2689414213699951, 0.3775406687981454, 0.5, 0.6224593312018546,
        0.7310585786300049, 0.9525741268224334},
       2, 0.0},
      {[](const Tensor& t) { return tanh(t); },
       {-0.9950547536867305, -0.7615941559557649, -0.46211715726000974, 0.0, 0.46211715726000974,
        0.7615941559557649, 0.9950547536867305},
       2, 0.0},
      {[](const Tensor& t) { return exp(t); },
       {0.049787068367863944, 0.36787944117144233, 0.6065306597126334, 1.0, 1.6487212707001282,
        2.718281828459045, 20.085536923187668},
       2, 0.0},
  };
  for (const Want& w : wants) {
    CHECK_TENSOR_ULP(w.f(tensor(x, DType::f64)), tensor(w.values, DType::f64), 4, w.abs64);
    CHECK_TENSOR_ULP(w.f(tensor(x, DType::f32)), tensor(w.values, DType::f32), w.ulp32, 0.0);
  }
  // Edge cases, also as torch gives them: relu keeps NaN and -0.0, silu(-inf) is NaN.
  const Tensor r = relu(tensor({kNaN, -0.0, -2.0, 3.0}));
  CHECK(std::isnan(r.at<float>({0})));
  CHECK(std::signbit(r.at<float>({1})));
  CHECK(r.at<float>({2}) == 0.0f);
  CHECK(r.at<float>({3}) == 3.0f);
  CHECK(std::isnan(silu(tensor({-kInf})).item<float>()));
  CHECK(silu(tensor({kInf})).item<float>() == INFINITY);
}

TEST_CASE("binary ops match the scalar reference on every layout and broadcast") {
  for (const BinaryCase& c : kBinary)
    for (DType dtype : kFloating) {
      // Both operands in every pair of layouts.
      for (const Shape& shape : {kSmall, kLarge})
        for (Layout la : kLayouts)
          for (Layout lb : kLayouts) {
            const Tensor a = random_layout(shape, la, dtype, c.lo, c.hi, 1);
            const Tensor b = random_layout(shape, lb, dtype, c.lo, c.hi, 2);
            INFO(fmt::format("{} {} {} {} with {}", c.name, dtype, shape, layout_name(la), layout_name(lb)));
            CHECK_TENSOR_ULP(c.fast(a, b), naive::binary(c.ref, a, b), 0, 0.0);
          }
      // Broadcasting shapes: a row, a column, a 0-d scalar, both sides growing.
      const std::pair<Shape, Shape> pairs[] = {
          {{6, 37}, {37}}, {{6, 37}, {6, 1}}, {{6, 37}, {}}, {{}, {6, 37}}, {{6, 1, 37}, {5, 1}}, {{1, 70}, {70, 1}}};
      for (const auto& [sa, sb] : pairs) {
        const Tensor a = random_tensor(sa, dtype, c.lo, c.hi, 3);
        const Tensor b = random_tensor(sb, dtype, c.lo, c.hi, 4);
        INFO(fmt::format("{} {} {} with {}", c.name, dtype, sa, sb));
        CHECK_TENSOR_ULP(c.fast(a, b), naive::binary(c.ref, a, b), 0, 0.0);
      }
    }
}

TEST_CASE("maximum and minimum propagate NaN, like torch") {
  const Tensor a = tensor({kNaN, 1, 2}), b = tensor({0, kNaN, 3});
  const Tensor mx = maximum(a, b), mn = minimum(a, b);
  CHECK(std::isnan(mx.at<float>({0})));
  CHECK(std::isnan(mx.at<float>({1})));
  CHECK(mx.at<float>({2}) == 3);
  CHECK(std::isnan(mn.at<float>({1})));
  CHECK(mn.at<float>({2}) == 2);
}

TEST_CASE("scalar operands") {
  const Tensor a = tensor({1, 2, 3}, {3}, DType::f64);
  CHECK((a + 1.5).to_vector<double>() == std::vector<double>{2.5, 3.5, 4.5});
  CHECK((a - 1).to_vector<double>() == std::vector<double>{0, 1, 2});
  CHECK((2 - a).to_vector<double>() == std::vector<double>{1, 0, -1});
  CHECK((a * 2).to_vector<double>() == std::vector<double>{2, 4, 6});
  CHECK((a / 4).to_vector<double>() == std::vector<double>{0.25, 0.5, 0.75});
  CHECK(maximum(a, 2.0).to_vector<double>() == std::vector<double>{2, 2, 3});
  CHECK(minimum(a, 2.0).to_vector<double>() == std::vector<double>{1, 2, 2});
  CHECK(pow(a, 2.0).to_vector<double>() == std::vector<double>{1, 4, 9});
  CHECK(pow(a, 0.5).to_vector<double>() == std::vector<double>{1, std::pow(2.0, 0.5), std::pow(3.0, 0.5)});
  CHECK(pow(a, -1.0).to_vector<double>() == std::vector<double>{1, 0.5, 1.0 / 3});
  CHECK((-a).to_vector<double>() == std::vector<double>{-1, -2, -3});
}

TEST_CASE("comparisons, where, clamp and logical_not") {
  const Tensor a = tensor({1, 2, 3, kNaN}), b = tensor({3, 2, 1, kNaN});
  CHECK(eq(a, b).to_vector<bool>() == std::vector<bool>{false, true, false, false});
  CHECK(ne(a, b).to_vector<bool>() == std::vector<bool>{true, false, true, true});
  CHECK(lt(a, b).to_vector<bool>() == std::vector<bool>{true, false, false, false});
  CHECK(le(a, b).to_vector<bool>() == std::vector<bool>{true, true, false, false});
  CHECK(gt(a, b).to_vector<bool>() == std::vector<bool>{false, false, true, false});
  CHECK(ge(a, b).to_vector<bool>() == std::vector<bool>{false, true, true, false});
  CHECK(gt(a, 1.5).to_vector<bool>() == std::vector<bool>{false, true, true, false});
  CHECK(eq(a, 2.0).dtype() == DType::b8);
  // Comparisons broadcast: (3, 1) against (4) gives (3, 4).
  const Tensor col = tensor({1, 2, 3}, {3, 1});
  CHECK(ge(col, a).shape() == Shape{3, 4});
  CHECK(ge(col, a).to_vector<bool>() ==
        std::vector<bool>{true, false, false, false, true, true, false, false, true, true, true, false});

  const Tensor mask = gt(a, 1.5);
  CHECK(where(mask, a, b).to_vector<float>()[0] == 3);
  CHECK(where(mask, a, b).to_vector<float>()[1] == 2);
  CHECK(where(mask, a, -1.0).to_vector<float>()[0] == -1);
  // All three broadcast: cond (2, 1), a (3), b scalar.
  const Tensor w = where(tensor({1, 0}, {2, 1}, DType::b8), tensor({1, 2, 3}), scalar_tensor(9));
  CHECK(w.shape() == Shape{2, 3});
  CHECK(w.to_vector<float>() == std::vector<float>{1, 2, 3, 9, 9, 9});
  // On a strided input, where agrees with the contiguous copy.
  const Tensor x = random_layout({6, 37}, Layout::transposed, DType::f32, -1, 1, 5);
  CHECK_TENSOR_BITWISE(where(gt(x, 0.0), x, 0.0), relu(x.contiguous()));

  CHECK(clamp(tensor({kNaN, -2, 0.5, 2}), -1, 1).to_vector<float>()[1] == -1);
  CHECK(clamp(tensor({kNaN, -2, 0.5, 2}), -1, 1).to_vector<float>()[3] == 1);
  CHECK(std::isnan(clamp(tensor({kNaN}), -1, 1).item<float>()));
  CHECK(logical_not(tensor({1, 0, 1}, DType::b8)).to_vector<bool>() == std::vector<bool>{false, true, false});
  CHECK(logical_not(tensor({2, 0}, DType::i64)).to_vector<bool>() == std::vector<bool>{false, true});
  CHECK(eq(tensor({1, 0}, DType::b8), tensor({1, 1}, DType::b8)).to_vector<bool>() == std::vector<bool>{true, false});
}

TEST_CASE("integer dtypes: arithmetic, comparisons and clamp work; division and math do not") {
  for (DType dtype : {DType::i64, DType::i32, DType::u16, DType::u8}) {
    INFO(dtype_name(dtype));
    const Tensor a = tensor({1, 5, 7}, dtype), b = tensor({2, 5, 3}, dtype);
    CHECK(add(a, b).to_vector<int64_t>() == std::vector<int64_t>{3, 10, 10});
    CHECK(mul(a, b).to_vector<int64_t>() == std::vector<int64_t>{2, 25, 21});
    CHECK(maximum(a, b).to_vector<int64_t>() == std::vector<int64_t>{2, 5, 7});
    CHECK(minimum(a, 4.0).to_vector<int64_t>() == std::vector<int64_t>{1, 4, 4});
    CHECK(clamp(a, 2, 6).to_vector<int64_t>() == std::vector<int64_t>{2, 5, 6});
    CHECK(lt(a, b).to_vector<bool>() == std::vector<bool>{true, false, false});
    CHECK(where(lt(a, b), a, b).to_vector<int64_t>() == std::vector<int64_t>{1, 5, 3});
    CHECK(add(a, b).dtype() == dtype);
    CHECK_THROWS_WITH_AS(div(a, b), doctest::Contains("floor division is not supported"), Error);
    CHECK_THROWS_WITH_AS(exp(a), doctest::Contains("exp: needs a floating dtype"), Error);
  }
  const Tensor s = tensor({-3, 4}, DType::i64);
  CHECK(sub(s, tensor({1, 1}, DType::i64)).to_vector<int64_t>() == std::vector<int64_t>{-4, 3});
  CHECK(neg(s).to_vector<int64_t>() == std::vector<int64_t>{3, -4});
  CHECK(abs(s).to_vector<int64_t>() == std::vector<int64_t>{3, 4});
  CHECK(relu(s).to_vector<int64_t>() == std::vector<int64_t>{0, 4});
  CHECK(square(s).to_vector<int64_t>() == std::vector<int64_t>{9, 16});
  // Integer broadcast over a strided (transposed) operand.
  const Tensor m = arange(6).view({2, 3});
  CHECK(add(m.mT(), tensor({10, 20}, DType::i64)).to_vector<int64_t>() == std::vector<int64_t>{10, 23, 11, 24, 12, 25});
}

TEST_CASE("errors name the op, the shapes or dtypes, and a hint") {
  const Tensor a = zeros({2, 3}), b = zeros({4}), d = zeros({3}, DType::f64);
  CHECK_THROWS_WITH_AS(add(a, b), doctest::Contains("add: shapes [2, 3] and [4] do not broadcast"), Error);
  CHECK_THROWS_WITH_AS(add(a, d), "add: dtypes differ: float32 vs float64; hint: convert one with .to(...)", Error);
  CHECK_THROWS_WITH_AS(where(a, a, a), doctest::Contains("where: the condition must be bool, got float32"), Error);
  const Tensor i = zeros({2}, DType::i64);
  CHECK_THROWS_WITH_AS(div(i, i), "div: integer tensors (int64) are not supported: true division would give a float "
                                  "and floor division is not supported; hint: convert first with .to(DType::f32)",
                       Error);
  CHECK_THROWS_WITH_AS(mul(i, 0.5), "mul: the scalar 0.5 is not representable in the tensor's dtype int64; hint: "
                                    "convert the tensor with .to(DType::f32) (there is no implicit type promotion)",
                       Error);
  CHECK_THROWS_WITH_AS(add(i, 1e20), doctest::Contains("add: the scalar 1e+20 is not representable"), Error);
  CHECK_THROWS_WITH_AS(zeros({2}, DType::u8).fill_(300),
                       doctest::Contains("fill_: the scalar 300 is not representable in the tensor's dtype uint8"),
                       Error);
  CHECK(add(i, -9.0).to_vector<int64_t>() == std::vector<int64_t>{-9, -9});
  const Tensor m = zeros({2}, DType::b8);
  CHECK_THROWS_WITH_AS(add(m, m), doctest::Contains("add: not defined for bool tensors"), Error);
  CHECK_THROWS_WITH_AS(lt(m, m), doctest::Contains("lt: not defined for bool tensors"), Error);
  CHECK_THROWS_WITH_AS(exp(Tensor()), doctest::Contains("exp: got an undefined tensor"), Error);
}

TEST_CASE("in-place ops write through the view, broadcast other, and bump the version") {
  Tensor x = tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor row = tensor({10, 20, 30});
  uint64_t v = x.version();
  auto bumped = [&] {
    const bool b = x.version() > v;
    v = x.version();
    return b;
  };
  x.add_(row);
  CHECK(x.to_vector<float>() == std::vector<float>{11, 22, 33, 14, 25, 36});
  CHECK(bumped());
  x.sub_(row);
  CHECK(bumped());
  x.add_(row, -0.5);
  CHECK(x.to_vector<float>() == std::vector<float>{-4, -8, -12, -1, -5, -9});
  CHECK(bumped());
  x.mul_(tensor({-1}));
  CHECK(bumped());
  x.div_(tensor({2, 1}, {2, 1}));
  CHECK(x.to_vector<float>() == std::vector<float>{2, 4, 6, 1, 5, 9});
  CHECK(bumped());
  x.add_(1.0);
  CHECK(bumped());
  x.mul_(2.0);
  CHECK(x.to_vector<float>() == std::vector<float>{6, 10, 14, 4, 12, 20});
  CHECK(bumped());
  x.clamp_(5, 12);
  CHECK(x.to_vector<float>() == std::vector<float>{6, 10, 12, 5, 12, 12});
  CHECK(bumped());
  x.fill_(3);
  CHECK(bumped());
  x.copy_(row);
  CHECK(x.to_vector<float>() == std::vector<float>{10, 20, 30, 10, 20, 30});
  CHECK(bumped());
  x.zero_();
  CHECK(bumped());

  // Writing through a strided view changes only its elements.
  Tensor base = zeros({4, 4});
  base.slice(1, 0, 4, 2).add_(1.0);
  base.mT().select(0, 3).copy_(tensor({1, 2, 3, 4}));  // column 3
  CHECK(base.to_vector<float>() == std::vector<float>{1, 0, 1, 1, 1, 0, 1, 2, 1, 0, 1, 3, 1, 0, 1, 4});
}

TEST_CASE("in-place ops check shapes, dtypes and overlapping writes") {
  Tensor x = zeros({3});
  CHECK_THROWS_WITH_AS(x.add_(zeros({2, 3})),
                       "add_: cannot write a result of shape [2, 3] into self of shape [3]; hint: other ([2, 3]) must "
                       "broadcast to self's shape",
                       Error);
  CHECK_THROWS_WITH_AS(x.copy_(zeros({3}, DType::f64)), doctest::Contains("copy_: dtypes differ: float32 vs float64"),
                       Error);
  CHECK_THROWS_WITH_AS(x.mul_(zeros({4})), doctest::Contains("mul_: shapes [3] and [4] do not broadcast"), Error);
  Tensor e = zeros({1, 3}).expand({2, 3});
  CHECK_THROWS_WITH_AS(e.add_(1.0), doctest::Contains("add_: self [2, 3] with strides [0, 1] is an expanded view"),
                       Error);
  CHECK_THROWS_WITH_AS(zeros({2}, DType::i32).div_(zeros({2}, DType::i32)),
                       doctest::Contains("div_: integer tensors (int32) are not supported"), Error);
  const uint64_t v = x.version();
  CHECK_THROWS(x.add_(zeros({2})));
  CHECK(x.version() == v);  // a rejected write does not count
}

TEST_CASE("an in-place op whose other operand aliases self reads the old values") {
  // x += x^T on the same storage: without the copy, the loop would read entries it already wrote.
  Tensor x = arange(0.0, 9.0, 1.0, DType::f64).view({3, 3});
  const Tensor want = add(x, x.mT());
  x.add_(x.mT());
  CHECK(x.to_vector<double>() == want.to_vector<double>());
  // Shifting a vector by one along its own storage.
  Tensor y = arange(0.0, 5.0, 1.0, DType::f64);
  y.narrow(0, 1, 4).copy_(y.narrow(0, 0, 4));
  CHECK(y.to_vector<double>() == std::vector<double>{0, 0, 1, 2, 3});
}

TEST_CASE("copy_ broadcasts and handles every layout") {
  for (DType dtype : kFloating)
    for (Layout layout : kLayouts) {
      const Tensor src = random_layout(kLarge, layout, dtype, -1, 1, 9);
      Tensor dst = empty(kLarge, dtype);
      dst.copy_(src);
      CHECK(dst.to_vector<double>() == src.to_vector<double>());
      // Into a transposed destination.
      Tensor dt = empty({kLarge[1], kLarge[0]}, dtype).mT();
      dt.copy_(src);
      CHECK(dt.to_vector<double>() == src.to_vector<double>());
    }
  Tensor d = empty({2, 3}, DType::i64);
  d.copy_(tensor({7, 8, 9}, DType::i64));
  CHECK(d.to_vector<int64_t>() == std::vector<int64_t>{7, 8, 9, 7, 8, 9});
}

TEST_CASE("large contiguous outputs (streaming stores) at aligned and misaligned addresses") {
  // 5M floats = 20 MB, above the streaming threshold; the narrow view starts 1 element in.
  const Tensor a = random_tensor({5'000'003}, DType::f32, -5, 5, 11);
  const Tensor b = random_tensor({5'000'003}, DType::f32, -5, 5, 12);
  CHECK_TENSOR_ULP(add(a, b), naive::binary(naive::Binary::add, a, b), 0, 0.0);
  CHECK_TENSOR_ULP(exp(a), naive::unary(naive::Unary::exp, a), kUlp, 0.0);
  Tensor big = zeros({5'000'010});
  Tensor window = big.narrow(0, 1, 5'000'003);
  window.copy_(a);
  CHECK_TENSOR_BITWISE(window, a);
  CHECK(big.at<float>({0}) == 0.0f);
  CHECK(big.at<float>({5'000'004}) == 0.0f);
}

TEST_CASE("contiguous, clone and to") {
  const Tensor x = tensor({1.5, -2.5, 3, 0}, {2, 2});
  CHECK(x.contiguous().shares_storage(x));
  CHECK(!x.clone().shares_storage(x));
  CHECK(x.clone().to_vector<float>() == x.to_vector<float>());
  const Tensor t = x.mT().contiguous();
  CHECK(!t.shares_storage(x));
  CHECK(t.is_contiguous());
  CHECK(t.to_vector<float>() == std::vector<float>{1.5, 3, -2.5, 0});
  CHECK(x.to(DType::f32).shares_storage(x));
  CHECK(x.to(DType::f64).to_vector<double>() == std::vector<double>{1.5, -2.5, 3, 0});
  CHECK(x.to(DType::i64).to_vector<int64_t>() == std::vector<int64_t>{1, -2, 3, 0});  // truncates toward 0
  CHECK(x.to(DType::b8).to_vector<bool>() == std::vector<bool>{true, true, true, false});
  CHECK(x.mT().to(DType::f64).to_vector<double>() == std::vector<double>{1.5, 3, -2.5, 0});
  CHECK(tensor({1, 0}, DType::b8).to(DType::f32).to_vector<float>() == std::vector<float>{1, 0});
  // An empty tensor and a 0-d tensor.
  CHECK(zeros({0, 3}).clone().shape() == Shape{0, 3});
  CHECK(add(zeros({0, 3}), zeros({3})).shape() == Shape{0, 3});
  CHECK(scalar_tensor(2).clone().item<float>() == 2);
}
