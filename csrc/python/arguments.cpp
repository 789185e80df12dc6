// The argument readers and the call wrapper that words every wrong argument as torch does.
#include "python/arguments.h"

#include <pybind11/eval.h>
#include <pybind11/pybind11.h>

#include <vector>

#include "core/error.h"
#include "python/py_convert.h"

namespace tapegrad::py {

std::string arg_type_name(pyb::handle h) {
  if (is_tensor(h)) return "Tensor";
  return qualified_type_name(h);
}

void bad_argument(pyb::handle given, const std::string& expected, std::string found, std::string name) {
  ArgumentError e;
  e.given = given.ptr();
  e.expected = expected;
  e.found = found.empty() ? ", not " + arg_type_name(given) : std::move(found);
  e.name = std::move(name);
  throw e;
}

pyb::handle absent() {
  // An instance of a class of its own that prints as "..." in signatures; never freed.
  static PyObject* value = [] {
    pyb::dict scope;
    scope["__builtins__"] = pyb::handle(PyEval_GetBuiltins());
    pyb::exec("class absent:\n    def __repr__(self):\n        return '...'\nvalue = absent()\n", scope);
    return pyb::object(scope["value"]).release().ptr();
  }();
  return value;
}

// ---------- readers ----------

Tensor tensor_of(pyb::handle h) {
  if (Tensor* t = is_tensor(h) ? held_tensor(h.ptr()) : nullptr) return *t;
  bad_argument(h, "Tensor");
}

std::optional<Tensor> optional_tensor_of(pyb::handle h) {
  if (h.is_none()) return std::nullopt;
  return tensor_of(h);
}

// A Python complex where a number is accepted: torch computes in a complex dtype or, for the ops
// that have none, raises NotImplementedError; tapegrad has no complex dtypes at all.
void refuse_complex(pyb::handle h) {
  if (PyComplex_Check(h.ptr()))
    fail(ErrorKind::NotImplemented, "complex numbers are not supported: tapegrad has no complex dtypes");
}

Scalar number_of(pyb::handle h) {
  if (auto s = scalar_from(h)) return *s;
  refuse_complex(h);
  if (is_tensor(h)) {
    Tensor t = tensor_of(h);
    if (t->dim() == 0) return *scalar_from(item(t));
  }
  bad_argument(h, "Number");
}

Scalar tensor_or_number_of(pyb::handle h) {
  if (auto s = scalar_from(h)) return *s;
  refuse_complex(h);
  bad_argument(h, "Tensor");
}

std::optional<Scalar> optional_number_of(pyb::handle h) {
  if (h.is_none()) return std::nullopt;
  return number_of(h);
}

bool load_strict_int(PyObject* o, int64_t& out) {
  if (PyBool_Check(o) || PyFloat_Check(o)) return false;
  if (PyLong_Check(o)) {
    int overflow = 0;
    out = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow) fail(ErrorKind::Value, "Overflow when unpacking long long");  // torch's words
    return true;
  }
  if (is_tensor_object(o)) {  // a 0-dim integer tensor, as torch takes it
    Tensor* t = held_tensor(o);
    if (!t || (*t)->dim() != 0 || !is_integral((*t)->dtype(), false)) return false;
  } else if (!PyIndex_Check(o) || std::string(Py_TYPE(o)->tp_name) == "numpy.bool") {
    return false;
  }
  pyb::object index = pyb::reinterpret_steal<pyb::object>(PyNumber_Index(o));
  if (!index) throw pyb::error_already_set();
  return load_strict_int(index.ptr(), out);
}

int64_t int_of(pyb::handle h) {
  int64_t v = 0;
  if (!load_strict_int(h.ptr(), v)) bad_argument(h, "int");
  return v;
}

std::optional<int64_t> optional_int_of(pyb::handle h) {
  if (h.is_none()) return std::nullopt;
  return int_of(h);
}

