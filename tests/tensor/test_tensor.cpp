// test_tensor.cpp: the Tensor view: layout, views share storage with the right strides, creation.
#include "tensor/tensor.h"

#include "tensor/ops.h"
#include "tests/testing/tensor_testing.h"

#include <doctest/doctest.h>

using namespace strata;
using namespace strata::testing;

TEST_CASE("a contiguous tensor has row-major strides") {
  Tensor t = empty({2, 3, 4});
  CHECK(t.shape() == Shape{2, 3, 4});
  CHECK(t.strides() == Strides{12, 4, 1});
  CHECK(t.numel() == 24);
  CHECK(t.is_contiguous());
  CHECK(t.size(-1) == 4);
  CHECK(t.dtype() == DType::f32);
}

TEST_CASE("copying a tensor shares storage (O(1))") {
  Tensor a = zeros({3});
  Tensor b = a;
  b.fill_(7);
  CHECK(a.at<float>({1}) == 7.0f);
  CHECK(a.shares_storage(b));
}

TEST_CASE("views share storage and compute strides") {
  Tensor t = iota({2, 3, 4});
  SUBCASE("transpose swaps shape and strides") {
    Tensor v = t.transpose(0, 2);
    CHECK(v.shape() == Shape{4, 3, 2});
    CHECK(v.strides() == Strides{1, 4, 12});
    CHECK(v.shares_storage(t));
    CHECK(!v.is_contiguous());
    CHECK(v.at<float>({3, 1, 1}) == 12 + 4 + 3);
  }
  SUBCASE("permute") {
    Tensor v = t.permute({1, 2, 0});
    CHECK(v.shape() == Shape{3, 4, 2});
    CHECK(v.strides() == Strides{4, 1, 12});
    CHECK(v.at<float>({2, 3, 1}) == 12 + 8 + 3);
  }
  SUBCASE("slice with step") {
    Tensor v = t.slice(2, 1, 4, 2);  // columns 1 and 3
    CHECK(v.shape() == Shape{2, 3, 2});
    CHECK(v.strides() == Strides{12, 4, 2});
    CHECK(v.offset() == 1);
    CHECK(v.to_vector<float>() == std::vector<float>{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23});
  }
  SUBCASE("negative slice bounds count from the end and clamp") {
    CHECK(t.slice(1, -2, 100).shape() == Shape{2, 2, 4});
    CHECK(t.slice(1, 2, 1).shape() == Shape{2, 0, 4});
  }
  SUBCASE("narrow and select") {
    CHECK(t.narrow(1, 1, 2).at<float>({0, 0, 0}) == 4);
    Tensor s = t.select(1, -1);
    CHECK(s.shape() == Shape{2, 4});
    CHECK(s.strides() == Strides{12, 1});
    CHECK(s.at<float>({1, 2}) == 12 + 8 + 2);
  }
  SUBCASE("expand uses stride 0") {
    Tensor row = iota({1, 4});
    Tensor e = row.expand({3, 4});
    CHECK(e.strides() == Strides{0, 1});
    CHECK(e.at<float>({2, 3}) == 3);
    Tensor e2 = iota({4}).expand({2, 3, 4});
    CHECK(e2.strides() == Strides{0, 0, 1});
  }
  SUBCASE("unsqueeze and squeeze") {
    Tensor u = t.unsqueeze(1);
    CHECK(u.shape() == Shape{2, 1, 3, 4});
    CHECK(u.unsqueeze(-1).shape() == Shape{2, 1, 3, 4, 1});
    CHECK(u.squeeze().shape() == Shape{2, 3, 4});
    CHECK(u.squeeze(1).shape() == Shape{2, 3, 4});
    CHECK(u.squeeze(0).shape() == Shape{2, 1, 3, 4});  // not size 1: unchanged, like torch
  }
  SUBCASE("view and reshape") {
    Tensor v = t.view({6, -1});
    CHECK(v.shape() == Shape{6, 4});
    CHECK(v.shares_storage(t));
    // A transposed tensor cannot be flattened without a copy: view refuses, reshape copies.
    Tensor tt = t.transpose(1, 2);
    CHECK_THROWS_WITH_AS(tt.view({-1}), doctest::Contains("without copying"), Error);
    Tensor r = tt.reshape({-1});
    CHECK(!r.shares_storage(t));
    CHECK(r.at<float>({1}) == 4);
    // But splitting or merging dims that are contiguous with each other is a view.
    Tensor w = tt.reshape({2, 2, 2, 3});
    CHECK(w.shares_storage(t));
    CHECK(w.strides() == Strides{12, 2, 1, 4});
  }
  SUBCASE("flatten and unflatten") {
    CHECK(t.flatten().shape() == Shape{24});
    CHECK(t.flatten(1).shape() == Shape{2, 12});
    Tensor u = t.unflatten(2, {2, -1});
    CHECK(u.shape() == Shape{2, 3, 2, 2});
    CHECK(u.shares_storage(t));
  }
  SUBCASE("diagonal") {
    Tensor m = iota({3, 4});
    CHECK(m.diagonal().to_vector<float>() == std::vector<float>{0, 5, 10});
    CHECK(m.diagonal(1).to_vector<float>() == std::vector<float>{1, 6, 11});
    CHECK(m.diagonal(-1).to_vector<float>() == std::vector<float>{4, 9});
    CHECK(m.diagonal().strides() == Strides{5});
  }
  SUBCASE("mT") {
    CHECK(t.mT().shape() == Shape{2, 4, 3});
  }
}

