// Autograd's Python face: Node (grad_fn) objects, grad mode, and the engine entry points.
#include <pybind11/stl.h>

#include <sstream>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "core/error.h"
#include "python/bind_common.h"
#include "python/py_hooks.h"

namespace tapegrad::py {
namespace {

// What a backward call's tensor argument holds: torch refuses anything else in each with its own
// error (only gradients may be None, for "a gradient of ones" or "no gradient").
enum class Held { Outputs, Gradients, Inputs };

TensorList tensors_from(pyb::handle h, Held held) {
  TensorList out;
  if (h.is_none()) return out;
  if (is_tensor(h)) return {h.cast<Tensor>()};
  for (auto item : h) {
    if (is_tensor(item)) {
      out.push_back(item.cast<Tensor>());
    } else if (held == Held::Gradients && item.is_none()) {
      out.emplace_back();
    } else if (held == Held::Outputs) {
      fail(ErrorKind::Assertion, "Expected output to be a torch.Tensor");
    } else if (held == Held::Gradients) {
      fail(ErrorKind::Type, "gradients can be either Tensors or None, but got ", qualified_type_name(item));
    } else {
      fail(ErrorKind::Runtime, "all inputs have to be Tensors or GradientEdges, but got ", qualified_type_name(item));
    }
  }
  return out;
}

// torch pairs outputs with gradients as Python's zip does (extra gradients are dropped), then its
// engine refuses fewer gradients than outputs.
void check_gradient_count(const TensorList& outs, TensorList& grads) {
  if (grads.size() > outs.size()) grads.resize(outs.size());
  TG_CHECK(outs.size() == grads.size(), "got ", outs.size(), " tensors and ", grads.size(), " gradients");
}

}  // namespace

void bind_autograd(Module& m) {
  pyb::class_<Node, std::shared_ptr<Node>>(m, "Node", pyb::custom_type_setup(&setup_node_gc))
      .def("name", [](const Node& n) { return std::string(n.name()); })
      .def_property_readonly("next_functions", [](const Node& n) {
        pyb::tuple t(n.next_edges.size());
        for (size_t i = 0; i < n.next_edges.size(); ++i) {
          const Edge& e = n.next_edges[i];
          t[i] = pyb::make_tuple(e.fn ? pyb::cast(e.fn) : pyb::none(), e.input_nr);
        }
        return t;
      })
      .def_property_readonly("variable", [](Node& n) -> Tensor {
        auto* acc = n.as_accumulate_grad();
        if (!acc) fail(ErrorKind::Runtime, "'", n.name(), "' object has no attribute 'variable'");
        return acc->variable;
      })
      .def("__repr__", [](const Node& n) {
        std::string name = n.name();
        auto pos = name.rfind("::");
        if (pos != std::string::npos) name = name.substr(pos + 2);
        std::ostringstream os;
        os << "<" << name << " object at " << static_cast<const void*>(&n) << ">";
        return os.str();
      });

  m.def("is_grad_enabled", &GradMode::flag);
  m.def("is_inference_mode_enabled", &InferenceMode::is_enabled);
  m.def("_set_inference_mode", &InferenceMode::set_enabled);
  m.def("_set_grad_enabled", &GradMode::set_enabled);

  m.def("_run_backward_into", [](pyb::handle tensors, pyb::handle grad_tensors, bool keep_graph, bool create_graph,
                                 pyb::handle inputs) {
    TensorList outs = tensors_from(tensors, Held::Outputs), grads = tensors_from(grad_tensors, Held::Gradients);
    check_gradient_count(outs, grads);
    TensorList ins = tensors_from(inputs, Held::Inputs);
    pyb::gil_scoped_release release;
    run_backward_into(outs, grads, keep_graph, create_graph, ins);
  });
  m.def("_run_backward", [](pyb::handle tensors, pyb::handle grad_tensors, bool keep_graph, bool create_graph,
                            pyb::handle inputs, bool allow_unused) {
    TensorList outs = tensors_from(tensors, Held::Outputs);
    TensorList grads = tensors_from(grad_tensors, Held::Gradients);
    check_gradient_count(outs, grads);
    TensorList ins = tensors_from(inputs, Held::Inputs);
    TensorList result;
    {
      pyb::gil_scoped_release release;
      result = run_backward(outs, grads, keep_graph, create_graph, ins, allow_unused);
    }
    pyb::tuple t(result.size());
    for (size_t i = 0; i < result.size(); ++i) t[i] = result[i] ? pyb::cast(result[i]) : pyb::none();
    return t;
  });
}

}  // namespace tapegrad::py
