// io.cpp: .npy and safetensors files.
//
// .npy (NumPy's format, https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
//   "\x93NUMPY", major, minor, header length (2 bytes little-endian in v1.0, 4 bytes in v2.0),
//   then the header: a Python dict literal such as
//     {'descr': '<f4', 'fortran_order': False, 'shape': (4, 12, 64), }
//   padded with spaces and a final '\n' so the data starts at a multiple of 64; then the raw
//   elements in C order.
// safetensors (https://github.com/huggingface/safetensors):
//   an 8-byte little-endian header length N, N bytes of JSON
//     {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//      "__metadata__": {"key": "value"}}
//   then the data buffer; offsets are relative to its start, and the ranges of all tensors must
//   tile the buffer exactly: no overlap, no hole, nothing after the last one.
//
// Readers treat files as hostile. A header is read only after its length has been checked
// against a bound (1 MiB for .npy, 100 MB for safetensors as its specification says) and the
// file size; every size is computed with overflow checks; the byte count a tensor's shape and
// dtype imply must equal the bytes the file gives it; bool bytes must be 0 or 1. Every error
// names the operation, the file and (for safetensors) the tensor.
//
// Writers write to a temporary file beside the target, flush it to disk, and rename it over
// the target: a crash leaves either the old file or the new one, never half of one; on an error
// the temporary file is removed.
#include "tensor/io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <set>

namespace strata {

static_assert(std::endian::native == std::endian::little, "strata's file formats assume a little-endian host");

namespace {

constexpr uint64_t kMaxNpyHeader = uint64_t(1) << 20;       // 1 MiB
constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;     // 100 MB, the specification's bound

std::string errno_text() { return std::strerror(errno); }

// ---- Files -----------------------------------------------------------------------------------

// A regular file opened for reading; read_at fills a buffer from a byte range or throws.
class InputFile {
 public:
  InputFile(const char* op, const std::string& path) : op_(op), path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    check(fd_ >= 0, "{}: cannot open '{}': {}", op, path, errno_text());
    struct stat st;
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd_);
      fail("{}: '{}' is not a regular file", op, path);
    }
    size_ = uint64_t(st.st_size);
  }
  ~InputFile() { ::close(fd_); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  uint64_t size() const { return size_; }
  int fd() const { return fd_; }

  // Reads bytes [offset, offset + n) into dst; `what` names them in the error.
  void read_at(void* dst, uint64_t n, uint64_t offset, std::string_view what) const {
    check(offset <= size_ && n <= size_ - offset, "{}: '{}': {} needs bytes [{}, {}) but the file has {} bytes",
          op_, path_, what, offset, offset + n, size_);
    auto* p = static_cast<char*>(dst);
    while (n > 0) {
      ssize_t got = ::pread(fd_, p, std::min<uint64_t>(n, 1 << 30), off_t(offset));
      if (got < 0 && errno == EINTR) continue;
      check(got > 0, "{}: '{}': reading {} failed: {}", op_, path_, what, got < 0 ? errno_text() : "file shrank");
      p += got;
      offset += uint64_t(got);
      n -= uint64_t(got);
    }
  }

 private:
  const char* op_;
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// Writes a file atomically: bytes go to "<path>.tmp.<pid>.<n>", commit() syncs and renames it to
// `path`. If commit() is never reached (an exception), the destructor removes the temporary.
class AtomicWriter {
 public:
  AtomicWriter(const char* op, const std::string& path) : op_(op), path_(path) {
    static std::atomic<uint64_t> counter{0};
    tmp_ = fmt::format("{}.tmp.{}.{}", path, ::getpid(), counter++);
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    check(fd_ >= 0, "{}: cannot create '{}' (the temporary file for '{}'): {}", op, tmp_, path, errno_text());
  }
  ~AtomicWriter() {
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(tmp_.c_str());
    }
  }
  AtomicWriter(const AtomicWriter&) = delete;
  AtomicWriter& operator=(const AtomicWriter&) = delete;

  void write(const void* data, size_t n) {
    auto* p = static_cast<const char*>(data);
    while (n > 0) {
      ssize_t put = ::write(fd_, p, std::min<size_t>(n, 1 << 30));
      if (put < 0 && errno == EINTR) continue;
      check(put > 0, "{}: writing '{}' failed: {}", op_, tmp_, errno_text());
      p += put;
      n -= size_t(put);
    }
  }
  void commit() {
    check(::fsync(fd_) == 0, "{}: flushing '{}' failed: {}", op_, tmp_, errno_text());
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0 || ::rename(tmp_.c_str(), path_.c_str()) != 0) {
      std::string why = errno_text();
      ::unlink(tmp_.c_str());
      fail("{}: cannot write '{}': {}", op_, path_, why);
    }
  }

 private:
  const char* op_;
  std::string path_;
  std::string tmp_;
  int fd_ = -1;
};

