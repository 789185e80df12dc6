// Registers the CPU kernels as the CPU device's KernelTable.
#include "kernels/cpu/kernels.h"

namespace tapegrad::cpu {
namespace {
const KernelTable kTable = {unary, binary, sum_to, copy, fill};
struct Register {
  Register() { register_kernels(DeviceType::CPU, &kTable); }
} register_cpu_kernels;
}  // namespace
}  // namespace tapegrad::cpu
