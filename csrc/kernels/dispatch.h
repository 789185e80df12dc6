// The seam between ops and devices: each backend fills one KernelTable; ops call through it.
#pragma once
#include "core/device.h"
#include "core/tensor.h"

namespace tapegrad {

// Elementwise maps; `a`/`b` are per-op parameters (exponent, bounds).
enum class UnaryOp {
  Neg, Exp, Log, Sin, Cos, Tanh, Sigmoid, Relu, Abs, Sqrt, Reciprocal, Sign,
  PowScalar,     // x ** a
  RPowScalar,    // a ** x
  Clamp,         // min(max(x, a), b); NaN bounds mean "no bound"
  // Masks: 1 where the condition holds else 0, in x's dtype (NaN bounds mean "no bound").
  InRangeMask,   // a <= x <= b
  GtMask,        // x > a
  LtMask,        // x < a
  NeMask,        // x != a
  AddScalar,     // x + a
  RSubScalar,    // a - x
  MulScalar,     // x * a
  DivScalar,     // x / a
};

enum class BinaryOp {
  Add, Sub, Mul, Div, Pow,
  KeepWhere,    // y != 0 ? x : 0 (a where() against zero, exact for inf/NaN x)
  PowExpMask,   // 1 unless x == 0 and y >= 0: where d(x**y)/dy is taken as 0
};

struct KernelTable {
  // out = op(in); in and out have the same dtype, out is contiguous with in's shape.
  void (*unary)(UnaryOp op, const TensorImpl& in, TensorImpl& out, double a, double b);
  // out = op(x, y); x and y share out's dtype and broadcast to out's shape. out may alias x (in-place).
  void (*binary)(BinaryOp op, const TensorImpl& x, const TensorImpl& y, TensorImpl& out);
  // out = sum of in over the dims where out (broadcast against in) has size 1 or is missing.
  void (*sum_to)(const TensorImpl& in, TensorImpl& out);
  // dst = src, converting dtype and broadcasting src to dst's shape.
  void (*copy)(const TensorImpl& src, TensorImpl& dst);
  void (*fill)(TensorImpl& dst, double value);
};

// Registered by each backend at load time.
void register_kernels(DeviceType type, const KernelTable* table);
const KernelTable& kernels_for(Device device);

}  // namespace tapegrad
