// Declarations shared by the binding files: one bind_* function per area of the Python API.
#pragma once
#include <pybind11/pybind11.h>

#include "python/py_convert.h"

namespace tapegrad::py {
void bind_types(pyb::module_& m);      // dtype, device, errors
void bind_tensor(pyb::module_& m);     // the Tensor class
void bind_functions(pyb::module_& m);  // tapegrad.<op>(...) and creation functions
void bind_autograd(pyb::module_& m);   // Node, grad mode, backward
void bind_shape(pyb::module_& m);      // views, indexing, joining
void bind_reduce(pyb::module_& m);     // reductions, comparisons, selection
void bind_creation(pyb::module_& m);   // arange, random, Generator, numpy/DLPack exchange
void bind_index(pyb::module_& m);      // tensor[...] reads and writes
void bind_inplace(pyb::module_& m);    // add_, mul_, sin_, +=, ...
void bind_hooks(pyb::module_& m);      // register_hook, retain_grad, node hooks
void bind_function(pyb::module_& m);   // custom autograd.Function nodes
void bind_anomaly(pyb::module_& m);    // set_detect_anomaly
void bind_nn(pyb::module_& m);         // tapegrad._C._nn: ops behind nn.functional

using TensorClass = pyb::class_<TensorImpl, Tensor>;
inline TensorClass tensor_class(pyb::module_& m) { return pyb::reinterpret_borrow<TensorClass>(m.attr("Tensor")); }

// Registers f both as a Tensor method and as tapegrad.<name>(input, ...).
template <class F, class... Extra>
void def_both(pyb::module_& m, TensorClass& cls, const char* name, F&& f, const Extra&... extra) {
  cls.def(name, f, extra...);
  m.def(name, f, pyb::arg("input"), extra...);
}

// self <- result in place with torch's autograd rules for in-place ops: leaf checks, the op's
// node taking over self's history, or the base's history rewritten when self is a view.
Tensor assign_inplace(const Tensor& self, const Tensor& result, const char* constant_rule = "FillBackward0");

// A dim argument: None (all dims), an int, or a sequence of ints.
Shape dims_arg(pyb::handle h);

// Calls f(tensor) or g(scalar) for the right-hand operand; NotImplemented for anything else,
// so Python can try the reflected operator and raise its own TypeError.
template <class TensorFn, class ScalarFn>
pyb::object with_operand(pyb::handle other, TensorFn f, ScalarFn g) {
  if (is_tensor(other)) return pyb::cast(f(other.cast<Tensor>()));
  if (auto s = scalar_from(other)) return pyb::cast(g(*s));
  return pyb::reinterpret_borrow<pyb::object>(Py_NotImplemented);
}
}  // namespace tapegrad::py
