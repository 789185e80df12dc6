// Ref-counted buffers on a device, the per-device allocator interface, and the version counter views share.
#pragma once
#include <cstddef>
#include <atomic>
#include <cstdint>
#include <memory>

#include "core/device.h"

namespace tapegrad {

struct Allocator {
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* ptr, size_t nbytes) = 0;
  // Frees what the allocator keeps cached for reuse (thread-safe).
  virtual void release_cached() {}
};

// Each backend registers its allocator once at load time; CPU is always present.
void register_allocator(DeviceType type, Allocator* alloc);
Allocator* allocator_for(DeviceType type);

// Gives memory that is free but kept (allocator caches, the C heap's free pages) back to the
// system; run after a full garbage collection, which may just have freed a great deal.
void release_free_memory();

class Storage {
 public:
  // Fresh, uninitialised memory on `device` (small buffers live inside the Storage itself).
  static std::shared_ptr<Storage> allocate(size_t nbytes, Device device);
  // Memory owned elsewhere (a numpy array, a DLPack capsule); `owner` keeps it alive.
  static std::shared_ptr<Storage> wrap(void* data, size_t nbytes, Device device, std::shared_ptr<void> owner);

  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage();

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  // Bumped by every in-place write; shared by all views of this storage (torch's version counter).
  // Atomic: a backward pass in one thread checks it while another thread writes in place.
  uint32_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  std::atomic<uint32_t> version_{0};
  bool from_allocator_ = false;
  std::shared_ptr<void> owner_;
  alignas(16) unsigned char inline_[16];
};

}  // namespace tapegrad
