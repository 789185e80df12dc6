// Conversions between Python objects and the core: numbers, dtypes, devices, nested data, numpy.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <optional>

#include "core/scalar.h"
#include "core/tensor.h"
#include "python/tensor_object.h"

namespace tapegrad::py {
namespace pyb = pybind11;

// The Python dtype object (tapegrad.float32 ...), one singleton per DType.
struct PyDType {
  DType dtype;
};
pyb::object dtype_object(DType t);
// A torch.dtype, or one of Python's float, int and bool (which torch takes for float64, int64, bool).
bool is_dtype_like(pyb::handle h);
DType dtype_from(pyb::handle h);  // ArgumentError if h is not a dtype

Device device_from(pyb::handle h);  // accepts a tapegrad.device, a string or an accelerator index
bool is_device_like(pyb::handle h);  // what device_from takes (None included)
// Device n given as a bare index (torch's "current accelerator"); an error when there is none.
Device accelerator_device(int64_t index);
pyb::object device_object(Device d);

inline bool is_tensor(pyb::handle h) { return is_tensor_object(h.ptr()); }
// "numpy.ndarray", "int": a type's name as torch prints it in messages.
std::string qualified_type_name(pyb::handle h);
// A Python bool/int/float (or numpy scalar) as a Scalar; nullopt when h is not a number.
std::optional<Scalar> scalar_from(pyb::handle h);

// torch.tensor(data, dtype=...): numbers, nested sequences, numpy arrays, tensors (copied).
Tensor tensor_from_data(pyb::handle data, std::optional<DType> dtype, Device device);

// A numpy array sharing t's memory (CPU only).
pyb::array to_numpy(const Tensor& t);
// Python scalar (float/int/bool) for a one-element tensor.
pyb::object item(const Tensor& t);

// A freshly created tensor flagged requires_grad=True when asked (creation functions' keyword).
// A factory's requires_grad= (None counts as False, as torch's factories take it).
Tensor with_requires_grad(Tensor t, pyb::handle requires_grad);

// torch.Size for a shape (the class is registered from Python at import).
pyb::object size_object(const Shape& s);
void set_size_class(pyb::object cls);

}  // namespace tapegrad::py
