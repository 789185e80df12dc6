// The seam between ops and devices: each backend fills one KernelTable; ops call through it.
#pragma once
#include "core/device.h"
#include "core/generator.h"
#include "core/scalar.h"
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
  BitNot,        // ~x for integers, logical not for bools
  // Activations (parameters as in torch.nn.functional).
  LeakyRelu,     // x > 0 ? x : a * x
  Elu,           // x > 0 ? x : a * (exp(x) - 1)
  Softplus,      // log1p(exp(a * x)) / a, or x where a * x > b
  Gelu,          // x * Phi(x) (erf form)
  GeluTanh,      // the tanh approximation of gelu
  Silu,          // x * sigmoid(x)
  Log1p,         // log(1 + x)
  Erf,
  Hardtanh,      // x clamped to [a, b]
  Hardsigmoid,   // min(max(x + 3, 0), 6) / 6
  Hardswish,     // x * hardsigmoid(x)
  Mish,          // x * tanh(softplus(x))
  LogSigmoid,    // min(x, 0) - log1p(exp(-|x|))
  Celu,          // x > 0 ? x : a * expm1(x / a)
  Hardshrink,    // |x| <= a ? 0 : x
  Softshrink,    // x shrunk toward 0 by a
  Threshold,     // x <= a ? b : x
  // Rounding, inverse-trigonometric, hyperbolic and base-2/10 math (floating types only).
  Floor, Ceil, Trunc, Frac,
  Round,         // half to even, at a decimals
  Expm1, Log2, Log10, Exp2, Rsqrt, Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh, Atanh,
};

enum class ReduceOp { Sum, Prod, Max, Min };

enum class BinaryOp {
  Add, Sub, Mul, Div, Pow,
  Maximum, Minimum,  // NaN-propagating
  BitAnd, BitOr, BitXor,  // integers and bools only
  KeepWhere,    // y != 0 ? x : 0 (a where() against zero, exact for inf/NaN x)
  PowExpMask,   // 1 unless x == 0 and y >= 0: where d(x**y)/dy is taken as 0
  // Division family, with torch's conventions (integer divisors are checked non-zero by the op).
  Remainder,    // sign of the divisor (Python's %)
  Fmod,         // sign of the dividend (C's fmod)
  FloorDivide,  // floor(x / y), exact for integers
  Atan2,        // floating types only
};

enum class RandomDist {
  Uniform,     // [a, b)
  Normal,      // mean a, std b
  Integers,    // uniform integers in [a, b)
  Permutation  // a random permutation of 0..n-1 (dst is 1-D int64)
};

enum class CompareOp { Eq, Ne, Lt, Le, Gt, Ge };

