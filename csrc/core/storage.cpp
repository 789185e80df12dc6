// Storage lifetime and the allocator registry; scalars avoid the allocator entirely.
#include "core/storage.h"

#include <malloc.h>

#include "core/error.h"
#include "core/pool.h"
#include "core/sanitizer.h"
#include "kernels/cuda_runtime.h"

namespace tapegrad {

namespace {
Allocator* g_allocators[kNumDeviceTypes] = {nullptr, nullptr};
}

void register_allocator(DeviceType type, Allocator* alloc) { g_allocators[int(type)] = alloc; }

Allocator* allocator_for(DeviceType type) {
  Allocator* a = g_allocators[int(type)];
  if (!a) {
    if (type == DeviceType::CUDA) cuda_unavailable();
    fail(ErrorKind::Runtime, "no allocator registered for this device");
  }
  return a;
}

void release_free_memory() {
  for (Allocator* a : g_allocators)
    if (a) a->release_cached();
  // Blocks below the mmap threshold go back to glibc's heap, which returns only its top to the
  // system on free(); trimming also releases whole free pages in the middle of the heap.
  malloc_trim(0);
}

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device) {
  auto s = std::allocate_shared<Storage>(PoolAllocator<Storage>());
  s->nbytes_ = nbytes;
  s->device_ = device;
  if (device.is_cpu() && nbytes <= sizeof(s->inline_) && !kAsan) {
    // Scalars and tiny tensors dominate small graphs: keep their bytes inside the Storage (not under
    // ASan, which guards only separate blocks: a read past a scalar would land in this Storage).
    s->data_ = s->inline_;
  } else {
    s->data_ = allocator_for(device.type)->allocate(nbytes);
    s->from_allocator_ = true;
  }
  return s;
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t nbytes, Device device, std::shared_ptr<void> owner) {
  auto s = std::make_shared<Storage>();
  s->data_ = data;
  s->nbytes_ = nbytes;
  s->device_ = device;
  s->owner_ = std::move(owner);
  return s;
}

Storage::~Storage() {
  if (from_allocator_) allocator_for(device_.type)->deallocate(data_, nbytes_);
}

}  // namespace tapegrad
