// Typed errors thrown by the core; the bindings map each kind to the Python exception torch raises.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace tapegrad {

enum class ErrorKind { Runtime, Value, Type, Index, Assertion, NotImplemented, Overflow };

struct Error : std::runtime_error {
  ErrorKind kind;
  Error(ErrorKind k, const std::string& msg) : std::runtime_error(msg), kind(k) {}
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& os, const T& v, const Rest&... rest) {
  os << v;
  append(os, rest...);
}
}  // namespace detail

// An index past a dim's size inside a kernel; the op layer words it as torch does for that op.
struct IndexOutOfRange : Error {
  int64_t value, dim, size;
  IndexOutOfRange(int64_t v, int64_t d, int64_t s)
      : Error(ErrorKind::Index, "index " + std::to_string(v) + " is out of bounds for dimension " + std::to_string(d) +
                                    " with size " + std::to_string(s)),
        value(v), dim(d), size(s) {}
};

template <class... Parts>
[[noreturn]] void fail(ErrorKind kind, const Parts&... parts) {
  std::ostringstream os;
  detail::append(os, parts...);
  throw Error(kind, os.str());
}

#define TG_CHECK(cond, ...) \
  do {                      \
    if (!(cond)) ::tapegrad::fail(::tapegrad::ErrorKind::Runtime, __VA_ARGS__); \
  } while (0)
#define TG_CHECK_KIND(cond, kind, ...) \
  do {                                 \
    if (!(cond)) ::tapegrad::fail(::tapegrad::ErrorKind::kind, __VA_ARGS__); \
  } while (0)

}  // namespace tapegrad
