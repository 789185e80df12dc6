// Python numbers read as torch reads them for a real dtype: a complex fill value's real part (or
// torch's overflow error), and add/sub's alpha, which may not be complex for real tensors.
#include "core/error.h"
#include "core/shape.h"
#include "python/bind_common.h"

namespace tapegrad::py {

pyb::object fill_value_of(pyb::handle value, DType dtype) {
  if (!PyComplex_Check(value.ptr())) return pyb::reinterpret_borrow<pyb::object>(value);
  double re = PyComplex_RealAsDouble(value.ptr()), im = PyComplex_ImagAsDouble(value.ptr());
  if (dtype == DType::Bool) return pyb::bool_(re != 0 || im != 0);
  if (im != 0) {
    const char* c = dtype == DType::Float32 ? "float" : dtype == DType::Float64 ? "double"
                    : dtype == DType::Int64 ? "int64_t" : "int";
    fail(ErrorKind::Runtime, "value cannot be converted to type ", c, " without overflow");
  }
  return pyb::float_(re);
}

Scalar alpha_of(pyb::handle alpha, const Tensor* a, pyb::handle b) {
  if (!PyComplex_Check(alpha.ptr())) return number_of(alpha);
  if (a && b && is_tensor(b)) broadcast_shapes((*a)->sizes(), tensor_of(b)->sizes());
  fail(ErrorKind::Runtime, "For non-complex input tensors, argument alpha must not be a complex number.");
}

}  // namespace tapegrad::py