TEST_CASE("writing through a view changes the base tensor") {
  Tensor t = zeros({3, 3});
  t.select(0, 1).fill_(2.0);
  t.diagonal().fill_(1.0);
  CHECK(t.to_vector<float>() == std::vector<float>{1, 0, 0, 2, 1, 2, 0, 0, 1});
}

TEST_CASE("creation functions") {
  CHECK(arange(5).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 4});
  CHECK(arange(1.0, 2.0, 0.25, DType::f64).to_vector<double>() == std::vector<double>{1, 1.25, 1.5, 1.75});
  CHECK(linspace(0, 1, 5).to_vector<float>() == std::vector<float>{0, 0.25f, 0.5f, 0.75f, 1});
  CHECK(eye(3).to_vector<float>() == std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1});
  CHECK(full({2}, 3.5, DType::f64).to_vector<double>() == std::vector<double>{3.5, 3.5});
  CHECK(scalar_tensor(4).dim() == 0);
  CHECK(scalar_tensor(4).item<float>() == 4);
  CHECK(from_vector(std::vector<bool>{true, false}).dtype() == DType::b8);
  CHECK(tensor({1, 2, 3, 4}, {2, 2}).at<float>({1, 0}) == 3);
}

TEST_CASE("errors name the op, the shapes and a hint") {
  Tensor t = zeros({2, 3});
  CHECK_THROWS_WITH_AS(t.view({4, 2}), doctest::Contains("view: shape [4, 2] is invalid for a tensor of shape [2, 3]"),
                       Error);
  CHECK_THROWS_WITH_AS(t.permute({0, 0}), doctest::Contains("permute: dim 0 appears twice"), Error);
  CHECK_THROWS_WITH_AS(t.select(1, 3), doctest::Contains("select: index 3 is out of range for dim 1 of size 3"),
                       Error);
  CHECK_THROWS_WITH_AS(t.expand({4, 3}), doctest::Contains("expand: the size of dim 0 is 2 and cannot expand to 4"),
                       Error);
  CHECK_THROWS_WITH_AS(t.transpose(0, 2), doctest::Contains("transpose: dim 2 is out of range"), Error);
  CHECK_THROWS_WITH_AS(t.data<double>(), doctest::Contains("holds float32"), Error);
  CHECK_THROWS_WITH_AS(t.item<float>(), doctest::Contains("item: needs a tensor with one element"), Error);
}
