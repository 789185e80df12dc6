// The per-device kernel registry.
#include "kernels/dispatch.h"

#include "core/error.h"
#include "kernels/cuda_runtime.h"

namespace tapegrad {
namespace {
const KernelTable* g_tables[kNumDeviceTypes] = {nullptr, nullptr};
}

void register_kernels(DeviceType type, const KernelTable* table) { g_tables[int(type)] = table; }

const KernelTable& kernels_for(Device device) {
  const KernelTable* t = g_tables[int(device.type)];
  if (!t) {
    if (device.is_cuda()) cuda_unavailable();
    fail(ErrorKind::Runtime, "no kernels registered for device ", device.str());
  }
  return *t;
}

void cuda_unavailable() {
  if (!cuda::compiled_with_cuda()) fail(ErrorKind::Assertion, "Torch not compiled with CUDA enabled");
  if (cuda::device_count() == 0)
    fail(ErrorKind::Runtime,
         "Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and installed a driver "
         "from http://www.nvidia.com/Download/index.aspx");
  fail(ErrorKind::Runtime, "this tapegrad build has no CUDA kernels registered");
}

}  // namespace tapegrad