// ---- Checked sizes ---------------------------------------------------------------------------

// numel * element size of a shape read from a file, or an error (negative size, overflow).
uint64_t checked_nbytes(const std::vector<uint64_t>& shape, size_t element_size, const std::string& where) {
  uint64_t n = element_size;
  for (uint64_t s : shape) {
    check(s <= uint64_t(INT64_MAX), "{}: dimension {} is too large", where, s);
    check(!__builtin_mul_overflow(n, s, &n), "{}: the shape [{}] overflows 64-bit byte counts", where,
          fmt::join(shape, ", "));
  }
  check(n <= uint64_t(INT64_MAX), "{}: the shape [{}] is too large", where, fmt::join(shape, ", "));
  return n;
}

Shape to_shape(const std::vector<uint64_t>& dims, const std::string& where) {
  check(dims.size() <= size_t(kMaxDims), "{}: {} dimensions; strata supports at most {}", where, dims.size(),
        kMaxDims);
  Shape shape;
  for (uint64_t d : dims) shape.push_back(int64_t(d));
  return shape;
}

// Bools must hold 0 or 1 (any other byte is not a valid C++ bool).
void check_bools(const void* data, uint64_t n, const std::string& where) {
  auto* p = static_cast<const uint8_t*>(data);
  for (uint64_t i = 0; i < n; ++i)
    check(p[i] <= 1, "{}: bool element {} holds the byte {}; a bool must be 0 or 1", where, i, p[i]);
}

// A contiguous tensor of `shape` and `dtype` filled from the file's bytes [offset, offset + nbytes).
Tensor read_tensor(const InputFile& f, uint64_t offset, uint64_t nbytes, const Shape& shape, DType dtype,
                   const std::string& where) {
  Tensor t = empty(shape, dtype);
  f.read_at(t.data_ptr(), nbytes, offset, where);
  if (dtype == DType::b8) check_bools(t.data_ptr(), nbytes, where);
  return t;
}

// ---- .npy ------------------------------------------------------------------------------------

struct NpyType {
  const char* descr;  // as numpy writes it
  DType dtype;
};
constexpr NpyType kNpyTypes[] = {{"<f4", DType::f32}, {"<f8", DType::f64}, {"<i8", DType::i64},
                                 {"<i4", DType::i32}, {"<u2", DType::u16}, {"|u1", DType::u8},
                                 {"|b1", DType::b8}};

// The parsed header of a .npy file.
struct NpyLayout {
  DType dtype;
  Shape shape;
  uint64_t data_offset;
  uint64_t nbytes;
};

// A parser for the header dict: {'descr': <str>, 'fortran_order': <bool>, 'shape': <tuple of ints>}
// in any key order, with either quote style, optional trailing commas and whitespace anywhere.
class NpyHeaderParser {
 public:
  NpyHeaderParser(std::string_view text, const std::string& where) : s_(text), where_(where) {}

