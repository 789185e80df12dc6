// Module-level functions: tapegrad.tensor / zeros / ones / full ... and tapegrad.<op>(input, ...).
#include <pybind11/stl.h>

#include "core/error.h"
#include "ops/ops.h"
#include "python/bind_common.h"
#include "python/binary_forms.h"

namespace tapegrad::py {
namespace {

using UnaryFn = Tensor (*)(const Tensor&);

template <UnaryFn F>
void def_unary(Module& m, const char* name) {
  m.def(name, [](const Tensor& x) { return F(x); }, pyb::arg("input"));
}

// A creation function f(*size, dtype=None, device=None, requires_grad=False) filling `value`.
void def_filled(Module& m, const char* name, double value) {
  m.def(name, [name, value](pyb::args size, pyb::handle size_kw, pyb::handle dtype, pyb::handle device,
                            pyb::handle requires_grad) {
    if (size.empty() && size_kw.is_none())
      fail(ErrorKind::Type, name, "() missing 1 required positional arguments: \"size\"");
    DType dt = optional_dtype_of(dtype).value_or(default_dtype());
    Shape shape = size_of(size, size_kw, name);
    if (std::string(name) == "zeros")
      for (int64_t d : shape) TG_CHECK(d >= 0, "zeros: Dimension size must be non-negative.");
    return with_requires_grad(ops::full(shape, value, dt, device_from(device)), requires_grad);
  }, pyb::kw_only(), pyb::arg("size") = pyb::none(), pyb::arg("dtype") = pyb::none(), pyb::arg("device") = pyb::none(),
        pyb::arg("requires_grad") = false);
}

void def_filled_like(Module& m, const char* name, double value) {
  m.def(name, [name, value](pyb::handle input, pyb::handle dtype, pyb::handle device, pyb::handle requires_grad) {
    Tensor t = tensor_of(input);
    DType dt = optional_dtype_of(dtype).value_or(t->dtype());
    Device dev = device.is_none() ? t->device() : device_from(device);
    return with_requires_grad(ops::full_like(t, value, dt, dev), requires_grad);
  }, pyb::arg("input"), pyb::kw_only(), pyb::arg("dtype") = pyb::none(), pyb::arg("device") = pyb::none(),
        pyb::arg("requires_grad") = false);
}

// number (op) alpha * y: torch wraps the number as a tensor, so the tensor form runs: alpha is
// checked and y scaled in the promoted type (int32 y, 3.5 and alpha 0.5 multiply in float).
Tensor wrapped_number(const Scalar& s, const Tensor& y) {
  return ops::scalar_tensor(s, ops::result_type(y, s), y->device());
}

// f(input, other): tensor/tensor, tensor/number, or number/tensor via the reflected form.
template <class TT, class TS, class ST>
pyb::object binary_call(pyb::handle a, pyb::handle b, const char* fn, TT tt, TS ts, ST st) {
  if (is_tensor(a)) {
    Tensor x = tensor_of(a);
    if (is_tensor(b)) return pyb::cast(tt(x, tensor_of(b)));
    return pyb::cast(ts(x, tensor_or_number_of(b)));
  }
  Scalar s = tensor_or_number_of(a);
  return pyb::cast(st(s, tensor_of(b)));
}

template <class Forms>
pyb::object binary_call(pyb::handle a, pyb::handle b, const char* fn) {
  return binary_call(a, b, fn, &Forms::tt, &Forms::ts, &Forms::st);
}

// True when the keyword `key` is `name` (keywords are nearly always interned: pointer equality).
bool keyword_is(PyObject* key, PyObject* interned, const char* name) {
  return key == interned || PyUnicode_CompareWithASCIIString(key, name) == 0;
}

// tapegrad.tensor(data, *, dtype=None, device=None, requires_grad=False) through CPython's
// fast call: pybind11 would build and intern each keyword's name on every call, which costs
// more than making a scalar tensor.
PyObject* tensor_function(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  static PyObject* const k_data = PyUnicode_InternFromString("data");
  static PyObject* const k_dtype = PyUnicode_InternFromString("dtype");
  static PyObject* const k_device = PyUnicode_InternFromString("device");
  static PyObject* const k_requires_grad = PyUnicode_InternFromString("requires_grad");
  try {
    if (nargs > 1) fail(ErrorKind::Type, "tensor() takes 1 positional argument but ", nargs, " were given");
    pyb::handle data = nargs ? args[0] : nullptr, dtype = Py_None, device = Py_None;
    bool requires_grad = false;
    const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < nkw; ++i) {
      PyObject* key = PyTuple_GET_ITEM(kwnames, i);
      PyObject* value = args[nargs + i];
      if (keyword_is(key, k_dtype, "dtype")) dtype = value;
      else if (keyword_is(key, k_device, "device")) device = value;
      else if (keyword_is(key, k_requires_grad, "requires_grad")) {
        if (!PyBool_Check(value))
          fail(ErrorKind::Type, "tensor(): argument 'requires_grad' must be bool, not ", qualified_type_name(value));
        requires_grad = value == Py_True;
      } else if (keyword_is(key, k_data, "data")) {
        if (nargs) fail(ErrorKind::Type, "tensor() got multiple values for argument 'data'");
        data = value;
      } else fail(ErrorKind::Type, "tensor() got an unexpected keyword argument '", pyb::str(key).cast<std::string>(), "'");
    }
    if (!data) fail(ErrorKind::Type, "tensor() missing 1 required positional arguments: \"data\"");
    // Not behind the call wrapper: the keywords' type errors are worded here.
    if (!dtype.is_none() && !is_dtype_like(dtype))
      fail(ErrorKind::Type, "tensor(): argument 'dtype' must be torch.dtype, not ", arg_type_name(dtype));
    if (!device.is_none() && !is_device_like(device))
      fail(ErrorKind::Type, "tensor(): argument 'device' must be torch.device, not ", arg_type_name(device));
    return wrap_tensor(with_requires_grad(tensor_from_data(data, optional_dtype_of(dtype), device_from(device)), pyb::bool_(requires_grad)));
  } catch (...) {
    pyb::detail::try_translate_exceptions();
    return nullptr;
  }
}

}  // namespace

