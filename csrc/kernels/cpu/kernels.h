// The CPU backend's entry points, gathered into its KernelTable by register.cpp.
#pragma once
#include "kernels/dispatch.h"

namespace tapegrad::cpu {
void unary(UnaryOp op, const TensorImpl& in, TensorImpl& out, double a, double b);
void activation(UnaryOp op, const TensorImpl& in, TensorImpl& out, double a, double b);  // the nn activations
void math(UnaryOp op, const TensorImpl& in, TensorImpl& out, double a);  // UnaryOp::Floor and after
void unary_grad(UnaryOp op, const TensorImpl& grad, const TensorImpl& saved, TensorImpl& out, double a, double b);
void binary(BinaryOp op, const TensorImpl& x, const TensorImpl& y, TensorImpl& out);
void compare(CompareOp op, const TensorImpl& x, const TensorImpl& y, TensorImpl& out);
void where(const TensorImpl& cond, const TensorImpl& x, const TensorImpl& y, TensorImpl& out);
void fused_multiply_add(const TensorImpl& x, const TensorImpl& y, const TensorImpl& z, TensorImpl& out);
void batch_norm_stats(const TensorImpl& x, TensorImpl& mean, TensorImpl& var_sum);
void layer_norm(const TensorImpl& x, const TensorImpl* w, const TensorImpl* b, int64_t n, double eps, TensorImpl& out,
                TensorImpl& mean, TensorImpl& rstd);
void reduce(ReduceOp op, const TensorImpl& in, TensorImpl& out);
void reduce_arg(ReduceOp op, const TensorImpl& in, int64_t dim, TensorImpl& values, TensorImpl& indices);
void scan(ReduceOp op, const TensorImpl& in, int64_t dim, TensorImpl& out, bool exclusive, bool reverse);
void softmax(const TensorImpl& in, int64_t dim, TensorImpl& out, bool log);
void copy(const TensorImpl& src, TensorImpl& dst);
void fill(TensorImpl& dst, double value);
void arange(TensorImpl& dst, const Scalar& start, const Scalar& step);
void linspace(TensorImpl& dst, double start, double end);
void index(const TensorImpl& src, const TensorList& idx, TensorImpl& out);
void index_put(TensorImpl& dst, const TensorList& idx, const TensorImpl& values, bool accumulate);
Tensor nonzero(const TensorImpl& in);
void random(RandomDist dist, TensorImpl& dst, double a, double b, Generator& gen);
void bmm(const TensorImpl& a, const TensorImpl& b, TensorImpl& out);
void sort(const TensorImpl& in, bool descending, TensorImpl& values, TensorImpl& indices);
}  // namespace tapegrad::cpu
