// chunking.cpp: safe cuts, block cutting and block-wise file reading (see chunking.h).
#include "bpe/chunking.h"

#include "bpe/error.h"
#include "bpe/unicode_class.h"
#include "bpe/utf8.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <thread>

namespace strata::bpe {

namespace {

bool is_ascii_space(unsigned char b) { return b < 0x80 && detail::kAsciiClass[b] == CharClass::space; }

// Is the character that ends just before p (p > begin) whitespace? Invalid UTF-8 counts as
// `other`, as in the pre-tokenizer.
bool space_before(const unsigned char* begin, const unsigned char* p) {
  if (p[-1] < 0x80) return is_ascii_space(p[-1]);
  const unsigned char* lead = p - 1;
  while (lead > begin && p - lead < 4 && (*lead & 0xC0) == 0x80) --lead;
  char32_t cp;
  const int length = decode_utf8(lead, p, cp);
  return lead + length == p && char_class(cp) == CharClass::space;
}

}  // namespace

size_t last_safe_cut(std::string_view text, const SpecialTokens& specials) {
  const size_t reach = std::max<size_t>(specials.max_length(), 1);
  if (text.size() <= reach) return 0;
  const size_t limit = text.size() - reach;  // cuts are looked for in (0, limit]
  size_t best = 0;
  size_t floor = 1;  // whitespace cuts must lie after the last exact match
  for (size_t from = 0;;) {
    const SpecialTokens::Match m = specials.find(text, from);
    if (m.pos == SpecialTokens::npos || m.pos > limit) break;
    if (m.pos > 0) best = m.pos;
    floor = std::max<size_t>(m.pos + m.length, 1);
    from = m.pos + m.length;
  }
  const auto* begin = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t p = limit; p >= floor && p > best; --p) {
    if (is_ascii_space(begin[p]) && !space_before(begin, begin + p)) return p;
  }
  return best;
}

std::vector<std::string_view> split_at_safe_cuts(std::string_view text, int parts, const SpecialTokens& specials) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  for (int k = 1; k < parts; ++k) {
    const size_t target = text.size() * k / parts;
    if (target <= start) continue;
    const size_t cut = last_safe_cut(text.substr(start, target - start), specials);
    if (cut == 0) continue;
    pieces.push_back(text.substr(start, cut));
    start += cut;
  }
  if (start < text.size() || pieces.empty()) pieces.push_back(text.substr(start));
  return pieces;
}

BlockCutter::BlockCutter(const SpecialTokens& specials, size_t block_bytes, Consumer consumer)
    : specials_(specials),
      block_bytes_(std::max<size_t>(block_bytes, 1)),
      next_try_(block_bytes_),
      consumer_(std::move(consumer)) {}

void BlockCutter::push(std::string_view text) {
  buffer_.append(text);
  while (buffer_.size() >= next_try_) {
    const size_t cut = last_safe_cut(buffer_, specials_);
    if (cut == 0) {  // no safe cut yet: wait for twice as much text before looking again
      next_try_ = buffer_.size() * 2;
      return;
    }
    consumer_(std::string_view(buffer_).substr(0, cut));
    buffer_.erase(0, cut);
    next_try_ = block_bytes_;
  }
}

void BlockCutter::finish() {
  if (!buffer_.empty()) consumer_(buffer_);
  buffer_.clear();
  next_try_ = block_bytes_;
}

void for_each_file_block(const std::string& path, const SpecialTokens& specials, size_t block_bytes,
                         const BlockCutter::Consumer& consumer, const Progress& progress) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  check(file != nullptr, "read '{}': cannot open: {}", path, std::strerror(errno));
  uint64_t total = 0;
  if (std::fseek(file.get(), 0, SEEK_END) == 0) {
    const long size = std::ftell(file.get());
    if (size > 0) total = static_cast<uint64_t>(size);
    std::rewind(file.get());
  }
  BlockCutter cutter(specials, block_bytes, consumer);
  std::string slice(std::max<size_t>(block_bytes, 1), '\0');
  uint64_t done = 0;
  for (;;) {
    const size_t n = std::fread(slice.data(), 1, slice.size(), file.get());
    check(!std::ferror(file.get()), "read '{}': read error after {} bytes: {}", path, done, std::strerror(errno));
    if (n == 0) break;
    cutter.push(std::string_view(slice).substr(0, n));
    done += n;
    if (progress) progress(done, std::max(total, done));
  }
  cutter.finish();
}

void run_parallel(int n, const std::function<void(int)>& task) {
  std::vector<std::exception_ptr> errors(static_cast<size_t>(std::max(n, 0)));
  const auto guarded = [&](int k) {
    try {
      task(k);
    } catch (...) {
      errors[k] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (int k = 1; k < n; ++k) threads.emplace_back(guarded, k);
  if (n > 0) guarded(0);
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

int resolve_threads(int threads) {
  if (threads > 0) return threads;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace strata::bpe
