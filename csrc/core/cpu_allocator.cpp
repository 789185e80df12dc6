// The CPU allocator: 64-byte aligned blocks; large blocks are cached by size so that a
// fresh big output reuses warm pages instead of faulting new ones every call.
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "core/sanitizer.h"
#include "core/storage.h"

namespace tapegrad {
namespace {

constexpr size_t kAlign = 64;
constexpr size_t kCacheMin = size_t(1) << 16;     // below this glibc malloc is already fast
constexpr size_t kCacheLimit = size_t(2) << 30;   // never hoard more than this much

class CpuCachingAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes) override {
    if constexpr (kAsan) return allocate_exact(nbytes);
    size_t size = round_up(nbytes);
    if (size >= kCacheMin) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_bytes_ -= size;
        return p;
      }
    }
    void* p = std::aligned_alloc(kAlign, size);
    if (!p) {
      release_cache();
      p = std::aligned_alloc(kAlign, size);
    }
    if (!p)
      fail(ErrorKind::Runtime, "DefaultCPUAllocator: not enough memory: you tried to allocate ", nbytes, " bytes.");
    return p;
  }

  void release_cached() override { release_cache(); }

  void deallocate(void* ptr, size_t nbytes) override {
    if constexpr (kAsan) return std::free(ptr);
    size_t size = round_up(nbytes);
    if (size >= kCacheMin) {
      std::lock_guard<std::mutex> lock(mu_);
      if (cached_bytes_ + size <= kCacheLimit) {
        free_[size].push_back(ptr);
        cached_bytes_ += size;
        return;
      }
    }
    std::free(ptr);
  }

 private:
  // Under ASan: no cache and no rounding up, so that the first byte past the tensor is a redzone.
  // posix_memalign takes any size (aligned_alloc wants a multiple of the alignment).
  static void* allocate_exact(size_t nbytes) {
    void* p = nullptr;
    if (posix_memalign(&p, kAlign, nbytes) != 0 || !p)
      fail(ErrorKind::Runtime, "DefaultCPUAllocator: not enough memory: you tried to allocate ", nbytes, " bytes.");
    return p;
  }

  // Sizes near SIZE_MAX cannot be rounded up; aligned_alloc then refuses the unrounded size.
  static size_t round_up(size_t n) { return n == 0 ? kAlign : n > SIZE_MAX - kAlign ? n : (n + kAlign - 1) / kAlign * kAlign; }

  void release_cache() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& kv : free_)
      for (void* p : kv.second) std::free(p);
    free_.clear();
    cached_bytes_ = 0;
  }

  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_bytes_ = 0;
};

struct RegisterCpu {
  RegisterCpu() {
    static CpuCachingAllocator alloc;
    register_allocator(DeviceType::CPU, &alloc);
  }
} register_cpu;

}  // namespace
}  // namespace tapegrad