double float_of(pyb::handle h) {
  if (PyFloat_Check(h.ptr())) return PyFloat_AS_DOUBLE(h.ptr());
  if (auto s = scalar_from(h)) return s->value;
  bad_argument(h, "float");
}

bool bool_of(pyb::handle h) {
  if (h.ptr() == Py_True || h.ptr() == Py_False) return h.ptr() == Py_True;
  bad_argument(h, "bool");
}

namespace {
// The elements of an int list; `whole` is the argument as passed (for the message).
Shape ints_in(pyb::handle seq, pyb::handle whole, const char* name) {
  Shape out;
  Py_ssize_t n = PySequence_Size(seq.ptr());
  if (n < 0) throw pyb::error_already_set();
  for (Py_ssize_t i = 0; i < n; ++i) {
    pyb::object v = pyb::reinterpret_steal<pyb::object>(PySequence_GetItem(seq.ptr(), i));
    if (!v) throw pyb::error_already_set();
    int64_t d = 0;
    bool ok = false;
    // torch's words for a bad element: its type when it is the first, else its 1-based position and
    // the unpacking error (an empty `expected` drops "(position n) must be ..." from the message;
    // torch's text really lacks the closing quote after the overflow error).
    auto unpack_error = [&](const std::string& error) {
      bad_argument(whole, "", " failed to unpack the object at pos " + std::to_string(i + 1) + " with error \"" + error,
                   name ? name : "");
    };
    try {
      ok = load_strict_int(v.ptr(), d) || PyBool_Check(v.ptr());  // torch reads a bool element as 0 or 1
      if (PyBool_Check(v.ptr())) d = v.ptr() == Py_True;
    } catch (const Error&) {  // an element past int64: torch's TypeError for the list
      unpack_error("Overflow when unpacking long long");
    }
    if (!ok && i > 0) unpack_error("type must be tuple of ints,but got " + arg_type_name(v) + "\"");
    if (!ok)
      bad_argument(whole, "tuple of ints",
                   ", but found element of type " + arg_type_name(v) + " at pos " + std::to_string(i), name ? name : "");
    out.push_back(d);
  }
  return out;
}
bool is_int_sequence_type(pyb::handle h) { return PyList_Check(h.ptr()) || PyTuple_Check(h.ptr()); }
}  // namespace

Shape int_list_of(pyb::handle h, const char* name, bool single_int) {
  int64_t single = 0;
  if (single_int && !is_tensor(h) && load_strict_int(h.ptr(), single)) return {single};
  if (!is_int_sequence_type(h)) bad_argument(h, "tuple of ints", {}, name ? name : "");
  return ints_in(h, h, name);
}

Shape dims_of(pyb::handle h) { return h.is_none() ? Shape{} : int_list_of(h, "dim"); }

Shape size_of(const pyb::args& args, const char* name) {
  // One argument that is not an int is the whole size: a sequence, or the wrong type.
  // (torch's parser takes no bool for the first size: True is then the whole, wrong, argument.)
  if (args.size() == 1 && (!PyLong_Check(args[0].ptr()) || PyBool_Check(args[0].ptr()))) {
    pyb::handle only = args[0];
    if (is_int_sequence_type(only)) return ints_in(only, only, name);
    int64_t single = 0;
    if (is_tensor(only) || !load_strict_int(only.ptr(), single)) bad_argument(only, "tuple of ints", {}, name);
    return {single};
  }
  return ints_in(args, args.size() ? args[0] : pyb::handle(args), name);
}

Shape size_of(const pyb::args& args, pyb::handle size_kw, const char* fn) {
  if (size_kw.is_none()) return size_of(args);
  if (args.size()) fail(ErrorKind::Type, fn, "() got multiple values for argument 'size'");
  return int_list_of(size_kw, "size", false);
}

std::optional<DType> optional_dtype_of(pyb::handle h) {
  if (h.is_none()) return std::nullopt;
  if (!is_dtype_like(h)) bad_argument(h, "torch.dtype");
  return dtype_from(h);
}

