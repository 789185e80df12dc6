// Reductions, comparisons, logical ops and selection for Python.
#include <pybind11/stl.h>

#include <cmath>
#include <limits>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "core/error.h"
#include "kernels/dispatch.h"
#include "ops/ops.h"
#include "python/bind_common.h"

namespace tapegrad::py {
namespace {

// An optional int dim (argmax, argmin): None is every element.
std::optional<int64_t> opt_dim(pyb::handle h) {
  if (h.is_none()) return std::nullopt;
  return int_of(h);
}

// prod's dim, whose wrong type torch reports against both of prod's forms.
std::optional<int64_t> prod_dim(pyb::handle h) {
  if (!PyLong_Check(h.ptr()))
    fail(ErrorKind::Type, "prod() received an invalid combination of arguments - got (",
         std::string(pyb::str(pyb::type::handle_of(h).attr("__name__"))),
         "), but expected one of:\n * (*, torch.dtype dtype = None)\n * (int dim, bool keepdim = False, *, "
         "torch.dtype dtype = None)\n");
  return int_of(h);
}

// norm's p: a number, 'fro' (2 over the given dims) or inf.
double norm_p(pyb::handle p) {
  if (p.is_none()) return 2.0;
  if (pyb::isinstance<pyb::str>(p)) {
    std::string s = p.cast<std::string>();
    TG_CHECK(s == "fro", "norm(): p='", s, "' is not supported; use a number, 'fro' or inf");
    return 2.0;
  }
  return float_of(p);
}

// var/std's correction from correction= or the older unbiased=.
double correction_arg(pyb::handle correction, pyb::handle unbiased) {
  if (!correction.is_none()) return float_of(correction);
  if (!is_absent(unbiased)) return bool_of(unbiased) ? 1.0 : 0.0;  // a bool: None is refused
  return 1.0;
}

// A comparison with a Python complex, which torch runs in a complex dtype: == and != compare the
// real part when the imaginary part is 0 (else nothing is equal); the orderings have no kernel.
Tensor compare_complex(const Tensor& t, pyb::handle c, CompareOp op) {
  if (op != CompareOp::Eq && op != CompareOp::Ne) {
    static const char* const names[] = {"eq", "ne", "lt", "le", "gt", "ge"};
    fail(ErrorKind::NotImplemented, "\"", names[int(op)], "_cpu\" not implemented for '",
         t->dtype() == DType::Float64 ? "ComplexDouble" : "ComplexFloat", "'");
  }
  if (PyComplex_ImagAsDouble(c.ptr()) == 0) return ops::compare(t, Scalar(PyComplex_RealAsDouble(c.ptr())), int(op));
  return ops::full(t->sizes(), Scalar::from_bool(op == CompareOp::Ne), DType::Bool, t->device());
}

template <CompareOp Op>
pyb::object compare_op(const Tensor& t, pyb::handle o) {
  if (PyComplex_Check(o.ptr())) return pyb::cast(compare_complex(t, o, Op));
  return with_operand(o, [&](const Tensor& b) { return ops::compare(t, b, int(Op)); },
                      [&](const Scalar& s) { return ops::compare(t, s, int(Op)); });
}

// An operator's result for a function or method: NotImplemented becomes torch's TypeError.
pyb::object or_type_error(pyb::object result, pyb::handle other) {
  if (result.ptr() == Py_NotImplemented) tensor_or_number_of(other);
  return result;
}

// The tensor or number `other` as a tensor shaped for where/maximum.
Tensor operand(pyb::handle h, const Tensor& like) {
  if (is_tensor(h)) return h.cast<Tensor>();
  auto s = scalar_from(h);
  if (!s) fail(ErrorKind::Type, "expected a Tensor or a number, got ", std::string(pyb::str(pyb::type::handle_of(h).attr("__name__"))));
  return ops::scalar_tensor(*s, ops::result_type(like, *s), like->device());
}

pyb::object bitwise_op(const Tensor& a, pyb::handle b, int op) {
  if (is_tensor(b)) return pyb::cast(ops::bitwise(a, b.cast<Tensor>(), op));
  auto s = scalar_from(b);
  if (!s) return pyb::reinterpret_borrow<pyb::object>(Py_NotImplemented);
  if (s->is_floating()) {  // a float operand: torch has no float kernel to run
    static const char* const kernels[] = {"bitwise_and_cpu", "bitwise_or_cpu", "bitwise_xor_cpu"};
    fail(ErrorKind::NotImplemented, "\"", kernels[op], "\" not implemented for '",
         dtype_scalar_type_name(ops::result_type(a, *s)), "'");
  }
  return pyb::cast(ops::bitwise(a, ops::scalar_tensor(*s, ops::result_type(a, *s), a->device()), op));
}

// torch's UserWarning when the correction is not below the number of elements reduced into
// each output (the result is then inf or nan).
void warn_without_degrees_of_freedom(const char* fn, const Tensor& in, const Tensor& out, double correction) {
  const double factor = out->numel() ? double(in->numel()) / double(out->numel()) : 0.0;
  if (factor - correction > 0) return;
  const std::string message = std::string(fn) +
      "(): degrees of freedom is <= 0. Correction should be strictly less than the reduction factor (input numel "
      "divided by output numel).";
  if (PyErr_WarnEx(PyExc_UserWarning, message.c_str(), 1) < 0) throw pyb::error_already_set();
}

// self.<op>_(other) for comparisons and logical ops: the bool result written back in self's dtype;
// self's old history gets a zero gradient (torch's EqBackward0, LogicalAndBackward0, ...).
Tensor write_back(const Tensor& self, const Tensor& result, const char* node_name) {
  return assign_inplace(self, ops::to_dtype(result, self->dtype()), node_name);
}

// logical_and_ and its kin are outside autograd in torch: they write even into a leaf that
// requires grad, and leave self's history as it was.
template <class F>
Tensor logical_inplace(const Tensor& self, F&& compute) {
  AutoGradMode off(false);
  return assign_inplace(self, ops::to_dtype(compute(), self->dtype()));
}

// self.eq_(other) and its kin: the comparison written back in self's dtype. Its node gives self
// and a tensor `other` zero gradients (torch's EqBackward0 for a number, EqBackward1 for a tensor).
template <CompareOp Op>
Tensor compare_inplace(const Tensor& t, pyb::handle o) {
  check_inplace_leaf(t);
  static const char* const number_nodes[] = {"EqBackward0", "NeBackward0", "LtBackward0",
                                             "LeBackward0", "GtBackward0", "GeBackward0"};
  static const char* const tensor_nodes[] = {"EqBackward1", "NeBackward1", "LtBackward1",
                                             "LeBackward1", "GtBackward1", "GeBackward1"};
  Tensor other = is_tensor(o) ? tensor_of(o) : Tensor();
  Tensor r;
  {
    AutoGradMode off(false);
    r = ops::to_dtype(other                       ? ops::compare(t, other, int(Op))
                      : PyComplex_Check(o.ptr()) ? compare_complex(t, o, Op)
                                                 : ops::compare(t, tensor_or_number_of(o), int(Op)),
                      t->dtype());
    if (r == t) r = ops::clone(r);
  }
  record_any_dtype(other ? tensor_nodes[int(Op)] : number_nodes[int(Op)], [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor zero = ops::zeros_like(g);
    return {n.needs_grad(0) ? zero : Tensor(), n.next_edges.size() > 1 && n.needs_grad(1) ? zero : Tensor()};
  }, r, {&t, other ? &other : nullptr});
  return assign_inplace(t, r, number_nodes[int(Op)]);
}

// self &= other (bitwise_and_, ...): the result must be castable to self's dtype (assign_inplace
// refuses an int written into a bool, as torch does). An operator with an operand that is no
// tensor or number gives NotImplemented, so Python raises its TypeError.
pyb::object bitwise_inplace(const Tensor& a, pyb::handle b, int op, bool method) {
  check_inplace_leaf(a);
  if (is_tensor(b)) {  // torch checks the shape, then that the result fits self, then for a kernel
    check_inplace_broadcast(a, b.cast<Tensor>());
    DType rt = ops::result_type(a, b.cast<Tensor>());
    if (is_floating(rt) && !is_floating(a->dtype()))
      fail(ErrorKind::Runtime, "result type ", dtype_scalar_type_name(rt), " can't be cast to the desired output type ",
           dtype_scalar_type_name(a->dtype()));
  } else {
    std::optional<Scalar> s = scalar_from(b);
    if (!s && PyComplex_Check(b.ptr()))
      fail(ErrorKind::Runtime, "result type ", a->dtype() == DType::Float64 ? "ComplexDouble" : "ComplexFloat",
           " can't be cast to the desired output type ", dtype_scalar_type_name(a->dtype()));
    if (!s) {
      if (method) tensor_or_number_of(b);  // torch's TypeError
      return pyb::reinterpret_borrow<pyb::object>(Py_NotImplemented);
    }
    if (s->is_floating()) {
      static const char* const kernels[] = {"bitwise_and_cpu", "bitwise_or_cpu", "bitwise_xor_cpu"};
      if (is_floating(a->dtype()))
        fail(ErrorKind::NotImplemented, "\"", kernels[op], "\" not implemented for '", dtype_scalar_type_name(a->dtype()), "'");
      fail(ErrorKind::Runtime, "result type Float can't be cast to the desired output type ",
           dtype_scalar_type_name(a->dtype()));
    }
  }
  return pyb::cast(assign_inplace(a, bitwise_op(a, b, op).cast<Tensor>()));
}

}  // namespace

void bind_reduce(Module& m) {
  using pyb::arg;
  TensorClass cls = tensor_class(m);
  auto none = pyb::none();

  // sum/mean keep their fast full-reduction forms (SumBackward0 / MeanBackward0) when dim is None.
  def_both(m, cls, "sum", [](const Tensor& t, pyb::handle dim, bool keepdim, pyb::handle dtype) {
    auto dt = optional_dtype_of(dtype);
    if (dim.is_none()) return keepdim ? ops::sum(t, {}, true, dt) : ops::sum(t, dt);
    return ops::sum(t, dims_of(dim), keepdim, dt);
  }, arg("dim") = none, arg("keepdim") = false, pyb::kw_only(), arg("dtype") = none);
  def_both(m, cls, "mean", [](const Tensor& t, pyb::handle dim, bool keepdim, pyb::handle dtype) {
    auto dt = optional_dtype_of(dtype);
    if (dim.is_none()) return keepdim ? ops::mean(t, {}, true, dt) : ops::mean(t, dt);
    return ops::mean(t, dims_of(dim), keepdim, dt);
  }, arg("dim") = none, arg("keepdim") = false, pyb::kw_only(), arg("dtype") = none);
  def_both(m, cls, "nansum", [](const Tensor& t, pyb::handle dim, bool keepdim, pyb::handle dtype) {
    return ops::nansum(t, dims_of(dim), keepdim, optional_dtype_of(dtype));
  }, arg("dim") = none, arg("keepdim") = false, pyb::kw_only(), arg("dtype") = none);
  // prod has no dim=None form in torch: a product over everything leaves dim out.
  def_both(m, cls, "prod", [](const Tensor& t, pyb::handle dim, bool keepdim, pyb::handle dtype) {
    if (dim.is_none()) bad_argument(dim, "int");
    return ops::prod(t, is_absent(dim) ? std::nullopt : prod_dim(dim), keepdim, optional_dtype_of(dtype));
  }, arg("dim") = absent(), arg("keepdim") = false, pyb::kw_only(), arg("dtype") = none);
  def_both(m, cls, "amax", [](const Tensor& t, pyb::handle dim, bool keepdim) { return ops::amax(t, dims_of(dim), keepdim); },
           arg("dim") = pyb::tuple(), arg("keepdim") = false);
  def_both(m, cls, "amin", [](const Tensor& t, pyb::handle dim, bool keepdim) { return ops::amin(t, dims_of(dim), keepdim); },
           arg("dim") = pyb::tuple(), arg("keepdim") = false);
  // max/min: full, with a dim (values, indices), or elementwise against another tensor.
  for (bool is_max : {true, false}) {
    cls.def(is_max ? "_max" : "_min", [is_max](const Tensor& t, pyb::handle dim, bool keepdim) -> pyb::object {
      if (dim.is_none()) return pyb::cast(is_max ? ops::max(t) : ops::min(t));
      if (is_tensor(dim)) return pyb::cast(is_max ? ops::maximum(t, dim.cast<Tensor>()) : ops::minimum(t, dim.cast<Tensor>()));
      auto r = is_max ? ops::max(t, int_of(dim), keepdim) : ops::min(t, int_of(dim), keepdim);
      return pyb::make_tuple(r.first, r.second);
    }, arg("dim") = none, arg("keepdim") = false);
  }
  def_both(m, cls, "argmax", [](const Tensor& t, pyb::handle dim, bool keepdim) { return ops::argmax(t, opt_dim(dim), keepdim); },
           arg("dim") = none, arg("keepdim") = false);
  def_both(m, cls, "argmin", [](const Tensor& t, pyb::handle dim, bool keepdim) { return ops::argmin(t, opt_dim(dim), keepdim); },
           arg("dim") = none, arg("keepdim") = false);
  for (bool is_std : {false, true})
    def_both(m, cls, is_std ? "std" : "var",
             [is_std](const Tensor& t, pyb::handle dim, pyb::handle unbiased, bool keepdim, pyb::handle correction) {
      const bool all = PyBool_Check(dim.ptr());  // var(unbiased) over every element
      const double c = all ? (dim.cast<bool>() ? 1.0 : 0.0) : correction_arg(correction, unbiased);
      Shape dims = all ? Shape{} : dims_of(dim);
      TG_CHECK(is_floating(t->dtype()), "std and var only support floating point and complex dtypes");  // before dims' range
      Tensor out = (is_std ? ops::std : ops::var)(t, dims, c, keepdim);
      warn_without_degrees_of_freedom(is_std ? "std" : "var", t, out, c);
      return out;
    }, arg("dim") = none, arg("unbiased") = absent(), arg("keepdim") = false, pyb::kw_only(), arg("correction") = none);
  def_both(m, cls, "norm", [](const Tensor& t, pyb::handle p, pyb::handle dim, bool keepdim) {
    Shape dims = dims_of(dim);
    // 'fro' over more than two dims is a matrix norm torch refuses.
    if (pyb::isinstance<pyb::str>(p) && dims.size() > 2) {
      std::string got;
      for (int64_t d : dims) got += " " + std::to_string(d);
      fail(ErrorKind::Runtime, "linalg.matrix_norm: dim must be a 2-tuple. Got", got);
    }
    return ops::norm(t, norm_p(p), dims, keepdim);
  }, arg("p") = "fro", arg("dim") = none, arg("keepdim") = false);
  def_both(m, cls, "logsumexp", [](const Tensor& t, pyb::handle dim, bool keepdim) {
    return ops::logsumexp(t, int_list_of(dim, "dim"), keepdim);  // dim is required: None is no dim list
  }, arg("dim"), arg("keepdim") = false);
  def_both(m, cls, "softmax", [](const Tensor& t, int64_t dim, pyb::handle dtype) {
    return ops::softmax(t, dim, optional_dtype_of(dtype));
  }, arg("dim"), arg("dtype") = none);
  def_both(m, cls, "log_softmax", [](const Tensor& t, int64_t dim, pyb::handle dtype) {
    return ops::log_softmax(t, dim, optional_dtype_of(dtype));
  }, arg("dim"), arg("dtype") = none);
  def_both(m, cls, "cumsum", [](const Tensor& t, int64_t dim, pyb::handle dtype) {
    return ops::cumsum(t, dim, optional_dtype_of(dtype));
  }, arg("dim"), pyb::kw_only(), arg("dtype") = none);
  def_both(m, cls, "any", [](const Tensor& t, pyb::handle dim, bool keepdim) { return ops::any(t, dims_of(dim), keepdim); },
           arg("dim") = none, arg("keepdim") = false);
  def_both(m, cls, "all", [](const Tensor& t, pyb::handle dim, bool keepdim) { return ops::all(t, dims_of(dim), keepdim); },
           arg("dim") = none, arg("keepdim") = false);

  // Comparisons: methods, operators and functions.
  cls.def("__eq__", &compare_op<CompareOp::Eq>)
      .def("__ne__", &compare_op<CompareOp::Ne>)
      .def("__lt__", &compare_op<CompareOp::Lt>)
      .def("__le__", &compare_op<CompareOp::Le>)
      .def("__gt__", &compare_op<CompareOp::Gt>)
      .def("__ge__", &compare_op<CompareOp::Ge>)
      .def("__and__", [](const Tensor& a, pyb::handle b) { return bitwise_op(a, b, 0); })
      .def("__rand__", [](const Tensor& a, pyb::handle b) { return bitwise_op(a, b, 0); })
      .def("__or__", [](const Tensor& a, pyb::handle b) { return bitwise_op(a, b, 1); })
      .def("__ror__", [](const Tensor& a, pyb::handle b) { return bitwise_op(a, b, 1); })
      .def("__xor__", [](const Tensor& a, pyb::handle b) { return bitwise_op(a, b, 2); })
      .def("__rxor__", [](const Tensor& a, pyb::handle b) { return bitwise_op(a, b, 2); })
      .def("__invert__", &ops::bitwise_not)
      .def("__contains__", [](const Tensor& t, pyb::handle element) {
        // torch: (element == self).any()
        auto r = with_operand(element, [&](const Tensor& b) { return ops::compare(t, b, int(CompareOp::Eq)); },
                              [&](const Scalar& s) { return ops::compare(t, s, int(CompareOp::Eq)); });
        if (r.ptr() == Py_NotImplemented)
          fail(ErrorKind::Runtime, "Tensor.__contains__ only supports Tensor or scalar, but you passed in a ",
               std::string(pyb::str(pyb::type::handle_of(element).attr("__name__"))), ".");
        return item(ops::any(r.cast<Tensor>(), {}, false)).cast<bool>();
      });
  // As functions and methods an operand that is no tensor or number is torch's TypeError (the
  // operators return NotImplemented instead, for Python to try the reflected one).
  def_both(m, cls, "bitwise_and", [](const Tensor& a, pyb::handle b) { return or_type_error(bitwise_op(a, b, 0), b); }, arg("other"));
  def_both(m, cls, "bitwise_or", [](const Tensor& a, pyb::handle b) { return or_type_error(bitwise_op(a, b, 1), b); }, arg("other"));
  def_both(m, cls, "bitwise_xor", [](const Tensor& a, pyb::handle b) { return or_type_error(bitwise_op(a, b, 2), b); }, arg("other"));
  // The function and method name their kernel; only the ~ operator raises TypeError.
  def_both(m, cls, "bitwise_not", [](const Tensor& a) {
    if (is_floating(a->dtype()))
      fail(ErrorKind::NotImplemented, "\"bitwise_not_cpu\" not implemented for '", dtype_scalar_type_name(a->dtype()), "'");
    return ops::bitwise_not(a);
  });
  const std::pair<const char*, pyb::object (*)(const Tensor&, pyb::handle)> cmps[] = {
      {"eq", &compare_op<CompareOp::Eq>}, {"ne", &compare_op<CompareOp::Ne>}, {"lt", &compare_op<CompareOp::Lt>},
      {"le", &compare_op<CompareOp::Le>}, {"gt", &compare_op<CompareOp::Gt>}, {"ge", &compare_op<CompareOp::Ge>}};
  for (auto& [name, fn] : cmps)
    def_both(m, cls, name, [fn = fn](const Tensor& t, pyb::handle o) { return or_type_error(fn(t, o), o); }, arg("other"));
  cls.def("eq_", &compare_inplace<CompareOp::Eq>, arg("other"))
      .def("ne_", &compare_inplace<CompareOp::Ne>, arg("other"))
      .def("lt_", &compare_inplace<CompareOp::Lt>, arg("other"))
      .def("le_", &compare_inplace<CompareOp::Le>, arg("other"))
      .def("gt_", &compare_inplace<CompareOp::Gt>, arg("other"))
      .def("ge_", &compare_inplace<CompareOp::Ge>, arg("other"))
      .def("logical_and_", [](const Tensor& a, const Tensor& b) {
        return logical_inplace(a, [&] { return ops::logical_and(a, b); });
      }, arg("other"))
      .def("logical_or_", [](const Tensor& a, const Tensor& b) {
        return logical_inplace(a, [&] { return ops::logical_or(a, b); });
      }, arg("other"))
      .def("logical_xor_", [](const Tensor& a, const Tensor& b) {
        return logical_inplace(a, [&] { return ops::logical_xor(a, b); });
      }, arg("other"))
      .def("logical_not_", [](const Tensor& a) { return logical_inplace(a, [&] { return ops::logical_not(a); }); })
      .def("bitwise_and_", [](const Tensor& a, pyb::handle b) { return bitwise_inplace(a, b, 0, true); }, arg("other"))
      .def("bitwise_or_", [](const Tensor& a, pyb::handle b) { return bitwise_inplace(a, b, 1, true); }, arg("other"))
      .def("bitwise_xor_", [](const Tensor& a, pyb::handle b) { return bitwise_inplace(a, b, 2, true); }, arg("other"))
      .def("__iand__", [](const Tensor& a, pyb::handle b) { return bitwise_inplace(a, b, 0, false); })
      .def("__ior__", [](const Tensor& a, pyb::handle b) { return bitwise_inplace(a, b, 1, false); })
      .def("__ixor__", [](const Tensor& a, pyb::handle b) { return bitwise_inplace(a, b, 2, false); })
      .def("bitwise_not_", [](const Tensor& a) {
        check_inplace_leaf(a);
        if (is_floating(a->dtype()))
          fail(ErrorKind::NotImplemented, "\"bitwise_not_cpu\" not implemented for '", dtype_scalar_type_name(a->dtype()), "'");
        return assign_inplace(a, ops::bitwise_not(a));
      });
  def_both(m, cls, "logical_and", &ops::logical_and, arg("other"));
  def_both(m, cls, "logical_or", &ops::logical_or, arg("other"));
  def_both(m, cls, "logical_xor", &ops::logical_xor, arg("other"));
  def_both(m, cls, "logical_not", &ops::logical_not);
  def_both(m, cls, "isnan", &ops::isnan);
  def_both(m, cls, "isinf", &ops::isinf);
  def_both(m, cls, "isfinite", &ops::isfinite);
  def_both(m, cls, "maximum", &ops::maximum, arg("other"));
  def_both(m, cls, "minimum", &ops::minimum, arg("other"));
  def_both(m, cls, "masked_fill", [](const Tensor& t, const Tensor& mask, pyb::handle given) {
    pyb::object value = fill_value_of(given, t->dtype());
    if (!is_tensor(value) && is_integral(t->dtype(), false)) number_of(value).to_integer(t->dtype());
    return ops::masked_fill(t, mask, operand(value, t), !is_tensor(value));
  }, arg("mask"), arg("value"));
  // In place the mask broadcasts to self's shape, never beyond it.
  cls.def("masked_fill_", [](const Tensor& t, const Tensor& mask, pyb::handle given) {
    if (!is_tensor(given) && !PyComplex_Check(given.ptr())) number_of(given);  // torch's TypeError first
    check_inplace_leaf(t);
    pyb::object value = fill_value_of(given, t->dtype());
    if (!is_tensor(value) && is_integral(t->dtype(), false)) number_of(value).to_integer(t->dtype());
    TG_CHECK(mask->dtype() == DType::Bool, "masked_fill_ only supports boolean masks, but got mask with dtype ",
             dtype_name(mask->dtype()));
    Shape shape = broadcast_shapes(t->sizes(), mask->sizes());
    TG_CHECK(shape == t->sizes(), "output with shape ", shape_str(t->sizes()), " doesn't match the broadcast shape ",
             shape_str(shape));
    return assign_inplace(t, ops::masked_fill(t, mask, operand(value, t), !is_tensor(value)), "FillBackward0", true);
  }, arg("mask"), arg("value"));
  cls.def("where", [](const Tensor& t, const Tensor& cond, pyb::handle other) {
    return ops::where(cond, t, operand(other, t));
  }, arg("condition"), arg("other"));
  m.def("where", [](const Tensor& cond, pyb::handle a, pyb::handle b) -> pyb::object {
    if (a.is_none() && b.is_none()) {
      pyb::object nz = pyb::module_::import("tapegrad").attr("nonzero");
      return nz(cond, pyb::arg("as_tuple") = true);
    }
    Tensor ta = is_tensor(a) ? a.cast<Tensor>() : Tensor(), tb = is_tensor(b) ? b.cast<Tensor>() : Tensor();
    const Tensor& like = ta ? ta : tb ? tb : cond;
    if (!ta) ta = operand(a, tb ? tb : ops::full({}, 0.0, default_dtype(), cond->device()));
    if (!tb) tb = operand(b, ta);
    (void)like;
    return pyb::cast(ops::where(cond, ta, tb));
  }, arg("condition"), arg("input") = none, arg("other") = none);
}

}  // namespace tapegrad::py
