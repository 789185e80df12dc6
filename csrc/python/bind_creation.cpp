// Creation functions (arange, linspace, eye, random draws), the Generator, and zero-copy
// exchange with numpy (from_numpy) and any DLPack producer or consumer.
#include <pybind11/stl.h>

#include <cmath>

#include "core/error.h"
#include "core/generator.h"
#include "kernels/dispatch.h"
#include "ops/ops.h"
#include "python/bind_common.h"
#include "python/dlpack.h"

namespace tapegrad::py {
namespace {

// rand/randn exist for floating dtypes only; torch names the kernel that refuses.
void check_random_dtype(RandomDist dist, DType dt) {
  if (is_floating(dt)) return;
  const char* kernel = dist == RandomDist::Normal ? "normal_kernel_cpu" : "check_uniform_bounds";
  fail(ErrorKind::NotImplemented, "\"", kernel, "\" not implemented for '", dtype_scalar_type_name(dt), "'");
}

Generator* generator_arg(pyb::handle h) {
  if (h.is_none()) return nullptr;
  if (!pyb::isinstance<Generator>(h)) bad_argument(h, "torch.Generator");
  return h.cast<Generator*>();
}

// Keeps a Python object alive as a Storage owner; drops it under the GIL.
std::shared_ptr<void> py_owner(pyb::handle obj) {
  obj.inc_ref();
  return std::shared_ptr<void>(obj.ptr(), [](void* p) {
    pyb::gil_scoped_acquire gil;
    Py_DECREF(static_cast<PyObject*>(p));
  });
}

bool is_little_endian() {
  const uint16_t one = 1;
  return *reinterpret_cast<const uint8_t*>(&one) == 1;
}

// torch warns once per process about sharing memory with a read-only array.
void warn_once_readonly_array() {
  static bool warned = false;
  if (warned) return;
  warned = true;
  if (PyErr_WarnEx(PyExc_UserWarning,
                   "The given NumPy array is not writable, and PyTorch does not support non-writable tensors. This "
                   "means writing to this tensor will result in undefined behavior. You may want to copy the array to "
                   "protect its data or make it writable before converting it to a tensor. This type of warning will "
                   "be suppressed for the rest of this program.", 1) < 0)
    throw pyb::error_already_set();
}

Tensor from_numpy(pyb::handle obj) {
  if (!pyb::isinstance<pyb::array>(obj))
    fail(ErrorKind::Type, "expected np.ndarray (got ", std::string(pyb::str(pyb::type::handle_of(obj).attr("__name__"))), ")");
  pyb::array arr = obj.cast<pyb::array>();
  std::optional<DType> dt;
  char kind = arr.dtype().kind();
  size_t size = size_t(arr.dtype().itemsize());
  if (kind == 'f' && size == 4) dt = DType::Float32;
  if (kind == 'f' && size == 8) dt = DType::Float64;
  if (kind == 'i' && size == 8) dt = DType::Int64;
  if (kind == 'i' && size == 4) dt = DType::Int32;
  if (kind == 'b') dt = DType::Bool;
  if (!dt)
    fail(ErrorKind::Type, "can't convert np.ndarray of type numpy.", std::string(pyb::str(arr.dtype())),
         ". The only supported types are: float64, float32, int64, int32, and bool.");
  char order = arr.dtype().byteorder();
  if (order == '>' || (order == '=' && !is_little_endian()))
    fail(ErrorKind::Value, "given numpy array has byte order different from the native byte order. Conversion "
                           "between byte orders is currently not supported.");
  if (!arr.writeable())
    warn_once_readonly_array();
  Shape sizes(arr.shape(), arr.shape() + arr.ndim()), strides;
  int64_t extent = 1;
  for (int i = 0; i < arr.ndim(); ++i) {
    int64_t s = arr.strides()[i];
    if (s < 0)
      fail(ErrorKind::Value, "At least one stride in the given numpy array is negative, and tensors with negative "
                             "strides are not currently supported. (You can probably work around this by making a "
                             "copy of your array  with array.copy().) ");
    TG_CHECK_KIND(s % int64_t(size) == 0, Value, "given numpy array strides not a multiple of the element byte size. "
                                                 "Copy the numpy array to reallocate the memory.");
    strides.push_back(s / int64_t(size));
    if (sizes[size_t(i)] > 0) extent += (sizes[size_t(i)] - 1) * (s / int64_t(size));
  }
  auto storage = Storage::wrap(const_cast<void*>(arr.data()), size_t(extent) * size, Device(), py_owner(arr));
  return TensorImpl::view_of(storage, sizes, strides, 0, *dt);
}

// ---------- DLPack ----------
struct DLContext {
  Tensor keep;
  Shape shape, strides;
  dlpack::ManagedTensor managed;
};

pyb::capsule to_dlpack(const Tensor& t) {
  if (t->requires_grad()) {
    PyErr_SetString(PyExc_BufferError, "Can't export tensors that require gradient, use tensor.detach()");
    throw pyb::error_already_set();
  }
  auto* ctx = new DLContext{t, t->sizes(), t->strides(), {}};
  auto& dl = ctx->managed.dl_tensor;
  // Some consumers (torch) insist on a zero byte_offset: point at the first element instead.
  dl.data = t->data_ptr();
  dl.byte_offset = 0;
  dl.device = {t->device().is_cpu() ? dlpack::kCPU : dlpack::kCUDA, t->device().is_cpu() ? 0 : std::max(0, int(t->device().index))};
  dl.ndim = int32_t(t->dim());
  uint8_t code = is_floating(t->dtype()) ? dlpack::kFloat : t->dtype() == DType::Bool ? dlpack::kBool : dlpack::kInt;
  dl.dtype = {code, uint8_t(itemsize(t->dtype()) * 8), 1};
  dl.shape = ctx->shape.data();
  dl.strides = ctx->strides.data();
  ctx->managed.manager_ctx = ctx;
  ctx->managed.deleter = [](dlpack::ManagedTensor* self) { delete static_cast<DLContext*>(self->manager_ctx); };
  // An unconsumed capsule frees its tensor; a consumer renames it to "used_dltensor" and owns it.
  return pyb::capsule(&ctx->managed, "dltensor", [](PyObject* cap) {
    if (PyCapsule_IsValid(cap, "dltensor")) {
      auto* m = static_cast<dlpack::ManagedTensor*>(PyCapsule_GetPointer(cap, "dltensor"));
      if (m && m->deleter) m->deleter(m);
    } else {
      PyErr_Clear();
    }
  });
}

Tensor from_dlpack(pyb::handle obj) {
  pyb::object cap_obj = pyb::hasattr(obj, "__dlpack__") ? obj.attr("__dlpack__")() : pyb::reinterpret_borrow<pyb::object>(obj);
  PyObject* cap = cap_obj.ptr();
  if (!PyCapsule_IsValid(cap, "dltensor"))  // torch hands anything without __dlpack__ to its capsule reader
    fail(ErrorKind::Runtime, "from_dlpack received an invalid capsule. Note that DLTensor capsules can be consumed "
         "only once, so you might have already constructed a tensor from it once.");
  auto* m = static_cast<dlpack::ManagedTensor*>(PyCapsule_GetPointer(cap, "dltensor"));
  const auto& dl = m->dl_tensor;
  TG_CHECK(dl.device.device_type == dlpack::kCPU, "from_dlpack: only CPU tensors are supported in this build");
  std::optional<DType> dt;
  if (dl.dtype.lanes == 1) {
    if (dl.dtype.code == dlpack::kFloat && dl.dtype.bits == 32) dt = DType::Float32;
    if (dl.dtype.code == dlpack::kFloat && dl.dtype.bits == 64) dt = DType::Float64;
    if (dl.dtype.code == dlpack::kInt && dl.dtype.bits == 64) dt = DType::Int64;
    if (dl.dtype.code == dlpack::kInt && dl.dtype.bits == 32) dt = DType::Int32;
    if (dl.dtype.code == dlpack::kBool && dl.dtype.bits == 8) dt = DType::Bool;
  }
  TG_CHECK(dt, "from_dlpack: unsupported dtype (code ", int(dl.dtype.code), ", ", int(dl.dtype.bits), " bits)");
  Shape sizes(dl.shape, dl.shape + dl.ndim);
  Shape strides = dl.strides ? Shape(dl.strides, dl.strides + dl.ndim) : contiguous_strides(sizes);
  int64_t extent = 1;
  for (int i = 0; i < dl.ndim; ++i)
    if (sizes[size_t(i)] > 0) extent += (sizes[size_t(i)] - 1) * strides[size_t(i)];
  // We own the managed tensor now: rename the capsule so nobody else frees it.
  PyCapsule_SetName(cap, "used_dltensor");
  std::shared_ptr<void> owner(m, [](void* p) {
    auto* mt = static_cast<dlpack::ManagedTensor*>(p);
    if (mt->deleter) mt->deleter(mt);
  });
  char* base = static_cast<char*>(dl.data) + dl.byte_offset;
  auto storage = Storage::wrap(base, size_t(extent) * itemsize(*dt), Device(), owner);
  return TensorImpl::view_of(storage, sizes, strides, 0, *dt);
}

}  // namespace

void bind_creation(Module& m) {
  TensorClass cls = tensor_class(m);
  using pyb::arg;
  auto none = pyb::none();
  pyb::class_<Generator, std::shared_ptr<Generator>>(m, "Generator")
      .def(pyb::init([](pyb::handle device) {
        device_from(device);
        return std::make_shared<Generator>();
      }), arg("device") = "cpu")
      .def("manual_seed", [](std::shared_ptr<Generator> g, int64_t seed) { g->manual_seed(uint64_t(seed)); return g; })
      .def("initial_seed", &Generator::initial_seed)
      .def("seed", &Generator::seed)
      .def_property_readonly("device", [](const Generator&) { return device_object(Device()); });
  m.attr("default_generator") = default_generator();  // an object, as torch.default_generator
  m.def("manual_seed", [](pyb::handle seed) {
    // torch.manual_seed calls int(seed) (its errors are Python's), then takes any value that fits
    // int64 or uint64, a negative one wrapping.
    pyb::object n = pyb::reinterpret_steal<pyb::object>(PyNumber_Long(seed.ptr()));
    if (!n) throw pyb::error_already_set();
    int overflow = 0;
    uint64_t value = uint64_t(PyLong_AsLongLongAndOverflow(n.ptr(), &overflow));
    if (overflow > 0) value = PyLong_AsUnsignedLongLong(n.ptr());
    if (overflow < 0 || (overflow > 0 && PyErr_Occurred())) {
      PyErr_Clear();
      fail(ErrorKind::Value, "Overflow when unpacking long long");
    }
    auto g = default_generator();
    g->manual_seed(value);
    return g;
  }, arg("seed"));
  m.def("initial_seed", [] { return default_generator()->initial_seed(); });
  m.def("seed", [] { return default_generator()->seed(); });

  m.def("arange", [](pyb::handle a, pyb::handle b, pyb::handle c, pyb::handle dtype, pyb::handle device, pyb::handle rg) {
    // arange(end) / arange(start, end) / arange(start, end, step); any float makes it float.
    std::vector<pyb::handle> given;
    for (pyb::handle h : {a, b, c}) {
      if (is_absent(h)) continue;
      if (h.is_none()) bad_argument(h, "Number");  // an argument left out is no None
      given.push_back(h);
    }
    TG_CHECK_KIND(!given.empty(), Type, "arange() missing required argument 'end'");
    std::vector<Scalar> v;
    bool floating = false;
    for (pyb::handle h : given) {
      auto s = scalar_from(h);
      if (!s) fail(ErrorKind::Type, "arange(): argument 'end' must be Number, not ", std::string(pyb::str(pyb::type::handle_of(h).attr("__name__"))));
      floating = floating || s->is_floating();
      v.push_back(*s);
    }
    Scalar start = v.size() > 1 ? v[0] : Scalar::from_int(0), end = v.size() > 1 ? v[1] : v[0];
    Scalar step = v.size() > 2 ? v[2] : Scalar::from_int(1);
    DType dt = optional_dtype_of(dtype).value_or(floating ? default_dtype() : DType::Int64);
    return with_requires_grad(ops::arange(start, end, step, dt, device_from(device)), rg);
  }, arg("start") = absent(), arg("end") = absent(), arg("step") = absent(), pyb::kw_only(), arg("dtype") = none,
        arg("device") = none, arg("requires_grad") = false);
  m.def("linspace", [](pyb::handle start_arg, pyb::handle end_arg, int64_t steps, pyb::handle dtype, pyb::handle device,
                       pyb::handle rg) {
    // Tensor ends must be 0-d, in torch's words for whichever of them are tensors.
    const bool ts = is_tensor(start_arg), te = is_tensor(end_arg);
    const int64_t ds = ts ? start_arg.cast<Tensor>()->dim() : 0, de = te ? end_arg.cast<Tensor>()->dim() : 0;
    if (ds || de) {
      std::string got = ts && te ? "start with " + std::to_string(ds) + " dimension(s) and end with " + std::to_string(de)
                        : ts     ? "start with " + std::to_string(ds)
                                 : "end with " + std::to_string(de);
      fail(ErrorKind::Runtime, "linspace only supports 0-dimensional start and end tensors, but got ", got, " dimension(s).");
    }
    auto real = [](pyb::handle h, bool tensor) {
      if (!tensor) return float_of(h);
      pyb::object number = pyb::reinterpret_steal<pyb::object>(PyNumber_Float(h.ptr()));  // a 0-d tensor's value
      if (!number) throw pyb::error_already_set();
      return PyFloat_AsDouble(number.ptr());
    };
    const double start = real(start_arg, ts), end = real(end_arg, te);
    return with_requires_grad(ops::linspace(start, end, steps, optional_dtype_of(dtype).value_or(default_dtype()),
                                device_from(device)), rg);
  }, arg("start"), arg("end"), arg("steps"), pyb::kw_only(), arg("dtype") = none, arg("device") = none,
        arg("requires_grad") = false);
  m.def("eye", [](int64_t n, pyb::handle mcols, pyb::handle dtype, pyb::handle device, pyb::handle rg) {
    int64_t cols = is_absent(mcols) ? n : int_of(mcols);  // m may be left out, not passed as None
    return with_requires_grad(ops::eye(n, cols, optional_dtype_of(dtype).value_or(default_dtype()), device_from(device)), rg);
  }, arg("n"), arg("m") = absent(), pyb::kw_only(), arg("dtype") = none, arg("device") = none, arg("requires_grad") = false);

  for (auto [name, dist, a, b] : {std::tuple{"rand", RandomDist::Uniform, 0.0, 1.0},
                                  std::tuple{"randn", RandomDist::Normal, 0.0, 1.0}}) {
    m.def(name, [name, dist, a, b](pyb::args size, pyb::handle size_kw, pyb::handle gen, pyb::handle dtype,
                                   pyb::handle device, pyb::handle rg) {
      DType dt = optional_dtype_of(dtype).value_or(default_dtype());
      check_random_dtype(dist, dt);
      Shape shape = size_of(size, size_kw, name);
      return with_requires_grad(ops::random(int(dist), shape, a, b, dt, device_from(device), generator_arg(gen)), rg);
    }, pyb::kw_only(), arg("size") = none, arg("generator") = none, arg("dtype") = none, arg("device") = none, arg("requires_grad") = false);
    std::string like = std::string(name) + "_like";
    m.def(like.c_str(), [name, dist, a, b](const Tensor& t, pyb::handle dtype, pyb::handle rg) {
      DType dt = optional_dtype_of(dtype).value_or(t->dtype());
      check_random_dtype(dist, dt);
      return with_requires_grad(ops::random_like(t, int(dist), a, b, dt), rg);
    }, arg("input"), pyb::kw_only(), arg("dtype") = none, arg("requires_grad") = false);
  }
  // In-place draws (nn.init, dropout masks); the old history gets a zero gradient, as torch's.
  cls.def("uniform_", [](const Tensor& t, double from, double to, pyb::handle gen) {
       check_random_dtype(RandomDist::Uniform, t->dtype());
       TG_CHECK(from <= to, "uniform_ expects to return a [from, to) range, but found from=", from, " > to=", to);
       return assign_inplace(t, ops::random(int(RandomDist::Uniform), t->sizes(), from, to, t->dtype(), t->device(),
                                            generator_arg(gen)), "UniformBackward0");
     }, arg("from") = 0.0, arg("to") = 1.0, pyb::kw_only(), arg("generator") = none)
      .def("normal_", [](const Tensor& t, double mean, double std, pyb::handle gen) {
        check_random_dtype(RandomDist::Normal, t->dtype());
        TG_CHECK(std >= 0.0, "normal expects std >= 0.0, but found std ", std);
        return assign_inplace(t, ops::random(int(RandomDist::Normal), t->sizes(), mean, std, t->dtype(), t->device(),
                                             generator_arg(gen)), "NormalBackward1");
      }, arg("mean") = 0.0, arg("std") = 1.0, pyb::kw_only(), arg("generator") = none)
      .def("bernoulli_", [](const Tensor& t, double p, pyb::handle gen) {
        TG_CHECK(0.0 <= p && p <= 1.0, "bernoulli_ expects p to be in [0, 1], but got p=", p);
        Tensor u = ops::random(int(RandomDist::Uniform), t->sizes(), 0.0, 1.0, DType::Float64, t->device(),
                               generator_arg(gen));
        return assign_inplace(t, ops::to_dtype(ops::mask(u, int(UnaryOp::LtMask), p), t->dtype()), "BernoulliBackward1");
      }, arg("p") = 0.5, pyb::kw_only(), arg("generator") = none);
  m.def("randint", [](pyb::args args, pyb::handle size_kw, pyb::handle gen, pyb::handle dtype, pyb::handle device,
                      pyb::handle rg) {
    // randint(high, size), randint(low, high, size), or either with size=...
    std::vector<pyb::handle> pos(args.begin(), args.end());
    if (!size_kw.is_none()) pos.push_back(size_kw);
    TG_CHECK_KIND(pos.size() == 2 || pos.size() == 3, Type, "randint() expects (high, size) or (low, high, size)");
    int64_t low = pos.size() == 3 ? int_of(pos[0]) : 0;
    int64_t high = int_of(pos[pos.size() - 2]);
    TG_CHECK(low < high, "random_ expects 'from' to be less than 'to', but got from=", low, " >= to=", high);
    Shape shape = int_list_of(pos.back(), "size", false);
    DType dt = optional_dtype_of(dtype).value_or(DType::Int64);
    if (dt == DType::Bool && high > 2) fail(ErrorKind::Runtime, "to - 1 is out of bounds for bool");
    return with_requires_grad(ops::random(int(RandomDist::Integers), shape, double(low), double(high), dt, device_from(device),
                              generator_arg(gen)), rg);
  }, pyb::kw_only(), arg("size") = none, arg("generator") = none, arg("dtype") = none, arg("device") = none,
        arg("requires_grad") = false);
  m.def("randperm", [](int64_t n, pyb::handle gen, pyb::handle dtype, pyb::handle device) {
    TG_CHECK(n >= 0, "Trying to create tensor with negative dimension ", n, ": [", n, "]");
    DType dt = optional_dtype_of(dtype).value_or(DType::Int64);
    if (dt == DType::Bool) fail(ErrorKind::NotImplemented, "\"randperm\" not implemented for 'Bool'");
    return ops::random(int(RandomDist::Permutation), {n}, 0, 0, dt, device_from(device), generator_arg(gen));
  }, arg("n"), pyb::kw_only(), arg("generator") = none, arg("dtype") = none, arg("device") = none);

  m.def("from_numpy", &from_numpy, arg("ndarray"));
  m.def("from_dlpack", &from_dlpack, arg("ext_tensor"));
  cls.def("__dlpack__", [](const Tensor& t, pyb::kwargs) { return to_dlpack(t); })
      .def("__dlpack_device__", [](const Tensor& t) {
        return pyb::make_tuple(t->device().is_cpu() ? int(dlpack::kCPU) : int(dlpack::kCUDA),
                               t->device().is_cpu() ? 0 : std::max(0, int(t->device().index)));
      })
      .def("__index__", [](const Tensor& t) {
        TG_CHECK_KIND(t->numel() == 1 && is_integral(t->dtype(), true), Type,
                      "only integer tensors of a single element can be converted to an index");
        return pyb::reinterpret_steal<pyb::object>(PyNumber_Long(item(t).ptr()));
      });
}

}  // namespace tapegrad::py
