// Registers the CPU kernels as the CPU device's KernelTable.
#include "kernels/cpu/kernels.h"

namespace tapegrad::cpu {
namespace {
const KernelTable kTable = {unary, unary_grad, binary, compare, where, fused_multiply_add, batch_norm_stats, layer_norm, reduce, reduce_arg, scan, softmax, copy, fill, arange, linspace, index, index_put, bmm, random, nonzero, sort};
struct Register {
  Register() { register_kernels(DeviceType::CPU, &kTable); }
} register_cpu_kernels;
}  // namespace
}  // namespace tapegrad::cpu
