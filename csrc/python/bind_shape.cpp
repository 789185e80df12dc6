// Views, joining and indexing (tensor[...] reads and writes) for Python.
#include <pybind11/stl.h>

#include "autograd/function.h"
#include "core/error.h"
#include "kernels/dispatch.h"
#include "ops/ops.h"
#include "python/bind_common.h"

namespace tapegrad::py {

Shape dims_arg(pyb::handle h) {
  if (h.is_none()) return {};
  if (PyLong_Check(h.ptr())) return {h.cast<int64_t>()};
  Shape out;
  for (auto d : h) out.push_back(d.cast<int64_t>());
  return out;
}

namespace {

// One element of an indexing expression, parsed from Python.
struct IndexItem {
  enum Kind { Int, Slice, None, Ellipsis, Tensor_, Bool } kind;
  int64_t i = 0;
  std::optional<int64_t> start, stop;
  int64_t step = 1;
  Tensor t;
};

std::optional<int64_t> opt_int(pyb::handle h) {
  if (h.is_none()) return std::nullopt;
  if (is_tensor(h)) return item(h.cast<Tensor>()).cast<int64_t>();
  return h.cast<int64_t>();
}

IndexItem parse_item(pyb::handle h) {
  IndexItem it{IndexItem::None};
  if (h.is_none()) return it;
  if (h.ptr() == Py_Ellipsis) return {IndexItem::Ellipsis};
  if (PyBool_Check(h.ptr())) {
    it.kind = IndexItem::Bool;
    it.i = h.ptr() == Py_True;
    return it;
  }
  if (PyLong_Check(h.ptr())) {
    it.kind = IndexItem::Int;
    it.i = h.cast<int64_t>();
    return it;
  }
  if (PySlice_Check(h.ptr())) {
    it.kind = IndexItem::Slice;
    it.start = opt_int(h.attr("start"));
    it.stop = opt_int(h.attr("stop"));
    auto st = opt_int(h.attr("step"));
    it.step = st.value_or(1);
    return it;
  }
  if (is_tensor(h)) {
    Tensor t = h.cast<Tensor>();
    it.kind = IndexItem::Tensor_;
    it.t = t;
    return it;
  }
  if (PyList_Check(h.ptr()) || PyTuple_Check(h.ptr()) || pyb::isinstance<pyb::array>(h)) {
    it.kind = IndexItem::Tensor_;
    it.t = tensor_from_data(h, std::nullopt, Device());
    if (it.t->numel() == 0 && it.t->dtype() != DType::Bool) it.t = ops::to_dtype(it.t, DType::Int64);
    return it;
  }
  if (auto idx = PyNumber_Index(h.ptr())) {  // numpy integers and other __index__ objects
    it.kind = IndexItem::Int;
    it.i = PyLong_AsLongLong(idx);
    Py_DECREF(idx);
    return it;
  }
  PyErr_Clear();
  fail(ErrorKind::Index,
       "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices (got ",
       std::string(pyb::str(h.get_type().attr("__name__"))), ")");
}

std::vector<IndexItem> parse_index(pyb::handle key) {
  std::vector<IndexItem> items;
  if (PyTuple_Check(key.ptr())) {
    for (auto h : key) items.push_back(parse_item(h));
  } else {
    items.push_back(parse_item(key));
  }
  return items;
}

// Applies the basic part of an index as views; collects tensor indices per result dim.
Tensor apply_basic(const Tensor& x, const std::vector<IndexItem>& items, TensorList& advanced) {
  int64_t consumed = 0;
  bool ellipsis = false;
  for (const auto& it : items) {
    if (it.kind == IndexItem::Int || it.kind == IndexItem::Slice) ++consumed;
    if (it.kind == IndexItem::Tensor_) consumed += it.t->dtype() == DType::Bool ? it.t->dim() : 1;
    if (it.kind == IndexItem::Ellipsis) {
      if (ellipsis) fail(ErrorKind::Index, "an index can only have a single ellipsis ('...')");
      ellipsis = true;
    }
  }
  if (consumed > x->dim())
    fail(ErrorKind::Index, "too many indices for tensor of dimension ", x->dim());
  Tensor r = x;
  int64_t d = 0;
  auto note = [&](int64_t dim, const Tensor& t) {
    if (int64_t(advanced.size()) <= dim) advanced.resize(size_t(dim + 1));
    advanced[size_t(dim)] = t;
  };
  for (const auto& it : items) {
    switch (it.kind) {
      case IndexItem::Int: r = ops::select(r, d, it.i); break;
      case IndexItem::Slice: r = ops::slice(r, d, it.start, it.stop, it.step), ++d; break;
      case IndexItem::None: r = ops::unsqueeze(r, d), ++d; break;
      case IndexItem::Ellipsis: d += x->dim() - consumed; break;
      case IndexItem::Bool:
        r = ops::unsqueeze(r, d);
        note(d, ops::full({it.i ? 1 : 0}, 0.0, DType::Int64, x->device()));
        ++d;
        break;
      case IndexItem::Tensor_:
        if (it.t->dtype() == DType::Bool) {
          // A mask indexes as many dims as it has, through the coordinates of its true elements.
          for (int64_t k = 0; k < it.t->dim(); ++k) {
            TG_CHECK_KIND(it.t->sizes()[size_t(k)] == r->sizes()[size_t(d + k)], Index, "The shape of the mask ",
                          shape_str(it.t->sizes()), " at index ", k, " does not match the shape of the indexed tensor ",
                          shape_str(r->sizes()), " at index ", d + k);
          }
          if (it.t->dim() == 0) {
            r = ops::unsqueeze(r, d);
            note(d, ops::full({ops::any(it.t, {}, false)->data<bool>()[0] ? 1 : 0}, 0.0, DType::Int64, x->device()));
            ++d;
            break;
          }
          Tensor coords = ops::nonzero(it.t);
          for (int64_t k = 0; k < it.t->dim(); ++k) note(d + k, ops::select(coords, 1, k));
          d += it.t->dim();
        } else {
          TG_CHECK_KIND(it.t->dtype() == DType::Int64 || it.t->dtype() == DType::Int32, Index,
                        "tensors used as indices must be long, int, byte or bool tensors");
          note(d, it.t);
          ++d;
        }
        break;
    }
  }
  return r;
}

Tensor getitem(const Tensor& x, pyb::handle key) {
  if (PyLong_Check(key.ptr()) && !PyBool_Check(key.ptr())) return ops::select(x, 0, key.cast<int64_t>());
  std::vector<IndexItem> items = parse_index(key);
  TensorList advanced;
  Tensor r = apply_basic(x, items, advanced);
  if (advanced.empty()) {
    // x[...] and x[()] still return a new tensor object, an alias, as torch does.
    if (r == x) r = ops::alias(x);
    return r;
  }
  return ops::index(r, advanced);
}

// The gradient rule of tensor[index] = value: x's gradient with the written places zeroed,
// and value's gradient read from those places (summed to value's shape by the engine).
struct CopySlices final : Node {
  const char* name() const override { return name_; }
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    Tensor gx, gv;
    TensorList adv;
    if (next_edges[0].fn) {
      gx = ops::clone(g);
      AutoGradMode off(false);
      Tensor region = apply_basic(gx, items, adv);
      if (adv.empty()) ops::copy_into(region, ops::full({}, 0.0, g->dtype(), g->device()));
      else ops::index_put_(region, adv, ops::full({}, 0.0, g->dtype(), g->device()), false);
    }
    if (next_edges[1].fn) {
      adv.clear();
      Tensor region = apply_basic(g, items, adv);
      gv = adv.empty() ? ops::clone(region) : ops::index(region, adv);
    }
    return {gx, gv};
  }
  std::vector<IndexItem> items;
  // torch names the rule after what the write was: an index_put_, a fill_ of everything, or a
  // copy into a slice (CopySlices).
  const char* name_ = "torch::autograd::CopySlices";
};

void setitem(const Tensor& x, pyb::handle key, pyb::handle value) {
  Tensor v;
  if (is_tensor(value)) {
    v = value.cast<Tensor>();
  } else if (auto s = scalar_from(value)) {
    v = ops::scalar_tensor(*s, x->dtype(), x->device());
  } else {
    v = tensor_from_data(value, x->dtype(), x->device());
  }
  bool track = GradMode::is_enabled() && (x->requires_grad() || v->requires_grad());
  if (track && x->is_leaf() && x->requires_grad())
    fail(ErrorKind::Runtime, "a leaf Variable that requires grad is being used in an in-place operation.");
  std::vector<IndexItem> items = parse_index(key);
  const char* rule = "torch::autograd::CopySlices";
  {
    AutoGradMode off(false);
    TensorList adv;
    Tensor region = apply_basic(x, items, adv);
    if (region == x || (region->sizes() == x->sizes() && region->strides() == x->strides() &&
                        region->storage_offset() == x->storage_offset())) {
      if (!adv.empty()) rule = "IndexPutBackward0";
      else if (!is_tensor(value)) rule = "FillBackward3";
    }
    Tensor vc = v->dtype() == x->dtype() ? v : ops::to_dtype(ops::detach(v), x->dtype());
    if (adv.empty()) {
      ops::copy_into(region, vc);
    } else {
      ops::index_put_(region, adv, vc, false);
    }
  }
  x->bump_version();
  if (track) {
    auto node = std::make_shared<CopySlices>();
    node->items = items;
    node->name_ = rule;
    Edge ex = x->requires_grad() ? gradient_edge(x) : Edge();
    Edge ev = v->requires_grad() ? gradient_edge(v) : Edge();
    node->next_edges = {ex, ev};
    x->set_grad_fn(std::move(node), 0);
  }
}

}  // namespace

