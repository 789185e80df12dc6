// Python Tensor objects: one Python object per tensor, made, read and freed directly on
// pybind11's instance layout; pybind11's generic path (a type lookup by hashed name per
// conversion, a registry of live instances) costs more than a small op's own work.
#pragma once
#include <pybind11/pybind11.h>

#include "core/tensor.h"

namespace tapegrad::py {

// The Python Tensor type, set once when the class is bound.
inline PyTypeObject* tensor_type = nullptr;

inline bool is_tensor_object(PyObject* o) { return PyObject_TypeCheck(o, tensor_type); }

// The tensor a Python Tensor object holds (o must be one); null while its __init__ has not run.
inline Tensor* held_tensor(PyObject* o) {
  auto* inst = reinterpret_cast<pybind11::detail::instance*>(o);
  if (inst->simple_layout)
    return inst->simple_holder_constructed ? reinterpret_cast<Tensor*>(&inst->simple_value_holder[1]) : nullptr;
  auto v_h = inst->get_value_and_holder();
  return v_h.holder_constructed() ? &v_h.holder<Tensor>() : nullptr;
}

// A new reference to t's Python object, made on first need; None for a null tensor; null with
// a Python error set when allocation fails.
PyObject* wrap_tensor(const Tensor& t);

// Makes the instance pybind11 allocated for Tensor.__init__ (or a subclass's) hold t and show it.
void init_tensor_object(pybind11::detail::value_and_holder& v_h, Tensor t);

// Makes the bound Tensor class use all of the above (deallocation included); called once.
void setup_tensor_object(pybind11::handle cls);
// Installs the arithmetic operators as number slots (tensor_number.cpp), before the type is ready.
void setup_tensor_number(PyHeapTypeObject* heap_type);

}  // namespace tapegrad::py

namespace pybind11::detail {

// pybind11 recognises a holder by its caster deriving from its own; ours does not, so say it.
template <>
struct is_holder_type<tapegrad::TensorImpl, std::shared_ptr<tapegrad::TensorImpl>> : std::true_type {};

// Tensor arguments are read in place (no copy of the holder for `const Tensor&`), and results
// go through wrap_tensor. None is not a tensor: an optional one is a std::optional<Tensor>.
template <>
struct type_caster<std::shared_ptr<tapegrad::TensorImpl>> {
  using Tensor = tapegrad::Tensor;
  static constexpr auto name = const_name("Tensor");

  bool load(handle src, bool) {
    if (!tapegrad::py::is_tensor_object(src.ptr())) return false;
    held_ = tapegrad::py::held_tensor(src.ptr());
    return held_ != nullptr;
  }
  static handle cast(const Tensor& src, return_value_policy, handle) { return tapegrad::py::wrap_tensor(src); }

  template <typename>
  using cast_op_type = const Tensor&;
  operator const Tensor&() const { return *held_; }

 private:
  const Tensor* held_ = nullptr;
};

}  // namespace pybind11::detail
