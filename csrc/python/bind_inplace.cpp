// In-place ops (add_, mul_, sin_, ..., +=) for Python: each runs its out-of-place op and hands
// the result to assign_inplace, which writes it into self with torch's autograd rules.
#include <cctype>
#include <string>

#include <pybind11/stl.h>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "core/error.h"
#include "ops/ops.h"
#include "python/bind_common.h"

namespace tapegrad::py {
namespace {

// Ops whose backward rule reads their input must see self as it was, so they get a copy.
// Also where torch's in-place checks run, before the op: a no_grad view, a leaf that requires grad.
Tensor original(const Tensor& self, bool rule_reads_input, const Tensor* other = nullptr) {
  check_inplace_leaf(self);
  bool grad = GradMode::is_enabled() && (self->requires_grad() || (other && (*other)->requires_grad()));
  return rule_reads_input && grad ? ops::clone(self) : self;
}

// The op's node links to the copy's CloneBackward0; it is an identity, so the node links past it to
// self's history directly, as torch's in-place node does.
Tensor past_copy(const Tensor& result, const Tensor& copy, const Tensor& self) {
  const auto& clone_fn = copy->grad_fn();
  if (copy == self || !clone_fn || !result->grad_fn()) return result;
  for (Edge& e : result->grad_fn()->next_edges)
    if (e.fn == clone_fn) e = clone_fn->next_edges[0];
  return result;
}

template <Tensor (*F)(const Tensor&), bool ReadsInput>
Tensor unary_inplace(const Tensor& self) {
  Tensor in = original(self, ReadsInput);
  return assign_inplace(self, past_copy(F(in), in, self));
}

// asinh_/acosh_/atanh_: torch writes the result but has no derivative for the in-place form; its
// node (AsinhBackward1, ...) refuses at backward time, naming the op.
template <Tensor (*F)(const Tensor&)>
Tensor inplace_without_derivative(const Tensor& self, const char* node_name) {
  Tensor result;
  {
    AutoGradMode off(false);
    result = F(self);
  }
  record(node_name, [](FormulaNode& n, const Tensor&) -> TensorList {
    std::string op = n.name();
    op = char(std::tolower(op[0])) + op.substr(1, op.find("Backward") - 1);
    fail(ErrorKind::NotImplemented, "the derivative for 'inplace version of ", op, "' is not implemented.");
  }, result, {&self});
  return assign_inplace(self, result);
}

// An in-place op's number operand; a complex one makes a complex result self cannot hold.
Scalar number(const Tensor& self, pyb::handle h, const char* fn) {
  if (auto s = scalar_from(h)) return *s;
  if (PyComplex_Check(h.ptr()))
    fail(ErrorKind::Runtime, "result type ", self->dtype() == DType::Float64 ? "ComplexDouble" : "ComplexFloat",
         " can't be cast to the desired output type ", dtype_scalar_type_name(self->dtype()));
  fail(ErrorKind::Type, fn, "(): argument 'other' must be Tensor or Number, not ",
       std::string(pyb::str(pyb::type::handle_of(h).attr("__name__"))));
}

// torch's TypeError for an operand that is no tensor or number, before any in-place check.
void check_operand_kind(const Tensor& self, pyb::handle other, const char* fn) {
  if (!is_tensor(other) && !PyComplex_Check(other.ptr())) number(self, other, fn);
}

// An operator (+=, -=) with an operand that is no tensor or number gives NotImplemented, so that
// Python raises its own TypeError.
template <class F>
pyb::object operator_form(pyb::handle other, F&& run) {
  if (!is_tensor(other) && !PyComplex_Check(other.ptr()) && !scalar_from(other))
    return pyb::reinterpret_borrow<pyb::object>(Py_NotImplemented);
  return pyb::cast(run());
}

// binary in-place: tensor or Python number on the right; add/sub take alpha.
Tensor add_inplace(const Tensor& self, pyb::handle other, pyb::handle alpha_arg, bool subtract) {
  check_operand_kind(self, other, subtract ? "sub_" : "add_");
  check_inplace_leaf(self);
  if (is_tensor(other)) {
    Tensor o = other.cast<Tensor>();
    check_no_overlap(self, o, true);
    check_inplace_broadcast(self, o);
    Scalar alpha = alpha_of(alpha_arg);
    return assign_inplace(self, subtract ? ops::sub(self, o, alpha) : ops::add(self, o, alpha));
  }
  Scalar s = number(self, other, subtract ? "sub_" : "add_"), alpha = alpha_of(alpha_arg);
  return assign_inplace(self, subtract ? ops::sub(self, s, alpha) : ops::add(self, s, alpha));
}

Tensor mul_inplace(const Tensor& self, pyb::handle other) {
  if (is_tensor(other)) {
    Tensor o = other.cast<Tensor>();
    check_no_overlap(self, o, true);
    Tensor in = original(self, true, &o);
    return assign_inplace(self, past_copy(ops::mul(in, o), in, self));
  }
  return assign_inplace(self, ops::mul(self, number(self, other, "mul_")));
}

Tensor div_inplace(const Tensor& self, pyb::handle other, pyb::handle mode = pyb::none()) {
  if (std::optional<bool> floor = rounding_mode_of(mode)) {
    if (is_tensor(other)) return assign_inplace(self, ops::div(self, other.cast<Tensor>(), *floor));
    return assign_inplace(self, ops::div(self, number_of(other), *floor));
  }
  if (is_tensor(other)) {
    Tensor o = other.cast<Tensor>();
    Tensor in = original(self, true, &o);
    return assign_inplace(self, past_copy(ops::div(in, o), in, self));
  }
  return assign_inplace(self, ops::div(self, number_of(other)));
}

Tensor pow_inplace(const Tensor& self, pyb::handle other) {
  if (is_tensor(other)) {
    Tensor o = other.cast<Tensor>();
    Tensor in = original(self, true, &o);
    return assign_inplace(self, past_copy(ops::pow(in, o), in, self));
  }
  Tensor in = original(self, true);
  return assign_inplace(self, past_copy(ops::pow(in, number_of(other)), in, self));
}

// clamp_/clip_/clamp_min_/clamp_max_ with number or tensor bounds (see clamp_call).
Tensor clamp_inplace(const Tensor& t, pyb::handle lo, pyb::handle hi, const char* node_name = "ClampBackward1",
                     const char* tensor_node_name = "ClampBackward0") {
  bool tensors = is_tensor(lo) || is_tensor(hi);
  bool complex_bound = PyComplex_Check(lo.ptr()) || PyComplex_Check(hi.ptr());
  if (complex_bound && std::string(node_name) != "ClampBackward1")
    fail(ErrorKind::NotImplemented, "clamp is not supported for complex types");
  if (!tensors && !is_floating(t->dtype()) && complex_bound) {
    const char* c_name = t->dtype() == DType::Int64 ? "long int" : t->dtype() == DType::Int32 ? "int" : "bool";
    fail(ErrorKind::Runtime, "result type ComplexFloat can't be cast to the desired output type ", c_name);
  }
  if (!tensors && !is_floating(t->dtype())) {
    auto min = optional_number_of(lo), max = optional_number_of(hi);
    if ((min && min->is_floating()) || (max && max->is_floating()))
      fail(ErrorKind::Runtime, "result type Float can't be cast to the desired output type ", dtype_name(t->dtype()));
  }
  auto needs_grad = [](pyb::handle h) { return is_tensor(h) && h.cast<Tensor>()->requires_grad(); };
  bool grad = GradMode::is_enabled() && (t->requires_grad() || needs_grad(lo) || needs_grad(hi));
  Tensor in = grad ? ops::clone(t) : t;
  return assign_inplace(t, past_copy(clamp_call(in, lo, hi, node_name, tensor_node_name), in, t));
}

// self <op>= other for the division family (a tensor or a number on the right); the tensor form's
// rule reads self's old value when ReadsSelf.
template <Tensor (*WithTensor)(const Tensor&, const Tensor&), Tensor (*WithNumber)(const Tensor&, const Scalar&),
          bool ReadsSelf>
Tensor division_inplace(const Tensor& self, pyb::handle other, const char* fn) {
  if (is_tensor(other)) {
    Tensor o = other.cast<Tensor>();
    Tensor in = original(self, ReadsSelf, &o);
    return assign_inplace(self, past_copy(WithTensor(in, o), in, self));
  }
  check_operand_kind(self, other, fn);
  check_inplace_leaf(self);
  check_no_internal_overlap(self);
  return assign_inplace(self, WithNumber(self, number(self, other, fn)));
}

// self's old history gets no gradient; src gets it (summed back to src's shape by the engine).
TensorList copy_rule(FormulaNode& n, const Tensor& g) {
  return {n.needs_grad(0) ? ops::zeros_like(g) : Tensor(), n.needs_grad(1) ? g : Tensor()};
}

// self.copy_(src): src broadcasts into self; self's old history gets no gradient and src gets
// the gradient summed back to its shape (CopyBackwards), or CopySlices when self is a view.
// A Python number is copied as a 0-dim tensor of its own type (torch accepts one).
Tensor copy_inplace(const Tensor& self, pyb::handle src_arg, bool /*non_blocking*/) {
  Tensor src;
  if (is_tensor(src_arg)) {
    src = src_arg.cast<Tensor>();
  } else {
    Scalar s = tensor_or_number_of(src_arg);
    src = ops::scalar_tensor(s, s.natural_dtype(), self->device());
  }
  check_inplace_leaf(self);
  check_no_internal_overlap(self);
  check_no_overlap(self, src, true);
  if (!is_expandable_to(src->sizes(), self->sizes()))
    fail(ErrorKind::Runtime, "output with shape ", shape_str(self->sizes()), " doesn't match the broadcast shape ",
         shape_str(broadcast_shapes(src->sizes(), self->sizes())));
  bool track = GradMode::is_enabled() && is_floating(self->dtype()) && (self->requires_grad() || src->requires_grad());
  if (!track) return assign_inplace(self, ops::expand(ops::to_dtype(src, self->dtype()), self->sizes()));
  if (self->view_base()) {
    // Through a view, torch wraps a CopyBackwards node (of self's history and src) in CopySlices.
    Tensor result;
    {
      AutoGradMode off(false);
      result = ops::clone(ops::expand(ops::to_dtype(src, self->dtype()), self->sizes()));
    }
    record("torch::autograd::CopyBackwards", copy_rule, result, {&self, &src});
    return assign_inplace(self, result);
  }
  if (self->is_leaf() && self->requires_grad())
    fail(ErrorKind::Runtime, "a leaf Variable that requires grad is being used in an in-place operation.");
  {
    AutoGradMode off(false);
    ops::copy_into(self, src);
  }
  record("torch::autograd::CopyBackwards", copy_rule, self, {&self, &src});
  return self;
}

// self.fill_(value) with a 0-dim tensor that requires grad: value gets the summed gradient.
Tensor fill_from_tensor(const Tensor& self, const Tensor& value) {
  TG_CHECK(!(self->is_leaf() && self->requires_grad() && GradMode::is_enabled()),
           "a leaf Variable that requires grad is being used in an in-place operation.");
  {
    AutoGradMode off(false);
    ops::copy_into(self, ops::to_dtype(value, self->dtype()));
  }
  record_any_dtype("FillBackward3", [](FormulaNode& n, const Tensor& g) -> TensorList {
    return {n.needs_grad(0) ? ops::zeros_like(g) : Tensor(), n.needs_grad(1) ? ops::sum(g, std::nullopt) : Tensor()};
  }, self, {&self, &value});
  return self;
}

}  // namespace

void bind_inplace(Module& m) {
  using pyb::arg;
  // nn.functional's inplace=True activations: op(self) written back into self with the op's own
  // node (MishBackward0, ...), as torch's in-place kernels are, not a copy_ of its result.
  m.def("_apply_inplace", [](const Tensor& self, const pyb::function& op) {
    Tensor in = original(self, true);
    Tensor result = op(in).cast<Tensor>();
    return assign_inplace(self, past_copy(result, in, self));
  });
  TensorClass cls = tensor_class(m);
  cls.def("add_", [](const Tensor& t, pyb::handle o, pyb::handle alpha) {
       return add_inplace(t, o, alpha, false);
     }, arg("other"), pyb::kw_only(), arg("alpha") = 1)
      .def("sub_", [](const Tensor& t, pyb::handle o, pyb::handle alpha) {
        return add_inplace(t, o, alpha, true);
      }, arg("other"), pyb::kw_only(), arg("alpha") = 1)
      .def("mul_", &mul_inplace, arg("other"))
      .def("div_", &div_inplace, arg("other"), pyb::kw_only(), arg("rounding_mode") = pyb::none())
      .def("divide_", &div_inplace, arg("other"), pyb::kw_only(), arg("rounding_mode") = pyb::none())
      .def("true_divide_", [](const Tensor& t, pyb::handle o) { return div_inplace(t, o); }, arg("other"))
      .def("pow_", &pow_inplace, arg("exponent"))
      .def("__iadd__", [](const Tensor& t, pyb::handle o) { return operator_form(o, [&] { return add_inplace(t, o, pyb::int_(1), false); }); })
      .def("__isub__", [](const Tensor& t, pyb::handle o) { return operator_form(o, [&] { return add_inplace(t, o, pyb::int_(1), true); }); })
      .def("__imul__", &mul_inplace)
      .def("__itruediv__", [](const Tensor& t, pyb::handle o) { return div_inplace(t, o); })
      .def("__ipow__", &pow_inplace)
      .def("remainder_", [](const Tensor& t, pyb::handle o) {
        return division_inplace<&ops::remainder, &ops::remainder, true>(t, o, "remainder_");
      }, pyb::arg("other"))
      .def("__imod__", [](const Tensor& t, pyb::handle o) {
        return division_inplace<&ops::remainder, &ops::remainder, true>(t, o, "remainder_");
      })
      .def("fmod_", [](const Tensor& t, pyb::handle o) {
        return division_inplace<&ops::fmod, &ops::fmod, true>(t, o, "fmod_");
      }, pyb::arg("other"))
      .def("floor_divide_", [](const Tensor& t, pyb::handle o) {
        return division_inplace<&ops::floor_divide, &ops::floor_divide, false>(t, o, "floor_divide_");
      }, pyb::arg("other"))
      .def("__ifloordiv__", [](const Tensor& t, pyb::handle o) {
        return division_inplace<&ops::floor_divide, &ops::floor_divide, false>(t, o, "floor_divide_");
      })
      .def("atan2_", [](const Tensor& t, const Tensor& o) {
        Tensor in = original(t, true, &o);
        return assign_inplace(t, past_copy(ops::atan2(in, o), in, t));
      }, pyb::arg("other"))
      .def("neg_", &unary_inplace<&ops::neg, false>)
      .def("negative_", &unary_inplace<&ops::neg, false>)
      .def("sign_", &unary_inplace<&ops::sign, false>)
      .def("erf_", &unary_inplace<&ops::erf, true>)
      .def("log1p_", &unary_inplace<&ops::log1p, true>)
      .def("arctan2_", [](const Tensor& t, const Tensor& o) {
        Tensor in = original(t, true, &o);
        return assign_inplace(t, past_copy(ops::atan2(in, o), in, t));
      }, pyb::arg("other"))
      .def("cumsum_", [](const Tensor& t, int64_t dim, pyb::handle dtype) {
        std::optional<DType> dt = optional_dtype_of(dtype);
        wrap_dim(dim, t->dim());  // a dim out of range first
        if (dt && *dt != t->dtype())
          fail(ErrorKind::Runtime, "Bad in-place call: input tensor dtype ", dtype_name(t->dtype()),
               " and output tensor dtype ", dtype_name(*dt), " should match");
        if (t->dtype() == DType::Bool) {  // torch looks for a kernel only when there is something to sum
          if (t->numel() == 0 || t->dim() == 0) return t;  // (a 0-d tensor is its own cumulative sum)
          fail(ErrorKind::NotImplemented, "\"cumsum_out_cpu\" not implemented for 'Bool'");
        }
        return assign_inplace(t, ops::cumsum(t, dim, t->dtype()));
      }, arg("dim"), pyb::kw_only(), arg("dtype") = pyb::none())
      .def("exp_", &unary_inplace<&ops::exp, false>)
      .def("log_", &unary_inplace<&ops::log, true>)
      .def("sin_", &unary_inplace<&ops::sin, true>)
      .def("cos_", &unary_inplace<&ops::cos, true>)
      .def("tanh_", &unary_inplace<&ops::tanh, false>)
      .def("sigmoid_", &unary_inplace<&ops::sigmoid, false>)
      .def("relu_", &unary_inplace<&ops::relu, false>)
      .def("abs_", &unary_inplace<&ops::abs, true>)
      .def("sqrt_", &unary_inplace<&ops::sqrt, false>)
      .def("reciprocal_", &unary_inplace<&ops::reciprocal, false>)
      .def("floor_", &unary_inplace<&ops::floor, false>)
      .def("ceil_", &unary_inplace<&ops::ceil, false>)
      .def("trunc_", &unary_inplace<&ops::trunc, false>)
      .def("frac_", &unary_inplace<&ops::frac, false>)
      .def("expm1_", &unary_inplace<&ops::expm1, false>)
      .def("log2_", &unary_inplace<&ops::log2, true>)
      .def("log10_", &unary_inplace<&ops::log10, true>)
      .def("exp2_", &unary_inplace<&ops::exp2, false>)
      .def("rsqrt_", &unary_inplace<&ops::rsqrt, false>)
      .def("asin_", &unary_inplace<&ops::asin, true>)
      .def("acos_", &unary_inplace<&ops::acos, true>)
      .def("atan_", &unary_inplace<&ops::atan, true>)
      .def("sinh_", &unary_inplace<&ops::sinh, true>)
      .def("cosh_", &unary_inplace<&ops::cosh, true>)
      .def("asinh_", [](const Tensor& t) { return inplace_without_derivative<&ops::asinh>(t, "AsinhBackward1"); })
      .def("acosh_", [](const Tensor& t) { return inplace_without_derivative<&ops::acosh>(t, "AcoshBackward1"); })
      .def("atanh_", [](const Tensor& t) { return inplace_without_derivative<&ops::atanh>(t, "AtanhBackward1"); })
      .def("round_", [](const Tensor& self, pyb::handle decimals) {
        return assign_inplace(self, ops::round(self, round_decimals(self, decimals)));
      }, pyb::kw_only(), pyb::arg("decimals") = absent())
      .def("square_", [](const Tensor& self) {
        Tensor in = original(self, true);
        return assign_inplace(self, past_copy(ops::pow(in, Scalar::from_int(2)), in, self));
      })
      .def("lerp_", [](const Tensor& t, const Tensor& end, pyb::handle w) {
        if (!is_tensor(w)) {
          // A weight that is no number fails torch's parser first; a complex one only its kernel.
          if (!PyComplex_Check(w.ptr())) real_number_of(w, t->dtype());
          check_inplace_leaf(t);
          return assign_inplace(t, ops::lerp(t, end, real_number_of(w, t->dtype())));
        }
        Tensor weight = w.cast<Tensor>();
        Tensor in = original(t, weight->requires_grad(), &weight);  // the weight's gradient reads self
        return assign_inplace(t, past_copy(ops::lerp(in, end, weight), in, t));
      }, arg("end"), arg("weight"))
      .def("addcmul_", [](const Tensor& t, const Tensor& a, const Tensor& b, pyb::handle v) {
        return assign_inplace(t, ops::addcmul(t, a, b, real_number_of(v, t->dtype())));
      }, arg("tensor1"), arg("tensor2"), pyb::kw_only(), arg("value") = 1)
      .def("addcdiv_", [](const Tensor& t, const Tensor& a, const Tensor& b, pyb::handle v) {
        return assign_inplace(t, ops::addcdiv(t, a, b, real_number_of(v, t->dtype())));
      }, arg("tensor1"), arg("tensor2"), pyb::kw_only(), arg("value") = 1)
      .def("nan_to_num_", [](const Tensor& t, std::optional<double> nan, std::optional<double> posinf, std::optional<double> neginf) {
        Tensor in = original(t, true);
        return assign_inplace(t, past_copy(ops::nan_to_num(in, nan, posinf, neginf), in, t));
      }, arg("nan") = 0.0, arg("posinf") = pyb::none(), arg("neginf") = pyb::none())
      .def("clamp_", [](const Tensor& t, pyb::handle lo, pyb::handle hi) { return clamp_inplace(t, lo, hi); },
           arg("min") = pyb::none(), arg("max") = pyb::none())
      .def("clip_", [](const Tensor& t, pyb::handle lo, pyb::handle hi) { return clamp_inplace(t, lo, hi); },
           arg("min") = pyb::none(), arg("max") = pyb::none())
      .def("clamp_min_", [](const Tensor& t, pyb::handle lo) {
        return clamp_inplace(t, required_bound(lo), pyb::none(), "ClampMinBackward0", "ClampMinBackward1");
      }, arg("min"))
      .def("clamp_max_", [](const Tensor& t, pyb::handle hi) {
        return clamp_inplace(t, pyb::none(), required_bound(hi), "ClampMaxBackward0", "ClampMaxBackward1");
      }, arg("max"))
      .def("copy_", &copy_inplace, arg("src"), arg("non_blocking") = false)
      .def("zero_", [](const Tensor& t) { return assign_inplace(t, ops::full_like(t, 0.0, t->dtype(), t->device()), "ZeroBackward0", true); })
      .def("fill_", [](const Tensor& t, pyb::handle v) {
        if (is_tensor(v)) {
          Tensor tv = tensor_of(v);
          TG_CHECK(tv->dim() == 0, "fill_ only supports 0-dimension value tensor but got tensor with ", tv->dim(),
                   " dimensions.");
          if (tv->requires_grad()) return fill_from_tensor(t, tv);
        }
        return assign_inplace(t, ops::full(t->sizes(), real_number_of(v, t->dtype()), t->dtype(), t->device()),
                              is_tensor(v) ? "FillBackward3" : "FillBackward2", true);
      });
}

}  // namespace tapegrad::py
