// Matrix products on the device's batched-gemm kernel, and matmul's dispatch over ranks.
#include <cmath>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "ops/helpers.h"

namespace tapegrad::ops {
namespace {

// The CPU kernel torch names when a product is asked of bool tensors (it has no bool gemm).
const char* bool_kernel(const std::string& f) {
  return f == "mv" ? "addmv_impl_cpu" : f == "dot" ? "dot" : f == "bmm" ? "bmm" : "addmm_impl_cpu_";
}

// Each product reports mismatched dtypes in its own words, as torch's do; bool operands are
// refused as torch refuses them (bmm looks at its first operand before comparing dtypes).
void check_matmul_dtypes(const Tensor& a, const Tensor& b, const char* fn) {
  check_same_device(a, b);
  const std::string f = fn;
  if (f == "bmm" && a->dtype() == DType::Bool) not_for_dtype("bmm", DType::Bool);
  if (a->dtype() == b->dtype()) {
    if (a->dtype() == DType::Bool) not_for_dtype(bool_kernel(f), DType::Bool);
    return;
  }
  const char* an = dtype_scalar_type_name(a->dtype());
  const char* bn = dtype_scalar_type_name(b->dtype());
  if (f == "mv") fail(ErrorKind::Runtime, "addmv input tensors must have the same dtype, but got ", bn, ", ", an, ", and ", bn);
  if (f == "dot") fail(ErrorKind::Runtime, "dot : expected both vectors to have same dtype, but found ", an, " and ", bn);
  if (f == "bmm") fail(ErrorKind::Runtime, "expected scalar type ", an, " but found ", bn);
  fail(ErrorKind::Runtime, "expected m1 and m2 to have the same dtype, but got: ", dtype_name(a->dtype()), " != ",
       dtype_name(b->dtype()));
}

// Which matrix product torch's CPU gemm computes: mm goes to BLAS gemm, bmm too for one large matrix,
// other bmm to a loop or a batched gemm.
enum class Gemm { Mm, Bmm };

// a [B, M, K] @ b [B, K, N] with batch dims of size 1 broadcasting, no history.
Tensor raw_bmm(const Tensor& a, const Tensor& b, Gemm gemm) {
  const int64_t batch = std::max(a->sizes()[0], b->sizes()[0]), M = a->sizes()[1], K = a->sizes()[2],
                N = b->sizes()[2];
  Tensor out = empty_like_shape(a, {batch, M, N}, a->dtype());
  // torch's BLAS gemm writes a contraction of one (M, N > 1) as the plain products, so 0 * -1 stays
  // -0.0; its gemv-like cases, small-bmm loop and batched gemm start from +0.0. One rounding either way.
  const bool plain_products = is_floating(a->dtype()) && K == 1 && batch == 1 && M > 1 && N > 1 &&
                              (gemm == Gemm::Mm || M * N >= 400);
  if (plain_products) kernels(a).binary(BinaryOp::Mul, *a, *b, *out);
  else kernels(a).bmm(*a, *b, *out);
  return out;
}

Tensor as3d(const Tensor& m) {
  return TensorImpl::view_of(m->storage(), {1, m->sizes()[0], m->sizes()[1]},
                             {0, m->strides()[0], m->strides()[1]}, m->storage_offset(), m->dtype());
}

}  // namespace

Tensor mm(const Tensor& a, const Tensor& b) {
  TG_CHECK(a->dim() == 2, "self must be a matrix");
  TG_CHECK(b->dim() == 2, "mat2 must be a matrix");
  TG_CHECK(a->sizes()[1] == b->sizes()[0], "mat1 and mat2 shapes cannot be multiplied (", a->sizes()[0], "x",
           a->sizes()[1], " and ", b->sizes()[0], "x", b->sizes()[1], ")");
  check_matmul_dtypes(a, b, "mm");
  Tensor r = raw_bmm(as3d(a), as3d(b), Gemm::Mm);
  Tensor out = TensorImpl::view_of(r->storage(), {a->sizes()[0], b->sizes()[1]},
                                   contiguous_strides({a->sizes()[0], b->sizes()[1]}), 0, r->dtype());
  if (FormulaNode* n = record("MmBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {n.needs_grad(0) ? mm(g, t(n.saved(1))) : Tensor(), n.needs_grad(1) ? mm(t(n.saved(0)), g) : Tensor()};
      }, out, {&a, &b})) {
    n->save(a);
    n->save(b);
  }
  return out;
}

