// The Tensor class: properties, methods and Python operators, each a thin call into ops::.
#include <pybind11/stl.h>

#include <algorithm>
#include <map>

#include "autograd/engine.h"
#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "core/error.h"
#include "kernels/dispatch.h"
#include "ops/ops.h"
#include "python/binary_forms.h"
#include "python/py_hooks.h"

namespace tapegrad::py {
namespace {

// self.<op>(other) for the binary ops whose forms live in binary_forms.h: a tensor or a number.
template <class Forms>
Tensor with_other(const Tensor& t, pyb::handle other) {
  if (is_tensor(other)) return Forms::tt(t, tensor_of(other));
  return Forms::ts(t, tensor_or_number_of(other));
}

// self.div(other, *, rounding_mode=None): true division, or the quotient floored or truncated.
Tensor div_method(const Tensor& t, pyb::handle other, pyb::handle mode) {
  std::optional<bool> floor = rounding_mode_of(mode);
  if (!floor) return with_other<forms::Div>(t, other);
  if (is_tensor(other)) return ops::div(t, tensor_of(other), *floor);
  return ops::div(t, tensor_or_number_of(other), *floor);
}

// size(dim)/stride(dim): unlike reductions, a 0-dim tensor has no dim 0 here.
int64_t dim_of_sized(int64_t dim, int64_t ndim) {
  if (ndim == 0) fail(ErrorKind::Index, "Dimension specified as ", dim, " but tensor has no dimensions");
  return wrap_dim(dim, ndim);
}

void set_grad(const Tensor& self, pyb::handle value) {
  if (value.is_none()) {
    self->set_grad(nullptr);
    return;
  }
  if (!is_tensor(value))
    fail(ErrorKind::Type, "assigned grad expected to be a Tensor or None but got grad of type ",
         qualified_type_name(value));
  Tensor g = value.cast<Tensor>();
  TG_CHECK(g != self, "can't assign Variable as its own grad");
  if (g->dtype() != self->dtype())
    fail(ErrorKind::Runtime, "attempting to assign a gradient with dtype '", dtype_name(g->dtype()),
         "' to a tensor with grad_dtype '", dtype_scalar_type_name(self->dtype()),
         "'. The gradient must match the tensor's grad_dtype (defaults to the tensor's dtype). You can set the "
         "tensor's grad_dtype attribute with a specific dtype, or None to allow any dtype. Set grad_dtype with "
         "caution. Diverging the dtypes of a tensor and its gradient may break downstream systems that assume "
         "they match.");
  if (g->sizes() != self->sizes())
    fail(ErrorKind::Runtime, "attempting to assign a gradient of size '", shape_str(g->sizes()),
         "' to a tensor of size '", shape_str(self->sizes()),
         "'. Please ensure that the gradient and the tensor are the same size");
  if (g->device() != self->device())
    fail(ErrorKind::Runtime, "attempting to assign a gradient located on device with index '", int(g->device().index),
         "' to a tensor located on device with index '", int(self->device().index),
         "'. Please ensure that the gradient and the tensor are on the same device");
  self->set_grad(g);
}

void backward(const Tensor& self, pyb::handle gradient, pyb::handle retain_graph, bool create_graph,
              pyb::handle inputs) {
  Tensor g = gradient.is_none() ? Tensor() : tensor_of(gradient);
  bool keep = retain_graph.is_none() ? create_graph : bool_of(retain_graph);
  TensorList ins;
  if (is_tensor(inputs)) ins = {inputs.cast<Tensor>()};
  else if (!inputs.is_none())
    for (auto item : inputs) ins.push_back(tensor_of(item));
  pyb::gil_scoped_release release;
  if (inputs.is_none()) run_backward({self}, {g}, keep, create_graph);
  else run_backward_into({self}, {g}, keep, create_graph, ins);
}

// Tensor.to(dtype) / to(device) / to(device, dtype) / to(other) with keywords dtype=, device=, copy=.
// torch's three forms of to(): (device=None, dtype=None, non_blocking=False, copy=False),
// (dtype, non_blocking=False, copy=False) and (tensor, non_blocking=False, copy=False), each with a
// keyword-only memory_format. Arguments that fit none are torch's "invalid combination" TypeError.
Tensor to(const Tensor& self, pyb::args args, pyb::kwargs kwargs) {
  const bool by_dtype = args.size() && is_dtype_like(args[0]), by_tensor = args.size() && is_tensor(args[0]);
  const std::vector<std::string> names = by_dtype    ? std::vector<std::string>{"dtype", "non_blocking", "copy"}
                                         : by_tensor ? std::vector<std::string>{"tensor", "non_blocking", "copy"}
                                                     : std::vector<std::string>{"device", "dtype", "non_blocking", "copy"};
  std::map<std::string, pyb::handle> given;
  bool fits = args.size() <= names.size();
  for (size_t i = 0; fits && i < args.size(); ++i) given[names[i]] = args[i];
  for (auto [key, value] : kwargs) {
    std::string k = pyb::str(key);
    bool known = k == "memory_format" || std::find(names.begin(), names.end(), k) != names.end();
    fits = fits && known && !given.count(k);
    given[k] = value;
  }
  for (auto& [k, v] : given) {
    if (k == "device") fits = fits && (v.is_none() || pyb::isinstance<Device>(v) || PyUnicode_Check(v.ptr()) ||
                                       (PyLong_Check(v.ptr()) && !PyBool_Check(v.ptr())));
    else if (k == "dtype") fits = fits && ((!by_dtype && v.is_none()) || is_dtype_like(v));
    else if (k == "non_blocking" || k == "copy") fits = fits && PyBool_Check(v.ptr());
  }
  if (!fits) {
    std::string got;
    for (auto a : args) got += (got.empty() ? "" : ", ") + arg_type_name(a);
    for (auto [key, value] : kwargs) got += (got.empty() ? "" : ", ") + std::string(pyb::str(key)) + "=" + arg_type_name(value);
    fail(ErrorKind::Type, "to() received an invalid combination of arguments - got (", got, "), but expected one of:\n",
         " * (torch.device device = None, torch.dtype dtype = None, bool non_blocking = False, bool copy = False, *, "
         "torch.memory_format memory_format = None)\n",
         " * (torch.dtype dtype, bool non_blocking = False, bool copy = False, *, torch.memory_format memory_format = None)\n",
         " * (Tensor tensor, bool non_blocking = False, bool copy = False, *, torch.memory_format memory_format = None)\n");
  }
  std::optional<DType> dtype;
  std::optional<Device> device;
  if (given.count("tensor")) {
    Tensor other = given["tensor"].cast<Tensor>();
    dtype = other->dtype(), device = other->device();
  }
  if (given.count("dtype")) dtype = optional_dtype_of(given["dtype"]);
  if (given.count("device") && !given["device"].is_none()) device = device_from(given["device"]);
  const bool copy = given.count("copy") && given["copy"].ptr() == Py_True;
  if (device && device->type != self->device().type) kernels_for(*device);  // raises for a device without kernels
  Tensor out = dtype ? ops::to_dtype(self, *dtype) : self;
  if (copy && out == self) out = ops::clone(self);
  return out;
}

}  // namespace

void bind_tensor(Module& m) {
  using pyb::arg;
  TensorClass cls(m, "Tensor", pyb::custom_type_setup([](PyHeapTypeObject* type) {
                                        setup_tensor_gc(type);
                                        setup_tensor_number(type);
                                      }));
  setup_tensor_object(cls);
  // torch's value: numpy scalars and arrays leave `np.float64(2) * t` to the tensor.
  cls.attr("__array_priority__") = 1000;
  using Self = pyb::detail::value_and_holder&;
  constexpr pyb::detail::is_new_style_constructor constructor;
  // Tensor.__init__(self, _alias_of=t, _requires_grad=b): self shares t's memory and version
  // counter with no history; how Python subclasses (nn.Parameter) are made from a tensor.
  cls.def("__init__", [](Self self, const Tensor& src, bool requires_grad) {
       Tensor t = TensorImpl::view_of(src->storage(), src->sizes(), src->strides(), src->storage_offset(),
                                      src->dtype());
       t->set_requires_grad(requires_grad);
       init_tensor_object(self, std::move(t));
     }, constructor, pyb::kw_only(), pyb::arg("_alias_of"), pyb::arg("_requires_grad"));
  cls.def("__init__", [](Self self, pyb::args args) {
       // torch.Tensor(data) copies data as float32; torch.Tensor(2, 3) is uninitialised of that shape.
       if (args.size() == 1 && !PyLong_Check(args[0].ptr()) && !PyTuple_Check(args[0].ptr()))
         return init_tensor_object(self, tensor_from_data(args[0], DType::Float32, Device()));
       init_tensor_object(self, ops::full(size_of(args), 0.0, DType::Float32));
     }, constructor)
      // --- properties ---
      .def_property_readonly("shape", [](const Tensor& t) { return size_object(t->sizes()); })
      .def_property_readonly("dtype", [](const Tensor& t) { return dtype_object(t->dtype()); })
      .def_property_readonly("device", [](const Tensor& t) { return device_object(t->device()); })
      .def_property_readonly("is_cuda", [](const Tensor& t) { return t->device().is_cuda(); })
      .def_property_readonly("ndim", &TensorImpl::dim)
      .def_property_readonly("is_leaf", [](const Tensor& t) {
        refresh_view_history(t);
        return t->is_leaf();
      })
      .def("is_inference", &TensorImpl::is_inference)
      .def_property_readonly("grad_fn", [](const Tensor& t) {
        refresh_view_history(t);
        return t->grad_fn();
      })
      .def_property_readonly("_version", [](const Tensor& t) { return t->version(); })
      .def_property_readonly("_base", [](const Tensor& t) { return t->view_base() ? pyb::cast(t->view_base()) : pyb::none(); })
      .def("_is_view", [](const Tensor& t) { return bool(t->view_base()); })
      .def_property("requires_grad", [](const Tensor& t) { return t->requires_grad(); },
                    [](const Tensor& t, pyb::handle r) {
                      TG_CHECK(PyBool_Check(r.ptr()), "requires_grad must be a bool");
                      t->set_requires_grad(r.ptr() == Py_True);
                    })
      .def("detach_", [](const Tensor& t) {
        // torch's inference mode skips autograd, and an inference tensor has none: nothing is detached
        if (InferenceMode::is_enabled() || t->is_inference()) return t;
        if (t->view_base())
          fail(ErrorKind::Runtime, "Can't detach views in-place. Use detach() instead. If you are using "
               "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as True, gradients are "
               "views of DDP buckets, and hence detach_() cannot be called on these gradients. To fix this error, "
               "please refer to the Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.");
        t->set_grad_fn(nullptr);
        t->set_requires_grad(false);
        return t;
      })
      .def("_get_grad", [](const Tensor& t) {
        // torch warns only while the .grad is unset (backward(inputs=[t]) fills a non-leaf's).
        if (!t->is_leaf() && !t->retains_grad() && !t->grad() &&
            PyErr_WarnEx(PyExc_UserWarning,
                         "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
                         "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
                         "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If "
                         "you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. "
                         "See github.com/pytorch/pytorch/pull/30531 for more information.", 1) < 0)
          throw pyb::error_already_set();
        return t->grad();
      })
      .def("_set_grad", &set_grad)
      .def_property_readonly("retains_grad", &TensorImpl::retains_grad)
      .def_property("data", [](const Tensor& t) {
        // Unlike detach(), .data does not share the version counter: a separate Storage over the
        // same memory (which keeps the original alive).
        const auto& s = t->storage();
        auto alias = Storage::wrap(s->data(), s->nbytes(), s->device(), s);
        return TensorImpl::view_of(alias, t->sizes(), t->strides(), t->storage_offset(), t->dtype());
      }, [](const Tensor& t, const Tensor& src) { t->set_data(*src); })
      // --- size and layout ---
      .def("size", [](const Tensor& t, pyb::object dim) -> pyb::object {
        if (dim.is_none()) return size_object(t->sizes());
        return pyb::int_(t->sizes()[size_t(dim_of_sized(int_of(dim), t->dim()))]);
      }, arg("dim") = pyb::none())
      .def("stride", [](const Tensor& t, pyb::object dim) -> pyb::object {
        if (dim.is_none()) return pyb::tuple(pyb::cast(t->strides()));
        return pyb::int_(t->strides()[size_t(dim_of_sized(int_of(dim), t->dim()))]);
      }, arg("dim") = pyb::none())
      .def("dim", &TensorImpl::dim)
      .def("ndimension", &TensorImpl::dim)
      .def("numel", &TensorImpl::numel)
      .def("nelement", &TensorImpl::numel)
      .def("element_size", [](const Tensor& t) { return itemsize(t->dtype()); })
      .def("storage_offset", &TensorImpl::storage_offset)
      .def("is_contiguous", &TensorImpl::is_contiguous)
      .def("is_floating_point", [](const Tensor& t) { return is_floating(t->dtype()); })
      // --- conversion to Python ---
      .def("item", &item)
      .def("tolist", [](const Tensor& t) { return to_numpy(ops::detach(t)).attr("tolist")(); })
      .def("numpy", [](const Tensor& t, bool force) { return to_numpy(force ? ops::clone(ops::detach(t)) : t); },
           arg("force") = false)
      .def("__array__", [](const Tensor& t, pyb::object dtype, pyb::object) -> pyb::object {
        pyb::array a = to_numpy(t);
        return dtype.is_none() ? pyb::object(a) : a.attr("astype")(dtype);
      }, arg("dtype") = pyb::none(), arg("copy") = pyb::none())
      .def("__len__", [](const Tensor& t) {
        if (t->dim() == 0) fail(ErrorKind::Type, "len() of a 0-d tensor");
        return t->sizes()[0];
      })
      .def("__bool__", [](const Tensor& t) {
        if (t->numel() != 1)
          fail(ErrorKind::Runtime, "Boolean value of Tensor with ", t->numel() == 0 ? "no values" : "more than one value",
               " is ambiguous");
        return item(t).cast<double>() != 0;
      })
      .def("__float__", [](const Tensor& t) {
        TG_CHECK_KIND(t->numel() == 1, Value, "only one element tensors can be converted to Python scalars");
        return item(t).cast<double>();
      })
      .def("__int__", [](const Tensor& t) {
        TG_CHECK_KIND(t->numel() == 1, Value, "only one element tensors can be converted to Python scalars");
        return pyb::reinterpret_steal<pyb::object>(PyNumber_Long(item(t).ptr()));
      })
      // --- autograd ---
      .def("backward", &backward, arg("gradient") = pyb::none(), arg("retain_graph") = pyb::none(),
           arg("create_graph") = false, arg("inputs") = pyb::none())
      .def("requires_grad_", [](const Tensor& t, bool r) {
        if (r && !is_floating(t->dtype()))
          fail(ErrorKind::Runtime, "only Tensors of floating point dtype can require gradients");
        if (!(r && !t->is_leaf())) t->set_requires_grad(r);  // requires_grad_() on a non-leaf is a no-op
        return t;
      },
           arg("requires_grad") = true)
      .def("detach", &ops::detach)
      // --- copies and dtype ---
      .def("clone", &ops::clone_preserving)
      .def("contiguous", &ops::contiguous)
      .def("to", &to)
      .def("float", [](const Tensor& t) { return ops::to_dtype(t, DType::Float32); })
      .def("double", [](const Tensor& t) { return ops::to_dtype(t, DType::Float64); })
      .def("long", [](const Tensor& t) { return ops::to_dtype(t, DType::Int64); })
      .def("int", [](const Tensor& t) { return ops::to_dtype(t, DType::Int32); })
      .def("bool", [](const Tensor& t) { return ops::to_dtype(t, DType::Bool); })
      .def("type_as", [](const Tensor& t, const Tensor& o) { return ops::to_dtype(t, o->dtype()); })
      // --- math ---
      .def("neg", &ops::neg)
      .def("negative", &ops::neg)
      .def("exp", &ops::exp)
      .def("log", &ops::log)
      .def("sin", &ops::sin)
      .def("cos", &ops::cos)
      .def("tanh", &ops::tanh)
      .def("sigmoid", &ops::sigmoid)
      .def("relu", &ops::relu)
      .def("abs", &ops::abs)
      .def("sqrt", &ops::sqrt)
      .def("reciprocal", &ops::reciprocal)
      .def("sign", &ops::sign)
      .def("floor", &ops::floor)
      .def("ceil", &ops::ceil)
      .def("trunc", &ops::trunc)
      .def("frac", &ops::frac)
      .def("expm1", &ops::expm1)
      .def("log2", &ops::log2)
      .def("log10", &ops::log10)
      .def("exp2", &ops::exp2)
      .def("rsqrt", &ops::rsqrt)
      .def("asin", &ops::asin)
      .def("acos", &ops::acos)
      .def("atan", &ops::atan)
      .def("sinh", &ops::sinh)
      .def("cosh", &ops::cosh)
      .def("asinh", &ops::asinh)
      .def("acosh", &ops::acosh)
      .def("atanh", &ops::atanh)
      .def("round", [](const Tensor& t, pyb::handle decimals) { return ops::round(t, round_decimals(t, decimals)); },
           pyb::kw_only(), arg("decimals") = absent())
      .def("square", [](const Tensor& t) { return ops::pow(t, Scalar::from_int(2)); })
      .def("clamp", [](const Tensor& t, pyb::handle lo, pyb::handle hi) { return clamp_call(t, lo, hi); },
           arg("min") = pyb::none(), arg("max") = pyb::none())
      .def("clamp_min", [](const Tensor& t, pyb::handle lo) { return clamp_call(t, required_bound(lo), pyb::none(), "ClampMinBackward0", "ClampMinBackward1"); },
           arg("min"))
      .def("clamp_max", [](const Tensor& t, pyb::handle hi) { return clamp_call(t, pyb::none(), required_bound(hi), "ClampMaxBackward0", "ClampMaxBackward1"); },
           arg("max"))
      .def("clip", [](const Tensor& t, pyb::handle lo, pyb::handle hi) { return clamp_call(t, lo, hi); },
           arg("min") = pyb::none(), arg("max") = pyb::none())
      .def("sum", [](const Tensor& t, pyb::handle dtype) { return ops::sum(t, optional_dtype_of(dtype)); },
           pyb::kw_only(), arg("dtype") = pyb::none())
      .def("mean", [](const Tensor& t, pyb::handle dtype) { return ops::mean(t, optional_dtype_of(dtype)); },
           pyb::kw_only(), arg("dtype") = pyb::none())
      .def("expand", [](const Tensor& t, pyb::args sizes) { return ops::expand(t, size_of(sizes)); })
      .def("expand_as", [](const Tensor& t, const Tensor& o) { return ops::expand(t, o->sizes()); })
      .def("add", [](const Tensor& t, pyb::handle o, pyb::handle alpha) {
        Scalar a = alpha_of(alpha, &t, o);
        if (is_tensor(o)) return ops::add(t, o.cast<Tensor>(), a);
        return ops::add(t, tensor_or_number_of(o), a);
      }, arg("other"), pyb::kw_only(), arg("alpha") = 1)
      .def("sub", [](const Tensor& t, pyb::handle o, pyb::handle alpha) {
        Scalar a = alpha_of(alpha, &t, o);
        if (is_tensor(o)) return ops::sub(t, o.cast<Tensor>(), a);
        return ops::sub(t, tensor_or_number_of(o), a);
      }, arg("other"), pyb::kw_only(), arg("alpha") = 1)
      .def("mul", [](const Tensor& t, pyb::handle o) { return with_other<forms::Mul>(t, o); })
      .def("div", &div_method, arg("other"), pyb::kw_only(), arg("rounding_mode") = pyb::none())
      .def("divide", &div_method, arg("other"), pyb::kw_only(), arg("rounding_mode") = pyb::none())
      .def("true_divide", [](const Tensor& t, pyb::handle o) { return with_other<forms::Div>(t, o); }, arg("other"))
      .def("remainder", [](const Tensor& t, pyb::handle o) { return with_other<forms::Remainder>(t, o); })
      .def("fmod", [](const Tensor& t, pyb::handle o) {
        if (is_tensor(o)) return ops::fmod(t, o.cast<Tensor>());
        return ops::fmod(t, tensor_or_number_of(o));
      })
      .def("floor_divide", [](const Tensor& t, pyb::handle o) { return with_other<forms::FloorDivide>(t, o); })
      .def("atan2", &ops::atan2)
      .def("arctan2", &ops::atan2)
      .def("pow", [](const Tensor& t, pyb::handle e) { return with_other<forms::Pow>(t, e); });
  // The arithmetic operators are number slots: tensor_number.cpp.
}

}  // namespace tapegrad::py
