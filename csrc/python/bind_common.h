// Declarations shared by the binding files: one bind_* function per area of the Python API.
#pragma once
#include <pybind11/pybind11.h>

#include "python/arguments.h"
#include "python/py_convert.h"

namespace tapegrad::py {
void bind_types(Module& m);      // dtype, device, errors
void bind_tensor(Module& m);     // the Tensor class
void bind_functions(Module& m);  // tapegrad.<op>(...) and creation functions
void bind_autograd(Module& m);   // Node, grad mode, backward
void bind_shape(Module& m);      // views, indexing, joining
void bind_reduce(Module& m);     // reductions, comparisons, selection
void bind_creation(Module& m);   // arange, random, Generator, numpy/DLPack exchange
void bind_index(Module& m);      // tensor[...] reads and writes
void bind_inplace(Module& m);    // add_, mul_, sin_, +=, ...
void bind_hooks(Module& m);      // register_hook, retain_grad, node hooks
void bind_function(Module& m);   // custom autograd.Function nodes
void bind_anomaly(Module& m);    // set_detect_anomaly
void bind_nn(Module& m);         // tapegrad._C._nn: ops behind nn.functional

// The bound Tensor class, whose defs read their arguments strictly (see strict() in arguments.h).
struct TensorClass : pyb::class_<TensorImpl, Tensor> {
  using Base = pyb::class_<TensorImpl, Tensor>;
  using Base::Base;
  explicit TensorClass(Base cls) : Base(std::move(cls)) {}
  template <class F, class... Extra>
  TensorClass& def(const char* name, F&& f, const Extra&... extra) {
    Base::def(name, strict(std::forward<F>(f)), extra...);
    return *this;
  }
  // Properties return this class too, so a chain of defs stays strict after one.
  template <class... A>
  TensorClass& def_property(A&&... a) {
    Base::def_property(std::forward<A>(a)...);
    return *this;
  }
  template <class... A>
  TensorClass& def_property_readonly(A&&... a) {
    Base::def_property_readonly(std::forward<A>(a)...);
    return *this;
  }
};
inline TensorClass tensor_class(pyb::module_& m) {
  return TensorClass(pyb::reinterpret_borrow<TensorClass::Base>(m.attr("Tensor")));
}

// Registers f both as a Tensor method and as tapegrad.<name>(input, ...).
template <class F, class... Extra>
void def_both(Module& m, TensorClass& cls, const char* name, F&& f, const Extra&... extra) {
  cls.def(name, f, extra...);
  m.def(name, f, pyb::arg("input"), extra...);
}

// self <- result in place with torch's autograd rules for in-place ops: leaf checks, the op's
// node taking over self's history, or the base's history rewritten when self is a view.
// A write of one value everywhere (fill_, zero_, tril_) may go through a broadcast tensor; any
// other is refused there, as torch refuses it.
Tensor assign_inplace(const Tensor& self, const Tensor& result, const char* constant_rule = "FillBackward0",
                      bool allow_overlap = false);
// torch's refusal, before an in-place op runs, to write into a leaf that requires grad (or its view).
void check_inplace_leaf(const Tensor& self);
// torch's refusal of an element-by-element write into a tensor whose elements share memory.
void check_no_internal_overlap(const Tensor& written);
// torch's refusal to write from a source that shares memory with the destination: copies and
// pointwise in-place ops refuse a partial overlap only, index writes (index_put_, index_add_) any.
void check_no_overlap(const Tensor& written, const Tensor& source, bool full_allowed);
// An in-place op's operand must broadcast to self's shape: torch checks that before dtypes.
void check_inplace_broadcast(const Tensor& self, const Tensor& other);
// A fill value (masked_fill, scatter's value) as torch reads a complex one: its real part, or torch's
// overflow error when it has an imaginary part (a bool tensor takes any nonzero as True).
pyb::object fill_value_of(pyb::handle value, DType dtype);
// A number torch converts to the real type of `dtype` (a fill value, addcmul's value, lerp's weight).
inline Scalar real_number_of(pyb::handle value, DType dtype) { return number_of(fill_value_of(value, dtype)); }
// add/sub's alpha: torch refuses a complex one for real tensors, after checking that a and b
// (when both are tensors) broadcast.
Scalar alpha_of(pyb::handle alpha, const Tensor* a = nullptr, pyb::handle b = pyb::handle());


// clamp/clip/clamp_min/clamp_max: number bounds (node_name names the node), or tensor bounds
// when either is a tensor (a number beside a tensor is wrapped as torch wraps it); None: no bound.
Tensor clamp_call(const Tensor& t, pyb::handle min, pyb::handle max, const char* node_name = "ClampBackward1",
                  const char* tensor_node_name = "ClampBackward0");

// clamp_min's or clamp_max's one bound, which torch requires (None is no Tensor or Number).
inline pyb::handle required_bound(pyb::handle bound) {
  if (bound.is_none()) bad_argument(bound, "Tensor");
  return bound;
}

// round's decimals= (None: not given). Given at all, even as 0, torch looks for a kernel integers lack.
int64_t round_decimals(const Tensor& x, pyb::handle decimals);

// Calls f(tensor) or g(scalar) for the right-hand operand; NotImplemented for anything else,
// so Python can try the reflected operator and raise its own TypeError.
template <class TensorFn, class ScalarFn>
pyb::object with_operand(pyb::handle other, TensorFn f, ScalarFn g) {
  if (is_tensor(other)) return pyb::cast(f(other.cast<Tensor>()));
  if (auto s = scalar_from(other)) return pyb::cast(g(*s));
  return pyb::reinterpret_borrow<pyb::object>(Py_NotImplemented);
}
}  // namespace tapegrad::py
