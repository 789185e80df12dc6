// The op layer's public surface: every differentiable and helper op, device-agnostic.
#pragma once
#include <optional>

#include "core/generator.h"
#include "core/scalar.h"
#include "core/tensor.h"

namespace tapegrad::ops {

// --- creation (factory.cpp) ---
Tensor empty(const Shape& shape, DType dtype, Device device = Device());
Tensor full(const Shape& shape, double value, DType dtype, Device device = Device());
// A Python number's fill: torch's refusal of a value an integer dtype cannot hold.
Tensor full(const Shape& shape, const Scalar& value, DType dtype, Device device = Device());
Tensor zeros_like(const Tensor& t);
// `value` everywhere, laid out like t when t is dense (torch's preserve_format).
Tensor full_like(const Tensor& t, double value, DType dtype, Device device);  // unchecked: for rules' constants
Tensor full_like(const Tensor& t, const Scalar& value, DType dtype, Device device);  // a user's number, checked
Tensor ones_like(const Tensor& t);
// A 0-dim tensor holding a Python number, in the dtype it will be used as.
Tensor scalar_tensor(const Scalar& s, DType dtype, Device device = Device());

// --- conversion and aliasing (convert.cpp) ---
Tensor clone(const Tensor& t);                 // CloneBackward0; contiguous
Tensor clone_preserving(const Tensor& t);      // torch's clone: x's strides when dense, else its dims' order
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
// node_name: torch names clamp_min/clamp_max's nodes ClampMinBackward0/ClampMaxBackward0.
Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max,
             const char* node_name = "ClampBackward1");
// Internal: x * s and x / s in x's dtype (no type promotion), differentiable.
Tensor mul_scalar(const Tensor& x, double s);
Tensor div_scalar(const Tensor& x, double s);

// --- compound elementwise ops, trace, masked_select, padding (pointwise.cpp) ---
Tensor lerp(const Tensor& self, const Tensor& end, const Scalar& weight);     // LerpBackward0
Tensor lerp(const Tensor& self, const Tensor& end, const Tensor& weight);     // LerpBackward1
Tensor addcmul(const Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value);  // AddcmulBackward0
Tensor addcdiv(const Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value);  // AddcdivBackward0
// clamp with tensor bounds, either null (ClampBackward0); broadcasts all three.
Tensor clamp(const Tensor& x, const Tensor& min, const Tensor& max, const char* node_name = "ClampBackward0");
Tensor logaddexp(const Tensor& a, const Tensor& b);                           // LogaddexpBackward0
Tensor nan_to_num(const Tensor& x, std::optional<double> nan, std::optional<double> posinf,
                  std::optional<double> neginf);                              // NanToNumBackward0
Tensor trace(const Tensor& x);                                                // TraceBackward0
Tensor masked_select(const Tensor& x, const Tensor& mask);                    // MaskedSelectBackward0
// F.pad's constant mode: pad = (last dim before, after, next dim before, after, ...); negative crops.
Tensor constant_pad(const Tensor& x, const Shape& pad, double value);         // ConstantPadNdBackward0
// F.pad's reflect / replicate modes over the last 1-3 dims (ReflectionPad{k}DBackward0 / ReplicationPad...).
Tensor positional_pad(const Tensor& x, const Shape& pad, bool reflect);

// --- moving elements (reorder.cpp) ---
Tensor flip(const Tensor& x, const Shape& dims);                             // FlipBackward0
Tensor roll(const Tensor& x, const Shape& shifts, const Shape& dims);        // RollBackward0; no dims: flat
Tensor repeat(const Tensor& x, const Shape& repeats);                        // RepeatBackward0
Tensor tril(const Tensor& x, int64_t diagonal);                              // TrilBackward0
Tensor triu(const Tensor& x, int64_t diagonal);                              // TriuBackward0
// (values, indices); node_name null records nothing (for callers that record their own node).
std::pair<Tensor, Tensor> sort(const Tensor& x, int64_t dim, bool descending, const char* node_name = "SortBackward0");
std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest, bool sorted);  // TopkBackward0

