// Tensor's arithmetic operators (+ - * / % // ** and unary -, +, abs) as CPython number slots: Python
// calls them directly and derives __add__/__radd__... from them, skipping any method lookup.
#include "core/error.h"
#include "ops/ops.h"
#include "python/binary_forms.h"
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
template <class Forms>
PyObject* binary(PyObject* a, PyObject* b) {
  try {
    if (const Tensor* x = tensor_of(a)) {
      if (const Tensor* y = tensor_of(b)) return guarded([&] { return Forms::tt(*x, *y); });
      if (auto s = scalar_from(b)) return guarded([&] { return Forms::ts(*x, *s); });
    } else if (const Tensor* y = tensor_of(b)) {
      if (auto s = scalar_from(a)) return guarded([&] { return Forms::st(*s, *y); });
    }
  } catch (...) {  // scalar_from: an int too large for int64
    pybind11::detail::try_translate_exceptions();
    return nullptr;
  }
  Py_RETURN_NOTIMPLEMENTED;
}

PyObject* power(PyObject* a, PyObject* b, PyObject* modulo) {
  if (modulo != Py_None) Py_RETURN_NOTIMPLEMENTED;  // pow(x, y, m): Python raises its TypeError
  return binary<forms::Pow>(a, b);
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
  n.nb_add = binary<forms::Add>;
  n.nb_subtract = binary<forms::Sub>;
  n.nb_multiply = binary<forms::Mul>;
  n.nb_true_divide = binary<forms::Div>;
  n.nb_remainder = binary<forms::Remainder>;
  n.nb_floor_divide = binary<forms::FloorDivide>;
  n.nb_power = power;
  n.nb_negative = unary<&ops::neg>;
  n.nb_absolute = unary<&ops::abs>;
  n.nb_positive = positive;
}

}  // namespace tapegrad::py