Tensor addmm(const Tensor& bias, const Tensor& a, const Tensor& b, const Scalar& beta_in, const Scalar& alpha_in) {
  // torch compares the bias with mat2 first, then the two matrices, in addmm's own words.
  for (const auto& [first, name] : {std::pair<const Tensor*, const char*>{&bias, "self"}, {&a, "mat1"}})
    TG_CHECK((*first)->dtype() == b->dtype(), name, " and mat2 must have the same dtype, but got ",
             dtype_scalar_type_name((*first)->dtype()), " and ", dtype_scalar_type_name(b->dtype()));
  Tensor out;
  double beta = beta_in.value, alpha = alpha_in.value;
  {
    AutoGradMode off(false);
    out = mm(a, b);
    TG_CHECK(is_expandable_to(bias->sizes(), out->sizes()), "The expanded size of the tensor (", out->sizes().back(),
             ") must match the existing size (", bias->sizes().back(), ") at non-singleton dimension 1.  Target sizes: ",
             shape_str(out->sizes()), ".  Tensor sizes: ", shape_str(bias->sizes()));
    // Integer products take beta and alpha as integers, as torch casts them to the result's type.
    if (!is_floating(out->dtype())) beta = std::trunc(beta), alpha = std::trunc(alpha);
    // Integers scale in their own type, wrapping as torch's do (a double product would saturate).
    auto times = [&](const Tensor& t, double s) {
      if (is_floating(out->dtype())) {
        Tensor r = empty_like_shape(t, t->sizes(), out->dtype());
        kernels(out).unary(UnaryOp::MulScalar, *t, *r, s, 0);
        return r;
      }
      return run_binary(BinaryOp::Mul, t, scalar_tensor(Scalar::from_int(int64_t(s)), out->dtype(), out->device()),
                        out->dtype());
    };
    if (alpha != 1) out = times(out, alpha);
    // beta == 0 ignores the bias: its NaN and inf do not reach the result.
    if (beta != 0) {
      Tensor scaled = cast_for_compute(bias, out->dtype());
      if (beta != 1) scaled = times(scaled, beta);
      kernels(out).binary(BinaryOp::Add, *out, *scaled, *out);
    }
  }
  // The bias's gradient is g * beta summed to its shape (the engine's fit step does the sum).
  if (FormulaNode* n = record("AddmmBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        double beta = n.scalars[0], alpha = n.scalars[1];
        auto scaled = [](const Tensor& t, double s) { return s == 1 ? t : mul_scalar(t, s); };
        return {n.needs_grad(0) ? scaled(g, beta) : Tensor(),
                n.needs_grad(1) ? scaled(mm(g, t(n.saved(1))), alpha) : Tensor(),
                n.needs_grad(2) ? scaled(mm(t(n.saved(0)), g), alpha) : Tensor()};
      }, out, {&bias, &a, &b})) {
    n->save(a);
    n->save(b);
    n->scalars[0] = beta;
    n->scalars[1] = alpha;
  }
  return out;
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  TG_CHECK(a->dim() == 3, "batch1 must be a 3D tensor");
  TG_CHECK(b->dim() == 3, "batch2 must be a 3D tensor");
  TG_CHECK(a->sizes()[0] == b->sizes()[0] && a->sizes()[2] == b->sizes()[1],
           "Expected size for first two dimensions of batch2 tensor to be: [", a->sizes()[0], ", ", a->sizes()[2],
           "] but got: [", b->sizes()[0], ", ", b->sizes()[1], "].");
  // torch's kernel returns an empty result, or zeros for an empty contraction, in batch2's dtype
  // before it compares the dtypes.
  const bool nothing_to_multiply = a->sizes()[1] * b->sizes()[2] * a->sizes()[0] == 0 || a->sizes()[2] == 0;
  Tensor out;
  if (nothing_to_multiply && a->dtype() != b->dtype() && a->dtype() != DType::Bool) {
    check_same_device(a, b);
    out = full({a->sizes()[0], a->sizes()[1], b->sizes()[2]}, 0.0, b->dtype(), a->device());
  } else {
    check_matmul_dtypes(a, b, "bmm");
    out = raw_bmm(a, b, Gemm::Bmm);
  }
  if (FormulaNode* n = record("BmmBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {n.needs_grad(0) ? bmm(g, transpose(n.saved(1), 1, 2)) : Tensor(),
                n.needs_grad(1) ? bmm(transpose(n.saved(0), 1, 2), g) : Tensor()};
      }, out, {&a, &b})) {
    n->save(a);
    n->save(b);
  }
  return out;
}