Tensor clamp_call(const Tensor& t, pyb::handle lo, pyb::handle hi, const char* node_name, const char* tensor_node_name) {
  if (is_tensor(lo) || is_tensor(hi)) {
    // torch has a (Tensor, Tensor) and a (Number, Number) form (a 0-d tensor passes as a Number),
    // not a Number with a tensor of more dims.
    auto number_like = [](pyb::handle h) { return !is_tensor(h) || tensor_of(h)->dim() == 0; };
    auto given_number = [](pyb::handle h) { return !is_tensor(h) && !h.is_none() && !is_absent(h); };
    if ((given_number(lo) && !number_like(hi)) || (given_number(hi) && !number_like(lo)))
      fail(ErrorKind::Type, "clamp(): min and max must both be Tensors or both be Numbers, got ",
           arg_type_name(lo), " and ", arg_type_name(hi));
    auto bound = [&](pyb::handle h) -> Tensor {
      if (h.is_none()) return Tensor();
      if (is_tensor(h)) return tensor_of(h);
      Scalar s = number_of(h);
      return ops::scalar_tensor(s, ops::result_type(t, s), t->device());
    };
    return ops::clamp(t, bound(lo), bound(hi), tensor_node_name);
  }
  auto bound = [&](pyb::handle h) -> std::optional<Scalar> {
    // torch's clamp reads a complex bound of a floating tensor as a double; clamp_min, clamp_max and
    // integer tensors have a complex result.
    if (!PyComplex_Check(h.ptr())) return optional_number_of(h);
    if (!is_floating(t->dtype()) || std::string(node_name) != "ClampBackward1")
      fail(ErrorKind::NotImplemented, "clamp is not supported for complex types");
    return real_number_of(h, DType::Float64);
  };
  return ops::clamp(t, bound(lo), bound(hi), node_name);
}

