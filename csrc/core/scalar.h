// A Python number as an op argument: its value and whether it was a bool, int or float (for type promotion).
#pragma once
#include <cstdint>

#include <cmath>
#include <limits>

#include "core/dtype.h"
#include "core/error.h"

namespace tapegrad {

struct Scalar {
  enum class Kind : uint8_t { Bool, Int, Float };
  double value = 0;
  int64_t ivalue = 0;  // exact value for ints and bools
  Kind kind = Kind::Float;

  Scalar() = default;
  Scalar(double v) : value(v), ivalue(v > -9.2e18 && v < 9.2e18 ? int64_t(v) : 0), kind(Kind::Float) {}
  static Scalar from_int(int64_t v) {
    Scalar s;
    s.value = double(v);
    s.ivalue = v;
    s.kind = Kind::Int;
    return s;
  }
  static Scalar from_bool(bool b) {
    Scalar s = from_int(b);
    s.kind = Kind::Bool;
    return s;
  }
  bool is_floating() const { return kind == Kind::Float; }
  // The value as an integer of `dtype` (its C name in messages: "int64_t", "int"), or torch's
  // RuntimeError when it is not finite or out of that type's range (a fraction truncates).
  int64_t to_integer(DType dtype) const {
    const bool is32 = dtype == DType::Int32;
    const double lo = is32 ? -2147483648.0 : -9223372036854775808.0, hi = is32 ? 2147483648.0 : 9223372036854775808.0;
    // An int above int64 (torch's unsigned Scalar: value >= 2**63, ivalue wrapped below 0) fits neither.
    bool fits = is_floating() ? (std::isfinite(value) && value >= lo && value < hi)
                              : !(value >= 9223372036854775808.0 && ivalue < 0) &&
                                    (!is32 || (ivalue >= std::numeric_limits<int32_t>::min() &&
                                               ivalue <= std::numeric_limits<int32_t>::max()));
    if (!fits)
      fail(ErrorKind::Runtime, "value cannot be converted to type ", is32 ? "int" : "int64_t", " without overflow");
    return is_floating() ? int64_t(value) : ivalue;
  }
  // The dtype a Python number of this kind would have on its own (float -> default dtype).
  DType natural_dtype() const {
    return kind == Kind::Bool ? DType::Bool : kind == Kind::Int ? DType::Int64 : default_dtype();
  }
};

}  // namespace tapegrad