  NpyLayout parse(uint64_t data_offset, uint64_t file_size) {
    std::string descr;
    std::vector<uint64_t> dims;
    bool fortran = false, seen_descr = false, seen_fortran = false, seen_shape = false;
    expect('{');
    while (!peek('}')) {
      std::string key = string_literal();
      expect(':');
      if (key == "descr" && !seen_descr) {
        descr = string_literal();
        seen_descr = true;
      } else if (key == "fortran_order" && !seen_fortran) {
        fortran = bool_literal();
        seen_fortran = true;
      } else if (key == "shape" && !seen_shape) {
        dims = int_tuple();
        seen_shape = true;
      } else {
        error(fmt::format("unexpected or repeated key '{}'", key));
      }
      if (!peek('}')) expect(',');
    }
    expect('}');
    skip_space();
    if (pos_ != s_.size()) error("text after the closing '}'");
    if (!(seen_descr && seen_fortran && seen_shape)) error("it needs the keys 'descr', 'fortran_order' and 'shape'");
    check(!fortran, "{}: the array is stored in Fortran order; hint: save np.ascontiguousarray(a) instead",
          where_);

    NpyLayout layout{dtype_of_descr(descr), to_shape(dims, where_), data_offset, 0};
    layout.nbytes = checked_nbytes(dims, dtype_size(layout.dtype), where_);
    check(file_size - data_offset == layout.nbytes,
          "{}: the header declares {} of shape {} ({} bytes) but the file holds {} bytes of data; "
          "hint: the file is truncated or corrupt",
          where_, dtype_name(layout.dtype), layout.shape, layout.nbytes, file_size - data_offset);
    return layout;
  }

 private:
  DType dtype_of_descr(const std::string& descr) const {
    // The byte order character matters only for multi-byte types.
    check(descr.size() == 3, "{}: unsupported dtype '{}'", where_, descr);
    const char order = descr[0];
    const std::string type = descr.substr(1);
    for (const NpyType& t : kNpyTypes) {
      if (type != t.descr + 1) continue;
      if (dtype_size(t.dtype) == 1) return t.dtype;
      check(order != '>', "{}: the data is big-endian ('{}'); hint: save a.astype('<{}') instead", where_, descr,
            type);
      check(order == '<' || order == '=', "{}: unsupported dtype '{}'", where_, descr);
      return t.dtype;
    }
    fail("{}: unsupported dtype '{}'; strata reads <f4 <f8 <i8 <i4 <u2 |u1 |b1 (float32 float64 int64 int32 "
         "uint16 uint8 bool)",
         where_, descr);
  }

  // Quotes the header (without its padding, escaped, at most 200 characters) in the message.
  [[noreturn]] void error(const std::string& what) const {
    constexpr size_t kShown = 200;
    std::string_view shown = s_.substr(0, s_.find_last_not_of(" \n") + 1);
    fail("{}: the header is not a valid .npy header dict ({} at character {}): {:?}{}", where_, what, pos_,
         shown.substr(0, kShown), shown.size() > kShown ? "..." : "");
  }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
  }
  bool peek(char c) {
    skip_space();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  void expect(char c) {
    if (!peek(c)) error(fmt::format("expected '{}'", c));
    ++pos_;
  }
  std::string string_literal() {
    skip_space();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) error("expected a quoted string");
    const char quote = s_[pos_++];
    const size_t end = s_.find(quote, pos_);
    if (end == std::string_view::npos) error("unterminated string");
    std::string out(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }
  bool bool_literal() {
    skip_space();
    for (auto [word, value] : {std::pair{std::string_view("True"), true}, std::pair{std::string_view("False"), false}})
      if (s_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    error("expected True or False");
  }
  std::vector<uint64_t> int_tuple() {
    std::vector<uint64_t> dims;
    expect('(');
    while (!peek(')')) {
      if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') error("expected a non-negative integer");
      uint64_t v = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, uint64_t(s_[pos_] - '0'), &v))
          error("dimension too large");
        ++pos_;
      }
      if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2 long suffix
      dims.push_back(v);
      if (!peek(')')) expect(',');
    }
    expect(')');
    return dims;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string where_;
};

