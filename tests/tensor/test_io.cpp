// test_io.cpp: .npy and safetensors reading and writing (tensor/io.cpp).
//
// Reference files in tests/fixtures/tensor/ (see SOURCES.md there): q.npy from the CS336 fixtures
// (written by numpy), a format-2.0 .npy and a BF16/F16 safetensors file made by
// tests/golden/make_io_golden.py with numpy and torch. Corrupt files are made here by truncating
// and bit-flipping good ones: every load must either succeed or throw strata::Error (the CI runs
// this under ASan/UBSan, so an out-of-bounds read would fail it too).
#include "tensor/io.h"

#include "tests/testing/tensor_testing.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

using namespace strata;
using namespace strata::testing;
namespace fs = std::filesystem;

namespace {

// Writes a new file (removing the old one first: ext4 flushes a file that is truncated and
// rewritten in place to disk on close, which made the thousands of writes below slow).
void write_bytes(const std::string& path, const std::string& bytes) {
  fs::remove(path);
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

// Writes `bytes` to `path` and loads it: true if it loaded, false if it threw strata::Error. Any
// other exception escapes and fails the test.
template <class Load>
bool loads(const std::string& path, const std::string& bytes, Load load) {
  write_bytes(path, bytes);
  try {
    load(path);
    return true;
  } catch (const Error&) {
    return false;
  }
}

// A small tensor of every dtype: values that differ per element and exercise signs and bytes.
Tensor sample(DType dtype, const Shape& shape) {
  return visit_dtype(dtype, [&]<class T>() {
    std::vector<T> v(shape.numel());
    for (size_t i = 0; i < v.size(); ++i) {
      if constexpr (std::is_same_v<T, bool>) v[i] = i % 3 == 0;
      else if constexpr (std::is_floating_point_v<T>) v[i] = T(1.25 * double(i) - 3.5);
      else if constexpr (std::is_signed_v<T>) v[i] = T(int64_t(i) * 1000003 - 7);
      else v[i] = T(i * 37 + 200);
    }
    return from_vector(v, shape);
  });
}

// The bytes of a safetensors file with this JSON header and data.
std::string safetensors_bytes(const std::string& header, const std::string& data) {
  const uint64_t n = header.size();
  return std::string(reinterpret_cast<const char*>(&n), 8) + header + data;
}

// The bytes of a .npy v1.0 / v2.0 file with this header dict (padded like numpy) and data.
std::string npy_bytes(int major, std::string dict, const std::string& data) {
  const size_t pre = major == 1 ? 10 : 12;
  dict.append((64 - (pre + dict.size() + 1) % 64) % 64, ' ');
  dict += '\n';
  std::string out = std::string("\x93NUMPY", 6) + char(major) + '\0';
  const uint32_t len = dict.size();
  out.append(reinterpret_cast<const char*>(&len), major == 1 ? 2 : 4);
  return out + dict + data;
}

}  // namespace

// ---- .npy --------------------------------------------------------------------------------------

TEST_CASE("npy: every dtype round-trips through save_npy / load_npy / load_npy_mmap") {
  TempDir tmp;
  for (DType dtype : kDTypes) {
    for (const Shape& shape : {Shape{3, 4}, Shape{5}, Shape{}, Shape{2, 0, 3}, Shape{2, 1, 3, 1, 2}}) {
      CAPTURE(dtype_name(dtype));
      CAPTURE(shape.vec());
      Tensor t = sample(dtype, shape);
      const std::string path = tmp / "t.npy";
      save_npy(path, t);
      CHECK_TENSOR_BITWISE(load_npy(path), t);
      CHECK_TENSOR_BITWISE(load_npy_mmap(path), t);
    }
  }
  CHECK(tmp.entries() == 1);  // no temporary file left behind
}

TEST_CASE("npy: save_npy writes numpy's exact bytes") {
  TempDir tmp;
  // q.npy was written by numpy; reading and writing it back gives the same file.
  save_npy(tmp / "q.npy", load_npy(fixture_path("tensor/q.npy")));
  CHECK(read_file(tmp / "q.npy") == read_file(fixture_path("tensor/q.npy")));
  // The 128 header bytes numpy 1.24 writes for a bool scalar and an int64 vector (np.save to a
  // BytesIO): magic, version 1.0, length 118, the dict padded with spaces, '\n'.
  auto numpy_header = [](const std::string& dict) {
    std::string h = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict;
    return h + std::string(127 - h.size(), ' ') + "\n";
  };
  save_npy(tmp / "s.npy", from_vector<bool>({true}, Shape{}));
  CHECK(read_file(tmp / "s.npy") == numpy_header("{'descr': '|b1', 'fortran_order': False, 'shape': (), }") + "\1");
  save_npy(tmp / "v.npy", zeros({5}, DType::i64));
  CHECK(read_file(tmp / "v.npy") ==
        numpy_header("{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }") + std::string(40, '\0'));
}

TEST_CASE("npy: the CS336 fixture q.npy reads with numpy's shape and values") {
  Tensor q = load_npy(fixture_path("tensor/q.npy"));
  CHECK(q.dtype() == DType::f32);
  CHECK(q.shape() == Shape{4, 12, 64});
  // Values printed by /usr/bin/python3 numpy: a[0, 0, :3], a[1, 2, 3], a[3, 11, 61:] (shortest
  // round-trip decimals of the float32 values, so == is exact).
  CHECK(q.at<float>({0, 0, 0}) == -1.5255959f);
  CHECK(q.at<float>({0, 0, 1}) == -0.7502318f);
  CHECK(q.at<float>({0, 0, 2}) == -0.6539809f);
  CHECK(q.at<float>({1, 2, 3}) == -1.1781039f);
  CHECK(q.at<float>({3, 11, 61}) == 1.2992692f);
  CHECK(q.at<float>({3, 11, 62}) == -0.57777035f);
  CHECK(q.at<float>({3, 11, 63}) == 1.4148008f);
}

TEST_CASE("npy: a format 2.0 header (numpy's and a hand-made one) reads") {
  Tensor a = load_npy(fixture_path("tensor/v2_header.npy"));
  CHECK(a.dtype() == DType::i32);
  CHECK(a.shape() == Shape{2, 3});
  CHECK(a.to_vector<int32_t>() == std::vector<int32_t>{0, 1, 2, 3, 4, 5});

  // Keys in another order, double quotes, no trailing comma, a Python 2 long suffix.
  TempDir tmp;
  const uint16_t data[2] = {7, 65535};
  write_bytes(tmp / "h.npy", npy_bytes(2, R"({"shape": (2L,), "fortran_order": False, "descr": "<u2"})",
                                       std::string(reinterpret_cast<const char*>(data), 4)));
  Tensor h = load_npy(tmp / "h.npy");
  CHECK(h.dtype() == DType::u16);
  CHECK(h.to_vector<uint16_t>() == std::vector<uint16_t>{7, 65535});
}

TEST_CASE("npy: load_npy_mmap views the file; writes to it stay private") {
  TempDir tmp;
  fs::copy_file(fixture_path("tensor/q.npy"), tmp / "q.npy");
  Tensor m = load_npy_mmap(tmp / "q.npy");
  CHECK_TENSOR_BITWISE(m, load_npy(fixture_path("tensor/q.npy")));
  m.data<float>()[0] = 42.0f;
  CHECK(m.at<float>({0, 0, 0}) == 42.0f);
  CHECK(read_file(tmp / "q.npy") == read_file(fixture_path("tensor/q.npy")));
  // The mapping lives as long as a view of it.
  Tensor row = m.select(0, 3);
  m = Tensor();
  CHECK(row.at<float>({11, 63}) == 1.4148008f);
}

TEST_CASE("npy: a non-contiguous tensor is written as its contiguous copy") {
  TempDir tmp;
  Tensor t = sample(DType::f64, {3, 4}).transpose(0, 1).slice(0, 0, 4, 2);  // (2, 3), strided
  save_npy(tmp / "t.npy", t);
  Tensor back = load_npy(tmp / "t.npy");
  CHECK(back.is_contiguous());
  CHECK_TENSOR_BITWISE(back, t);
}

TEST_CASE("npy: unsupported layouts are refused with a reason") {
  TempDir tmp;
  const std::string path = tmp / "x.npy", f4(8, '\0');
  auto err = [&](const std::string& bytes) {
    write_bytes(path, bytes);
    return error_of([&] { load_npy(path); });
  };
  CHECK(err(npy_bytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", f4)) ==
        fmt::format("load_npy: '{}': the array is stored in Fortran order; hint: save np.ascontiguousarray(a) "
                    "instead",
                    path));
  CHECK(err(npy_bytes(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", f4)) ==
        fmt::format("load_npy: '{}': the data is big-endian ('>f4'); hint: save a.astype('<f4') instead", path));
  CHECK(err(npy_bytes(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (4,), }", f4))
            .starts_with(fmt::format("load_npy: '{}': unsupported dtype '<f2'; strata reads", path)));
  CHECK(err(npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }",
                      std::string(4, '\0'))) ==
        fmt::format("load_npy: '{}': 9 dimensions; strata supports at most 8", path));
  CHECK(err(std::string("\x93NUMPY\x03\x00", 8) + std::string(100, ' ')) ==
        fmt::format("load_npy: '{}': unsupported .npy version 3.0 (strata reads 1.0 and 2.0)", path));
  CHECK(err(npy_bytes(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", std::string("\1\0\2", 3))) ==
        fmt::format("load_npy: '{}': bool element 2 holds the byte 2; a bool must be 0 or 1", path));
  CHECK(error_of([&] { load_npy_mmap(path); }) ==
        fmt::format("load_npy_mmap: '{}': bool element 2 holds the byte 2; a bool must be 0 or 1", path));
}

TEST_CASE("npy: corrupt files are refused: bad magic, sizes, absurd header lengths, overflow") {
  TempDir tmp;
  const std::string path = tmp / "x.npy";
  auto err = [&](const std::string& bytes) {
    write_bytes(path, bytes);
    return error_of([&] { load_npy(path); });
  };
  CHECK(err("") == fmt::format("load_npy: '{}': the file has 0 bytes, too short for a .npy file", path));
  CHECK(err("PK\3\4 not numpy at all") ==
        fmt::format("load_npy: '{}': not a .npy file (it does not start with \"\\x93NUMPY\")", path));
  CHECK(err(std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12) + "{}") ==
        fmt::format("load_npy: '{}': header length 4294967295 exceeds the 1048576-byte limit; the file is corrupt",
                    path));
  CHECK(err(std::string("\x93NUMPY\x01\x00\xff\x00", 10) + "{'descr'") ==
        fmt::format("load_npy: '{}': the header needs 265 bytes but the file has 18; the file is truncated", path));
  CHECK(err(npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", std::string(8, '\0'))) ==
        fmt::format("load_npy: '{}': the header declares float32 of shape [3] (12 bytes) but the file holds 8 "
                    "bytes of data; hint: the file is truncated or corrupt",
                    path));
  CHECK(err(npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", std::string(8, '\0')))
            .find("(4 bytes) but the file holds 8 bytes of data") != std::string::npos);
  CHECK(err(npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", "")) ==
        fmt::format("load_npy: '{}': the shape [4294967296, 4294967296] overflows 64-bit byte counts", path));
  CHECK(err(npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }", "")) ==
        fmt::format("load_npy: '{}': the header is not a valid .npy header dict (dimension too large at character "
                    "70): \"{{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }}\"",
                    path));
  CHECK(err(npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", ""))
            .find("unexpected or repeated key 'extra'") != std::string::npos);
  CHECK(err(npy_bytes(1, "{'descr': '<f4', 'shape': (2,)}", "")).find("it needs the keys") != std::string::npos);
  CHECK(err(npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\x01\n", "")) ==
        fmt::format("load_npy: '{}': the header is not a valid .npy header dict (text after the closing '}}' at "
                    "character 57): \"{{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }}\\x01\"",
                    path));
  CHECK(error_of([&] { load_npy(tmp / "missing.npy"); }) ==
        fmt::format("load_npy: cannot open '{}': No such file or directory", tmp / "missing.npy"));
  CHECK(error_of([&] { load_npy(tmp.dir.string()); }) ==
        fmt::format("load_npy: '{}' is not a regular file", tmp.dir.string()));
}

TEST_CASE("npy: every truncation and every header bit flip gives a tensor or an Error") {
  TempDir tmp;
  save_npy(tmp / "good.npy", sample(DType::f32, {3, 4}));
  const std::string good = read_file(tmp / "good.npy"), path = tmp / "bad.npy";
  for (auto load : {load_npy, load_npy_mmap}) {
    for (size_t len = 0; len < good.size(); ++len) {
      CAPTURE(len);
      CHECK_FALSE(loads(path, good.substr(0, len), load));
    }
    size_t loaded = 0;
    for (size_t bit = 0; bit < 128 * 8; ++bit) {
      std::string bad = good;
      bad[bit / 8] ^= char(1 << (bit % 8));
      loaded += loads(path, bad, load);
    }
    // Only two flips leave a valid header of the same size: '<f4' -> '=f4' (native order, which
    // is little-endian here) and the space in "(3, 4)" -> "(3,04)".
    CHECK(loaded == 2);
  }
}

// ---- safetensors -------------------------------------------------------------------------------

TEST_CASE("safetensors: every dtype round-trips, with metadata, zero-size and 0-d tensors") {
  TempDir tmp;
  std::map<std::string, Tensor> tensors;
  for (DType dtype : kDTypes) tensors[fmt::format("layers.0.{}", dtype_name(dtype))] = sample(dtype, {2, 3});
  tensors["scalar"] = sample(DType::f64, {});
  tensors["empty"] = sample(DType::f32, {0, 4});
  tensors["strided"] = sample(DType::i64, {4, 3}).transpose(0, 1);
  const std::map<std::string, std::string> meta = {{"format", "pt"}, {"step", "100"}, {"note", "h\u00e9llo \"q\""}};
  save_safetensors(tmp / "m.safetensors", tensors, meta);
  CHECK(tmp.entries() == 1);
  SafetensorsFile f = load_safetensors(tmp / "m.safetensors");
  CHECK(f.metadata == meta);
  REQUIRE(f.tensors.size() == tensors.size());
  for (const auto& [name, t] : tensors) {
    CAPTURE(name);
    CHECK_TENSOR_BITWISE(f.tensors.at(name), t);
  }
  // The data follows the header at an 8-byte aligned offset.
  const std::string bytes = read_file(tmp / "m.safetensors");
  uint64_t header_len;
  std::memcpy(&header_len, bytes.data(), 8);
  CHECK(header_len % 8 == 0);
  CHECK(bytes[8] == '{');
}

TEST_CASE("safetensors: BF16 and F16 from torch load as torch's float32 values") {
  SafetensorsFile f = load_safetensors(fixture_path("tensor/half.safetensors"));
  CHECK(f.metadata == std::map<std::string, std::string>{{"source", "make_io_golden.py"}});
  for (const char* name : {"bf16", "f16"}) {
    CAPTURE(name);
    const Tensor& got = f.tensors.at(name);
    Tensor want = load_npy(fixture_path(fmt::format("tensor/half_expected_{}.npy", name)));
    CHECK(got.dtype() == DType::f32);
    REQUIRE(got.shape() == want.shape());
    std::vector<float> g = got.to_vector<float>(), w = want.to_vector<float>();
    for (size_t i = 0; i < g.size(); ++i) {
      CAPTURE(i);
      if (std::isnan(w[i])) CHECK(std::isnan(g[i]));
      else CHECK(std::memcmp(&g[i], &w[i], 4) == 0);  // bitwise: -0.0 stays -0.0
    }
  }
  CHECK(f.tensors.at("f32").to_vector<float>() == std::vector<float>{1.5f, -2.0f});
}

TEST_CASE("safetensors: BF16 and F16 bit patterns convert exactly") {
  TempDir tmp;
  // F16: 1, -2, the smallest subnormal 2^-24, the largest subnormal 1023 * 2^-24, the largest
  // finite 65504, -inf. BF16: 1, -3.140625, +inf.
  const uint16_t f16[] = {0x3C00, 0xC000, 0x0001, 0x03FF, 0x7BFF, 0xFC00};
  const uint16_t bf16[] = {0x3F80, 0xC049, 0x7F80};
  std::string data(reinterpret_cast<const char*>(f16), 12);
  data.append(reinterpret_cast<const char*>(bf16), 6);
  write_bytes(tmp / "h.safetensors",
              safetensors_bytes(R"({"a":{"dtype":"F16","shape":[6],"data_offsets":[0,12]},)"
                                R"("b":{"dtype":"BF16","shape":[3],"data_offsets":[12,18]}})",
                                data));
  SafetensorsFile f = load_safetensors(tmp / "h.safetensors");
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(f.tensors.at("a").to_vector<float>() ==
        std::vector<float>{1.0f, -2.0f, 0x1p-24f, 1023 * 0x1p-24f, 65504.0f, -inf});
  CHECK(f.tensors.at("b").to_vector<float>() == std::vector<float>{1.0f, -3.140625f, inf});
}

TEST_CASE("safetensors: corrupt headers are refused, naming the file and the tensor") {
  TempDir tmp;
  const std::string path = tmp / "x.safetensors";
  const std::string w = fmt::format("load_safetensors: '{}'", path);
  auto err = [&](const std::string& bytes) {
    write_bytes(path, bytes);
    return error_of([&] { load_safetensors(path); });
  };
  auto err_json = [&](const std::string& header, const std::string& data) {
    return err(safetensors_bytes(header, data));
  };
  const std::string d8(8, '\0');
  CHECK(err("1234") == w + ": the file has 4 bytes, too short for the 8-byte header length");
  CHECK(err(std::string(8, '\xff') + "{}") ==
        w + ": header length 18446744073709551615 exceeds the 100000000-byte limit; the file is corrupt");
  const uint64_t too_long = 100'000'001;
  CHECK(err(std::string(reinterpret_cast<const char*>(&too_long), 8) + "{}") ==
        w + ": header length 100000001 exceeds the 100000000-byte limit; the file is corrupt");
  CHECK(err(safetensors_bytes("{}", "").substr(0, 9)) == w + ": header length 2 but only 1 bytes follow; the file is truncated");
  CHECK(err_json("[1, 2]", "") == w + ": the header does not start with '{'; not a safetensors file");
  CHECK(err_json("{\"a\": ", "").starts_with(w + ": the header is not valid JSON: "));
  CHECK(err_json(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", d8) ==
        w + ": the header names 'a' twice");
  CHECK(err_json(R"({"a":{"dtype":"F32","shape":[[[2]]],"data_offsets":[0,8]}})", d8) ==
        w + ": the header nests deeper than the format allows");
  CHECK(err_json(R"({"a":{"dtype":"I8","shape":[8],"data_offsets":[0,8]}})", d8) ==
        w + ": tensor 'a': unsupported dtype \"I8\"; strata reads F32 F64 BF16 F16 I64 I32 U16 U8 BOOL");
  CHECK(err_json(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", d8) ==
        w + ": tensor 'a': 'shape' must hold non-negative integers, got [-2]");
  CHECK(err_json(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", d8) ==
        w + ": tensor 'a': 'shape' must hold non-negative integers, got [2.0]");
  CHECK(err_json(R"({"a":{"dtype":"F32","shape":[2]}})", d8) ==
        w + ": tensor 'a': the entry must be an object with 'dtype', 'shape' and 'data_offsets'");
  CHECK(err_json(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", d8) ==
        w + ": tensor 'a': 'data_offsets' must be [begin, end] with begin <= end, got [8,0]");
  CHECK(err_json(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", d8) ==
        w + ": tensor 'a': shape [3] of F32 needs 12 bytes but data_offsets [0, 8] hold 8; the file is corrupt");
  CHECK(err_json(R"({"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", d8) ==
        w + ": tensor 'a': the shape [4294967296, 4294967296] overflows 64-bit byte counts");
  CHECK(err_json(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", d8) ==
        w + ": tensor 'b' (bytes [4, 8]) overlaps tensor 'a'; the file is corrupt");
  CHECK(err_json(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", d8) ==
        w + ": 4 unused bytes before tensor 'a' (bytes [4, 8]); the file is corrupt");
  CHECK(err_json(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", d8) ==
        w + ": the tensors cover 16 bytes of data but the file holds 8; the file is truncated");
  CHECK(err_json(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", d8) ==
        w + ": the tensors cover 4 bytes of data but the file holds 8; the file is corrupt (trailing bytes)");
  CHECK(err_json(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551608,18446744073709551615]}})", d8) ==
        w + ": tensor 'a': shape [2] of F32 needs 8 bytes but data_offsets [18446744073709551608, 18446744073709551615] hold 7; the file is corrupt");
  CHECK(err_json(R"({"__metadata__":{"k":1}})", "") == w + ": '__metadata__' entry 'k' must be a string, got 1");
  CHECK(err_json(R"({"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})", std::string("\1\3", 2)) ==
        w + ": tensor 'm': bool element 1 holds the byte 3; a bool must be 0 or 1");
  // Ranges listed out of order in the JSON are fine when they tile the buffer.
  CHECK(err_json(R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", d8) == "");
}

TEST_CASE("safetensors: every truncation and every header bit flip gives tensors or an Error") {
  TempDir tmp;
  save_safetensors(tmp / "good.safetensors",
                   {{"w", sample(DType::f32, {2, 3})}, {"b", sample(DType::b8, {4})}, {"i", sample(DType::i64, {2})}},
                   {{"k", "v"}});
  const std::string good = read_file(tmp / "good.safetensors"), path = tmp / "bad.safetensors";
  for (size_t len = 0; len < good.size(); ++len) {
    CAPTURE(len);
    CHECK_FALSE(loads(path, good.substr(0, len), load_safetensors));
  }
  uint64_t header_len;
  std::memcpy(&header_len, good.data(), 8);
  size_t loaded = 0;
  for (size_t bit = 0; bit < (8 + header_len) * 8; ++bit) {
    std::string bad = good;
    bad[bit / 8] ^= char(1 << (bit % 8));
    loaded += loads(path, bad, load_safetensors);
  }
  // The flips that load turn a one-letter name or metadata string ("b", "i", "w", "k", "v") into
  // another character JSON accepts: 35 of the 1600 (the file's bytes are fixed, so the count is).
  CHECK((8 + header_len) * 8 == 1600);
  CHECK(loaded == 35);
  // Appending bytes is refused too.
  CHECK_FALSE(loads(path, good + "x", load_safetensors));
}

TEST_CASE("safetensors: save refuses reserved or undefined tensors and invalid UTF-8") {
  TempDir tmp;
  const std::string path = tmp / "x.safetensors";
  CHECK(error_of([&] { save_safetensors(path, {{"__metadata__", zeros({1})}}); }) ==
        fmt::format("save_safetensors: '{}': '__metadata__' is reserved and cannot name a tensor", path));
  CHECK(error_of([&] { save_safetensors(path, {{"w", Tensor()}}); }) ==
        fmt::format("save_safetensors: '{}': tensor 'w' is undefined", path));
  CHECK(error_of([&] { save_safetensors(path, {{"bad\xff", zeros({1})}}); })
            .starts_with(fmt::format("save_safetensors: '{}': a tensor name or metadata string is not valid UTF-8",
                                     path)));
  CHECK(tmp.entries() == 0);
}

// ---- Atomic writes -------------------------------------------------------------------------------

TEST_CASE("writes are atomic: a failed write keeps the old file and leaves no temporary") {
  TempDir tmp;
  const std::string path = tmp / "t.npy";
  save_npy(path, sample(DType::f32, {3}));
  // Overwriting succeeds and replaces the file.
  save_npy(path, sample(DType::f32, {4}));
  CHECK_TENSOR_BITWISE(load_npy(path), sample(DType::f32, {4}));
  CHECK(tmp.entries() == 1);

  // The target is a directory: the data is written to the temporary, the rename fails, and the
  // temporary is removed.
  fs::create_directory(tmp / "dir");
  CHECK(error_of([&] { save_npy(tmp / "dir", sample(DType::f32, {3})); }) ==
        fmt::format("save_npy: cannot write '{}': Is a directory", tmp / "dir"));
  CHECK(error_of([&] { save_safetensors(tmp / "dir", {{"w", zeros({2})}}); }) ==
        fmt::format("save_safetensors: cannot write '{}': Is a directory", tmp / "dir"));
  CHECK(tmp.entries() == 2);  // t.npy and dir
  // A missing directory: nothing is created.
  CHECK(error_of([&] { save_npy(tmp / "no/t.npy", zeros({1})); })
            .starts_with(fmt::format("save_npy: cannot create '{}.tmp.", tmp / "no/t.npy")));
  CHECK_TENSOR_BITWISE(load_npy(path), sample(DType::f32, {4}));
}
