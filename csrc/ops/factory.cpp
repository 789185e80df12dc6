// Creating tensors: empty, full, the *_like family and wrapped Python numbers.
#include <algorithm>

#include "ops/helpers.h"

namespace tapegrad::ops {

Tensor empty(const Shape& shape, DType dtype, Device device) { return TensorImpl::empty(shape, dtype, device); }

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = TensorImpl::empty(shape, dtype, device);
  kernels(t).fill(*t, value);
  return t;
}

Tensor full(const Shape& shape, const Scalar& value, DType dtype, Device device) {
  if (is_integral(dtype, false)) value.to_integer(dtype);  // torch refuses inf, nan and out-of-range values
  return full(shape, value.value, dtype, device);
}

Tensor full_like(const Tensor& t, double value, DType dtype, Device device) {
  Tensor out = device == t->device() ? empty_like_layout(t, t->sizes(), dtype) : TensorImpl::empty(t->sizes(), dtype, device);
  kernels(out).fill(*out, value);
  return out;
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
      case DType::Int64: *t->data<int64_t>() = s.to_integer(dtype); break;
      case DType::Int32: *t->data<int32_t>() = int32_t(s.to_integer(dtype)); break;
      case DType::Bool: *t->data<bool>() = s.value != 0; break;
    }
  } else {
    if (is_integral(dtype, false)) s.to_integer(dtype);  // the same refusal as on the CPU
    kernels(t).fill(*t, s.value);
  }
  return t;
}

}  // namespace tapegrad::ops

namespace tapegrad::ops {

Tensor linspace(double start, double end, int64_t steps, DType dtype, Device device) {
  TG_CHECK(steps >= 0, "number of steps must be non-negative");
  storage_bytes({steps}, dtype);  // torch's error for a result too big to exist, before any work
  if (steps == 1) return full({1}, start, dtype, device);
  // torch's symmetric formula: the first half counts up from start, the second down from end.
  double step = steps > 1 ? (end - start) / double(steps - 1) : 0;
  Tensor i = arange(0, double(steps), 1, DType::Float64, device);
  Tensor up = add(mul_scalar(i, step), Scalar(start));
  Tensor down = rsub(mul_scalar(rsub(i, Scalar(double(steps - 1))), step), Scalar(end));
  Tensor first_half = compare(i, Scalar(double(steps / 2)), 2 /* Lt */);
  return to_dtype(where(first_half, up, down), dtype);
}

Tensor eye(int64_t n, int64_t m, DType dtype, Device device) {
  TG_CHECK(n >= 0, "n must be greater or equal to 0, got ", n);
  TG_CHECK(m >= 0, "m must be greater or equal to 0, got ", m);
  Tensor t = full({n, m}, 0.0, dtype, device);
  int64_t k = std::min(n, m);
  if (k > 0) {
    Tensor d = arange(0, double(k), 1, DType::Int64, device);
    index_put_(t, {d, d}, full({}, 1.0, dtype, device), false);
  }
  return t;
}

}  // namespace tapegrad::ops
