// test_format.cpp: printing tensors like PyTorch (tensor/format.cpp).
//
// Every expected string was printed by torch 1.13's own repr code (torch._tensor_str) for the same
// tensor, with strata's "shape=..., dtype=..." suffixes placed by torch's suffix rule:
// tests/golden/make_format_golden.py prints them (run it to regenerate; the names match).
#include "tensor/format.h"

#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

using namespace strata;

namespace {
// start, start + step, ... as T, in `shape` (exact: every value used below is representable).
template <class T>
Tensor ramp(const Shape& shape, double start, double step) {
  std::vector<T> v(shape.numel());
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>(start + step * double(i));
  return from_vector(v, shape);
}
}  // namespace

TEST_CASE("format: a float32 matrix of whole numbers prints them as \"1.\" (int mode)") {
  // int_mode_matrix
  CHECK(to_string(tensor({1, 2, 3, 4}, {2, 2})) ==
        R"(tensor([[1., 2.],
        [3., 4.]], shape=[2, 2], dtype=float32))");
}

TEST_CASE("format: float32 values print with 4 decimals, right-aligned to one width") {
  // four_decimals
  CHECK(to_string(tensor({1.5, -2.25, 3.0})) ==
        R"(tensor([ 1.5000, -2.2500,  3.0000], shape=[3], dtype=float32))");
}

TEST_CASE("format: a value below 1e-4 (or a max/min ratio over 1000) switches to scientific notation") {
  // sci_mode_small
  CHECK(to_string(tensor({1e-5, 1.0, 123.456})) ==
        R"(tensor([1.0000e-05, 1.0000e+00, 1.2346e+02], shape=[3], dtype=float32))");
}

TEST_CASE("format: whole numbers above 1e8 print in scientific notation") {
  // sci_mode_int_large
  CHECK(to_string(tensor({1e9, 1.0})) ==
        R"(tensor([1.0000e+09, 1.0000e+00], shape=[2], dtype=float32))");
}

TEST_CASE("format: nan and inf print plainly and do not choose the style") {
  // nonfinite_f64
  CHECK(to_string(tensor({0.1, NAN, INFINITY, -INFINITY, 0.0}, DType::f64)) ==
        R"(tensor([0.1000,    nan,    inf,   -inf, 0.0000], shape=[5], dtype=float64))");
}

TEST_CASE("format: all zeros print in int mode") {
  // zeros
  CHECK(to_string(zeros({3})) ==
        R"(tensor([0., 0., 0.], shape=[3], dtype=float32))");
}

TEST_CASE("format: a tensor of only nan") {
  // nan_only
  CHECK(to_string(tensor({NAN})) ==
        R"(tensor([nan], shape=[1], dtype=float32))");
}

TEST_CASE("format: a long row wraps at 80 columns") {
  // row_wraps
  CHECK(to_string(ramp<float>({30}, -10.0, 1.25)) ==
        R"(tensor([-10.0000,  -8.7500,  -7.5000,  -6.2500,  -5.0000,  -3.7500,  -2.5000,
         -1.2500,   0.0000,   1.2500,   2.5000,   3.7500,   5.0000,   6.2500,
          7.5000,   8.7500,  10.0000,  11.2500,  12.5000,  13.7500,  15.0000,
         16.2500,  17.5000,  18.7500,  20.0000,  21.2500,  22.5000,  23.7500,
         25.0000,  26.2500], shape=[30], dtype=float32))");
}

TEST_CASE("format: bools print as True/False") {
  // bools
  CHECK(to_string(from_vector<bool>({true, false, false, true}, {2, 2})) ==
        R"(tensor([[ True, False],
        [False,  True]], shape=[2, 2], dtype=bool))");
}

TEST_CASE("format: a 0-d tensor prints its value alone") {
  // scalar
  CHECK(to_string(scalar_tensor(3.5)) ==
        R"(tensor(3.5000, shape=[], dtype=float32))");
}

TEST_CASE("format: an empty tensor prints []") {
  // empty
  CHECK(to_string(zeros({0})) ==
        R"(tensor([], shape=[0], dtype=float32))");
}

TEST_CASE("format: an empty 2-d tensor prints [] and its shape") {
  // empty_2d
  CHECK(to_string(empty({2, 0})) ==
        R"(tensor([], shape=[2, 0], dtype=float32))");
}

TEST_CASE("format: integers print plainly, right-aligned") {
  // ints_i32
  CHECK(to_string(from_vector<int32_t>({-5, 10, 300})) ==
        R"(tensor([ -5,  10, 300], shape=[3], dtype=int32))");
}

TEST_CASE("format: uint8 values print as numbers, not characters") {
  // u8
  CHECK(to_string(from_vector<uint8_t>({0, 7, 255, 12}, {2, 2})) ==
        R"(tensor([[  0,   7],
        [255,  12]], shape=[2, 2], dtype=uint8))");
}

TEST_CASE("format: a transposed (non-contiguous) view prints in its logical order") {
  // transposed_view
  CHECK(to_string(ramp<int64_t>({2, 3}, 0, 1).transpose(0, 1)) ==
        R"(tensor([[0, 3],
        [1, 4],
        [2, 5]], shape=[3, 2], dtype=int64))");
}

TEST_CASE("format: blocks of a 4-d tensor are separated by blank lines") {
  // four_dims
  CHECK(to_string(ramp<float>({2, 2, 2, 2}, 0, 1)) ==
        R"(tensor([[[[ 0.,  1.],
          [ 2.,  3.]],

         [[ 4.,  5.],
          [ 6.,  7.]]],


        [[[ 8.,  9.],
          [10., 11.]],

         [[12., 13.],
          [14., 15.]]]], shape=[2, 2, 2, 2], dtype=float32))");
}

