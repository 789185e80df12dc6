// Creating tensors: empty, full, the *_like family and wrapped Python numbers.
#include "ops/helpers.h"

namespace tapegrad::ops {

Tensor empty(const Shape& shape, DType dtype, Device device) { return TensorImpl::empty(shape, dtype, device); }

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = TensorImpl::empty(shape, dtype, device);
  kernels(t).fill(*t, value);
  return t;
}

Tensor zeros_like(const Tensor& t) { return full(t->sizes(), 0.0, t->dtype(), t->device()); }
Tensor ones_like(const Tensor& t) { return full(t->sizes(), 1.0, t->dtype(), t->device()); }

Tensor scalar_tensor(const Scalar& s, DType dtype, Device device) {
  Tensor t = TensorImpl::empty({}, dtype, device);
  if (device.is_cpu()) {
    // Exact for large integers, which a double cannot always carry.
    switch (dtype) {
      case DType::Float32: *t->data<float>() = float(s.value); break;
      case DType::Float64: *t->data<double>() = s.value; break;
      case DType::Int64: *t->data<int64_t>() = s.is_floating() ? int64_t(s.value) : s.ivalue; break;
      case DType::Int32: *t->data<int32_t>() = s.is_floating() ? int32_t(s.value) : int32_t(s.ivalue); break;
      case DType::Bool: *t->data<bool>() = s.value != 0; break;
    }
  } else {
    kernels(t).fill(*t, s.value);
  }
  return t;
}

}  // namespace tapegrad::ops
