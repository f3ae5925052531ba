// storage.h: the flat, 64-byte aligned byte buffer that tensors view.
//
// Several Tensors may share one Storage (views). A Storage also carries a version counter that
// every in-place write bumps; autograd records the version of each tensor it saves for backward
// and refuses to run a backward whose input was changed in place after being saved.
//
// Memory either comes from the allocator (freed buffers are kept in a size-bucketed cache, so the
// large activations a training step frees are reused by the next step without page faults), or is
// borrowed from elsewhere (a memory-mapped file) together with a function that releases it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace strata {

class Storage {
 public:
  // A new buffer of `nbytes` bytes, uninitialised, 64-byte aligned.
  static std::shared_ptr<Storage> allocate(size_t nbytes);
  // Wraps memory owned elsewhere; `release` runs when the last view goes away.
  static std::shared_ptr<Storage> borrow(void* data, size_t nbytes, std::function<void()> release);

  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }

  uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  Storage(void* data, size_t nbytes, std::function<void()> release)
      : data_(data), nbytes_(nbytes), release_(std::move(release)) {}
  void* data_;
  size_t nbytes_;
  std::function<void()> release_;
  std::atomic<uint64_t> version_{0};
};

// The allocator's cache of freed buffers: how much it holds, and a way to give it back to the OS.
struct AllocatorStats {
  size_t cached_bytes;     // bytes held in the cache, ready for reuse
  size_t allocated_bytes;  // bytes currently handed out to live storages
  size_t peak_allocated_bytes;
};
AllocatorStats allocator_stats();
void empty_cache();

}  // namespace strata
