// tapegrad._C._nn: the ops behind tapegrad.nn.functional (activations, losses, normalisation,
// embedding, linear). Argument conveniences (reduction names, checks torch makes in Python)
// live in functional.py; None stands for an absent weight or bias.
#include <pybind11/stl.h>

#include "ops/ops.h"
#include "python/bind_common.h"

namespace tapegrad::py {

void bind_nn(pyb::module_& m) {
  using pyb::arg;
  TensorClass cls = tensor_class(m);
  def_both(m, cls, "log1p", &ops::log1p);
  def_both(m, cls, "erf", &ops::erf);
  m.def("addmm", [](const Tensor& bias, const Tensor& a, const Tensor& b) { return ops::addmm(bias, a, b); },
        arg("input"), arg("mat1"), arg("mat2"));

  pyb::module_ nn = m.def_submodule("_nn", "ops behind tapegrad.nn.functional");
  nn.def("leaky_relu", &ops::leaky_relu);
  nn.def("elu", &ops::elu);
  nn.def("softplus", &ops::softplus);
  nn.def("gelu", &ops::gelu);
  nn.def("silu", &ops::silu);
  nn.def("hardtanh", &ops::hardtanh);
  nn.def("hardsigmoid", &ops::hardsigmoid);
  nn.def("hardswish", &ops::hardswish);
  nn.def("mish", &ops::mish);
  nn.def("logsigmoid", &ops::logsigmoid);
  nn.def("celu", &ops::celu);
  nn.def("hardshrink", &ops::hardshrink);
  nn.def("softshrink", &ops::softshrink);
  nn.def("threshold", &ops::threshold);
  nn.def("glu", &ops::glu);
  nn.def("mse_loss", &ops::mse_loss);
  nn.def("huber_loss", &ops::huber_loss);
  nn.def("smooth_l1_loss", &ops::smooth_l1_loss);
  nn.def("binary_cross_entropy", &ops::binary_cross_entropy);
  nn.def("binary_cross_entropy_with_logits", &ops::binary_cross_entropy_with_logits);
  nn.def("soft_margin_loss", &ops::soft_margin_loss);
  nn.def("nll_loss", &ops::nll_loss);
  nn.def("layer_norm", &ops::layer_norm);
  nn.def("batch_norm", &ops::batch_norm);
  nn.def("embedding", &ops::embedding);
}

}  // namespace tapegrad::py
