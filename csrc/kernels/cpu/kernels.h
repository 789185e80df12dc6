// The CPU backend's entry points, gathered into its KernelTable by register.cpp.
#pragma once
#include "kernels/dispatch.h"

namespace tapegrad::cpu {
void unary(UnaryOp op, const TensorImpl& in, TensorImpl& out, double a, double b);
void binary(BinaryOp op, const TensorImpl& x, const TensorImpl& y, TensorImpl& out);
void sum_to(const TensorImpl& in, TensorImpl& out);
void copy(const TensorImpl& src, TensorImpl& dst);
void fill(TensorImpl& dst, double value);
}  // namespace tapegrad::cpu
