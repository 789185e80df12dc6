// Built instead of the CUDA kernels when tapegrad is compiled without CUDA: the device answers "none".
#include "kernels/cuda_runtime.h"

namespace tapegrad::cuda {
bool compiled_with_cuda() { return false; }
int device_count() { return 0; }
}  // namespace tapegrad::cuda
