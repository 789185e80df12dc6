// tapegrad._C._nn: the ops behind tapegrad.nn.functional (activations, losses, normalisation,
// embedding, linear). Argument conveniences (reduction names, checks torch makes in Python)
// live in functional.py; None stands for an absent weight or bias.
#include <pybind11/stl.h>

#include "ops/ops.h"
#include "python/bind_common.h"

namespace tapegrad::py {

void bind_nn(Module& m) {
  using pyb::arg;
  TensorClass cls = tensor_class(m);
  def_both(m, cls, "log1p", &ops::log1p);
  def_both(m, cls, "erf", &ops::erf);
  def_both(m, cls, "addmm", [](const Tensor& bias, const Tensor& a, const Tensor& b, pyb::handle beta, pyb::handle alpha) {
    return ops::addmm(bias, a, b, number_of(beta), number_of(alpha));
  }, arg("mat1"), arg("mat2"), pyb::kw_only(), arg("beta") = 1, arg("alpha") = 1);

  Module nn(m.def_submodule("_nn", "ops behind tapegrad.nn.functional"));
  const auto input = arg("input"), target = arg("target"), reduction = arg("reduction");
  nn.def("leaky_relu", &ops::leaky_relu, input, arg("negative_slope"));
  nn.def("elu", &ops::elu, input, arg("alpha"));
  nn.def("softplus", &ops::softplus, input, arg("beta"), arg("threshold"));
  nn.def("gelu", &ops::gelu, input, arg("tanh_approximation"));
  nn.def("silu", &ops::silu, input);
  nn.def("hardtanh", &ops::hardtanh, input, arg("min_val"), arg("max_val"));
  nn.def("hardsigmoid", &ops::hardsigmoid, input);
  nn.def("hardswish", &ops::hardswish, input);
  nn.def("mish", &ops::mish, input);
  nn.def("logsigmoid", &ops::logsigmoid, input);
  nn.def("celu", &ops::celu, input, arg("alpha"));
  nn.def("hardshrink", &ops::hardshrink, input, arg("lambd"));
  nn.def("softshrink", &ops::softshrink, input, arg("lambd"));
  nn.def("threshold", &ops::threshold, input, arg("threshold"), arg("value"));
  nn.def("glu", &ops::glu, input, arg("dim"));
  nn.def("mse_loss", &ops::mse_loss, input, target, reduction);
  nn.def("huber_loss", &ops::huber_loss, input, target, reduction, arg("delta"));
  nn.def("smooth_l1_loss", &ops::smooth_l1_loss, input, target, reduction, arg("beta"));
  // Absent weights, biases and running statistics arrive as None: a null tensor for the op.
  using Optional = const std::optional<Tensor>&;
  nn.def("binary_cross_entropy", [](const Tensor& x, const Tensor& y, Optional weight, int64_t r) {
    return ops::binary_cross_entropy(x, y, weight.value_or(Tensor()), r);
  }, input, target, arg("weight"), reduction);
  nn.def("binary_cross_entropy_with_logits", [](const Tensor& x, const Tensor& y, Optional weight, Optional pos_weight,
                                                int64_t r) {
    return ops::binary_cross_entropy_with_logits(x, y, weight.value_or(Tensor()), pos_weight.value_or(Tensor()), r);
  }, input, target, arg("weight"), arg("pos_weight"), reduction);
  nn.def("soft_margin_loss", &ops::soft_margin_loss, input, target, reduction);
  nn.def("nll_loss", [](const Tensor& x, const Tensor& y, Optional weight, int64_t r, int64_t ignore_index) {
    return ops::nll_loss(x, y, weight.value_or(Tensor()), r, ignore_index);
  }, input, target, arg("weight"), reduction, arg("ignore_index"));
  nn.def("layer_norm", [](const Tensor& x, const Shape& normalized, Optional weight, Optional bias, double eps) {
    return ops::layer_norm(x, normalized, weight.value_or(Tensor()), bias.value_or(Tensor()), eps);
  }, input, arg("normalized_shape"), arg("weight"), arg("bias"), arg("eps"));
  nn.def("batch_norm", [](const Tensor& x, Optional running_mean, Optional running_var, Optional weight,
                          Optional bias, bool training, double momentum, double eps) {
    return ops::batch_norm(x, running_mean.value_or(Tensor()), running_var.value_or(Tensor()),
                           weight.value_or(Tensor()), bias.value_or(Tensor()), training, momentum, eps);
  }, input, arg("running_mean"), arg("running_var"), arg("weight"), arg("bias"), arg("training"), arg("momentum"),
     arg("eps"));
  nn.def("embedding", &ops::embedding, arg("weight"), input, arg("padding_idx"));
}

}  // namespace tapegrad::py
