// The C++ side of tapegrad.autograd.Function: a node whose backward calls the user's Python
// backward, with the tensors it saved kept as SavedTensors (outputs without a cycle).
#include <pybind11/stl.h>

#include "autograd/function.h"
#include "autograd/saved.h"
#include "core/error.h"
#include "ops/ops.h"
#include "python/bind_common.h"
#include "python/py_hooks.h"

namespace tapegrad::py {
namespace {

struct PyFunctionNode final : Node {
  // The last reference may go in a backward pass running without the GIL (another thread
  // dropped the graph's outputs meanwhile): Python objects are released under it.
  ~PyFunctionNode() override {
    if (!backward) return;
    pyb::gil_scoped_acquire gil;
    backward = pyb::object();
  }
  const char* name() const override { return name_.c_str(); }
  uint32_t num_outputs() const override { return uint32_t(outputs.size()); }

  TensorList apply(TensorList&& grads) override {
    pyb::gil_scoped_acquire gil;
    // backward(saved_tensors, *grad_outputs): the saved tensors are unpacked (and checked) here.
    pyb::tuple saved_now(saved.size());
    for (size_t i = 0; i < saved.size(); ++i) {
      Tensor t = saved[i].unpack(name_.c_str());
      saved_now[i] = t ? pyb::cast(t) : pyb::none();
    }
    pyb::tuple args(outputs.size() + 1);
    args[0] = saved_now;
    for (size_t i = 0; i < outputs.size(); ++i) {
      Tensor g = i < grads.size() ? grads[i] : Tensor();
      // Missing gradients are materialised as zeros, as torch does by default.
      if (!g && materialize) g = ops::full(outputs[i].shape, 0.0, outputs[i].dtype, outputs[i].device);
      args[i + 1] = g ? pyb::cast(g) : pyb::none();
    }
    pyb::object result = backward(*args);
    TensorList out;
    if (PyTuple_Check(result.ptr())) {
      for (auto item : result) out.push_back(item.is_none() ? Tensor() : item.cast<Tensor>());
    } else {
      out.push_back(result.is_none() ? Tensor() : result.cast<Tensor>());
    }
    // Gradients for the non-tensor arguments of forward are dropped (they must be None).
    TensorList per_edge;
    if (out.size() < n_args)
      fail(ErrorKind::Runtime, "function ", name_, " returned an incorrect number of gradients (expected ", n_args,
           ", got ", out.size(), ")");
    for (size_t i = 0; i < n_args; ++i)
      if (tensor_arg[i]) per_edge.push_back(out[i]);
    return per_edge;
  }

  void release_saved() override {
    for (auto& s : saved) s.release();
  }

  struct OutputMeta {
    Shape shape;
    DType dtype;
    Device device;
  };
  std::string name_;
  pyb::object backward;  // ctx-bound callable: backward(*grad_outputs)
  std::vector<SavedTensor> saved;
  std::vector<OutputMeta> outputs;
  std::vector<bool> tensor_arg;  // which forward arguments were tensors (they own the edges)
  size_t n_args = 0;
  bool materialize = true;
};

bool listed(const Tensor& t, const pyb::list& tensors) {
  for (auto x : tensors)
    if (x.cast<Tensor>() == t) return true;
  return false;
}

// An input the forward wrote in place (ctx.mark_dirty) and returned: its history continues
// through the node, as after a built-in in-place op (a view's base gets a CopySlices).
void continue_dirty_input(const Tensor& input, const std::shared_ptr<Node>& node, uint32_t output_nr,
                          size_t n_outputs) {
  if (input->is_leaf() && input->requires_grad())
    fail(ErrorKind::Runtime, "a leaf Variable that requires grad has been used in an in-place operation.");
  if (input->view_base() && n_outputs > 1)
    fail(ErrorKind::Runtime,
         "If your Function modifies inplace an input that is a view of another Tensor, your Function cannot return "
         "more than one Tensor. This is not supported by the current autograd engine. You should either make sure "
         "the input is not a view (using .clone() for example) or make your Function only return one Tensor "
         "(potentially splitting it into two Functions: one doing the inplace that returns a single Tensor and a "
         "second one that does the other operations). You can ask on the forum https://discuss.pytorch.org/ if you "
         "need help to do this change.");
  // The node's output is the input's own memory: handing it over as an in-place result bumps
  // the version (as torch's mark_dirty does) and moves the history.
  Tensor result = TensorImpl::view_of(input->storage(), input->sizes(), input->strides(), input->storage_offset(),
                                      input->dtype());
  result->set_grad_fn(node, output_nr);
  assign_inplace(input, result);
}

// Wires a finished forward into the tape: edges from the tensor arguments, history on the
// differentiable outputs, saved tensors. Returns the node (None when nothing needs grad).
pyb::object make_function_node(const std::string& name, pyb::object backward, pyb::list args, pyb::list outputs,
                               pyb::list to_save, pyb::list non_differentiable, pyb::list dirty, bool materialize) {
  auto node = std::make_shared<PyFunctionNode>();
  bool needs = false;
  for (auto a : args) {
    bool is_t = is_tensor(a);
    node->tensor_arg.push_back(is_t);
    if (is_t) {
      Tensor t = a.cast<Tensor>();
      needs = needs || t->requires_grad();
      node->next_edges.push_back(t->requires_grad() ? gradient_edge(t) : Edge());
    }
  }
  node->n_args = node->tensor_arg.size();
  if (!needs || !GradMode::is_enabled()) {
    for (auto d : dirty) d.cast<Tensor>()->bump_version();
    return pyb::none();
  }
  node->name_ = name;
  node->backward = std::move(backward);
  node->materialize = materialize;
  std::vector<Tensor> outs;
  for (size_t i = 0; i < outputs.size(); ++i) {
    Tensor o = outputs[i].cast<Tensor>();
    node->outputs.push_back({o->sizes(), o->dtype(), o->device()});
    if (listed(o, dirty)) continue_dirty_input(o, node, uint32_t(i), outputs.size());
    else if (!listed(o, non_differentiable) && is_floating(o->dtype())) o->set_grad_fn(node, uint32_t(i));
    outs.push_back(o);
  }
  for (auto s : to_save) {
    if (s.is_none()) {
      node->saved.emplace_back();
      continue;
    }
    Tensor t = s.cast<Tensor>();
    bool is_output = false;
    for (const Tensor& o : outs) is_output = is_output || o == t;
    node->saved.emplace_back(t, is_output);
  }
  return pyb::cast(std::static_pointer_cast<Node>(node));
}

}  // namespace

pyb::object* function_node_callable(Node& node) {
  auto* f = dynamic_cast<PyFunctionNode*>(&node);
  return f ? &f->backward : nullptr;
}

void bind_function(Module& m) {
  m.def("_make_function_node", &make_function_node);
}

}  // namespace tapegrad::py