void bind_shape(pyb::module_& m) {
  using pyb::arg;
  TensorClass cls = tensor_class(m);
  cls.def("__getitem__", &getitem)
      .def("__setitem__", &setitem)
      .def("view", [](const Tensor& t, pyb::args shape) { return ops::view(t, shape_from_args(shape, "view")); })
      .def("reshape", [](const Tensor& t, pyb::args shape) { return ops::reshape(t, shape_from_args(shape, "reshape")); })
      .def("view_as", [](const Tensor& t, const Tensor& o) { return ops::view(t, o->sizes()); })
      .def("reshape_as", [](const Tensor& t, const Tensor& o) { return ops::reshape(t, o->sizes()); })
      .def("permute", [](const Tensor& t, pyb::args dims) { return ops::permute(t, shape_from_args(dims, "permute")); })
      .def_property_readonly("T", [](const Tensor& t) {
        Shape dims;
        for (int64_t d = t->dim() - 1; d >= 0; --d) dims.push_back(d);
        return ops::permute(t, dims);
      })
      .def_property_readonly("mT", [](const Tensor& t) {
        TG_CHECK(t->dim() >= 2, "tensor.mT is only supported on matrices or batches of matrices. Got ", t->dim(), "-D tensor.");
        return ops::transpose(t, -2, -1);
      })
      .def("__iter__", [](const Tensor& t) {
        if (t->dim() == 0) fail(ErrorKind::Type, "iteration over a 0-d tensor");
        return pyb::iter(pyb::cast(ops::unbind(t, 0)));
      });
  m.def("reshape", [](const Tensor& t, pyb::handle shape) {
    return ops::reshape(t, shape_from_args(pyb::reinterpret_borrow<pyb::args>(pyb::make_tuple(shape)), "reshape"));
  }, arg("input"), arg("shape"));
  m.def("permute", [](const Tensor& t, pyb::handle dims) {
    return ops::permute(t, shape_from_args(pyb::reinterpret_borrow<pyb::args>(pyb::make_tuple(dims)), "permute"));
  }, arg("input"), arg("dims"));
  def_both(m, cls, "flatten", &ops::flatten, arg("start_dim") = 0, arg("end_dim") = -1);
  def_both(m, cls, "squeeze", [](const Tensor& t, pyb::handle dim) {
    return dim.is_none() ? ops::squeeze(t) : ops::squeeze(t, dims_arg(dim));
  }, arg("dim") = pyb::none());
  def_both(m, cls, "unsqueeze", &ops::unsqueeze, arg("dim"));
  def_both(m, cls, "transpose", &ops::transpose, arg("dim0"), arg("dim1"));
  def_both(m, cls, "swapaxes", &ops::transpose, arg("axis0"), arg("axis1"));
  def_both(m, cls, "t", &ops::t);
  def_both(m, cls, "select", &ops::select, arg("dim"), arg("index"));
  def_both(m, cls, "narrow", &ops::narrow, arg("dim"), arg("start"), arg("length"));
  def_both(m, cls, "split", [](const Tensor& t, pyb::handle size, int64_t dim) {
    if (PyLong_Check(size.ptr())) return ops::split(t, size.cast<int64_t>(), dim);
    return ops::split_with_sizes(t, dims_arg(size), dim);
  }, arg("split_size_or_sections"), arg("dim") = 0);
  def_both(m, cls, "chunk", &ops::chunk, arg("chunks"), arg("dim") = 0);
  def_both(m, cls, "unbind", &ops::unbind, arg("dim") = 0);
  def_both(m, cls, "index_select", &ops::index_select, arg("dim"), arg("index"));
  def_both(m, cls, "gather", &ops::gather, arg("dim"), arg("index"));
  def_both(m, cls, "scatter_add", &ops::scatter_add, arg("dim"), arg("index"), arg("src"));
  def_both(m, cls, "index_add", [](const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src, pyb::handle alpha) {
    return ops::index_add(t, dim, index, src, scalar_from(alpha).value());
  }, arg("dim"), arg("index"), arg("source"), pyb::kw_only(), arg("alpha") = 1);
  def_both(m, cls, "nonzero", [](const Tensor& t, bool as_tuple) -> pyb::object {
    Tensor nz = ops::nonzero(t);
    if (!as_tuple) return pyb::cast(nz);
    pyb::tuple out(size_t(t->dim() ? t->dim() : 1));
    for (int64_t k = 0; k < (t->dim() ? t->dim() : 1); ++k)
      out[size_t(k)] = t->dim() ? ops::contiguous(ops::select(nz, 1, k)) : ops::view(nz, {-1});
    return std::move(out);
  }, pyb::kw_only(), arg("as_tuple") = false);
  for (const char* name : {"cat", "concat", "concatenate"}) {
    m.def(name, [](const TensorList& ts, int64_t dim) { return ops::cat(ts, dim); }, arg("tensors"), arg("dim") = 0);
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
  m.def("stack", [](const TensorList& ts, int64_t dim) { return ops::stack(ts, dim); }, arg("tensors"), arg("dim") = 0);
}

}  // namespace tapegrad::py
