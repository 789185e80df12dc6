// Random tensors: uniform, normal, integers and permutations from a Generator.
#include "core/generator.h"
#include "ops/helpers.h"

namespace tapegrad::ops {

Tensor random(int dist, const Shape& shape, double a, double b, DType dtype, Device device, Generator* gen) {
  Tensor t = TensorImpl::empty(shape, dtype, device);
  std::shared_ptr<Generator> keep;
  if (!gen) {
    keep = default_generator();
    gen = keep.get();
  }
  kernels(t).random(RandomDist(dist), *t, a, b, *gen);
  return t;
}

Tensor random_like(const Tensor& like, int dist, double a, double b, DType dtype) {
  // A dense permuted layout is still one contiguous block: the kernel fills it in memory order.
  Tensor t = empty_preserving(like, dtype, like->device());
  auto gen = default_generator();
  kernels(t).random(RandomDist(dist), *t, a, b, *gen);
  return t;
}

}  // namespace tapegrad::ops