NpyLayout read_npy_layout(const InputFile& f, const char* op, const std::string& path) {
  const std::string where = fmt::format("{}: '{}'", op, path);
  constexpr char kMagic[] = "\x93NUMPY";
  uint8_t pre[12];
  check(f.size() >= 10, "{}: the file has {} bytes, too short for a .npy file", where, f.size());
  f.read_at(pre, 10, 0, "the .npy preamble");
  check(std::memcmp(pre, kMagic, 6) == 0, "{}: not a .npy file (it does not start with \"\\x93NUMPY\")", where);
  const int major = pre[6], minor = pre[7];
  check((major == 1 || major == 2) && minor == 0, "{}: unsupported .npy version {}.{} (strata reads 1.0 and 2.0)",
        where, major, minor);
  uint64_t header_len, data_offset;
  if (major == 1) {
    header_len = pre[8] | uint64_t(pre[9]) << 8;
    data_offset = 10 + header_len;
  } else {
    f.read_at(pre + 10, 2, 10, "the .npy preamble");
    header_len = pre[8] | uint64_t(pre[9]) << 8 | uint64_t(pre[10]) << 16 | uint64_t(pre[11]) << 24;
    data_offset = 12 + header_len;
  }
  check(header_len <= kMaxNpyHeader, "{}: header length {} exceeds the {}-byte limit; the file is corrupt", where,
        header_len, kMaxNpyHeader);
  check(data_offset <= f.size(), "{}: the header needs {} bytes but the file has {}; the file is truncated", where,
        data_offset, f.size());
  std::string header(header_len, '\0');
  f.read_at(header.data(), header_len, data_offset - header_len, "the .npy header");
  return NpyHeaderParser(header, where).parse(data_offset, f.size());
}

// The header numpy writes: the dict, padded with spaces and ended by '\n' so that the data starts
// at a multiple of 64. With at most 8 dimensions the dict is a few hundred bytes, so the 2-byte
// length of format 1.0 always suffices (numpy too writes 1.0 whenever it can).
std::string npy_header(DType dtype, const Shape& shape) {
  const char* descr = nullptr;
  for (const NpyType& t : kNpyTypes)
    if (t.dtype == dtype) descr = t.descr;
  // Python tuples: (4, 12), (5,), ().
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}{}), }}", descr,
                                 fmt::join(shape, ", "), shape.size() == 1 ? "," : "");
  const size_t total = (10 + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - 10 - dict.size() - 1, ' ');
  dict += '\n';
  const uint16_t len = uint16_t(dict.size());
  return std::string("\x93NUMPY\x01\x00", 8) + char(len & 0xff) + char(len >> 8) + dict;
}

// ---- safetensors -----------------------------------------------------------------------------

struct SafetensorsType {
  const char* name;
  DType dtype;      // the dtype in memory
  size_t file_size;  // bytes per element in the file
};
constexpr SafetensorsType kSafetensorsTypes[] = {
    {"F32", DType::f32, 4}, {"F64", DType::f64, 8}, {"I64", DType::i64, 8}, {"I32", DType::i32, 4},
    {"U16", DType::u16, 2}, {"U8", DType::u8, 1},   {"BOOL", DType::b8, 1}, {"BF16", DType::f32, 2},
    {"F16", DType::f32, 2}};

// bfloat16 is the top half of a float32.
float bf16_to_float(uint16_t h) { return std::bit_cast<float>(uint32_t(h) << 16); }

// IEEE half: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits.
float f16_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24
    float v = std::ldexp(float(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | mant << 13);  // inf, nan
  return std::bit_cast<float>(sign | (exp + 127 - 15) << 23 | mant << 13);
}

// One tensor's entry in the header, validated.
struct SafetensorsEntry {
  std::string name;
  const SafetensorsType* type;
  Shape shape;
  uint64_t begin, end;
};

// Reads a JSON array of non-negative integers.
std::vector<uint64_t> uint_array(const nlohmann::json& j, const std::string& where, const char* field) {
  check(j.is_array(), "{}: '{}' must be an array of non-negative integers, got {}", where, field, j.dump());
  std::vector<uint64_t> out;
  for (const auto& v : j) {
    check(v.is_number_unsigned(), "{}: '{}' must hold non-negative integers, got {}", where, field, j.dump());
    out.push_back(v.get<uint64_t>());
  }
  return out;
}