std::string choice_of(pyb::handle h, std::initializer_list<const char*> choices, const char* what) {
  if (!PyUnicode_Check(h.ptr())) bad_argument(h, "str");
  std::string s = h.cast<std::string>();
  for (const char* c : choices)
    if (s == c) return s;
  fail(ErrorKind::Value, s, " is not a valid value for ", what);
}

std::optional<bool> rounding_mode_of(pyb::handle h) {
  if (h.is_none()) return std::nullopt;
  if (!PyUnicode_Check(h.ptr())) bad_argument(h, "str");
  std::string s = h.cast<std::string>();
  if (s != "trunc" && s != "floor")
    fail(ErrorKind::Runtime, "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '", s, "'");
  return s == "floor";
}

// ---------- the call wrapper ----------
namespace {

using Dispatcher = PyObject* (*)(PyObject*, PyObject* const*, size_t, PyObject*);
Dispatcher g_pybind_dispatcher = nullptr;

// The ArgumentError behind the TypeError now being raised (set by the translator, read by the
// wrapper). The exception is recognised by address and text, without keeping it (or its
// traceback's frames) alive when a caller outside the wrapper raised it.
struct Pending {
  PyObject* exception = nullptr;
  std::string text;
  ArgumentError error;
};
thread_local Pending g_pending;

// One parameter of a pybind11 signature: "name: type = default".
struct Param {
  std::string name, type;
  bool has_default = false, keyword_only = false, star_args = false, star_kwargs = false;
};

// The parameters in "(self: Tensor, dim: int = 0, *, dtype: object = None) -> Tensor".
std::vector<Param> parse_signature(const char* signature) {
  std::vector<Param> params;
  std::string s = signature ? signature : "";
  size_t i = s.find('(');
  if (i == std::string::npos) return params;
  int depth = 0;
  char quote = 0;
  std::string cur;
  bool keyword_only = false;
  auto flush = [&] {
    size_t a = cur.find_first_not_of(' '), b = cur.find_last_not_of(' ');
    std::string p = a == std::string::npos ? "" : cur.substr(a, b - a + 1);
    cur.clear();
    if (p.empty() || p == "/") return;
    if (p == "*") {
      keyword_only = true;
      return;
    }
    Param prm;
    if (p.rfind("**", 0) == 0) prm.star_kwargs = true, prm.name = p.substr(2);
    else if (p[0] == '*') prm.star_args = true, prm.name = p.substr(1), keyword_only = true;
    else {
      size_t colon = p.find(':'), eq = p.find(" = ");
      prm.name = p.substr(0, colon);
      prm.has_default = eq != std::string::npos;
      if (colon != std::string::npos)
        prm.type = p.substr(colon + 2, (prm.has_default ? eq : p.size()) - colon - 2);
      prm.keyword_only = keyword_only;
    }
    params.push_back(prm);
  };
  for (++i; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      cur += c;
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') quote = c;
    else if (c == '(' || c == '[' || c == '{') ++depth;
    else if (c == ')' && depth == 0) break;
    else if (c == ')' || c == ']' || c == '}') --depth;
    else if (c == ',' && depth == 0) {
      flush();
      continue;
    }
    cur += c;
  }
  flush();
  return params;
}

bool accepts_float(PyObject* o) {
  return PyFloat_Check(o) || PyLong_Check(o) || (!is_tensor_object(o) && PyNumber_Check(o) && !PyUnicode_Check(o));
}

// A pybind11 parameter type without its "| None", and whether it had one.
std::string base_type(const std::string& type, bool& optional) {
  const std::string suffix = " | None";
  optional = type.size() > suffix.size() && type.compare(type.size() - suffix.size(), suffix.size(), suffix) == 0;
  return optional ? type.substr(0, type.size() - suffix.size()) : type;
}

// Whether a pybind11 parameter of this type would take o (what our casters and pybind11's take).
bool accepts(const std::string& type, PyObject* o) {
  bool optional = false;
  std::string t = base_type(type, optional);
  if (optional && o == Py_None) return true;
  int64_t ignored = 0;
  if (t == "Tensor") return is_tensor_object(o);
  if (t == "bool") return o == Py_True || o == Py_False;
  if (t == "int") {
    try {
      return load_strict_int(o, ignored);
    } catch (...) {
      return true;  // an overflowing int is its own error, not a type error
    }
  }
  if (t == "typing.SupportsInt | typing.SupportsIndex") return PyLong_Check(o) || (PyIndex_Check(o) && !PyFloat_Check(o));
  if (t == "typing.SupportsFloat | typing.SupportsIndex") return accepts_float(o);
  if (t == "str") return PyUnicode_Check(o);
  return true;  // object, *args, and types we cannot judge
}

// The kind torch names in its message for a pybind11 parameter type.
std::string kind_name(const std::string& type) {
  bool optional = false;
  std::string t = base_type(type, optional);
  if (t == "typing.SupportsInt | typing.SupportsIndex") return "int";
  if (t == "typing.SupportsFloat | typing.SupportsIndex") return "float";
  if (t.find("Sequence[typing.SupportsInt") != std::string::npos) return "tuple of ints";
  return t;
}

struct Call {
  const pyb::detail::function_record* rec;
  PyObject* const* args;
  size_t nargs;
  PyObject* kwnames;
  // Positions count from 1 after self, as torch counts them for methods.
  size_t first() const { return rec->is_method ? 1 : 0; }
  std::string fn() const { return rec->name; }
  bool overloaded() const { return rec->next != nullptr; }
};

std::string argument_message(const Call& call, const std::string& name, std::optional<size_t> position,
                             const std::string& expected, const std::string& found) {
  std::string where = "argument '" + name + "'";
  if (expected.empty()) return call.fn() + "(): " + where + found;  // found says it all ("failed to unpack ...")
  if (position) where += " (position " + std::to_string(*position) + ")";
  return call.fn() + "(): " + where + " must be " + expected + found;
}

// Where `given` sits in the call: its parameter name and 1-based position (none for a keyword).
bool locate(const Call& call, PyObject* given, std::string& name, std::optional<size_t>& position) {
  std::vector<Param> params = parse_signature(call.rec->signature);
  for (size_t i = call.first(); i < call.nargs; ++i) {
    if (call.args[i] != given) continue;
    position = i - call.first() + 1;
    if (name.empty()) {
      if (i < params.size() && !params[i].star_args && !params[i].star_kwargs) name = params[i].name;
      else name = "args";
    }
    return true;
  }
  Py_ssize_t nkw = call.kwnames ? PyTuple_GET_SIZE(call.kwnames) : 0;
  for (Py_ssize_t k = 0; k < nkw; ++k) {
    if (call.args[call.nargs + size_t(k)] != given) continue;
    if (name.empty()) name = pyb::str(PyTuple_GET_ITEM(call.kwnames, k)).cast<std::string>();
    position.reset();
    return true;
  }
  return false;
}

// "(Tensor input, int dim, *, torch.dtype dtype = None)" for the "expected one of" list.
std::string torch_style(const std::vector<Param>& params, size_t first) {
  std::string out = "(";
  bool star_done = false;
  for (size_t i = first; i < params.size(); ++i) {
    const Param& p = params[i];
    if (i > first) out += ", ";
    if (p.star_args) out += "*" + p.name;
    else if (p.star_kwargs) out += "**" + p.name;
    else {
      if (p.keyword_only && !star_done) out += "*, ";
      star_done = star_done || p.keyword_only;
      out += kind_name(p.type) + " " + p.name;
      if (p.has_default) out += " = ...";
    }
  }
  return out + ")";
}

// torch's message for arguments no overload of the call takes.
std::string mismatch_message(const Call& call) {
  std::vector<std::vector<Param>> overloads;
  for (auto* r = call.rec; r; r = r->next) overloads.push_back(parse_signature(r->signature));
  size_t given_pos = call.nargs - call.first();
  Py_ssize_t nkw = call.kwnames ? PyTuple_GET_SIZE(call.kwnames) : 0;
  if (overloads.size() == 1) {
    const auto& params = overloads[0];
    size_t npos = 0;
    bool star = false;
    for (size_t i = call.first(); i < params.size(); ++i) {
      if (params[i].star_args) star = true;
      if (!params[i].keyword_only && !params[i].star_args && !params[i].star_kwargs) ++npos;
    }
    // Positional arguments, then keywords, each against its parameter.
    for (size_t i = call.first(); i < call.nargs; ++i) {
      if (i >= params.size() || params[i].star_args || params[i].star_kwargs || params[i].keyword_only) {
        if (star) break;
        return call.fn() + "() takes " + std::to_string(npos) + " positional argument" + (npos == 1 ? "" : "s") +
               " but " + std::to_string(given_pos) + " were given";
      }
      if (!accepts(params[i].type, call.args[i]))
        return argument_message(call, params[i].name, i - call.first() + 1, kind_name(params[i].type),
                                ", not " + arg_type_name(call.args[i]));
    }
    bool has_kwargs = !params.empty() && params.back().star_kwargs;
    for (Py_ssize_t k = 0; k < nkw; ++k) {
      std::string key = pyb::str(PyTuple_GET_ITEM(call.kwnames, k)).cast<std::string>();
      PyObject* value = call.args[call.nargs + size_t(k)];
      bool found = false;
      for (const Param& p : params) {
        if (p.name != key || p.star_args || p.star_kwargs) continue;
        found = true;
        if (!accepts(p.type, value))
          return argument_message(call, key, std::nullopt, kind_name(p.type), ", not " + arg_type_name(value));
      }
      if (!found && !has_kwargs) return call.fn() + "() got an unexpected keyword argument '" + key + "'";
    }
    for (size_t i = call.first(); i < params.size(); ++i) {
      const Param& p = params[i];
      if (p.has_default || p.star_args || p.star_kwargs || i < call.nargs) continue;
      bool by_keyword = false;
      for (Py_ssize_t k = 0; k < nkw; ++k)
        by_keyword = by_keyword || pyb::str(PyTuple_GET_ITEM(call.kwnames, k)).cast<std::string>() == p.name;
      if (!by_keyword) return call.fn() + "() missing 1 required positional arguments: \"" + p.name + "\"";
    }
  }
  std::string got;
  for (size_t i = call.first(); i < call.nargs; ++i) got += (got.empty() ? "" : ", ") + arg_type_name(call.args[i]);
  for (Py_ssize_t k = 0; k < nkw; ++k)
    got += (got.empty() ? "" : ", ") + pyb::str(PyTuple_GET_ITEM(call.kwnames, k)).cast<std::string>() + "=" +
           arg_type_name(call.args[call.nargs + size_t(k)]);
  std::string msg = call.fn() + "() received an invalid combination of arguments - got (" + got +
                    "), but expected one of:\n";
  for (const auto& params : overloads) msg += " * " + torch_style(params, call.first()) + "\n";
  return msg;
}

void replace_error(PyObject* type, const std::string& message) {
  PyErr_Clear();
  PyErr_SetString(type, message.c_str());
}

// Every pybind11 function's entry point: pybind11's own dispatcher, then, when it raised a
// TypeError about its arguments, torch's wording of that error.
PyObject* call_with_argument_errors(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  PyObject* result = g_pybind_dispatcher(self, args, nargsf, kwnames);
  if (result || !PyErr_ExceptionMatches(PyExc_TypeError)) return result;
  Call call{pyb::detail::function_record_ptr_from_PyObject(self), args, size_t(PyVectorcall_NARGS(nargsf)), kwnames};
  if (!call.rec) return nullptr;
  PyObject *type, *value, *traceback;
  PyErr_Fetch(&type, &value, &traceback);
  PyErr_NormalizeException(&type, &value, &traceback);
  std::string text = value ? pyb::str(value).cast<std::string>() : "";
  bool ours = g_pending.exception && g_pending.exception == value && g_pending.text == text;
  PyErr_Restore(type, value, traceback);
  if (ours) {
    g_pending.exception = nullptr;
    const ArgumentError& e = g_pending.error;
    std::string name = e.name;
    std::optional<size_t> position;
    if (locate(call, e.given, name, position)) replace_error(PyExc_TypeError, argument_message(call, name, position, e.expected, e.found));
  } else if (text.find("incompatible function arguments") != std::string::npos) {
    replace_error(PyExc_TypeError, mismatch_message(call));
  }
  return nullptr;
}

void wrap_function(pyb::handle f) {
  pyb::handle target = f;
  if (PyInstanceMethod_Check(f.ptr())) target = PyInstanceMethod_GET_FUNCTION(f.ptr());
  else if (Py_IS_TYPE(f.ptr(), &PyStaticMethod_Type) || Py_IS_TYPE(f.ptr(), &PyClassMethod_Type))
    target = pyb::handle(f.attr("__func__"));
  if (!PyCFunction_Check(target.ptr())) return;
  PyObject* self = PyCFunction_GET_SELF(target.ptr());
  if (!self || !pyb::detail::function_record_ptr_from_PyObject(self)) return;
  auto* def = reinterpret_cast<PyCFunctionObject*>(target.ptr())->m_ml;
  auto meth = reinterpret_cast<Dispatcher>(reinterpret_cast<void (*)()>(def->ml_meth));
  if (meth == &call_with_argument_errors) return;
  g_pybind_dispatcher = meth;
  def->ml_meth = reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&call_with_argument_errors));
}

