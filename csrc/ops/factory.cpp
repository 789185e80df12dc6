// Creating tensors: empty, full, the *_like family and wrapped Python numbers.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/helpers.h"

namespace tapegrad::ops {

Tensor empty(const Shape& shape, DType dtype, Device device) { return TensorImpl::empty(shape, dtype, device); }

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = TensorImpl::empty(shape, dtype, device);
  kernels(t).fill(*t, value);
  return t;
}

namespace {
// Fills t with a number checked against t's dtype: torch refuses inf, nan and out-of-range values
// for integers, finite values beyond float's range for float32. An int64 a double cannot carry is copied from an exact 0-d tensor.
void fill_checked(const Tensor& t, const Scalar& value) {
  const DType dtype = t->dtype();
  if (is_integral(dtype, false)) value.to_integer(dtype);
  TG_CHECK(dtype != DType::Float32 || !std::isfinite(value.value) || std::fabs(value.value) <= std::numeric_limits<float>::max(),
           "value cannot be converted to type float without overflow");
  if (dtype == DType::Int64 && !value.is_floating() && int64_t(double(value.ivalue)) != value.ivalue)
    kernels(t).copy(*scalar_tensor(value, dtype, t->device()), *t);
  else
    kernels(t).fill(*t, value.value);
}
}  // namespace

Tensor full(const Shape& shape, const Scalar& value, DType dtype, Device device) {
  Tensor t = TensorImpl::empty(shape, dtype, device);
  fill_checked(t, value);
  return t;
}

Tensor full_like(const Tensor& t, double value, DType dtype, Device device) {
  Tensor out = empty_preserving(t, dtype, device);
  kernels(out).fill(*out, value);
  return out;
}
Tensor full_like(const Tensor& t, const Scalar& value, DType dtype, Device device) {
  Tensor out = empty_preserving(t, dtype, device);
  fill_checked(out, value);
  return out;
}

Tensor zeros_like(const Tensor& t) { return full(t->sizes(), 0.0, t->dtype(), t->device()); }
Tensor ones_like(const Tensor& t) { return full(t->sizes(), 1.0, t->dtype(), t->device()); }

Tensor scalar_tensor(const Scalar& s, DType dtype, Device device) {
  Tensor t = TensorImpl::empty({}, dtype, device);
  if (device.is_cpu()) {
    // Exact for large integers, which a double cannot always carry. An integer operand wraps into
    // the op's integer dtype as torch's wrapped-number cast does (int32 * 2**40 is 0); a float one
    // must fit.
    int64_t i = !is_integral(dtype, false) ? 0 : s.is_floating() ? s.to_integer(dtype) : s.ivalue;
    switch (dtype) {
      case DType::Float32: *t->data<float>() = float(s.value); break;
      case DType::Float64: *t->data<double>() = s.value; break;
      case DType::Int64: *t->data<int64_t>() = i; break;
      case DType::Int32: *t->data<int32_t>() = int32_t(uint32_t(uint64_t(i))); break;
      case DType::Bool: *t->data<bool>() = s.value != 0; break;
    }
  } else {
    if (is_integral(dtype, false) && s.is_floating()) s.to_integer(dtype);  // the same refusal as on the CPU
    kernels(t).fill(*t, s.value);
  }
  return t;
}

}  // namespace tapegrad::ops

namespace tapegrad::ops {

Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, DType dtype, Device device) {
  if (dtype == DType::Bool) fail(ErrorKind::NotImplemented, "\"arange_cpu\" not implemented for 'Bool'");
  const double s = start.value, e = end.value, by = step.value;
  TG_CHECK(by > 0 || by < 0, "step must be nonzero");
  TG_CHECK(std::isfinite(s) && std::isfinite(e), "unsupported range: ", s, " -> ", e);
  TG_CHECK((by > 0 && e >= s) || (by < 0 && e <= s), "upper bound and lower bound inconsistent with step sign");
  Scalar first = start, stride = step;
  int64_t n;
  if (!is_floating(dtype)) {
    // Integers count in int64 from the truncated start by the truncated step.
    first = Scalar::from_int(start.to_integer(DType::Int64));
    stride = Scalar::from_int(step.to_integer(DType::Int64));
  }
  if (dtype == DType::Int64) {
    // torch sizes an int64 range in int64 arithmetic, wrapping where it overflows.
    TG_CHECK_KIND(stride.ivalue != 0, Value, "step must be nonzero");
    const int64_t last = end.to_integer(DType::Int64), sign = stride.ivalue > 0 ? 1 : -1;
    const uint64_t span = uint64_t(last) - uint64_t(first.ivalue) + uint64_t(stride.ivalue) - uint64_t(sign);
    n = int64_t(span) / stride.ivalue;
  } else {
    const double size = std::ceil((e - s) / by);
    // Past int64's range torch's size wraps to INT64_MIN, and its error names that value.
    if (!(size < 9223372036854775808.0))
      fail(ErrorKind::Runtime, "IntArrayRef contains an int that cannot be represented as a SymInt: -9223372036854775808");
    n = int64_t(size);
  }
  Tensor t = TensorImpl::empty({std::max<int64_t>(n, 0)}, dtype, device);
  if (t->numel()) kernels(t).arange(*t, first, stride);
  return t;
}

Tensor arange(double start, double end, double step, DType dtype, Device device) {
  return arange(Scalar(start), Scalar(end), Scalar(step), dtype, device);
}

Tensor linspace(double start, double end, int64_t steps, DType dtype, Device device) {
  TG_CHECK(steps >= 0, "number of steps must be non-negative");
  storage_bytes({steps}, dtype);  // torch's error for a result too big to exist, before any work
  if (steps == 1) return full({1}, start, dtype, device);
  Tensor t = TensorImpl::empty({steps}, dtype, device);
  if (steps == 0) return t;
  // The ends must fit the result's type, as torch's conversions check.
  if (is_integral(dtype, false)) {
    Scalar(start).to_integer(dtype);
    Scalar(end).to_integer(dtype);
  } else if (dtype == DType::Float32) {
    const double top = std::numeric_limits<float>::max();
    for (double v : {start, end})
      TG_CHECK(!std::isfinite(v) || std::fabs(v) <= top, "value cannot be converted to type float without overflow");
  }
  kernels(t).linspace(*t, start, end);
  return t;
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
