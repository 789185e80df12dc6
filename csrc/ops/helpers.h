// Small pieces every op file uses: kernel lookup, output allocation, casting without history.
#pragma once
#include "core/error.h"
#include "kernels/dispatch.h"
#include "ops/ops.h"

namespace tapegrad::ops {

inline const KernelTable& kernels(const Tensor& t) { return kernels_for(t->device()); }

inline Tensor empty_like_shape(const Tensor& like, const Shape& shape, DType dtype) {
  return TensorImpl::empty(shape, dtype, like->device());
}

// Converts dtype for computing only; the caller records history against the original tensor.
inline Tensor cast_for_compute(const Tensor& t, DType dtype) {
  if (t->dtype() == dtype) return t;
  Tensor out = TensorImpl::empty(t->sizes(), dtype, t->device());
  kernels(t).copy(*t, *out);
  return out;
}

// Math like sin() on an integer tensor computes in the default float dtype, as torch does.
inline DType float_result_type(const Tensor& t) { return is_floating(t->dtype()) ? t->dtype() : default_dtype(); }

}  // namespace tapegrad::ops
