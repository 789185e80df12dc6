// Gradient hooks for Python: Tensor.register_hook / retain_grad / register_post_accumulate_grad_hook
// and Node.register_hook / register_prehook, each returning a handle whose remove() undoes it.
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <atomic>

#include "autograd/hooks.h"
#include "autograd/node.h"
#include "core/error.h"
#include "ops/ops.h"
#include "python/py_hooks.h"

namespace tapegrad::py {
namespace {

std::atomic<int> g_next_hook_id{1};

pyb::tuple to_tuple(const TensorList& ts) {
  pyb::tuple t(ts.size());
  for (size_t i = 0; i < ts.size(); ++i) t[i] = ts[i] ? pyb::cast(ts[i]) : pyb::none();
  return t;
}

std::optional<TensorList> from_result(const pyb::object& r, size_t expected, const char* what) {
  if (r.is_none()) return std::nullopt;
  TensorList out;
  for (auto item : r) out.push_back(item.is_none() ? Tensor() : item.cast<Tensor>());
  TG_CHECK(out.size() == expected, "hook '", what, "' has returned an incorrect number of values (got ", out.size(),
           ", but expected ", expected, ")");
  return out;
}

struct HookHandle {
  std::function<void()> remover;
  void remove() {
    if (remover) remover();
    remover = nullptr;
  }
};

// torch takes any object as a tensor's hook and finds out only when backward calls it.
pyb::function as_hook(pyb::object hook) { return pyb::reinterpret_borrow<pyb::function>(hook); }

HookHandle register_tensor_hook(const Tensor& t, pyb::object hook) {
  pyb::function fn = as_hook(std::move(hook));
  if (!t->requires_grad())
    fail(ErrorKind::Runtime, "cannot register a hook on a tensor that doesn't require gradient");
  int id = g_next_hook_id++;
  if (t->is_leaf()) {
    add_leaf_pre_hook(*t, id, PyGradHook{hold(std::move(fn))});
    std::weak_ptr<TensorImpl> weak = t;
    return {[weak, id] {
      if (auto tt = weak.lock()) remove_hook(*tt, id);
    }};
  }
  add_tensor_pre_hook(*t->grad_fn(), id, t->output_nr(), PyGradHook{hold(std::move(fn))});
  std::weak_ptr<Node> weak = t->grad_fn();
  return {[weak, id] {
    if (auto n = weak.lock()) remove_hook(*n, id);
  }};
}

void retain_grad(const Tensor& t) {
  // torch refuses a tensor that does not require grad first, a leaf included.
  if (!t->requires_grad()) fail(ErrorKind::Runtime, "can't retain_grad on Tensor that has requires_grad=False");
  if (t->is_leaf() || t->retains_grad()) return;
  t->set_retains_grad(true);
  add_tensor_pre_hook(*t->grad_fn(), kRetainGradHookId, t->output_nr(), retain_grad_hook(t));
}

}  // namespace

HeldFunction hold(pyb::function fn) {
  return HeldFunction(new pyb::function(std::move(fn)), [](pyb::function* f) {
    pyb::gil_scoped_acquire gil;
    delete f;
  });
}

Tensor PyGradHook::operator()(const Tensor& g) const {
  pyb::gil_scoped_acquire gil;
  pyb::object r = (*fn)(g);
  if (r.is_none()) return Tensor();
  if (!is_tensor(r)) fail(ErrorKind::Type, "expected a Tensor or None from a gradient hook");
  Tensor t = r.cast<Tensor>();
  TG_CHECK(t->sizes() == g->sizes(), "hook returned a gradient of shape ", shape_str(t->sizes()), " for ",
           shape_str(g->sizes()));
  return t;
}

void PyPostAccumulateHook::operator()(const Tensor& leaf) const {
  pyb::gil_scoped_acquire gil;
  (*fn)(leaf);
}

std::optional<TensorList> PyNodePreHook::operator()(const TensorList& grad_outputs) const {
  pyb::gil_scoped_acquire gil;
  return from_result((*fn)(to_tuple(grad_outputs)), n_outputs, "register_prehook");
}

std::optional<TensorList> PyNodePostHook::operator()(const TensorList& grad_inputs,
                                                      const TensorList& grad_outputs) const {
  pyb::gil_scoped_acquire gil;
  return from_result((*fn)(to_tuple(grad_inputs), to_tuple(grad_outputs)), n_inputs, "register_hook");
}

void bind_hooks(Module& m) {
  pyb::class_<HookHandle>(m, "RemovableHandle").def("remove", &HookHandle::remove);
  TensorClass cls = tensor_class(m);
  cls.def("register_hook", &register_tensor_hook, pyb::arg("hook"))
      .def("retain_grad", &retain_grad)
      .def("register_post_accumulate_grad_hook", [](const Tensor& t, pyb::object hook) {
        pyb::function fn = as_hook(std::move(hook));
        if (!t->is_leaf())
          fail(ErrorKind::Runtime, "post accumulate grad hooks cannot be registered on non-leaf tensors");
        if (!t->requires_grad())
          fail(ErrorKind::Runtime, "cannot register a hook on a tensor that doesn't require gradient");
        int id = g_next_hook_id++;
        add_post_accumulate_hook(*t, id, PyPostAccumulateHook{hold(std::move(fn))});
        std::weak_ptr<TensorImpl> weak = t;
        return HookHandle{[weak, id] {
          if (auto tt = weak.lock()) remove_hook(*tt, id);
        }};
      }, pyb::arg("hook"));

  auto node_cls = pyb::reinterpret_borrow<pyb::class_<Node, std::shared_ptr<Node>>>(m.attr("Node"));
  node_cls
      .def("register_hook", [](const std::shared_ptr<Node>& n, pyb::function fn) {
        int id = g_next_hook_id++;
        add_node_post_hook(*n, id, PyNodePostHook{hold(std::move(fn)), n->next_edges.size()});
        std::weak_ptr<Node> weak = n;
        return HookHandle{[weak, id] {
          if (auto nn = weak.lock()) remove_hook(*nn, id);
        }};
      }, pyb::arg("fn"))
      .def("register_prehook", [](const std::shared_ptr<Node>& n, pyb::function fn) {
        int id = g_next_hook_id++;
        add_node_pre_hook(*n, id, PyNodePreHook{hold(std::move(fn)), n->num_outputs()});
        std::weak_ptr<Node> weak = n;
        return HookHandle{[weak, id] {
          if (auto nn = weak.lock()) remove_hook(*nn, id);
        }};
      }, pyb::arg("fn"));
}

}  // namespace tapegrad::py
