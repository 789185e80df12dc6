// Making and freeing Python Tensor objects without pybind11's instance registry (see tensor_object.h).
#include "python/tensor_object.h"

namespace tapegrad::py {
namespace {

namespace detail = pybind11::detail;

destructor pybind11_dealloc = nullptr;

// Objects made by wrap_tensor take the short path; the rare others (made by pybind11 for
// __init__, or with keep-alive patients) go through pybind11's own deallocation.
void dealloc(PyObject* self) {
  auto* inst = reinterpret_cast<detail::instance*>(self);
  if (Tensor* held = held_tensor(self); held && (*held)->py_object() == self) (*held)->set_py_object(nullptr);
  if (!inst->simple_layout || inst->simple_instance_registered || inst->has_patients) return pybind11_dealloc(self);
  PyTypeObject* type = Py_TYPE(self);
  PyObject_GC_UnTrack(self);
  if (inst->simple_holder_constructed) {
    // Freeing a graph can drop Python hooks; an exception in flight must survive that.
    PyObject *type_, *value, *trace;
    PyErr_Fetch(&type_, &value, &trace);
    reinterpret_cast<Tensor*>(&inst->simple_value_holder[1])->~Tensor();
    inst->simple_holder_constructed = false;
    PyErr_Restore(type_, value, trace);
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

void setup_tensor_object(PyHeapTypeObject* heap_type) {
  heap_type->ht_type.tp_name = "Tensor";  // Python's own messages ("unsupported operand ...") name it as torch's
  pybind11_dealloc = heap_type->ht_type.tp_dealloc;
  heap_type->ht_type.tp_dealloc = dealloc;
}

}  // namespace tapegrad::py