SafetensorsEntry parse_entry(const std::string& name, const nlohmann::json& j, const std::string& file_where) {
  const std::string where = fmt::format("{}: tensor '{}'", file_where, name);
  check(j.is_object() && j.contains("dtype") && j.contains("shape") && j.contains("data_offsets"),
        "{}: the entry must be an object with 'dtype', 'shape' and 'data_offsets'", where);
  const auto& dt = j["dtype"];
  check(dt.is_string(), "{}: 'dtype' must be a string", where);
  const SafetensorsType* type = nullptr;
  for (const SafetensorsType& t : kSafetensorsTypes)
    if (dt.get<std::string>() == t.name) type = &t;
  check(type != nullptr, "{}: unsupported dtype {}; strata reads F32 F64 BF16 F16 I64 I32 U16 U8 BOOL", where,
        dt.dump());
  std::vector<uint64_t> dims = uint_array(j["shape"], where, "shape");
  std::vector<uint64_t> offsets = uint_array(j["data_offsets"], where, "data_offsets");
  check(offsets.size() == 2 && offsets[0] <= offsets[1], "{}: 'data_offsets' must be [begin, end] with begin <= end, got {}",
        where, j["data_offsets"].dump());
  SafetensorsEntry e{name, type, to_shape(dims, where), offsets[0], offsets[1]};
  const uint64_t nbytes = checked_nbytes(dims, type->file_size, where);
  check(e.end - e.begin == nbytes,
        "{}: shape {} of {} needs {} bytes but data_offsets [{}, {}] hold {}; the file is corrupt", where, e.shape,
        type->name, nbytes, e.begin, e.end, e.end - e.begin);
  return e;
}

}  // namespace

// ---- .npy API ----------------------------------------------------------------------------------

Tensor load_npy(const std::string& path) {
  InputFile f("load_npy", path);
  NpyLayout layout = read_npy_layout(f, "load_npy", path);
  return read_tensor(f, layout.data_offset, layout.nbytes, layout.shape, layout.dtype,
                     fmt::format("load_npy: '{}'", path));
}

Tensor load_npy_mmap(const std::string& path) {
  InputFile f("load_npy_mmap", path);
  NpyLayout layout = read_npy_layout(f, "load_npy_mmap", path);
  check(layout.data_offset % dtype_size(layout.dtype) == 0,
        "load_npy_mmap: '{}': the data starts at byte {}, not aligned for {}; hint: use load_npy", path,
        layout.data_offset, dtype_name(layout.dtype));
  // A private writable mapping: writes through the tensor change only this process's copy.
  void* base = ::mmap(nullptr, f.size(), PROT_READ | PROT_WRITE, MAP_PRIVATE, f.fd(), 0);
  check(base != MAP_FAILED, "load_npy_mmap: cannot map '{}': {}", path, errno_text());
  const size_t length = f.size();
  auto storage = Storage::borrow(static_cast<char*>(base) + layout.data_offset, layout.nbytes,
                                 [base, length] { ::munmap(base, length); });
  if (layout.dtype == DType::b8) check_bools(storage->data(), layout.nbytes, fmt::format("load_npy_mmap: '{}'", path));
  return Tensor(std::move(storage), 0, layout.shape, contiguous_strides(layout.shape), layout.dtype);
}

void save_npy(const std::string& path, const Tensor& t) {
  check(t.defined(), "save_npy: '{}': the tensor is undefined", path);
  const Tensor c = t.contiguous();
  const std::string header = npy_header(c.dtype(), c.shape());
  AtomicWriter out("save_npy", path);
  out.write(header.data(), header.size());
  out.write(c.data_ptr(), size_t(c.numel()) * c.element_size());
  out.commit();
}

// ---- safetensors API ---------------------------------------------------------------------------

