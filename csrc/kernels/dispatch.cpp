// The per-device kernel registry.
#include "kernels/dispatch.h"

#include "core/error.h"

namespace tapegrad {
namespace {
const KernelTable* g_tables[kNumDeviceTypes] = {nullptr, nullptr};
}

void register_kernels(DeviceType type, const KernelTable* table) { g_tables[int(type)] = table; }

const KernelTable& kernels_for(Device device) {
  const KernelTable* t = g_tables[int(device.type)];
  if (!t) {
    if (device.is_cuda()) fail(ErrorKind::Runtime, "Torch not compiled with CUDA enabled");
    fail(ErrorKind::Runtime, "no kernels registered for device ", device.str());
  }
  return *t;
}

}  // namespace tapegrad