// --- the division family (division.cpp); integer divisors must be non-zero ---
Tensor remainder(const Tensor& a, const Tensor& b);     // RemainderBackward1 (Python's %)
Tensor remainder(const Tensor& a, const Scalar& b);     // RemainderBackward0
Tensor remainder(const Scalar& a, const Tensor& b);     // no derivative, as in torch
Tensor fmod(const Tensor& a, const Tensor& b);          // FmodBackward1
Tensor fmod(const Tensor& a, const Scalar& b);          // FmodBackward0
Tensor floor_divide(const Tensor& a, const Tensor& b);  // no derivative, as in torch (//)
Tensor floor_divide(const Tensor& a, const Scalar& b);
Tensor floor_divide(const Scalar& a, const Tensor& b);
// div with rounding_mode: floor ('floor') or trunc ('trunc'); DivBackward2 (tensor) / DivBackward3 (number).
Tensor div(const Tensor& a, const Tensor& b, bool floor);
Tensor div(const Tensor& a, const Scalar& b, bool floor);
Tensor div(const Scalar& a, const Tensor& b, bool floor);
Tensor atan2(const Tensor& a, const Tensor& b);         // Atan2Backward0

// --- rounding, inverse-trigonometric, hyperbolic, base-2/10 math (math.cpp) ---
Tensor floor(const Tensor& x);                    // FloorBackward0 (integers: a copy)
Tensor ceil(const Tensor& x);                     // CeilBackward0
Tensor trunc(const Tensor& x);                    // TruncBackward0
Tensor round(const Tensor& x, int64_t decimals);  // RoundBackward0 / RoundBackward1
Tensor frac(const Tensor& x);                     // FracBackward0
Tensor expm1(const Tensor& x);
Tensor log2(const Tensor& x);
Tensor log10(const Tensor& x);
Tensor exp2(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor asin(const Tensor& x);
Tensor acos(const Tensor& x);
Tensor atan(const Tensor& x);
Tensor sinh(const Tensor& x);
Tensor cosh(const Tensor& x);
Tensor asinh(const Tensor& x);
Tensor acosh(const Tensor& x);
Tensor atanh(const Tensor& x);

// --- nn activations (activation.cpp) ---
Tensor leaky_relu(const Tensor& x, double slope);                // LeakyReluBackward0
Tensor elu(const Tensor& x, double alpha);                       // EluBackward0
Tensor softplus(const Tensor& x, double beta, double threshold);  // SoftplusBackward0
Tensor gelu(const Tensor& x, bool tanh_approximation);          // GeluBackward0
Tensor silu(const Tensor& x);                                    // SiluBackward0
Tensor hardtanh(const Tensor& x, double min_val, double max_val);  // HardtanhBackward0 (also relu6)
Tensor hardsigmoid(const Tensor& x);                              // HardsigmoidBackward0
Tensor hardswish(const Tensor& x);                                // HardswishBackward0
Tensor mish(const Tensor& x);                                     // MishBackward0
Tensor logsigmoid(const Tensor& x);                               // LogSigmoidBackward0
Tensor celu(const Tensor& x, double alpha);                       // CeluBackward0
Tensor hardshrink(const Tensor& x, double lambd);                 // HardshrinkBackward0
Tensor softshrink(const Tensor& x, double lambd);                 // SoftshrinkBackward0
Tensor threshold(const Tensor& x, double threshold, double value);  // ThresholdBackward0
Tensor glu(const Tensor& x, int64_t dim);                         // GluBackward0
Tensor log1p(const Tensor& x);                                   // Log1PBackward0
Tensor erf(const Tensor& x);                                     // ErfBackward0
// grad * d op(x)/dx in one fused kernel (a first-order backward; see KernelTable::unary_grad).
Tensor unary_grad(int unary_op, const Tensor& grad, const Tensor& saved, double a = 0, double b = 0);
// Whether a rule may use unary_grad: a first-order backward (no create_graph) on floating tensors
// of one dtype and shape.
bool can_fuse_grad(const Tensor& grad, const Tensor& saved);

// --- losses with their own node (loss.cpp); reduction: 0 none, 1 mean, 2 sum; null = no weight ---
Tensor mse_loss(const Tensor& x, const Tensor& y, int64_t reduction);
Tensor huber_loss(const Tensor& x, const Tensor& y, int64_t reduction, double delta);
Tensor smooth_l1_loss(const Tensor& x, const Tensor& y, int64_t reduction, double beta);
Tensor binary_cross_entropy(const Tensor& p, const Tensor& y, const Tensor& weight, int64_t reduction);
Tensor binary_cross_entropy_with_logits(const Tensor& x, const Tensor& y, const Tensor& weight,
                                        const Tensor& pos_weight, int64_t reduction);
Tensor soft_margin_loss(const Tensor& x, const Tensor& y, int64_t reduction);
// logp: [C] or [N, C]; target: int64 [] or [N].
Tensor nll_loss(const Tensor& logp, const Tensor& target, const Tensor& weight, int64_t reduction, int64_t ignore_index);

// --- layers with their own node (layers.cpp) ---
// Normalises over the trailing dims of `normalized`; weight/bias may be null.
Tensor layer_norm(const Tensor& x, const Shape& normalized, const Tensor& weight, const Tensor& bias, double eps);
// Normalises per channel (dim 1); in training updates the running stats in place when given.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps);
Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx);  // -1: none

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
Tensor rsub(const Tensor& a, const Tensor& b);  // b - a (RsubBackward0)
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
DType result_type(std::initializer_list<const Tensor*> tensors);  // one iterator over all of them