Tensor mv(const Tensor& a, const Tensor& v) {
  // torch reads the matrix's first size before it checks the dims.
  TG_CHECK_KIND(a->dim() > 0, Index, "Dimension specified as 0 but tensor has no dimensions");
  TG_CHECK(a->dim() == 2 && v->dim() == 1, "vector + matrix @ vector expected, got 1, ", a->dim(), ", ", v->dim());
  TG_CHECK(a->sizes()[1] == v->sizes()[0], "size mismatch, got input (", a->sizes()[0], "), mat (", a->sizes()[0], "x",
           a->sizes()[1], "), vec (", v->sizes()[0], ")");
  check_matmul_dtypes(a, v, "mv");
  Tensor col = TensorImpl::view_of(v->storage(), {1, v->sizes()[0], 1}, {0, v->strides()[0], 1}, v->storage_offset(),
                                   v->dtype());
  Tensor r = raw_bmm(as3d(a), col, Gemm::Mm);
  Tensor out = TensorImpl::view_of(r->storage(), {a->sizes()[0]}, {1}, 0, r->dtype());
  if (FormulaNode* n = record("MvBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {n.needs_grad(0) ? outer(g, n.saved(1)) : Tensor(), n.needs_grad(1) ? mv(t(n.saved(0)), g) : Tensor()};
      }, out, {&a, &v})) {
    n->save(a);
    n->save(v);
  }
  return out;
}

Tensor dot(const Tensor& a, const Tensor& b) {
  TG_CHECK(a->dim() == 1 && b->dim() == 1, "1D tensors expected, but got ", a->dim(), "D and ", b->dim(), "D tensors");
  TG_CHECK(a->sizes()[0] == b->sizes()[0], "inconsistent tensor size, expected tensor [", a->sizes()[0],
           "] and src [", b->sizes()[0], "] to have the same number of elements, but got ", a->sizes()[0], " and ",
           b->sizes()[0], " elements respectively");
  check_matmul_dtypes(a, b, "dot");
  Tensor row = TensorImpl::view_of(a->storage(), {1, 1, a->sizes()[0]}, {0, 1, a->strides()[0]}, a->storage_offset(),
                                   a->dtype());
  Tensor col = TensorImpl::view_of(b->storage(), {1, b->sizes()[0], 1}, {0, b->strides()[0], 1}, b->storage_offset(),
                                   b->dtype());
  Tensor r = raw_bmm(row, col, Gemm::Mm);
  Tensor out = TensorImpl::view_of(r->storage(), {}, {}, 0, r->dtype());
  if (FormulaNode* n = record("DotBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {n.needs_grad(0) ? mul(g, n.saved(1)) : Tensor(), n.needs_grad(1) ? mul(g, n.saved(0)) : Tensor()};
      }, out, {&a, &b})) {
    n->save(a);
    n->save(b);
  }
  return out;
}

