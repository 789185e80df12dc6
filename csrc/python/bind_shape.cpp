// Views, joining and matrix products for Python.
#include <pybind11/stl.h>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "core/error.h"
#include "kernels/dispatch.h"
#include "ops/ops.h"
#include "python/bind_common.h"

namespace tapegrad::py {

namespace {
pyb::tuple as_tuple(const TensorList& ts) {
  pyb::tuple out(ts.size());
  for (size_t i = 0; i < ts.size(); ++i) out[i] = pyb::cast(ts[i]);
  return out;
}

// cat/stack take a tuple or list of tensors (a tensor itself is refused, as torch does).
TensorList tensor_sequence(pyb::handle h, const char* fn) {
  if (is_tensor(h) || !(PyList_Check(h.ptr()) || PyTuple_Check(h.ptr())))
    fail(ErrorKind::Type, fn, "(): argument 'tensors' (position 1) must be tuple of Tensors, not ",
         std::string(pyb::str(pyb::type::handle_of(h).attr("__name__"))));
  TensorList out;
  size_t i = 0;
  for (auto item : h) {
    if (!is_tensor(item))
      fail(ErrorKind::Type, "expected Tensor as element ", i, " in argument 0, but got ",
           std::string(pyb::str(pyb::type::handle_of(item).attr("__name__"))));
    out.push_back(item.cast<Tensor>());
    ++i;
  }
  return out;
}
}  // namespace

namespace {
// Tensor.mT / .H on a 0-dim tensor: torch warns and returns the tensor itself.
Tensor deprecated_on_0d(const Tensor& t, const char* warning) {
  if (PyErr_WarnEx(PyExc_UserWarning, warning, 1) < 0) throw pyb::error_already_set();
  return t;
}

// Tensor.mT / .mH (the same for real dtypes): the last two dims swapped.
Tensor matrix_transpose(const Tensor& t, const char* name) {
  if (t->dim() == 0)
    return deprecated_on_0d(t, name[1] == 'T' ? "Tensor.mT is deprecated on 0-D tensors. This function is the identity in "
                                                "these cases."
                                              : "Tensor.mH is deprecated on 0-D tensors. Consider using x.conj().");
  TG_CHECK(t->dim() >= 2, "tensor.", name, " is only supported on matrices or batches of matrices. Got ", t->dim(),
           "-D tensor.");
  return ops::transpose(t, -2, -1);
}
}  // namespace

// index_add's alpha, converted to self's type as torch does, after the op's own checks (a complex
// alpha with an imaginary part gives torch's overflow error).
static Scalar index_add_alpha(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src, pyb::handle alpha) {
  if (PyComplex_Check(alpha.ptr())) {
    AutoGradMode off(false);
    ops::index_add(t, dim, index, src, Scalar::from_int(1));
  }
  return real_number_of(alpha, t->dtype());
}

void bind_shape(Module& m) {
  using pyb::arg;
  TensorClass cls = tensor_class(m);
  // view(*size) or view(size) reshapes; view(dtype) reads the memory as another dtype.
  cls.def("view", [](const Tensor& t, pyb::args shape, pyb::kwargs kwargs) {
    if (kwargs.size()) {
      if (shape.size() || kwargs.size() > 1 || !kwargs.contains("dtype"))
        fail(ErrorKind::Type, "view() received an invalid combination of arguments: it takes one dtype or one size");
      pyb::handle dtype = kwargs["dtype"];
      if (!pyb::isinstance<PyDType>(dtype)) bad_argument(dtype, "torch.dtype", {}, "dtype");
      return ops::view_dtype(t, dtype_from(dtype));
    }
    if (shape.size() == 1 && pyb::isinstance<PyDType>(shape[0])) return ops::view_dtype(t, dtype_from(shape[0]));
    return ops::view(t, size_of(shape));
  })
      .def("reshape", [](const Tensor& t, pyb::args shape) { return ops::reshape(t, size_of(shape, "shape")); })
      .def("view_as", [](const Tensor& t, const Tensor& o) { return ops::view(t, o->sizes()); })
      .def("reshape_as", [](const Tensor& t, const Tensor& o) { return ops::reshape(t, o->sizes()); })
      .def("permute", [](const Tensor& t, pyb::args dims) {
        if (dims.empty()) fail(ErrorKind::Type, "permute() missing 1 required positional arguments: \"dims\"");
        return ops::permute(t, size_of(dims, "dims"));
      })
      .def_property_readonly("T", [](const Tensor& t) {
        Shape dims;
        for (int64_t d = t->dim() - 1; d >= 0; --d) dims.push_back(d);
        return ops::permute(t, dims);
      })
      .def_property_readonly("mT", [](const Tensor& t) { return matrix_transpose(t, "mT"); })
      .def_property_readonly("mH", [](const Tensor& t) { return matrix_transpose(t, "mH"); })
      .def_property_readonly("H", [](const Tensor& t) {
        if (t->dim() == 0) return deprecated_on_0d(t, "Tensor.H is deprecated on 0-D tensors. Consider using x.conj().");
        TG_CHECK(t->dim() == 2, "tensor.H is only supported on matrices (2-D tensors). Got ", t->dim(), "-D tensor.",
                 t->dim() > 2 ? " For batches of matrices, consider using tensor.mH" : "");
        return ops::transpose(t, 0, 1);
      })
      .def("__iter__", [](const Tensor& t) {
        if (t->dim() == 0) fail(ErrorKind::Type, "iteration over a 0-d tensor");
        return pyb::iter(pyb::cast(ops::unbind(t, 0)));
      });
  m.def("reshape", [](const Tensor& t, pyb::handle shape) {
    return ops::reshape(t, int_list_of(shape, "shape", false));
  }, arg("input"), arg("shape"));
  m.def("permute", [](const Tensor& t, pyb::handle dims) {
    return ops::permute(t, int_list_of(dims, "dims", false));
  }, arg("input"), arg("dims"));
  m.def("_alias", &ops::alias, arg("input"));
  def_both(m, cls, "flatten", &ops::flatten, arg("start_dim") = 0, arg("end_dim") = -1);
  def_both(m, cls, "squeeze", [](const Tensor& t, pyb::handle dim) {
    return is_absent(dim) ? ops::squeeze(t) : ops::squeeze(t, int_list_of(dim, "dim"));  // no dim=None form
  }, arg("dim") = absent());
  def_both(m, cls, "unsqueeze", &ops::unsqueeze, arg("dim"));
  def_both(m, cls, "transpose", &ops::transpose, arg("dim0"), arg("dim1"));
  def_both(m, cls, "swapaxes", &ops::transpose, arg("axis0"), arg("axis1"));
  def_both(m, cls, "t", &ops::t);
  def_both(m, cls, "select", &ops::select, arg("dim"), arg("index"));
  def_both(m, cls, "narrow", &ops::narrow, arg("dim"), arg("start"), arg("length"));
  def_both(m, cls, "diagonal", &ops::diagonal, arg("offset") = 0, arg("dim1") = 0, arg("dim2") = 1);
  def_both(m, cls, "diag", &ops::diag, arg("diagonal") = 0);
  // Like torch, the pieces come back as a tuple.
  def_both(m, cls, "split", [](const Tensor& t, pyb::handle size, int64_t dim) {
    if (PyLong_Check(size.ptr())) return as_tuple(ops::split(t, int_of(size), dim));
    return as_tuple(ops::split_with_sizes(t, int_list_of(size, "split_size_or_sections"), dim));
  }, arg("split_size_or_sections"), arg("dim") = 0);
  def_both(m, cls, "chunk", [](const Tensor& t, int64_t chunks, int64_t dim) { return as_tuple(ops::chunk(t, chunks, dim)); },
           arg("chunks"), arg("dim") = 0);
  def_both(m, cls, "unbind", [](const Tensor& t, int64_t dim) { return as_tuple(ops::unbind(t, dim)); }, arg("dim") = 0);
  def_both(m, cls, "index_select", &ops::index_select, arg("dim"), arg("index"));
  def_both(m, cls, "gather", &ops::gather, arg("dim"), arg("index"));
  def_both(m, cls, "scatter_add", &ops::scatter_add, arg("dim"), arg("index"), arg("src"));
  // scatter(dim, index, src) with a tensor src, or a number given as src or as value=.
  auto scatter = [](const Tensor& t, int64_t dim, const Tensor& index, pyb::handle src, pyb::handle value) {
    // Exactly one of them; value= is a number or a 0-d tensor's number.
    if (src.is_none() == value.is_none()) fail(ErrorKind::Type, "scatter() received an invalid combination of arguments");
    if (!src.is_none() && is_tensor(src)) return ops::scatter(t, dim, index, src.cast<Tensor>());
    pyb::object what = fill_value_of(src.is_none() ? value : src, t->dtype());
    std::optional<Scalar> s = scalar_from(what);
    if (!s && src.is_none() && is_tensor(what) && what.cast<Tensor>()->dim() == 0) s = number_of(what);
    if (!s) fail(ErrorKind::Type, "scatter() expected a Tensor src or a Number value, got ", qualified_type_name(what));
    if (is_integral(t->dtype(), false)) s->to_integer(t->dtype());  // torch's overflow error for inf, nan, 2**40
    return ops::scatter(t, dim, index, *s);
  };
  def_both(m, cls, "scatter", scatter, arg("dim"), arg("index"), arg("src") = pyb::none(), pyb::kw_only(),
           arg("value") = pyb::none());
  cls.def("scatter_", [scatter](const Tensor& t, int64_t dim, const Tensor& index, pyb::handle src, pyb::handle value) {
    check_inplace_leaf(t);
    return assign_inplace(t, scatter(t, dim, index, src, value));
  }, arg("dim"), arg("index"), arg("src") = pyb::none(), pyb::kw_only(), arg("value") = pyb::none());
  cls.def("scatter_add_", [](const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src) {
    check_inplace_leaf(t);
    return assign_inplace(t, ops::scatter_add(t, dim, index, src));
  }, arg("dim"), arg("index"), arg("src"));
  def_both(m, cls, "index_add", [](const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src, pyb::handle alpha) {
    return ops::index_add(t, dim, index, src, index_add_alpha(t, dim, index, src, alpha));
  }, arg("dim"), arg("index"), arg("source"), pyb::kw_only(), arg("alpha") = 1);
  cls.def("index_add_", [](const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src, pyb::handle alpha) {
    check_inplace_leaf(t);
    check_no_overlap(t, src, false);
    return assign_inplace(t, ops::index_add(t, dim, index, src, index_add_alpha(t, dim, index, src, alpha)));
  }, arg("dim"), arg("index"), arg("source"), pyb::kw_only(), arg("alpha") = 1);
  def_both(m, cls, "nonzero", [](const Tensor& t, bool as_tuple) -> pyb::object {
    Tensor nz = ops::nonzero(t);
    // torch lays the coordinates out column by column, [N, dims] with strides (1, N) (so its
    // .contiguous() copies), and as_tuple hands out those columns.
    const int64_t n = nz->sizes()[0], dims = nz->sizes()[1];
    Tensor columns = ops::empty({dims, n}, DType::Int64, t->device());
    ops::copy_into(columns, ops::transpose(nz, 0, 1));
    if (!as_tuple)
      return pyb::cast(TensorImpl::view_of(columns->storage(), {n, dims}, {1, n}, 0, DType::Int64));
    if (t->dim() == 0) return pyb::make_tuple(ops::full({n}, 0.0, DType::Int64, t->device()));
    pyb::tuple out(static_cast<size_t>(dims));
    for (int64_t k = 0; k < dims; ++k) out[size_t(k)] = ops::select(columns, 0, k);
    return std::move(out);
  }, pyb::kw_only(), arg("as_tuple") = false);
  for (const char* name : {"cat", "concat", "concatenate"}) {
    m.def(name, [name](pyb::handle ts, int64_t dim) { return ops::cat(tensor_sequence(ts, name), dim); },
          arg("tensors"), arg("dim") = 0);
  }
  def_both(m, cls, "matmul", &ops::matmul, arg("other"));
  def_both(m, cls, "mm", &ops::mm, arg("mat2"));
  def_both(m, cls, "bmm", &ops::bmm, arg("mat2"));
  def_both(m, cls, "mv", &ops::mv, arg("vec"));
  def_both(m, cls, "dot", &ops::dot, arg("tensor"));
  def_both(m, cls, "outer", &ops::outer, arg("vec2"));
  cls.def("__matmul__", [](const Tensor& a, pyb::handle b) -> pyb::object {
    if (!is_tensor(b)) return pyb::reinterpret_borrow<pyb::object>(Py_NotImplemented);
    return pyb::cast(ops::matmul(a, b.cast<Tensor>()));
  });
  cls.def("__rmatmul__", [](const Tensor& a, pyb::handle b) -> pyb::object {
    if (!is_tensor(b)) return pyb::reinterpret_borrow<pyb::object>(Py_NotImplemented);
    return pyb::cast(ops::matmul(b.cast<Tensor>(), a));
  });
  m.def("_set_blas_library_path", &set_blas_library_path);
  m.def("stack", [](pyb::handle ts, int64_t dim) { return ops::stack(tensor_sequence(ts, "stack"), dim); },
        arg("tensors"), arg("dim") = 0);

  // Reordering (ops/reorder.cpp). sort and topk return (values, indices); Python wraps them in
  // torch.return_types.
  m.def("flip", [](const Tensor& t, pyb::handle dims) { return ops::flip(t, int_list_of(dims, "dims", false)); }, arg("input"), arg("dims"));
  cls.def("flip", [](const Tensor& t, pyb::args dims) {
    return ops::flip(t, size_of(dims, "dims"));
  });
  def_both(m, cls, "roll", [](const Tensor& t, pyb::handle shifts, pyb::handle dims) {
    return ops::roll(t, int_list_of(shifts, "shifts"), dims_of(dims));
  }, arg("shifts"), arg("dims") = pyb::none());
  cls.def("repeat", [](const Tensor& t, pyb::args sizes) { return ops::repeat(t, size_of(sizes, "repeats")); });
  def_both(m, cls, "tril", &ops::tril, arg("diagonal") = 0);
  def_both(m, cls, "triu", &ops::triu, arg("diagonal") = 0);
  cls.def("tril_", [](const Tensor& t, int64_t k) { return assign_inplace(t, ops::tril(t, k), "FillBackward0", true); }, arg("diagonal") = 0);
  cls.def("triu_", [](const Tensor& t, int64_t k) { return assign_inplace(t, ops::triu(t, k), "FillBackward0", true); }, arg("diagonal") = 0);
  // _sort and _topk run under tapegrad.sort/topk (Python): their errors name those.
  // torch names the node of its overload with `stable` (given at all) SortBackward1.
  m.def("_sort", [](const Tensor& t, int64_t dim, bool descending, bool stable_given) {
    auto [values, indices] = ops::sort(t, dim, descending, stable_given ? "SortBackward1" : "SortBackward0");
    return pyb::make_tuple(values, indices);
  }, pyb::name("sort"), arg("input"), arg("dim"), arg("descending"), arg("stable_given") = false);
  def_both(m, cls, "argsort", [](const Tensor& t, int64_t dim, bool descending, bool) {
    return ops::sort(t, dim, descending, nullptr).second;
  }, arg("dim") = -1, arg("descending") = false, pyb::kw_only(), arg("stable") = false);
  m.def("_topk", [](const Tensor& t, int64_t k, int64_t dim, bool largest, bool sorted) {
    auto [values, indices] = ops::topk(t, k, dim, largest, sorted);
    return pyb::make_tuple(values, indices);
  }, pyb::name("topk"), arg("input"), arg("k"), arg("dim"), arg("largest"), arg("sorted"));
}

}  // namespace tapegrad::py
