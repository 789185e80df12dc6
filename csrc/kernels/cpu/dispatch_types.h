// Runs a templated body once per dtype: scalar_t names the C++ element type inside it.
#pragma once
#include "core/dtype.h"
#include "core/error.h"

#define TG_CASE(DT, T, ...)  \
  case ::tapegrad::DType::DT: { \
    using scalar_t = T;      \
    __VA_ARGS__;             \
    break;                   \
  }

#define TG_DISPATCH_ALL(dtype, ...)                                              \
  switch (dtype) {                                                               \
    TG_CASE(Float32, float, __VA_ARGS__)                                         \
    TG_CASE(Float64, double, __VA_ARGS__)                                        \
    TG_CASE(Int64, int64_t, __VA_ARGS__)                                         \
    TG_CASE(Int32, int32_t, __VA_ARGS__)                                         \
    TG_CASE(Bool, bool, __VA_ARGS__)                                             \
  }

#define TG_DISPATCH_FLOATING(dtype, opname, ...)                                          \
  switch (dtype) {                                                                        \
    TG_CASE(Float32, float, __VA_ARGS__)                                                  \
    TG_CASE(Float64, double, __VA_ARGS__)                                                 \
    default:                                                                              \
      ::tapegrad::fail(::tapegrad::ErrorKind::NotImplemented, "\"", opname,               \
                       "\" not implemented for '", ::tapegrad::dtype_scalar_type_name(dtype), "'"); \
  }