struct KernelTable {
  // out = op(in); in and out have the same dtype, out is contiguous with in's shape.
  void (*unary)(UnaryOp op, const TensorImpl& in, TensorImpl& out, double a, double b);
  // out = grad * d op(x)/dx, one fused pass for a first-order backward. `saved` is op's output
  // for Tanh and Sigmoid, its input for the activations, Log1p and Erf; all share out's dtype and
  // shape (grad may be strided or broadcast).
  void (*unary_grad)(UnaryOp op, const TensorImpl& grad, const TensorImpl& saved, TensorImpl& out, double a, double b);
  // out = op(x, y); x and y share out's dtype and broadcast to out's shape. out may alias x (in-place).
  void (*binary)(BinaryOp op, const TensorImpl& x, const TensorImpl& y, TensorImpl& out);
  // out(bool) = x op y; x and y share a dtype and broadcast to out's shape.
  void (*compare)(CompareOp op, const TensorImpl& x, const TensorImpl& y, TensorImpl& out);
  // out = cond ? x : y; cond is bool, x/y/out share a dtype, all broadcast to out's shape.
  void (*where)(const TensorImpl& cond, const TensorImpl& x, const TensorImpl& y, TensorImpl& out);
  // out = x * y + z rounded once (a fused multiply-add); floating x/y/z/out share a dtype and
  // broadcast to out's shape.
  void (*fused_multiply_add)(const TensorImpl& x, const TensorImpl& y, const TensorImpl& z, TensorImpl& out);
  // batch_norm's statistics of a contiguous floating (N, C, *) x: per channel, the mean and the sum of
  // squared deviations from it (both contiguous [C], x's dtype), accumulated as torch's CPU kernel.
  void (*batch_norm_stats)(const TensorImpl& x, TensorImpl& mean, TensorImpl& var_sum);
  // layer_norm over each contiguous row of n elements of contiguous floating x: per row the mean and
  // 1 / sqrt(var + eps) (contiguous [rows], x's dtype), and out = (x - mean) * rstd * w + b (w, b
  // contiguous [n] or null; all in x's dtype).
  void (*layer_norm)(const TensorImpl& x, const TensorImpl* w, const TensorImpl* b, int64_t n, double eps,
                     TensorImpl& out, TensorImpl& mean, TensorImpl& rstd);
  // out = op over in's elements along the dims where out (broadcast against in) has size 1 or
  // is missing; in and out share a dtype (Max/Min propagate NaN).
  void (*reduce)(ReduceOp op, const TensorImpl& in, TensorImpl& out);
  // Max/Min along `dim`: values (in's dtype) and int64 indices of the first extreme (NaN wins),
  // both with in's shape but size 1 at dim.
  void (*reduce_arg)(ReduceOp op, const TensorImpl& in, int64_t dim, TensorImpl& values, TensorImpl& indices);
  // Running Sum/Prod along `dim` (exclusive: excludes the element itself; reverse: from the end).
  void (*scan)(ReduceOp op, const TensorImpl& in, int64_t dim, TensorImpl& out, bool exclusive, bool reverse);
  // Numerically stable (log_)softmax along `dim`.
  void (*softmax)(const TensorImpl& in, int64_t dim, TensorImpl& out, bool log);
  // dst = src, converting dtype and broadcasting src to dst's shape.
  void (*copy)(const TensorImpl& src, TensorImpl& dst);
  void (*fill)(TensorImpl& dst, double value);
  // dst[i] = start + i * step over contiguous dst, rounded as torch's CPU kernel rounds
  // (integers count exactly from start.ivalue by step.ivalue).
  void (*arange)(TensorImpl& dst, const Scalar& start, const Scalar& step);
  // dst.numel() >= 2 evenly spaced values from start to end, both exact, as torch.linspace.
  void (*linspace)(TensorImpl& dst, double start, double end);
  // out[b..., r...] = src[idx0[b], ..., idxk-1[b], r...]: src's first k dims are indexed by
  // int64 tensors all viewed with the shape B; out has shape B + src's remaining dims.
  // Raises torch's IndexError for an index out of range (negative indices wrap).
  void (*index)(const TensorImpl& src, const TensorList& idx, TensorImpl& out);
  // dst[idx0[b], ..., r...] = (or +=) values[b..., r...]; values broadcast to B + rest.
  void (*index_put)(TensorImpl& dst, const TensorList& idx, const TensorImpl& values, bool accumulate);
  // out[b] = a[b] @ b[b] for 3-D a [B, M, K], b [B, K, N], out [B, M, N] (out contiguous; a and b
  // any strides, batch stride 0 allowed for broadcasting).
  void (*bmm)(const TensorImpl& a, const TensorImpl& b, TensorImpl& out);
  // Fills contiguous dst with draws from `gen`.
  void (*random)(RandomDist dist, TensorImpl& dst, double a, double b, Generator& gen);
  // The int64 [n, ndim] coordinates of the non-zero elements, in row-major order.
  Tensor (*nonzero)(const TensorImpl& in);
  // Sorts each row of contiguous [rows, n] `in` into contiguous values and int64 indices; stable,
  // NaN above every number (last ascending, first descending), as torch orders them.
  void (*sort)(const TensorImpl& in, bool descending, TensorImpl& values, TensorImpl& indices);
};

// Where the CPU BLAS library lives (set once from Python at import; loaded on first use).
void set_blas_library_path(const std::string& path);

// Registered by each backend at load time.
void register_kernels(DeviceType type, const KernelTable* table);
const KernelTable& kernels_for(Device device);

}  // namespace tapegrad
