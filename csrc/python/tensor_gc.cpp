// Garbage collector support for Tensor and Node (grad_fn): a hook or a Function's ctx that refers
// back to its own tensor or node forms a cycle through C++ that Python cannot see; here each
// object reports the Python objects it owns exclusively, and clears them when the collector
// breaks the cycle.
#include "autograd/hooks.h"
#include "python/py_hooks.h"

namespace tapegrad::py {
namespace {

// The tensor behind a Python object when that object is its only owner (else its hooks are
// reachable from elsewhere, and reporting them here would let the collector free live objects).
TensorImpl* exclusively_owned(PyObject* self) {
  auto v_h = reinterpret_cast<pyb::detail::instance*>(self)->get_value_and_holder();
  if (!v_h.holder_constructed()) return nullptr;
  Tensor& holder = v_h.holder<Tensor>();
  return holder.use_count() == 1 ? holder.get() : nullptr;
}

// The grad_fn when only this tensor holds it.
Node* owned_grad_fn(TensorImpl& t) {
  const auto& fn = t.grad_fn();
  return fn && fn.use_count() == 1 ? fn.get() : nullptr;
}

template <class Hook, class Fn>
int visit_held(const Fn& f, visitproc visit, void* arg) {
  if (auto* h = f.template target<Hook>()) Py_VISIT(h->fn->ptr());
  return 0;
}

// The Python objects a node owns: its hooks' callables and a custom Function's backward (its ctx).
// Hook lists change only with the GIL held, which the collector holds too.
int visit_node(Node* node, visitproc visit, void* arg) {
  if (node->hooks) {
    for (auto& [id, nr, h] : node->hooks->tensor_pre)
      if (int r = visit_held<PyGradHook>(h, visit, arg)) return r;
    for (auto& [id, h] : node->hooks->pre)
      if (int r = visit_held<PyNodePreHook>(h, visit, arg)) return r;
    for (auto& [id, h] : node->hooks->post)
      if (int r = visit_held<PyNodePostHook>(h, visit, arg)) return r;
  }
  if (pyb::object* callable = function_node_callable(*node)) Py_VISIT(callable->ptr());
  return 0;
}

void clear_node(Node* node) {
  clear_hooks(*node);
  if (pyb::object* callable = function_node_callable(*node)) *callable = pyb::none();
}

int traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));
  TensorImpl* t = exclusively_owned(self);
  if (!t) return 0;
  if (auto* hooks = t->leaf_hooks_if_any()) {
    for (auto& [id, h] : hooks->pre)
      if (int r = visit_held<PyGradHook>(h, visit, arg)) return r;
    for (auto& [id, h] : hooks->post_accumulate)
      if (int r = visit_held<PyPostAccumulateHook>(h, visit, arg)) return r;
  }
  Node* node = owned_grad_fn(*t);
  return node ? visit_node(node, visit, arg) : 0;
}

int clear(PyObject* self) {
  TensorImpl* t = exclusively_owned(self);
  if (!t) return 0;
  clear_hooks(*t);
  if (Node* node = owned_grad_fn(*t)) clear_node(node);
  return 0;
}

// A grad_fn's Python object (`fn = y.grad_fn; fn.register_hook(lambda *g: fn)`), when it is the
// node's only owner.
Node* exclusively_owned_node(PyObject* self) {
  auto v_h = reinterpret_cast<pyb::detail::instance*>(self)->get_value_and_holder();
  if (!v_h.holder_constructed()) return nullptr;
  auto& holder = v_h.holder<std::shared_ptr<Node>>();
  return holder.use_count() == 1 ? holder.get() : nullptr;
}

int traverse_node(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));
  Node* node = exclusively_owned_node(self);
  return node ? visit_node(node, visit, arg) : 0;
}

int clear_node_object(PyObject* self) {
  if (Node* node = exclusively_owned_node(self)) clear_node(node);
  return 0;
}

}  // namespace

void setup_tensor_gc(PyHeapTypeObject* heap_type) {
  PyTypeObject* type = &heap_type->ht_type;
  type->tp_flags |= Py_TPFLAGS_HAVE_GC;
  type->tp_traverse = traverse;
  type->tp_clear = clear;
}

void setup_node_gc(PyHeapTypeObject* heap_type) {
  PyTypeObject* type = &heap_type->ht_type;
  type->tp_flags |= Py_TPFLAGS_HAVE_GC;
  type->tp_traverse = traverse_node;
  type->tp_clear = clear_node_object;
}

}  // namespace tapegrad::py
