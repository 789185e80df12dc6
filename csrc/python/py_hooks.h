// Python callables stored as C++ hooks: named types, so the garbage collector support can find
// the Python objects inside a hook (tensor_gc.cpp) and break cycles through them.
#pragma once
#include <memory>
#include <optional>

#include "autograd/node.h"
#include "python/bind_common.h"

namespace tapegrad::py {

// A Python callable kept alive by C++; released under the GIL whichever thread drops it.
using HeldFunction = std::shared_ptr<pyb::function>;
HeldFunction hold(pyb::function fn);

// Tensor.register_hook: fn(grad) may return a replacement gradient.
struct PyGradHook {
  HeldFunction fn;
  Tensor operator()(const Tensor& grad) const;
};

// Tensor.register_post_accumulate_grad_hook: fn(leaf) after .grad was updated.
struct PyPostAccumulateHook {
  HeldFunction fn;
  void operator()(const Tensor& leaf) const;
};

// Node.register_prehook: fn(grad_outputs) may return replacements.
struct PyNodePreHook {
  HeldFunction fn;
  size_t n_outputs;
  std::optional<TensorList> operator()(const TensorList& grad_outputs) const;
};

// Node.register_hook: fn(grad_inputs, grad_outputs) may return replacement grad_inputs.
struct PyNodePostHook {
  HeldFunction fn;
  size_t n_inputs;
  std::optional<TensorList> operator()(const TensorList& grad_inputs, const TensorList& grad_outputs) const;
};

// The Python backward callable of an autograd.Function node; null for any other node.
pyb::object* function_node_callable(Node& node);

// Gives the Tensor type garbage collector support (used as pybind11's custom_type_setup).
void setup_tensor_gc(PyHeapTypeObject* heap_type);
// The same for Node (grad_fn) objects.
void setup_node_gc(PyHeapTypeObject* heap_type);

}  // namespace tapegrad::py