void check_same_device(const Tensor& a, const Tensor& b);

}  // namespace tapegrad::ops

namespace tapegrad::ops {

// --- views: share storage with their input (view.cpp) ---
Tensor view(const Tensor& x, const Shape& shape);     // ViewBackward0; -1 infers one size
Tensor reshape(const Tensor& x, const Shape& shape);  // a view when strides allow, else a copy
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor squeeze(const Tensor& x);                      // every size-1 dim
// The given dims (one dim: SqueezeBackward1); `name` overrides the node name for internal uses.
Tensor squeeze(const Tensor& x, const Shape& dims, const char* name = nullptr);
Tensor unsafe_view(const Tensor& x, const Shape& shape);
// x's memory read as another dtype (Tensor.view(dtype)): the last dim rescaled by the size ratio, no
// history, torch's errors when the strides or offset do not divide.
Tensor view_dtype(const Tensor& x, DType dtype);
Tensor alias(const Tensor& x);  // the same view of the same storage (AliasBackward0)  // reshape named UnsafeViewBackward0, as matmul's
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor t(const Tensor& x);
Tensor permute(const Tensor& x, const Shape& dims);
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor slice(const Tensor& x, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end, int64_t step = 1);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
TensorList split(const Tensor& x, int64_t split_size, int64_t dim = 0);
TensorList split_with_sizes(const Tensor& x, const Shape& sizes, int64_t dim = 0);
TensorList split_impl(const Tensor& x, const Shape& sizes, int64_t dim, const char* node_name);
TensorList chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
TensorList unbind(const Tensor& x, int64_t dim = 0);
// Backward helpers: the gradient of a select/slice scattered into zeros of the input's shape.
Tensor select_backward(const Tensor& grad, const Shape& sizes, int64_t dim, int64_t index);
Tensor slice_backward(const Tensor& grad, const Shape& sizes, int64_t dim, int64_t start, int64_t end, int64_t step);
Tensor diagonal(const Tensor& x, int64_t offset, int64_t dim1, int64_t dim2);  // a view (DiagonalBackward0)
Tensor diagonal_backward(const Tensor& grad, const Shape& sizes, int64_t offset, int64_t dim1, int64_t dim2);
Tensor diag(const Tensor& x, int64_t k);  // 1-D: the matrix with x on diagonal k; 2-D: a copy of diagonal k

// --- joining (join.cpp) ---
Tensor cat(const TensorList& tensors, int64_t dim = 0);
Tensor stack(const TensorList& tensors, int64_t dim = 0);

// Writes src into dst (broadcasting, converting dtype); bumps dst's version. No autograd.
void copy_into(const Tensor& dst, const Tensor& src);

}  // namespace tapegrad::ops

namespace tapegrad::ops {

// --- advanced indexing (index.cpp); `indices` has one entry per leading dim of x, null = ':' ---
Tensor index(const Tensor& x, const TensorList& indices);                      // IndexBackward0
Tensor index_put(const Tensor& x, const TensorList& indices, const Tensor& values, bool accumulate);
void index_put_(const Tensor& x, const TensorList& indices, const Tensor& values, bool accumulate);  // no autograd
Tensor nonzero(const Tensor& x);
Tensor arange(double start, double end, double step, DType dtype, Device device = Device());
// torch.arange: an integer range counts exactly (start, end, step truncated to int64).
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, DType dtype, Device device = Device());
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);    // ScatterBackward0
Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Scalar& value);  // ScatterBackward1
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha);

}  // namespace tapegrad::ops