SafetensorsFile load_safetensors(const std::string& path) {
  const std::string where = fmt::format("load_safetensors: '{}'", path);
  InputFile f("load_safetensors", path);
  check(f.size() >= 8, "{}: the file has {} bytes, too short for the 8-byte header length", where, f.size());
  uint64_t header_len;
  f.read_at(&header_len, 8, 0, "the header length");
  check(header_len <= kMaxSafetensorsHeader, "{}: header length {} exceeds the {}-byte limit; the file is corrupt",
        where, header_len, kMaxSafetensorsHeader);
  check(header_len <= f.size() - 8, "{}: header length {} but only {} bytes follow; the file is truncated", where,
        header_len, f.size() - 8);
  std::string text(header_len, '\0');
  f.read_at(text.data(), header_len, 8, "the header");
  check(!text.empty() && text[0] == '{', "{}: the header does not start with '{{'; not a safetensors file", where);

  // Parse, refusing repeated names and nesting deeper than the format uses (name -> entry -> list).
  nlohmann::json header;
  try {
    std::set<std::string> names;
    header = nlohmann::json::parse(text, [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& j) {
      check(depth <= 3, "{}: the header nests deeper than the format allows", where);
      if (depth == 1 && event == nlohmann::json::parse_event_t::key)
        check(names.insert(j.get<std::string>()).second, "{}: the header names '{}' twice", where,
              j.get<std::string>());
      return true;
    });
  } catch (const nlohmann::json::exception& e) {
    fail("{}: the header is not valid JSON: {}", where, e.what());
  }
  check(header.is_object(), "{}: the header must be a JSON object", where);

  SafetensorsFile out;
  std::vector<SafetensorsEntry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      check(value.is_object(), "{}: '__metadata__' must be an object of strings", where);
      for (const auto& [key, v] : value.items()) {
        check(v.is_string(), "{}: '__metadata__' entry '{}' must be a string, got {}", where, key, v.dump());
        out.metadata[key] = v.get<std::string>();
      }
    } else {
      entries.push_back(parse_entry(name, value, where));
    }
  }

  // The data ranges, sorted, must tile the data buffer exactly.
  const uint64_t data_start = 8 + header_len, data_len = f.size() - data_start;
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
  uint64_t covered = 0;
  const std::string* previous = nullptr;
  for (const SafetensorsEntry& e : entries) {
    check(e.begin >= covered, "{}: tensor '{}' (bytes [{}, {}]) overlaps tensor '{}'; the file is corrupt", where,
          e.name, e.begin, e.end, previous ? *previous : "");
    check(e.begin == covered, "{}: {} unused bytes before tensor '{}' (bytes [{}, {}]); the file is corrupt", where,
          e.begin - covered, e.name, e.begin, e.end);
    covered = e.end;
    previous = &e.name;
  }
  check(covered == data_len,
        "{}: the tensors cover {} bytes of data but the file holds {}; the file is {}", where, covered, data_len,
        covered > data_len ? "truncated" : "corrupt (trailing bytes)");

  for (const SafetensorsEntry& e : entries) {
    const std::string what = fmt::format("{}: tensor '{}'", where, e.name);
    if (e.type->file_size == dtype_size(e.type->dtype)) {
      out.tensors[e.name] = read_tensor(f, data_start + e.begin, e.end - e.begin, e.shape, e.type->dtype, what);
      continue;
    }
    // BF16 / F16: read the 16-bit words, widen to float32.
    std::vector<uint16_t> half(e.shape.numel());
    f.read_at(half.data(), e.end - e.begin, data_start + e.begin, what);
    Tensor t = empty(e.shape, DType::f32);
    float* p = t.data<float>();
    const bool is_bf16 = std::string_view(e.type->name) == "BF16";
    for (size_t i = 0; i < half.size(); ++i) p[i] = is_bf16 ? bf16_to_float(half[i]) : f16_to_float(half[i]);
    out.tensors[e.name] = t;
  }
  return out;
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  std::vector<Tensor> data;  // contiguous, in name order
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    check(name != "__metadata__", "save_safetensors: '{}': '__metadata__' is reserved and cannot name a tensor",
          path);
    check(t.defined(), "save_safetensors: '{}': tensor '{}' is undefined", path, name);
    const char* type = nullptr;
    for (const SafetensorsType& s : kSafetensorsTypes)
      if (s.dtype == t.dtype() && s.file_size == dtype_size(t.dtype())) type = s.name;
    data.push_back(t.contiguous());
    const uint64_t nbytes = uint64_t(t.numel()) * t.element_size();
    header[name] = {{"dtype", type}, {"shape", t.shape().vec()}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    fail("save_safetensors: '{}': a tensor name or metadata string is not valid UTF-8 ({})", path, e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
  const uint64_t header_len = text.size();

  AtomicWriter out("save_safetensors", path);
  out.write(&header_len, 8);
  out.write(text.data(), text.size());
  for (const Tensor& t : data) out.write(t.data_ptr(), size_t(t.numel()) * t.element_size());
  out.commit();
}

}  // namespace strata