Tensor outer(const Tensor& a, const Tensor& b) {
  TG_CHECK(a->dim() == 1 && b->dim() == 1, "outer: Expected 1-D argument self, but got ", a->dim(), "-D");
  return mul(reshape(a, {-1, 1}), b);  // as torch: a reshape (ViewBackward0), then a product
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  const int64_t da = a->dim(), db = b->dim();
  TG_CHECK(da > 0 && db > 0, "both arguments to matmul need to be at least 1D, but they are ", da, "D and ", db, "D");
  if (da == 1 && db == 1) return dot(a, b);
  if (da == 2 && db == 1) return mv(a, b);
  if (da == 1 && db == 2) return as_new(squeeze(mm(unsqueeze(a, 0), b), {0}, "SqueezeBackward4"));
  if (da == 2 && db == 2) return mm(a, b);
  if (da >= 3 && db <= 2) {
    // Fold a's batch dims into rows: one mm, then view back.
    Shape out_shape(a->sizes().begin(), a->sizes().end() - 1);
    Tensor folded = reshape(a, {numel_of(out_shape), a->sizes().back()});
    if (db == 1) return unsafe_view(mv(folded, b), out_shape);
    out_shape.push_back(b->sizes()[1]);
    return unsafe_view(mm(folded, b), out_shape);
  }
  // A matrix (or a batch of one) times a batch with a requiring grad: fold through the transpose,
  // (b^T @ a^T)^T made contiguous (CloneBackward0), as torch does to keep a's gradient small.
  bool a_is_matrix = da <= 2;
  if (db >= 3 && da >= 3 && da <= db && a->requires_grad()) {
    a_is_matrix = true;
    for (int64_t d = 0; d < da - 2; ++d) a_is_matrix = a_is_matrix && a->sizes()[size_t(d)] == 1;
  }
  if (db >= 3 && da >= 2 && a_is_matrix && a->requires_grad()) {
    Tensor a2 = da > 2 ? reshape(a, {a->sizes()[size_t(da - 2)], a->sizes().back()}) : a;
    const int64_t da2 = a2->dim();
    Tensor bt = transpose(b, -2, -1);
    Shape out_shape(bt->sizes().begin(), bt->sizes().end() - 1);
    Tensor folded = reshape(bt, {numel_of(out_shape), bt->sizes().back()});
    if (da2 == 1) return unsafe_view(mv(folded, a2), out_shape);
    out_shape.push_back(a2->sizes()[0]);
    Tensor r = unsafe_view(mm(folded, t(a2)), out_shape);
    return contiguous(transpose(r, -2, -1));
  }
  // General batched case: broadcast the batch dims, then bmm.
  Tensor aa = da == 1 ? unsqueeze(a, 0) : a;
  Tensor bb = db == 1 ? unsqueeze(b, 1) : b;
  Shape ba(aa->sizes().begin(), aa->sizes().end() - 2), bbatch(bb->sizes().begin(), bb->sizes().end() - 2);
  Shape batch = broadcast_shapes(ba, bbatch);
  int64_t nb = numel_of(batch);
  Shape ea = batch, eb = batch;
  ea.insert(ea.end(), aa->sizes().end() - 2, aa->sizes().end());
  eb.insert(eb.end(), bb->sizes().end() - 2, bb->sizes().end());
  Tensor a3 = reshape(expand(aa, ea), {nb, aa->sizes()[aa->dim() - 2], aa->sizes().back()});
  Tensor b3 = reshape(expand(bb, eb), {nb, bb->sizes()[bb->dim() - 2], bb->sizes().back()});
  Tensor r = bmm(a3, b3);
  Shape out_shape = batch;
  if (da > 1) out_shape.push_back(aa->sizes()[aa->dim() - 2]);
  if (db > 1) out_shape.push_back(bb->sizes().back());
  return unsafe_view(r, out_shape);
}

}  // namespace tapegrad::ops
