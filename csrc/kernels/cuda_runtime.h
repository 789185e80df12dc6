// What the rest of tapegrad asks of the CUDA runtime; answered by kernels/cuda/ or no_cuda.cpp.
#pragma once

namespace tapegrad::cuda {
bool compiled_with_cuda();
// Visible CUDA devices; 0 when there is no driver or no GPU (never an error).
int device_count();
}  // namespace tapegrad::cuda

namespace tapegrad {
// Raises torch's error for using CUDA where it cannot be used.
[[noreturn]] void cuda_unavailable();
}  // namespace tapegrad
