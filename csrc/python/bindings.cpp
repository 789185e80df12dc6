// The tapegrad._C module: dtype and device types, exception mapping, then each area's bindings.
#include "python/bind_common.h"

#include "core/error.h"
#include "kernels/cuda_runtime.h"

namespace tapegrad::py {

void bind_types(Module& m) {
  pyb::class_<PyDType>(m, "dtype")
      .def_property_readonly("is_floating_point", [](const PyDType& d) { return is_floating(d.dtype); })
      .def_property_readonly("itemsize", [](const PyDType& d) { return itemsize(d.dtype); })
      .def_property_readonly("is_signed", [](const PyDType& d) { return d.dtype != DType::Bool; })
      .def("__repr__", [](const PyDType& d) { return std::string("torch.") + dtype_short_name(d.dtype); })
      .def("__reduce__", [](const PyDType& d) { return std::string(dtype_short_name(d.dtype)); });
  m.attr("float32") = dtype_object(DType::Float32);
  m.attr("float64") = dtype_object(DType::Float64);
  m.attr("int64") = dtype_object(DType::Int64);
  m.attr("int32") = dtype_object(DType::Int32);
  m.attr("bool") = dtype_object(DType::Bool);

  pyb::class_<Device>(m, "device")
      .def(pyb::init([](const std::string& s) { return parse_device(s); }))
      .def(pyb::init([](int64_t index) { return accelerator_device(index); }))
      .def(pyb::init([](const std::string& type, int index) {
        Device d = parse_device(type);
        if (d.is_cuda()) d.index = int8_t(index);
        return d;
      }))
      .def_property_readonly("type", [](const Device& d) { return d.is_cpu() ? "cpu" : "cuda"; })
      .def_property_readonly("index", [](const Device& d) -> pyb::object {
        return d.index < 0 ? pyb::none() : pyb::object(pyb::int_(int(d.index)));
      })
      .def("__eq__", [](const Device& a, pyb::handle b) {
        return pyb::isinstance<Device>(b) && a == b.cast<Device>();
      })
      .def("__hash__", [](const Device& d) { return int(d.type) * 256 + d.index; })
      .def("__str__", &Device::str)
      .def("__repr__", [](const Device& d) {
        std::string r = std::string("device(type='") + (d.is_cpu() ? "cpu" : "cuda") + "'";
        if (d.index >= 0) r += ", index=" + std::to_string(d.index);
        return r + ")";
      });

  pyb::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      PyObject* type = PyExc_RuntimeError;
      switch (e.kind) {
        case ErrorKind::Runtime: type = PyExc_RuntimeError; break;
        case ErrorKind::Value: type = PyExc_ValueError; break;
        case ErrorKind::Type: type = PyExc_TypeError; break;
        case ErrorKind::Index: type = PyExc_IndexError; break;
        case ErrorKind::Assertion: type = PyExc_AssertionError; break;
        case ErrorKind::Overflow: type = PyExc_OverflowError; break;
        case ErrorKind::NotImplemented: type = PyExc_NotImplementedError; break;  // torch's type for "not implemented for '<dtype>'" 
      }
      PyErr_SetString(type, e.what());
    } catch (const std::bad_alloc&) {
      PyErr_SetString(PyExc_RuntimeError, "DefaultCPUAllocator: not enough memory");
    }
  });

  m.def("_cuda_compiled", &cuda::compiled_with_cuda);
  m.def("_cuda_device_count", &cuda::device_count);
  m.def("_set_size_class", &set_size_class);
  m.def("_release_free_memory", &release_free_memory, pyb::call_guard<pyb::gil_scoped_release>());
  m.def("get_default_dtype", [] { return dtype_object(default_dtype()); });
  m.def("set_default_dtype", [](pyb::handle d) {
    if (!pyb::isinstance<PyDType>(d))
      fail(ErrorKind::Type, "invalid dtype object: only floating-point types are supported as the default type");
    DType t = dtype_from(d);
    if (!is_floating(t))
      fail(ErrorKind::Type, "only floating-point types are supported as the default type");
    set_default_dtype(t);
  });
}

}  // namespace tapegrad::py

PYBIND11_MODULE(_C, module) {
  module.doc() = "tapegrad's C++ core: tensors, the tape, the engine and the kernels";
  tapegrad::py::Module m(module);
  tapegrad::py::bind_types(m);
  tapegrad::py::bind_tensor(m);
  tapegrad::py::bind_functions(m);
  tapegrad::py::bind_autograd(m);
  tapegrad::py::bind_shape(m);
  tapegrad::py::bind_reduce(m);
  tapegrad::py::bind_creation(m);
  tapegrad::py::bind_index(m);
  tapegrad::py::bind_inplace(m);
  tapegrad::py::bind_hooks(m);
  tapegrad::py::bind_function(m);
  tapegrad::py::bind_anomaly(m);
  tapegrad::py::bind_nn(m);
  tapegrad::py::install_argument_errors(m);  // last: it wraps every function bound above
}