TEST_CASE("format: the suffixes move to a new line when the last line is full") {
  // suffix_wraps
  CHECK(to_string(from_vector<int64_t>(std::vector<int64_t>(6, 1000000000))) ==
        R"(tensor([1000000000, 1000000000, 1000000000, 1000000000, 1000000000, 1000000000],
       shape=[6], dtype=int64))");
}

TEST_CASE("format: more than 1000 elements: the first and last 3 entries, with ...") {
  // summarized_1d
  CHECK(to_string(ramp<float>({2000}, 0, 0.125)) ==
        R"(tensor([0.0000e+00, 1.2500e-01, 2.5000e-01,  ..., 2.4962e+02, 2.4975e+02,
        2.4988e+02], shape=[2000], dtype=float32))");
}

TEST_CASE("format: a summarised 3-d tensor elides every long dimension") {
  // summarized_3d_i64
  CHECK(to_string(ramp<int64_t>({10, 10, 20}, 0, 1)) ==
        R"(tensor([[[   0,    1,    2,  ...,   17,   18,   19],
         [  20,   21,   22,  ...,   37,   38,   39],
         [  40,   41,   42,  ...,   57,   58,   59],
         ...,
         [ 140,  141,  142,  ...,  157,  158,  159],
         [ 160,  161,  162,  ...,  177,  178,  179],
         [ 180,  181,  182,  ...,  197,  198,  199]],

        [[ 200,  201,  202,  ...,  217,  218,  219],
         [ 220,  221,  222,  ...,  237,  238,  239],
         [ 240,  241,  242,  ...,  257,  258,  259],
         ...,
         [ 340,  341,  342,  ...,  357,  358,  359],
         [ 360,  361,  362,  ...,  377,  378,  379],
         [ 380,  381,  382,  ...,  397,  398,  399]],

        [[ 400,  401,  402,  ...,  417,  418,  419],
         [ 420,  421,  422,  ...,  437,  438,  439],
         [ 440,  441,  442,  ...,  457,  458,  459],
         ...,
         [ 540,  541,  542,  ...,  557,  558,  559],
         [ 560,  561,  562,  ...,  577,  578,  579],
         [ 580,  581,  582,  ...,  597,  598,  599]],

        ...,

        [[1400, 1401, 1402,  ..., 1417, 1418, 1419],
         [1420, 1421, 1422,  ..., 1437, 1438, 1439],
         [1440, 1441, 1442,  ..., 1457, 1458, 1459],
         ...,
         [1540, 1541, 1542,  ..., 1557, 1558, 1559],
         [1560, 1561, 1562,  ..., 1577, 1578, 1579],
         [1580, 1581, 1582,  ..., 1597, 1598, 1599]],

        [[1600, 1601, 1602,  ..., 1617, 1618, 1619],
         [1620, 1621, 1622,  ..., 1637, 1638, 1639],
         [1640, 1641, 1642,  ..., 1657, 1658, 1659],
         ...,
         [1740, 1741, 1742,  ..., 1757, 1758, 1759],
         [1760, 1761, 1762,  ..., 1777, 1778, 1779],
         [1780, 1781, 1782,  ..., 1797, 1798, 1799]],

        [[1800, 1801, 1802,  ..., 1817, 1818, 1819],
         [1820, 1821, 1822,  ..., 1837, 1838, 1839],
         [1840, 1841, 1842,  ..., 1857, 1858, 1859],
         ...,
         [1940, 1941, 1942,  ..., 1957, 1958, 1959],
         [1960, 1961, 1962,  ..., 1977, 1978, 1979],
         [1980, 1981, 1982,  ..., 1997, 1998, 1999]]], shape=[10, 10, 20],
       dtype=int64))");
}

TEST_CASE("format: a summarised float64 matrix: the style is chosen from the shown values only") {
  // summarized_2d_f64
  CHECK(to_string(ramp<double>({50, 30}, 0, 0.25)) ==
        R"(tensor([[0.0000e+00, 2.5000e-01, 5.0000e-01,  ..., 6.7500e+00, 7.0000e+00,
         7.2500e+00],
        [7.5000e+00, 7.7500e+00, 8.0000e+00,  ..., 1.4250e+01, 1.4500e+01,
         1.4750e+01],
        [1.5000e+01, 1.5250e+01, 1.5500e+01,  ..., 2.1750e+01, 2.2000e+01,
         2.2250e+01],
        ...,
        [3.5250e+02, 3.5275e+02, 3.5300e+02,  ..., 3.5925e+02, 3.5950e+02,
         3.5975e+02],
        [3.6000e+02, 3.6025e+02, 3.6050e+02,  ..., 3.6675e+02, 3.6700e+02,
         3.6725e+02],
        [3.6750e+02, 3.6775e+02, 3.6800e+02,  ..., 3.7425e+02, 3.7450e+02,
         3.7475e+02]], shape=[50, 30], dtype=float64))");
}

TEST_CASE("format: fmt and operator<< print the same text as to_string") {
  Tensor t = tensor({1.5, -2.25, 3.0});
  CHECK(fmt::format("{}", t) == to_string(t));
  std::ostringstream os;
  os << t;
  CHECK(os.str() == to_string(t));
}

TEST_CASE("format: an undefined tensor") { CHECK(to_string(Tensor()) == "tensor(undefined)"); }