void wrap_namespace(pyb::handle dict_owner, std::vector<PyObject*>& seen);

void wrap_value(pyb::handle value, std::vector<PyObject*>& seen) {
  if (PyModule_Check(value.ptr()) || PyType_Check(value.ptr())) {
    for (PyObject* s : seen)
      if (s == value.ptr()) return;
    seen.push_back(value.ptr());
    wrap_namespace(value, seen);
    return;
  }
  if (PyObject_TypeCheck(value.ptr(), &PyProperty_Type)) {
    for (const char* accessor : {"fget", "fset"}) wrap_function(value.attr(accessor));
    return;
  }
  wrap_function(value);
}

void wrap_namespace(pyb::handle owner, std::vector<PyObject*>& seen) {
  // Only what this extension defines: its module, submodules and classes.
  pyb::object module_name = pyb::getattr(owner, "__module__", pyb::none());
  std::string name = PyModule_Check(owner.ptr()) ? pyb::str(owner.attr("__name__")).cast<std::string>()
                                                 : module_name.is_none() ? "" : module_name.cast<std::string>();
  if (name.rfind("tapegrad._C", 0) != 0) return;
  pyb::dict d = owner.attr("__dict__");
  for (auto item : d) wrap_value(item.second, seen);
}

}  // namespace

void install_argument_errors(pyb::module_ m) {
  pyb::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ArgumentError& e) {
      // A complete message in case nothing names the argument (a caller outside the wrapper).
      std::string text = e.expected.empty() ? "argument" + e.found : "expected " + e.expected + e.found;
      PyErr_SetString(PyExc_TypeError, text.c_str());
      PyObject *type, *value, *traceback;
      PyErr_Fetch(&type, &value, &traceback);
      PyErr_NormalizeException(&type, &value, &traceback);
      g_pending.exception = value;
      g_pending.text = text;
      g_pending.error = e;
      PyErr_Restore(type, value, traceback);
    } catch (const pyb::cast_error& e) {
      PyErr_SetString(PyExc_TypeError, e.what());  // a Python value of the wrong type, found inside a binding
    }
  });
  std::vector<PyObject*> seen;
  wrap_namespace(m, seen);
}

}  // namespace tapegrad::py