int64_t round_decimals(const Tensor& x, pyb::handle decimals) {
  if (is_absent(decimals)) return 0;
  int64_t d = int_of(decimals);
  if (d == 0 && !is_floating(x->dtype()))
    fail(ErrorKind::NotImplemented, "\"round_vml_cpu\" not implemented for '", dtype_scalar_type_name(x->dtype()), "'");
  return d;
}

void bind_functions(Module& m) {
  using pyb::arg;
  static PyMethodDef tensor_def = {
      "tensor", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&tensor_function)),
      METH_FASTCALL | METH_KEYWORDS,
      "tensor(data, *, dtype=None, device=None, requires_grad=False)\n--\n\n"
      "A new tensor holding a copy of data (a number, nested sequences, a numpy array or a tensor)."};
  m.add_object("tensor", pyb::reinterpret_steal<pyb::object>(PyCFunction_NewEx(&tensor_def, nullptr, pyb::str("tapegrad").ptr())));
  def_filled(m, "zeros", 0.0);
  def_filled(m, "ones", 1.0);
  def_filled(m, "empty", 0.0);  // zero-filled: reading it is then at least deterministic
  def_filled_like(m, "zeros_like", 0.0);
  def_filled_like(m, "ones_like", 1.0);
  def_filled_like(m, "empty_like", 0.0);
  m.def("full", [](pyb::handle size, pyb::handle value, pyb::handle dtype, pyb::handle device, pyb::handle requires_grad) {
    std::optional<DType> given = optional_dtype_of(dtype);
    // A complex fill with a real dtype is read as torch reads it (its real part, or the overflow error).
    Scalar v = given && PyComplex_Check(value.ptr()) ? real_number_of(value, *given) : number_of(value);
    DType dt = given.value_or(v.natural_dtype());
    return with_requires_grad(ops::full(int_list_of(size, "size", false), v, dt, device_from(device)), requires_grad);
  }, arg("size"), arg("fill_value"), pyb::kw_only(), arg("dtype") = pyb::none(), arg("device") = pyb::none(),
        arg("requires_grad") = false);
  m.def("full_like", [](pyb::handle input, pyb::handle value, pyb::handle dtype, pyb::handle requires_grad) {
    Tensor t = tensor_of(input);
    DType dt = optional_dtype_of(dtype).value_or(t->dtype());
    return with_requires_grad(ops::full_like(t, real_number_of(value, dt), dt, t->device()), requires_grad);
  }, arg("input"), arg("fill_value"), pyb::kw_only(), arg("dtype") = pyb::none(), arg("requires_grad") = false);
  m.def("is_tensor", [](pyb::handle h) { return is_tensor(h); });
  m.def("numel", [](pyb::handle x) { return tensor_of(x)->numel(); });

  def_unary<&ops::neg>(m, "neg");
  def_unary<&ops::neg>(m, "negative");
  def_unary<&ops::exp>(m, "exp");
  def_unary<&ops::log>(m, "log");
  def_unary<&ops::sin>(m, "sin");
  def_unary<&ops::cos>(m, "cos");
  def_unary<&ops::tanh>(m, "tanh");
  def_unary<&ops::sigmoid>(m, "sigmoid");
  def_unary<&ops::relu>(m, "relu");
  def_unary<&ops::abs>(m, "abs");
  def_unary<&ops::sqrt>(m, "sqrt");
  def_unary<&ops::reciprocal>(m, "reciprocal");
  def_unary<&ops::sign>(m, "sign");
  def_unary<&ops::floor>(m, "floor");
  def_unary<&ops::ceil>(m, "ceil");
  def_unary<&ops::trunc>(m, "trunc");
  def_unary<&ops::frac>(m, "frac");
  def_unary<&ops::expm1>(m, "expm1");
  def_unary<&ops::log2>(m, "log2");
  def_unary<&ops::log10>(m, "log10");
  def_unary<&ops::exp2>(m, "exp2");
  def_unary<&ops::rsqrt>(m, "rsqrt");
  def_unary<&ops::asin>(m, "asin");
  def_unary<&ops::acos>(m, "acos");
  def_unary<&ops::atan>(m, "atan");
  def_unary<&ops::sinh>(m, "sinh");
  def_unary<&ops::cosh>(m, "cosh");
  def_unary<&ops::asinh>(m, "asinh");
  def_unary<&ops::acosh>(m, "acosh");
  def_unary<&ops::atanh>(m, "atanh");
  m.def("round", [](pyb::handle x, pyb::handle decimals) {
    Tensor t = tensor_of(x);
    return ops::round(t, round_decimals(t, decimals));
  }, arg("input"), pyb::kw_only(), arg("decimals") = absent());
  m.def("square", [](pyb::handle x) { return ops::pow(tensor_of(x), Scalar::from_int(2)); },
        arg("input"));
  def_unary<&ops::clone_preserving>(m, "clone");
  def_unary<&ops::detach>(m, "detach");

  m.def("clamp_min", [](pyb::handle x, pyb::handle lo) {
    return clamp_call(tensor_of(x), required_bound(lo), pyb::none(), "ClampMinBackward0", "ClampMinBackward1");
  }, arg("input"), arg("min"));
  m.def("clamp_max", [](pyb::handle x, pyb::handle hi) {
    return clamp_call(tensor_of(x), pyb::none(), required_bound(hi), "ClampMaxBackward0", "ClampMaxBackward1");
  }, arg("input"), arg("max"));
  for (const char* name : {"clamp", "clip"})
    m.def(name, [](pyb::handle x, pyb::handle lo, pyb::handle hi) { return clamp_call(tensor_of(x), lo, hi); },
          arg("input"), arg("min") = pyb::none(), arg("max") = pyb::none());
  m.def("sum", [](pyb::handle x, pyb::handle dtype) { return ops::sum(tensor_of(x), optional_dtype_of(dtype)); },
        arg("input"), pyb::kw_only(), arg("dtype") = pyb::none());
  m.def("mean", [](pyb::handle x, pyb::handle dtype) { return ops::mean(tensor_of(x), optional_dtype_of(dtype)); },
        arg("input"), pyb::kw_only(), arg("dtype") = pyb::none());

  m.def("add", [](pyb::handle a, pyb::handle b, pyb::handle alpha) {
    Scalar al = alpha_of(alpha, is_tensor(a) ? held_tensor(a.ptr()) : nullptr, b);
    return binary_call(a, b, "add", [&](const Tensor& x, const Tensor& y) { return ops::add(x, y, al); },
                       [&](const Tensor& x, const Scalar& s) { return ops::add(x, s, al); },
                       [&](const Scalar& s, const Tensor& y) { return ops::add(wrapped_number(s, y), y, al); });
  }, arg("input"), arg("other"), pyb::kw_only(), arg("alpha") = 1);
  m.def("sub", [](pyb::handle a, pyb::handle b, pyb::handle alpha) {
    Scalar al = alpha_of(alpha, is_tensor(a) ? held_tensor(a.ptr()) : nullptr, b);
    return binary_call(a, b, "sub", [&](const Tensor& x, const Tensor& y) { return ops::sub(x, y, al); },
                       [&](const Tensor& x, const Scalar& s) { return ops::sub(x, s, al); },
                       [&](const Scalar& s, const Tensor& y) { return ops::sub(wrapped_number(s, y), y, al); });
  }, arg("input"), arg("other"), pyb::kw_only(), arg("alpha") = 1);
  // other - alpha * input. With alpha other than 1 the tensor form runs as sub(other, input, alpha),
  // which checks alpha as torch does (its node is SubBackward0 where torch's is RsubBackward0).
  m.def("rsub", [](pyb::handle a, pyb::handle b, pyb::handle alpha) {
    Tensor x = tensor_of(a);
    Scalar al = alpha_of(alpha, &x, b);
    const bool one = al.kind != Scalar::Kind::Bool && al.value == 1.0;
    if (is_tensor(b)) return one ? ops::rsub(x, b.cast<Tensor>()) : ops::sub(b.cast<Tensor>(), x, al);
    Scalar s = number_of(b);
    return one ? ops::rsub(x, s) : ops::rsub(ops::mul(x, al), s);
  }, arg("input"), arg("other"), pyb::kw_only(), arg("alpha") = 1);
  m.def("mul", [](pyb::handle a, pyb::handle b) { return binary_call<forms::Mul>(a, b, "mul"); },
        arg("input"), arg("other"));
  for (const char* name : {"div", "divide"}) {
    m.def(name, [name](pyb::handle a, pyb::handle b, pyb::handle mode) {
      std::optional<bool> floor = rounding_mode_of(mode);
      if (!floor) return binary_call<forms::Div>(a, b, name);
      return binary_call(a, b, name, [&](const Tensor& x, const Tensor& y) { return ops::div(x, y, *floor); },
                         [&](const Tensor& x, const Scalar& s) { return ops::div(x, s, *floor); },
                         [&](const Scalar& s, const Tensor& y) { return ops::div(s, y, *floor); });
    }, arg("input"), arg("other"), pyb::kw_only(), arg("rounding_mode") = pyb::none());
  }
  m.def("true_divide", [](pyb::handle a, pyb::handle b) { return binary_call<forms::Div>(a, b, "true_divide"); },
        arg("input"), arg("other"));
  // Compound elementwise ops (ops/pointwise.cpp), as functions and methods; in-place forms in bind_inplace.
  TensorClass cls = tensor_class(m);
  def_both(m, cls, "lerp", [](const Tensor& t, const Tensor& end, pyb::handle w) {
    if (is_tensor(w)) return ops::lerp(t, end, w.cast<Tensor>());
    return ops::lerp(t, end, real_number_of(w, t->dtype()));
  }, arg("end"), arg("weight"));
  def_both(m, cls, "addcmul", [](const Tensor& t, const Tensor& a, const Tensor& b, pyb::handle v) {
    return ops::addcmul(t, a, b, real_number_of(v, promote_types(promote_types(t->dtype(), a->dtype()), b->dtype())));
  }, arg("tensor1"), arg("tensor2"), pyb::kw_only(), arg("value") = 1);
  def_both(m, cls, "addcdiv", [](const Tensor& t, const Tensor& a, const Tensor& b, pyb::handle v) {
    return ops::addcdiv(t, a, b, real_number_of(v, promote_types(promote_types(t->dtype(), a->dtype()), b->dtype())));
  }, arg("tensor1"), arg("tensor2"), pyb::kw_only(), arg("value") = 1);
  def_both(m, cls, "logaddexp", &ops::logaddexp, arg("other"));
  def_both(m, cls, "nan_to_num", &ops::nan_to_num, arg("nan") = 0.0, arg("posinf") = pyb::none(),
           arg("neginf") = pyb::none());
  def_both(m, cls, "trace", &ops::trace);
  def_both(m, cls, "masked_select", &ops::masked_select, arg("mask"));
  m.def("_constant_pad", &ops::constant_pad);
  m.def("_positional_pad", &ops::positional_pad);
  m.def("remainder", [](pyb::handle a, pyb::handle b) { return binary_call<forms::Remainder>(a, b, "remainder"); },
        arg("input"), arg("other"));
  m.def("floor_divide", [](pyb::handle a, pyb::handle b) { return binary_call<forms::FloorDivide>(a, b, "floor_divide"); },
        arg("input"), arg("other"));
  m.def("fmod", [](pyb::handle a, pyb::handle b) {
    Tensor x = tensor_of(a);
    if (is_tensor(b)) return ops::fmod(x, b.cast<Tensor>());
    return ops::fmod(x, number_of(b));
  }, arg("input"), arg("other"));
  for (const char* name : {"atan2", "arctan2"}) {
    m.def(name, [name](pyb::handle a, pyb::handle b) {
      return ops::atan2(tensor_of(a), tensor_of(b));
    }, arg("input"), arg("other"));
  }
  m.def("pow", [](pyb::handle a, pyb::handle b) { return binary_call<forms::Pow>(a, b, "pow"); },
        arg("input"), arg("exponent"));
}

}  // namespace tapegrad::py
