// format.cpp: printing a tensor the way PyTorch's repr does (torch/_tensor_str.py, default print
// options), followed by its shape and dtype:
//
//   tensor([[1., 2.],
//           [3., 4.]], shape=[2, 2], dtype=float32)
//
// The rules, as in torch:
// - A tensor with more than 1000 elements is summarised: along every dimension longer than 6 only
//   the first and last 3 entries are shown, with "..." between them.
// - One width for every entry: the widest of the shown values. Floating values look at the shown
//   finite non-zero values: if all are whole numbers they print as "3." ("int mode"); if the
//   largest/smallest magnitude ratio exceeds 1000, or the largest exceeds 1e8, or (not in int
//   mode) the smallest is below 1e-4, every value prints in scientific notation with 4 decimals
//   ("1.0000e-05"); otherwise with 4 decimals ("3.1416"). Integers print plainly, bools as
//   True/False.
// - Rows wrap at 80 columns; nested brackets indent by one column per level, and blocks of a
//   d-dimensional tensor are separated by d - 1 newlines.
// - The suffixes go on the last line, or on a new line when the line would pass 80 columns.
#include "tensor/format.h"

#include <cmath>
#include <ostream>
#include <type_traits>
#include <vector>

namespace strata {
namespace {

constexpr int kPrecision = 4;
constexpr int64_t kThreshold = 1000;  // summarise above this many elements
constexpr int64_t kEdgeItems = 3;     // entries shown at each end of a summarised dimension
constexpr int64_t kLineWidth = 80;

// The indices shown along a dimension of size n; -1 stands for the "..." between the two ends.
std::vector<int64_t> shown_indices(int64_t n, bool summarize) {
  std::vector<int64_t> idx;
  if (summarize && n > 2 * kEdgeItems) {
    for (int64_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
    idx.push_back(-1);
    for (int64_t i = n - kEdgeItems; i < n; ++i) idx.push_back(i);
  } else {
    for (int64_t i = 0; i < n; ++i) idx.push_back(i);
  }
  return idx;
}

// Storage offsets (relative to data_ptr) of the elements that will be printed.
void collect_shown(const Tensor& t, int64_t d, int64_t offset, bool summarize, std::vector<int64_t>& out) {
  if (d == t.dim()) {
    out.push_back(offset);
    return;
  }
  for (int64_t i : shown_indices(t.size(d), summarize))
    if (i >= 0) collect_shown(t, d + 1, offset + i * t.stride(d), summarize, out);
}

// Turns elements into equal-width strings, choosing the style from the shown values.
class ValueFormatter {
 public:
  ValueFormatter(const Tensor& t, const std::vector<int64_t>& offsets) : t_(t), floating_(is_floating(t.dtype())) {
    if (!floating_) {
      for (int64_t off : offsets) width_ = std::max(width_, raw(off).size());
      return;
    }
    std::vector<double> finite;  // the finite non-zero values
    for (int64_t off : offsets) {
      double v = value(off);
      if (std::isfinite(v) && v != 0) finite.push_back(v);
    }
    if (finite.empty()) return;
    double lo = std::abs(finite[0]), hi = lo;
    for (double v : finite) {
      lo = std::min(lo, std::abs(v));
      hi = std::max(hi, std::abs(v));
      if (v != std::ceil(v)) int_mode_ = false;
    }
    sci_mode_ = hi / lo > 1000.0 || hi > 1.0e8 || (!int_mode_ && lo < 1.0e-4);
    for (double v : finite) {
      // In int mode a "." follows each number, hence the + 1.
      size_t w = sci_mode_ ? fmt::format("{:.{}e}", v, kPrecision).size()
                 : int_mode_ ? fmt::format("{:.0f}", v).size() + 1
                             : fmt::format("{:.{}f}", v, kPrecision).size();
      width_ = std::max(width_, w);
    }
  }

  size_t width() const { return width_; }

  // The element at `offset`, right-aligned to width().
  std::string format(int64_t offset) const {
    std::string s;
    if (!floating_) {
      s = raw(offset);
    } else {
      double v = value(offset);
      if (std::isnan(v)) s = "nan";  // without the sign fmt would give a negative NaN
      else if (sci_mode_) s = fmt::format("{:.{}e}", v, kPrecision);
      else if (int_mode_) s = std::isinf(v) ? fmt::format("{}", v) : fmt::format("{:.0f}.", v);
      else s = fmt::format("{:.{}f}", v, kPrecision);
    }
    return s.size() < width_ ? std::string(width_ - s.size(), ' ') + s : s;
  }

 private:
  const char* address(int64_t offset) const {
    return static_cast<const char*>(t_.data_ptr()) + offset * int64_t(t_.element_size());
  }
  double value(int64_t offset) const {
    return visit_floating(t_.dtype(), "format", [&]<class T>() { return double(*reinterpret_cast<const T*>(address(offset))); });
  }
  // An integer or bool element as text.
  std::string raw(int64_t offset) const {
    return visit_dtype(t_.dtype(), [&]<class T>() -> std::string {
      T v = *reinterpret_cast<const T*>(address(offset));
      if constexpr (std::is_same_v<T, bool>) return v ? "True" : "False";
      else return fmt::format("{}", v);
    });
  }

  const Tensor& t_;
  bool floating_;
  bool int_mode_ = true, sci_mode_ = false;
  size_t width_ = 1;
};

// The bracketed values of the sub-tensor at dimension d starting at `offset`, whose opening
// bracket sits in column `indent`.
std::string values_str(const Tensor& t, int64_t d, int64_t offset, int64_t indent, bool summarize,
                       const ValueFormatter& f) {
  const int64_t nd = t.dim();
  if (nd == 0) return f.format(offset);
  std::vector<std::string> parts;
  for (int64_t i : shown_indices(t.size(d), summarize)) {
    bool last_dim = d == nd - 1;
    if (i < 0) parts.push_back(last_dim ? " ..." : "...");
    else if (last_dim) parts.push_back(f.format(offset + i * t.stride(d)));
    else parts.push_back(values_str(t, d + 1, offset + i * t.stride(d), indent + 1, summarize, f));
  }
  std::string out = "[";
  if (d == nd - 1) {
    // A row: as many entries per line as fit in the line width.
    const int64_t per_line = std::max<int64_t>(1, (kLineWidth - indent) / int64_t(f.width() + 2));
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) out += i % per_line == 0 ? ",\n" + std::string(indent + 1, ' ') : ", ";
      out += parts[i];
    }
  } else {
    // Blocks of a (nd - d)-dimensional tensor are separated by nd - d - 1 newlines.
    const std::string sep = "," + std::string(nd - d - 1, '\n') + std::string(indent + 1, ' ');
    for (size_t i = 0; i < parts.size(); ++i) out += (i > 0 ? sep : "") + parts[i];
  }
  return out + "]";
}

}  // namespace

std::string to_string(const Tensor& t) {
  if (!t.defined()) return "tensor(undefined)";
  const std::string prefix = "tensor(";
  const int64_t indent = prefix.size();
  std::string s = prefix;
  if (t.numel() == 0) {
    s += "[]";
  } else {
    const bool summarize = t.numel() > kThreshold;
    std::vector<int64_t> offsets;
    collect_shown(t, 0, 0, summarize, offsets);
    s += values_str(t, 0, 0, indent, summarize, ValueFormatter(t, offsets));
  }
  // Suffixes continue the last line while it stays within the line width.
  int64_t last_line = int64_t(s.size()) - (s.rfind('\n') == std::string::npos ? -1 : int64_t(s.rfind('\n'))) + 1;
  for (const std::string& suffix : {fmt::format("shape={}", t.shape()), fmt::format("dtype={}", t.dtype())}) {
    const int64_t len = suffix.size();
    if (last_line + len + 2 > kLineWidth) {
      s += ",\n" + std::string(indent, ' ') + suffix;
      last_line = indent + len;
    } else {
      s += ", " + suffix;
      last_line += len + 2;
    }
  }
  return s + ")";
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << to_string(t); }

}  // namespace strata
