// Making and freeing Python Tensor objects without pybind11's instance registry (see tensor_object.h).
#include "python/tensor_object.h"

namespace tapegrad::py {
namespace {

namespace detail = pybind11::detail;

destructor pybind11_dealloc = nullptr;

// Drops an object's tensor, first unlinking the tensor from the object. A Python exception in
// flight survives: freeing a graph can release Python hooks.
void drop_tensor(Tensor& held, PyObject* self) {
  PyObject *type, *value, *trace;
  PyErr_Fetch(&type, &value, &trace);
  if (held && held->py_object() == self) held->set_py_object(nullptr);
  held.~Tensor();
  PyErr_Restore(type, value, trace);
}

// pybind11's holder destructor for Tensor (its type record's `dealloc`), replaced so that every
// path dropping an object's tensor unlinks it: pybind11 calls it when it frees an object and
// before it runs __init__ again on a live one.
void release_holder(detail::value_and_holder& v_h) {
  if (v_h.holder_constructed()) {
    drop_tensor(v_h.holder<Tensor>(), reinterpret_cast<PyObject*>(v_h.inst));
    v_h.set_holder_constructed(false);
  }
  v_h.value_ptr() = nullptr;
}

// The short path for the usual object; the rare others (with keep-alive patients, or a layout
// for several C++ bases) go through pybind11's deallocation, which calls release_holder.
void dealloc(PyObject* self) {
  auto* inst = reinterpret_cast<detail::instance*>(self);
  if (!inst->simple_layout || inst->simple_instance_registered || inst->has_patients) return pybind11_dealloc(self);
  PyTypeObject* type = Py_TYPE(self);
  PyObject_GC_UnTrack(self);
  if (inst->simple_holder_constructed) {
    drop_tensor(*reinterpret_cast<Tensor*>(&inst->simple_value_holder[1]), self);
    inst->simple_holder_constructed = false;
  }
  if (inst->weakrefs) PyObject_ClearWeakRefs(self);
  if (PyObject** dict = _PyObject_GetDictPtr(self)) Py_CLEAR(*dict);
  type->tp_free(self);
  Py_DECREF(type);
}

}  // namespace

PyObject* wrap_tensor(const Tensor& t) {
  if (!t) {
    Py_INCREF(Py_None);
    return Py_None;
  }
  if (auto* existing = static_cast<PyObject*>(t->py_object())) {
    Py_INCREF(existing);
    return existing;
  }
  PyObject* o = tensor_type->tp_alloc(tensor_type, 0);  // zeroed: not registered, no patients
  if (!o) return nullptr;
  auto* inst = reinterpret_cast<detail::instance*>(o);
  inst->simple_layout = true;
  inst->owned = true;
  inst->simple_value_holder[0] = t.get();
  new (&inst->simple_value_holder[1]) Tensor(t);
  inst->simple_holder_constructed = true;
  t->set_py_object(o);
  return o;
}

void init_tensor_object(detail::value_and_holder& v_h, Tensor t) {
  t->set_py_object(v_h.inst);
  v_h.value_ptr() = t.get();
  new (&v_h.holder<Tensor>()) Tensor(std::move(t));
  v_h.set_holder_constructed();
}

void setup_tensor_object(pybind11::handle cls) {
  auto* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
  tensor_type = type;
  type->tp_name = "Tensor";  // Python's own messages ("unsupported operand ...") name it as torch's
  pybind11_dealloc = type->tp_dealloc;
  type->tp_dealloc = dealloc;
  detail::get_type_info(type)->dealloc = release_holder;
}

}  // namespace tapegrad::py
