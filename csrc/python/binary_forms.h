// The operand forms of the binary ops Python reaches both as operators (tensor_number.cpp) and as
// tapegrad.<op>(input, other) (bind_functions.cpp): tensor-tensor, tensor-number, number-tensor.
#pragma once
#include "ops/ops.h"

namespace tapegrad::py::forms {

#define TG_BINARY_FORMS(Name, TensorTensor, TensorNumber, NumberTensor)                  \
  struct Name {                                                                          \
    static Tensor tt(const Tensor& x, const Tensor& y) { return TensorTensor; }          \
    static Tensor ts(const Tensor& x, const Scalar& s) { return TensorNumber; }          \
    static Tensor st(const Scalar& s, const Tensor& y) { return NumberTensor; }          \
  };

TG_BINARY_FORMS(Add, ops::add(x, y), ops::add(x, s), ops::add(y, s))
TG_BINARY_FORMS(Sub, ops::sub(x, y), ops::sub(x, s), ops::rsub(y, s))
TG_BINARY_FORMS(Mul, ops::mul(x, y), ops::mul(x, s), ops::mul(y, s))
TG_BINARY_FORMS(Div, ops::div(x, y), ops::div(x, s), ops::rdiv(y, s))
TG_BINARY_FORMS(Pow, ops::pow(x, y), ops::pow(x, s), ops::pow(s, y))
TG_BINARY_FORMS(Remainder, ops::remainder(x, y), ops::remainder(x, s), ops::remainder(s, y))
TG_BINARY_FORMS(FloorDivide, ops::floor_divide(x, y), ops::floor_divide(x, s), ops::floor_divide(s, y))

#undef TG_BINARY_FORMS

}  // namespace tapegrad::py::forms
