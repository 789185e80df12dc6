// Reading Python arguments: one reader per kind of argument, each accepting exactly what torch
// accepts, and the one place where a wrong argument is worded as torch words it:
// "<fn>(): argument '<name>' (position <n>) must be <kind>, not <type>".
//
// Two paths lead here. Parameters typed Tensor, bool, int64_t (and their optionals) are read by
// pybind11 casters; `strict()` swaps a binding's bool/int64_t parameters for Flag/Int, whose
// casters refuse what torch refuses (an int for a bool, a bool for an int). Parameters taken as
// pyb::handle are read inside the binding by the *_of readers below, which throw ArgumentError.
// Either way the call wrapper (install_argument_errors) finds the culprit among the call's
// arguments and raises torch's TypeError naming the function, the parameter and its position.
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <utility>

#include "core/device.h"
#include "core/dtype.h"
#include "core/scalar.h"
#include "core/shape.h"
#include "core/tensor.h"
#include "python/tensor_object.h"

namespace tapegrad::py {
namespace pyb = pybind11;

// A wrong argument found inside a binding; the call wrapper turns it into torch's TypeError.
struct ArgumentError : std::exception {
  PyObject* given = nullptr;  // the argument as the caller passed it; compared by identity only
  std::string expected;       // "Tensor", "int", "tuple of ints", ...
  std::string found;          // ", not NoneType" or ", but found element of type float at pos 0"
  std::string name;           // the parameter's name when the signature cannot say (a *args parameter)
  const char* what() const noexcept override { return expected.c_str(); }
};
// Throws ArgumentError: `given` should have been `expected`. `found` defaults to ", not <type>".
[[noreturn]] void bad_argument(pyb::handle given, const std::string& expected, std::string found = {},
                               std::string name = {});

// A type's name as torch prints it in argument errors: "NoneType", "str", "numpy.float64", "Tensor".
std::string arg_type_name(pyb::handle h);

// The default of a parameter torch lets a caller leave out but refuses as None (prod's dim, round's
// decimals, eye's m): a value no caller can pass, so "not given" and "None" stay apart.
pyb::handle absent();
inline bool is_absent(pyb::handle h) { return h.ptr() == absent().ptr(); }

// --- readers for parameters taken as pyb::handle ---
Tensor tensor_of(pyb::handle h);
std::optional<Tensor> optional_tensor_of(pyb::handle h);
// "Number": bool, int, float, a numpy scalar or a one-element tensor's value.
Scalar number_of(pyb::handle h);
std::optional<Scalar> optional_number_of(pyb::handle h);  // None -> nullopt
// The number of a "Tensor or Number" operand known not to be a tensor: torch names Tensor when it is neither.
Scalar tensor_or_number_of(pyb::handle h);
// "int": an int or anything with __index__ (numpy ints, integer tensors), never a bool or float.
int64_t int_of(pyb::handle h);
std::optional<int64_t> optional_int_of(pyb::handle h);
double float_of(pyb::handle h);  // "float": any real number
bool bool_of(pyb::handle h);     // "bool": True or False only
// "tuple of ints": a list or tuple of ints, or, where torch takes one (dims, shifts, sections), an int.
Shape int_list_of(pyb::handle h, const char* name = nullptr, bool single_int = true);
// A dim argument: None (all dims, an empty list), an int, or a sequence of ints.
Shape dims_of(pyb::handle h);
// A size given either spread out or as one sequence: f(2, 3), f((2, 3)), f([2, 3]), f(torch.Size(...)).
Shape size_of(const pyb::args& args, const char* name = "size");
// The same where size= may come as a keyword instead (None: not given); fn names the function.
Shape size_of(const pyb::args& args, pyb::handle size_kw, const char* fn);
std::optional<DType> optional_dtype_of(pyb::handle h);
// One of `choices` (a string enum such as reduction=): torch's ValueError for any other string.
std::string choice_of(pyb::handle h, std::initializer_list<const char*> choices, const char* what);
// div's rounding_mode=: None (true division) -> nullopt; 'floor' -> true; 'trunc' -> false.
std::optional<bool> rounding_mode_of(pyb::handle h);

// --- strict casters: bool and int parameters read as torch reads them ---
struct Flag {
  bool value;
  operator bool() const { return value; }
};
struct Int {
  int64_t value;
  operator int64_t() const { return value; }
};
bool load_strict_int(PyObject* o, int64_t& out);  // false: not an int torch would take

// The callable f with every bool / int64_t / int / optional<int64_t> parameter read strictly.
template <class A>
struct StrictParam {
  using type = A;
  static A&& unwrap(A&& a) { return std::forward<A>(a); }
};
template <>
struct StrictParam<bool> {
  using type = Flag;
  static bool unwrap(Flag f) { return f.value; }
};
template <>
struct StrictParam<int64_t> {
  using type = Int;
  static int64_t unwrap(Int i) { return i.value; }
};
template <>
struct StrictParam<int> {
  using type = Int;
  static int unwrap(Int i) { return int(i.value); }
};
template <>
struct StrictParam<std::optional<int64_t>> {
  using type = std::optional<Int>;
  static std::optional<int64_t> unwrap(std::optional<Int> i) {
    return i ? std::optional<int64_t>(i->value) : std::nullopt;
  }
};

template <class R, class... A>
auto strict(R (*f)(A...)) {
  return [f](typename StrictParam<A>::type... a) -> R { return f(StrictParam<A>::unwrap(std::forward<decltype(a)>(a))...); };
}
template <class F, class R, class... A>
auto strict_call(F f, R (F::*)(A...) const) {
  return [f](typename StrictParam<A>::type... a) -> R { return f(StrictParam<A>::unwrap(std::forward<decltype(a)>(a))...); };
}
template <class F, class = decltype(&F::operator())>
auto strict_callable(F f, int) {
  return strict_call(std::move(f), &F::operator());
}
// Member functions (&TensorImpl::dim) and generic lambdas are bound as they are.
template <class F>
F strict_callable(F f, long) {
  return f;
}
template <class F>
auto strict(F f) {
  return strict_callable(std::move(f), 0);
}

// pybind11's module with every def going through strict().
struct Module : pyb::module_ {
  explicit Module(const pyb::module_& m) : pyb::module_(m) {}
  template <class F, class... Extra>
  Module& def(const char* name, F&& f, const Extra&... extra) {
    pyb::module_::def(name, strict(std::forward<F>(f)), extra...);
    return *this;
  }
};

// Makes every pybind11 function in m (its submodules and classes included) word argument
// errors as torch does; called once, after all bindings exist.
void install_argument_errors(pyb::module_ m);

}  // namespace tapegrad::py

namespace pybind11::detail {

template <>
struct type_caster<tapegrad::py::Flag> {
  PYBIND11_TYPE_CASTER(tapegrad::py::Flag, const_name("bool"));
  bool load(handle src, bool) {
    if (src.ptr() != Py_True && src.ptr() != Py_False) return false;
    value.value = src.ptr() == Py_True;
    return true;
  }
  static handle cast(tapegrad::py::Flag f, return_value_policy, handle) { return pybind11::bool_(f.value).release(); }
};

template <>
struct type_caster<tapegrad::py::Int> {
  PYBIND11_TYPE_CASTER(tapegrad::py::Int, const_name("int"));
  bool load(handle src, bool) { return tapegrad::py::load_strict_int(src.ptr(), value.value); }
  static handle cast(tapegrad::py::Int i, return_value_policy, handle) { return PyLong_FromLongLong(i.value); }
};

}  // namespace pybind11::detail
