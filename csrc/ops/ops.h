// The op layer's public surface: every differentiable and helper op, device-agnostic.
#pragma once
#include <optional>

#include "core/scalar.h"
#include "core/tensor.h"

namespace tapegrad::ops {

// --- creation (factory.cpp) ---
Tensor empty(const Shape& shape, DType dtype, Device device = Device());
Tensor full(const Shape& shape, double value, DType dtype, Device device = Device());
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
// A 0-dim tensor holding a Python number, in the dtype it will be used as.
Tensor scalar_tensor(const Scalar& s, DType dtype, Device device = Device());

// --- conversion and aliasing (convert.cpp) ---
Tensor clone(const Tensor& t);                 // CloneBackward0
Tensor to_dtype(const Tensor& t, DType dtype);  // ToCopyBackward0; returns t itself when nothing changes
Tensor detach(const Tensor& t);                // shares storage and version, no history
Tensor contiguous(const Tensor& t);

// --- in-place (convert.cpp); bump the version counter ---
void add_(const Tensor& self, const Tensor& other);
void zero_(const Tensor& self);
void fill_(const Tensor& self, double value);

// --- unary math (unary.cpp) ---
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor reciprocal(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max);
// Internal: x * s and x / s in x's dtype (no type promotion), differentiable.
Tensor mul_scalar(const Tensor& x, double s);
Tensor div_scalar(const Tensor& x, double s);

// --- helpers for backward rules (masks.cpp) ---
// A non-differentiable 0/1 mask in x's dtype: op is one of the *Mask UnaryOps.
Tensor mask(const Tensor& x, int unary_mask_op, double a, double b = 0);
// x where m != 0 else 0, exact for inf/NaN x; differentiable in x.
Tensor keep_where(const Tensor& x, const Tensor& m);
// 1 unless base == 0 and exponent >= 0 (where torch takes d(base**exponent)/dexponent as 0).
Tensor pow_exponent_mask(const Tensor& base, const Tensor& exponent);

// --- binary math with broadcasting and type promotion (binary.cpp) ---
Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha = Scalar::from_int(1));
Tensor add(const Tensor& a, const Scalar& b, const Scalar& alpha = Scalar::from_int(1));
Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha = Scalar::from_int(1));
Tensor sub(const Tensor& a, const Scalar& b, const Scalar& alpha = Scalar::from_int(1));
Tensor rsub(const Tensor& a, const Scalar& b);  // b - a (RsubBackward1)
Tensor mul(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Scalar& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Scalar& b);
Tensor rdiv(const Tensor& a, const Scalar& b);  // b / a, as torch: reciprocal(a) * b
Tensor pow(const Tensor& a, const Tensor& b);   // PowBackward1
Tensor pow(const Tensor& a, const Scalar& b);   // PowBackward0
Tensor pow(const Scalar& a, const Tensor& b);   // PowBackward2

// --- reductions and broadcasting (reduce.cpp) ---
Tensor sum(const Tensor& x, std::optional<DType> dtype = std::nullopt);
Tensor mean(const Tensor& x, std::optional<DType> dtype = std::nullopt);
Tensor sum_to(const Tensor& x, const Shape& shape);  // sums broadcast dims away (SumBackward1)
Tensor expand(const Tensor& x, const Shape& shape);  // a stride-0 view (ExpandBackward0)

// Type promotion as torch: dimensioned tensors outrank 0-dim ones, which outrank Python numbers.
DType result_type(const Tensor& a, const Tensor& b);
DType result_type(const Tensor& a, const Scalar& b);

void check_same_device(const Tensor& a, const Tensor& b);

}  // namespace tapegrad::ops
