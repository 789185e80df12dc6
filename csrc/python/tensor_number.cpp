// Tensor's arithmetic operators (+ - * / % // ** and unary -, +, abs) as CPython number slots: Python
// calls them directly and derives __add__/__radd__... from them, skipping any method lookup.
#include "core/error.h"
#include "ops/ops.h"
#include "python/py_convert.h"

namespace tapegrad::py {
namespace {

// The constructed tensor behind o, or null when o is not one.
const Tensor* tensor_of(PyObject* o) { return is_tensor_object(o) ? held_tensor(o) : nullptr; }

// Runs f and returns its tensor as a new reference, or null with the Python error set.
template <class F>
PyObject* guarded(F&& f) {
  try {
    return wrap_tensor(f());
  } catch (...) {
    pybind11::detail::try_translate_exceptions();
    return nullptr;
  }
}

// a <op> b for a slot: Python passes the operands in source order, whichever is the tensor;
// NotImplemented for an operand that is neither a tensor nor a number lets Python go on.
template <class TT, class TS, class ST>
PyObject* binary(PyObject* a, PyObject* b, TT tensor_tensor, TS tensor_scalar, ST scalar_tensor) {
  try {
    if (const Tensor* x = tensor_of(a)) {
      if (const Tensor* y = tensor_of(b)) return guarded([&] { return tensor_tensor(*x, *y); });
      if (auto s = scalar_from(b)) return guarded([&] { return tensor_scalar(*x, *s); });
    } else if (const Tensor* y = tensor_of(b)) {
      if (auto s = scalar_from(a)) return guarded([&] { return scalar_tensor(*s, *y); });
    }
  } catch (...) {  // scalar_from: an int too large for int64
    pybind11::detail::try_translate_exceptions();
    return nullptr;
  }
  Py_RETURN_NOTIMPLEMENTED;
}

PyObject* add(PyObject* a, PyObject* b) {
  return binary(a, b, [](const Tensor& x, const Tensor& y) { return ops::add(x, y); },
                [](const Tensor& x, const Scalar& s) { return ops::add(x, s); },
                [](const Scalar& s, const Tensor& y) { return ops::add(y, s); });
}

PyObject* subtract(PyObject* a, PyObject* b) {
  return binary(a, b, [](const Tensor& x, const Tensor& y) { return ops::sub(x, y); },
                [](const Tensor& x, const Scalar& s) { return ops::sub(x, s); },
                [](const Scalar& s, const Tensor& y) { return ops::rsub(y, s); });
}

PyObject* multiply(PyObject* a, PyObject* b) {
  return binary(a, b, [](const Tensor& x, const Tensor& y) { return ops::mul(x, y); },
                [](const Tensor& x, const Scalar& s) { return ops::mul(x, s); },
                [](const Scalar& s, const Tensor& y) { return ops::mul(y, s); });
}

PyObject* true_divide(PyObject* a, PyObject* b) {
  return binary(a, b, [](const Tensor& x, const Tensor& y) { return ops::div(x, y); },
                [](const Tensor& x, const Scalar& s) { return ops::div(x, s); },
                [](const Scalar& s, const Tensor& y) { return ops::rdiv(y, s); });
}

PyObject* remainder(PyObject* a, PyObject* b) {
  return binary(a, b, [](const Tensor& x, const Tensor& y) { return ops::remainder(x, y); },
                [](const Tensor& x, const Scalar& s) { return ops::remainder(x, s); },
                [](const Scalar& s, const Tensor& y) { return ops::remainder(s, y); });
}

PyObject* floor_divide(PyObject* a, PyObject* b) {
  return binary(a, b, [](const Tensor& x, const Tensor& y) { return ops::floor_divide(x, y); },
                [](const Tensor& x, const Scalar& s) { return ops::floor_divide(x, s); },
                [](const Scalar& s, const Tensor& y) { return ops::floor_divide(s, y); });
}

PyObject* power(PyObject* a, PyObject* b, PyObject* modulo) {
  if (modulo != Py_None) Py_RETURN_NOTIMPLEMENTED;  // pow(x, y, m): Python raises its TypeError
  return binary(a, b, [](const Tensor& x, const Tensor& y) { return ops::pow(x, y); },
                [](const Tensor& x, const Scalar& s) { return ops::pow(x, s); },
                [](const Scalar& s, const Tensor& y) { return ops::pow(s, y); });
}

template <Tensor (*F)(const Tensor&)>
PyObject* unary(PyObject* a) {
  const Tensor* x = tensor_of(a);
  if (!x) {
    PyErr_SetString(PyExc_TypeError, "descriptor requires an initialised Tensor");
    return nullptr;
  }
  return guarded([&] { return F(*x); });
}

PyObject* positive(PyObject* a) {
  Py_INCREF(a);  // +x is x, as torch's
  return a;
}

}  // namespace

void setup_tensor_number(PyHeapTypeObject* heap_type) {
  PyNumberMethods& n = heap_type->as_number;
  n.nb_add = add;
  n.nb_subtract = subtract;
  n.nb_multiply = multiply;
  n.nb_true_divide = true_divide;
  n.nb_remainder = remainder;
  n.nb_floor_divide = floor_divide;
  n.nb_power = power;
  n.nb_negative = unary<&ops::neg>;
  n.nb_absolute = unary<&ops::abs>;
  n.nb_positive = positive;
}

}  // namespace tapegrad::py