namespace tapegrad::ops {

// --- comparisons and selection (select.cpp); comparisons return bool tensors ---
Tensor compare(const Tensor& a, const Tensor& b, int compare_op);  // a CompareOp
Tensor compare(const Tensor& a, const Scalar& b, int compare_op);
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_xor(const Tensor& a, const Tensor& b);
Tensor logical_not(const Tensor& a);
// &, |, ^, ~: bitwise on integers, logical on bools (int_op: 0 and, 1 or, 2 xor).
Tensor bitwise(const Tensor& a, const Tensor& b, int int_op);
Tensor bitwise_not(const Tensor& a);
Tensor isnan(const Tensor& a);
Tensor isinf(const Tensor& a);
Tensor isfinite(const Tensor& a);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);  // WhereBackward0
Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value, bool value_is_number);  // MaskedFillBackward0/1
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);

// --- reductions over dims (reduce.cpp); empty dims = every dim ---
Tensor sum(const Tensor& x, const Shape& dims, bool keepdim, std::optional<DType> dtype = std::nullopt);
Tensor mean(const Tensor& x, const Shape& dims, bool keepdim, std::optional<DType> dtype = std::nullopt);
Tensor nansum(const Tensor& x, const Shape& dims, bool keepdim, std::optional<DType> dtype = std::nullopt);
Tensor prod(const Tensor& x, std::optional<int64_t> dim, bool keepdim, std::optional<DType> dtype = std::nullopt);
Tensor amax(const Tensor& x, const Shape& dims, bool keepdim);
Tensor amin(const Tensor& x, const Shape& dims, bool keepdim);
Tensor max(const Tensor& x);  // MaxBackward1: ties share the gradient
Tensor min(const Tensor& x);
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim);  // (values, indices)
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim);
Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim);
Tensor var(const Tensor& x, const Shape& dims, double correction, bool keepdim);
Tensor std(const Tensor& x, const Shape& dims, double correction, bool keepdim);
Tensor norm(const Tensor& x, double p, const Shape& dims, bool keepdim);
Tensor logsumexp(const Tensor& x, const Shape& dims, bool keepdim);
Tensor softmax(const Tensor& x, int64_t dim, std::optional<DType> dtype = std::nullopt);
Tensor log_softmax(const Tensor& x, int64_t dim, std::optional<DType> dtype = std::nullopt);
Tensor cumsum(const Tensor& x, int64_t dim, std::optional<DType> dtype = std::nullopt);
Tensor any(const Tensor& x, const Shape& dims, bool keepdim);
Tensor all(const Tensor& x, const Shape& dims, bool keepdim);

}  // namespace tapegrad::ops

namespace tapegrad::ops {

// --- matrix products (linalg.cpp) ---
Tensor mm(const Tensor& a, const Tensor& b);       // MmBackward0
// beta * bias + alpha * (a @ b) (AddmmBackward0); beta == 0 ignores the bias's values.
Tensor addmm(const Tensor& bias, const Tensor& a, const Tensor& b, const Scalar& beta = Scalar::from_int(1),
             const Scalar& alpha = Scalar::from_int(1));
Tensor bmm(const Tensor& a, const Tensor& b);      // BmmBackward0
Tensor mv(const Tensor& a, const Tensor& v);       // MvBackward0
Tensor dot(const Tensor& a, const Tensor& b);      // DotBackward0
Tensor outer(const Tensor& a, const Tensor& b);    // a[:, None] * b
Tensor matmul(const Tensor& a, const Tensor& b);   // torch.matmul's rules for 1-D, 2-D and batched N-D

}  // namespace tapegrad::ops

namespace tapegrad::ops {

// --- creation with values (factory.cpp) and random draws (random.cpp) ---
Tensor linspace(double start, double end, int64_t steps, DType dtype, Device device = Device());
Tensor eye(int64_t n, int64_t m, DType dtype, Device device = Device());
Tensor random(int dist, const Shape& shape, double a, double b, DType dtype, Device device, Generator* gen);
Tensor random_like(const Tensor& like, int dist, double a, double b, DType dtype);  // keeps like's dense layout

}  // namespace tapegrad::ops
