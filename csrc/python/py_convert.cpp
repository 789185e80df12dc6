// Python <-> core conversions; every malformed input becomes torch's exception type and text.
#include "python/py_convert.h"

#include <cstring>
#include <vector>

#include "core/error.h"
#include "python/arguments.h"
#include "kernels/cuda_runtime.h"
#include "kernels/dispatch.h"
#include "ops/ops.h"

namespace tapegrad::py {

namespace {
PyObject* g_dtype_objects[kNumDTypes] = {};  // leaked on purpose: they live as long as the interpreter
PyObject* g_size_class = nullptr;

std::string type_name(pyb::handle h) { return pyb::str(pyb::type::handle_of(h).attr("__name__")); }
}  // namespace

pyb::object dtype_object(DType t) {
  PyObject*& slot = g_dtype_objects[int(t)];
  if (!slot) slot = pyb::cast(PyDType{t}).release().ptr();
  return pyb::reinterpret_borrow<pyb::object>(slot);
}

bool is_dtype_like(pyb::handle h) {
  return pyb::isinstance<PyDType>(h) || h.ptr() == reinterpret_cast<PyObject*>(&PyFloat_Type) ||
         h.ptr() == reinterpret_cast<PyObject*>(&PyLong_Type) || h.ptr() == reinterpret_cast<PyObject*>(&PyBool_Type);
}

DType dtype_from(pyb::handle h) {
  if (pyb::isinstance<PyDType>(h)) return h.cast<PyDType&>().dtype;
  // torch takes Python's own number types for their dtypes.
  if (h.ptr() == reinterpret_cast<PyObject*>(&PyFloat_Type)) return DType::Float64;
  if (h.ptr() == reinterpret_cast<PyObject*>(&PyLong_Type)) return DType::Int64;
  if (h.ptr() == reinterpret_cast<PyObject*>(&PyBool_Type)) return DType::Bool;
  bad_argument(h, "torch.dtype");
}

Device accelerator_device(int64_t index) {
  if (cuda::device_count() == 0) fail(ErrorKind::Runtime, "Cannot access accelerator device when none is available.");
  return Device{DeviceType::CUDA, int8_t(index)};
}

bool is_device_like(pyb::handle h) {
  return h.is_none() || pyb::isinstance<Device>(h) || PyUnicode_Check(h.ptr()) || (PyLong_Check(h.ptr()) && !PyBool_Check(h.ptr()));
}

Device device_from(pyb::handle h) {
  if (h.is_none()) return Device();
  if (pyb::isinstance<Device>(h)) return h.cast<Device>();
  if (PyUnicode_Check(h.ptr())) return parse_device(h.cast<std::string>());
  if (PyLong_Check(h.ptr()) && !PyBool_Check(h.ptr())) return accelerator_device(int_of(h));
  bad_argument(h, "torch.device");
}

pyb::object device_object(Device d) { return pyb::cast(d); }

std::string qualified_type_name(pyb::handle h) {
  pyb::handle type = pyb::type::handle_of(h);
  std::string mod = pyb::str(type.attr("__module__"));
  std::string name = pyb::str(type.attr("__name__"));
  return mod == "builtins" ? name : mod + "." + name;
}

std::optional<Scalar> scalar_from(pyb::handle h) {
  PyObject* o = h.ptr();
  if (PyFloat_Check(o)) return Scalar(PyFloat_AS_DOUBLE(o));
  if (PyBool_Check(o)) return Scalar::from_bool(o == Py_True);
  if (PyLong_Check(o)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (!overflow) return Scalar::from_int(v);
    // torch takes ints up to 2**64 - 1 as (unsigned) Scalars: an integer op sees them wrapped to int64.
    unsigned long long u = overflow > 0 ? PyLong_AsUnsignedLongLong(o) : 0;
    if (overflow < 0 || PyErr_Occurred()) {
      PyErr_Clear();
      fail(ErrorKind::Overflow, "int too big to convert");  // torch's words for a Scalar argument
    }
    Scalar s = Scalar::from_int(int64_t(u));
    s.value = double(u);
    return s;
  }
  // numpy scalars (np.float32(2.5), np.int64(3)) behave as the Python number they hold.
  if (pyb::hasattr(h, "dtype") && pyb::hasattr(h, "item") && !is_tensor(h) &&
      pyb::getattr(h, "ndim", pyb::int_(1)).cast<int>() == 0) {
    pyb::object v = h.attr("item")();
    if (PyFloat_Check(v.ptr()) || PyLong_Check(v.ptr())) return scalar_from(v);
  }
  return std::nullopt;
}

// ---------- torch.tensor(data) ----------
namespace {

DType numpy_dtype(const pyb::dtype& dt);

struct Flattened {
  Shape shape;
  std::vector<double> values;
  std::vector<int64_t> ints;  // exact integer values, for int64 results
  std::optional<DType> dtype;  // promoted over the elements' own dtypes
  std::optional<DType> target;  // the dtype= asked for, which decides how torch words a bad element
};

// numpy scalars carry their own dtype (np.float64 stays float64), as torch honours it.
std::optional<DType> numpy_scalar_dtype(pyb::handle h) {
  if (!pyb::hasattr(h, "dtype") || PyFloat_CheckExact(h.ptr()) || PyLong_CheckExact(h.ptr())) return std::nullopt;
  pyb::object dt = h.attr("dtype");
  if (!pyb::isinstance<pyb::dtype>(dt)) return std::nullopt;
  return numpy_dtype(dt.cast<pyb::dtype>());
}

bool is_sequence(pyb::handle h) {
  return PyList_Check(h.ptr()) || PyTuple_Check(h.ptr()) || (is_tensor(h) && h.cast<Tensor>()->dim() > 0);
}

void flatten(pyb::handle h, size_t depth, Flattened& f) {
  if (depth == f.shape.size()) {
    if (is_sequence(h) || (pyb::isinstance<pyb::array>(h) && h.cast<pyb::array>().ndim() > 0)) {
      // Deeper than the first element said: torch reports the element it cannot read as a number.
      fail(ErrorKind::Type, "'", type_name(h), "' object cannot be interpreted as an integer");
    }
    std::optional<Scalar> s;
    std::optional<DType> own;
    if (is_tensor(h)) {
      Tensor t = h.cast<Tensor>();
      s = scalar_from(item(t));
      own = t->dtype();
    } else {
      int overflow = 0;
      if (PyLong_Check(h.ptr()) && (PyLong_AsLongLongAndOverflow(h.ptr(), &overflow), overflow))
        fail(ErrorKind::Value, "Overflow when unpacking long long");  // torch's words for tensor data
      s = scalar_from(h);
      own = numpy_scalar_dtype(h);
    }
    if (!s && f.target) {
      // torch converts each element to the asked dtype, and words the failure as that conversion does.
      if (is_floating(*f.target)) fail(ErrorKind::Type, "must be real number, not ", type_name(h));
      fail(ErrorKind::Type, "'", type_name(h), "' object cannot be interpreted as an integer");
    }
    if (!s) {
      // A string where a number belongs (shape inference took the first element's word for it).
      if (pyb::isinstance<pyb::str>(h)) fail(ErrorKind::Type, "new(): invalid data type 'str'");
      fail(ErrorKind::Runtime, "Could not infer dtype of ", type_name(h));
    }
    if (!own) own = s->natural_dtype();
    f.dtype = f.dtype ? promote_types(*f.dtype, *own) : *own;
    f.values.push_back(s->value);
    f.ints.push_back(s->ivalue);
    return;
  }
  if (!is_sequence(h)) {
    if (scalar_from(h)) fail(ErrorKind::Type, "not a sequence");
    if (pyb::isinstance<pyb::str>(h)) fail(ErrorKind::Type, "new(): invalid data type 'str'");
    fail(ErrorKind::Runtime, "Could not infer dtype of ", type_name(h));
  }
  pyb::sequence seq = pyb::reinterpret_borrow<pyb::sequence>(h);
  int64_t n = int64_t(pyb::len(seq));
  if (n != f.shape[depth])
    fail(ErrorKind::Value, "expected sequence of length ", f.shape[depth], " at dim ", depth, " (got ", n, ")");
  for (int64_t i = 0; i < n; ++i) flatten(seq[size_t(i)], depth + 1, f);
}

// The shape implied by following first elements down.
Shape infer_shape(pyb::handle h) {
  Shape shape;
  pyb::object cur = pyb::reinterpret_borrow<pyb::object>(h);
  while (is_sequence(cur)) {
    if (is_tensor(cur)) {
      for (int64_t d : cur.cast<Tensor>()->sizes()) shape.push_back(d);
      break;
    }
    size_t n = pyb::len(cur);
    shape.push_back(int64_t(n));
    if (n == 0) break;
    cur = pyb::reinterpret_borrow<pyb::sequence>(cur)[0];
  }
  // torch's shape inference takes a string for one more dimension, which it refuses.
  if (!shape.empty() && pyb::isinstance<pyb::str>(cur)) fail(ErrorKind::Value, "too many dimensions 'str'");
  return shape;
}

DType numpy_dtype(const pyb::dtype& dt) {
  char kind = dt.kind();
  size_t size = size_t(dt.itemsize());
  if (kind == 'f' && size == 4) return DType::Float32;
  if (kind == 'f' && size == 8) return DType::Float64;
  if (kind == 'i' && size == 8) return DType::Int64;
  if (kind == 'i' && size == 4) return DType::Int32;
  if (kind == 'b') return DType::Bool;
  fail(ErrorKind::Type, "can't convert np.ndarray of type numpy.", std::string(pyb::str(dt)),
       ". The only supported types are: float64, float32, int64, int32, and bool.");
}

Tensor from_numpy_copy(pyb::array arr, std::optional<DType> dtype, Device device) {
  DType src = numpy_dtype(arr.dtype());
  Shape shape(arr.shape(), arr.shape() + arr.ndim());
  pyb::array c = pyb::array::ensure(arr, pyb::array::c_style);
  Tensor t = TensorImpl::empty(shape, src);
  if (t->numel() > 0) std::memcpy(t->data_ptr(), c.data(), size_t(t->numel()) * itemsize(src));
  if (dtype && *dtype != src) t = ops::to_dtype(t, *dtype);
  kernels_for(device);  // raises the right error for a device without kernels
  return t;
}

}  // namespace

Tensor tensor_from_data(pyb::handle data, std::optional<DType> dtype, Device device) {
  kernels_for(device);  // raises the right error for a device without kernels
  // The common case first: one Python float.
  if (PyFloat_CheckExact(data.ptr())) {
    DType dt = dtype.value_or(default_dtype());
    return ops::scalar_tensor(Scalar(PyFloat_AS_DOUBLE(data.ptr())), dt, device);
  }
  if (is_tensor(data)) {
    Tensor src = data.cast<Tensor>();
    PyErr_WarnEx(PyExc_UserWarning,
                 "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                 "sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor(sourceTensor).",
                 1);
    if (PyErr_Occurred()) throw pyb::error_already_set();
    Tensor copy = ops::clone(ops::detach(src));
    return dtype ? ops::to_dtype(copy, *dtype) : copy;
  }
  if (pyb::isinstance<pyb::array>(data)) return from_numpy_copy(data.cast<pyb::array>(), dtype, device);

  if (pyb::isinstance<pyb::str>(data) || pyb::isinstance<pyb::bytes>(data))
    fail(ErrorKind::Type, "new(): invalid data type '", type_name(data), "'");
  Flattened f;
  f.target = dtype;
  f.shape = infer_shape(data);
  f.values.reserve(size_t(numel_of(f.shape)));
  flatten(data, 0, f);
  DType dt = dtype.value_or(f.dtype.value_or(default_dtype()));  // empty lists are float
  Tensor t = TensorImpl::empty(f.shape, dt, device);
  size_t n = f.values.size();
  switch (dt) {
    case DType::Float32: for (size_t i = 0; i < n; ++i) t->data<float>()[i] = float(f.values[i]); break;
    case DType::Float64: for (size_t i = 0; i < n; ++i) t->data<double>()[i] = f.values[i]; break;
    case DType::Int64:
      for (size_t i = 0; i < n; ++i) t->data<int64_t>()[i] = f.ints[i];
      break;
    case DType::Int32:
      for (size_t i = 0; i < n; ++i) t->data<int32_t>()[i] = int32_t(f.ints[i]);
      break;
    case DType::Bool: for (size_t i = 0; i < n; ++i) t->data<bool>()[i] = f.values[i] != 0; break;
  }
  return t;
}

// ---------- tensor -> Python ----------
pyb::array to_numpy(const Tensor& t) {
  if (t->requires_grad())
    fail(ErrorKind::Runtime, "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.");
  TG_CHECK_KIND(t->device().is_cpu(), Type,
                "can't convert ", t->device().str(), " device type tensor to numpy. Use Tensor.cpu() to copy the "
                "tensor to host memory first.");
  const char* fmt = nullptr;
  switch (t->dtype()) {
    case DType::Float32: fmt = "float32"; break;
    case DType::Float64: fmt = "float64"; break;
    case DType::Int64: fmt = "int64"; break;
    case DType::Int32: fmt = "int32"; break;
    case DType::Bool: fmt = "bool"; break;
  }
  std::vector<pyb::ssize_t> shape(t->sizes().begin(), t->sizes().end());
  std::vector<pyb::ssize_t> strides;
  for (int64_t s : t->strides()) strides.push_back(pyb::ssize_t(s * int64_t(itemsize(t->dtype()))));
  // The capsule keeps the storage alive as long as the array (numpy shares, never copies).
  auto* keep = new std::shared_ptr<Storage>(t->storage());
  pyb::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  return pyb::array(pyb::dtype(fmt), shape, strides, t->data_ptr(), base);
}

pyb::object item(const Tensor& t) {
  if (t->numel() != 1)
    fail(ErrorKind::Runtime, "a Tensor with ", t->numel(), " elements cannot be converted to Scalar");
  TG_CHECK(t->device().is_cpu(), "item() of a CUDA tensor is not available in this build");
  switch (t->dtype()) {
    case DType::Float32: return pyb::float_(double(*t->data<float>()));
    case DType::Float64: return pyb::float_(*t->data<double>());
    case DType::Int64: return pyb::int_(*t->data<int64_t>());
    case DType::Int32: return pyb::int_(*t->data<int32_t>());
    case DType::Bool: return pyb::bool_(*t->data<bool>());
  }
  return pyb::none();
}

Tensor with_requires_grad(Tensor t, pyb::handle requires_grad) {
  if (!requires_grad.is_none() && bool_of(requires_grad)) {
    if (!is_floating(t->dtype()))
      fail(ErrorKind::Runtime, "Only Tensors of floating point and complex dtype can require gradients");
    t->set_requires_grad(true);
  }
  return t;
}

// ---------- torch.Size ----------
void set_size_class(pyb::object cls) { g_size_class = cls.release().ptr(); }

pyb::object size_object(const Shape& s) {
  pyb::tuple tup(s.size());
  for (size_t i = 0; i < s.size(); ++i) tup[i] = pyb::int_(s[i]);
  if (!g_size_class) return std::move(tup);
  return pyb::reinterpret_borrow<pyb::object>(g_size_class)(tup);
}

}  // namespace tapegrad::py
