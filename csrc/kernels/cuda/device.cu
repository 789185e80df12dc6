// CUDA runtime queries; linked statically so the module imports on machines without a driver.
#include <cuda_runtime.h>

#include "kernels/cuda_runtime.h"

namespace tapegrad::cuda {

bool compiled_with_cuda() { return true; }

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return n;
}

}  // namespace tapegrad::cuda
