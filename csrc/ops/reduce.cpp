// Full reductions (sum, mean) and the broadcast pair expand / sum_to, with their backward rules.
#include "autograd/function.h"
#include "ops/helpers.h"

namespace tapegrad::ops {
namespace {

// Integer and bool sums accumulate as int64, as torch's do.
DType sum_dtype(const Tensor& x, std::optional<DType> dtype) {
  if (dtype) return *dtype;
  return is_floating(x->dtype()) ? x->dtype() : DType::Int64;
}

Tensor sum_all(const Tensor& x, DType dt) {
  Tensor xc = cast_for_compute(x, dt);
  Tensor out = empty_like_shape(x, {}, dt);
  kernels(x).sum_to(*xc, *out);
  return out;
}

}  // namespace

Tensor sum(const Tensor& x, std::optional<DType> dtype) {
  Tensor out = sum_all(x, sum_dtype(x, dtype));
  if (FormulaNode* n = record("SumBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {expand(g, n.shape)};
      }, out, {&x}))
    n->shape = x->sizes();
  return out;
}

Tensor mean(const Tensor& x, std::optional<DType> dtype) {
  DType dt = dtype ? *dtype : x->dtype();
  if (!is_floating(dt))
    fail(ErrorKind::Runtime, "mean(): could not infer output dtype. ",
         dtype ? "Optional dtype" : "Input dtype", " must be either a floating point or complex dtype. Got: ",
         dtype_scalar_type_name(dt));
  Tensor out = sum_all(x, dt);
  // Divide in the element type, as torch does (not multiply by 1/n).
  kernels(x).unary(UnaryOp::DivScalar, *out, *out, double(x->numel()), 0);
  if (FormulaNode* n = record("MeanBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {div(expand(g, n.shape), Scalar::from_int(numel_of(n.shape)))};
      }, out, {&x}))
    n->shape = x->sizes();
  return out;
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x->sizes() == shape) return x;
  TG_CHECK(is_expandable_to(shape, x->sizes()), "size {", shape_str(shape).substr(1, std::string::npos),
           " is not expandable to size {", shape_str(x->sizes()).substr(1), "}.");
  Tensor out = empty_like_shape(x, shape, x->dtype());
  kernels(x).sum_to(*x, *out);
  if (FormulaNode* n = record("SumBackward1", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {expand(g, n.shape)};
      }, out, {&x}))
    n->shape = x->sizes();
  return out;
}

Tensor expand(const Tensor& x, const Shape& shape_in) {
  const Shape& sizes = x->sizes();
  TG_CHECK(shape_in.size() >= sizes.size(), "expand(", "torch.", dtype_scalar_type_name(x->dtype()),
           "Tensor{", shape_str(sizes), "}, size=", shape_str(shape_in),
           "): the number of sizes provided (", shape_in.size(),
           ") must be greater or equal to the number of dimensions in the tensor (", sizes.size(), ")");
  Shape shape = shape_in;
  Shape strides(shape.size(), 0);
  size_t off = shape.size() - sizes.size();
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < off) {
      TG_CHECK(shape[i] >= 0, "The expanded size of the tensor (", shape[i],
               ") isn't allowed in a leading, non-existing dimension ", i);
      continue;
    }
    int64_t have = sizes[i - off];
    if (shape[i] == -1) shape[i] = have;
    if (have == shape[i]) {
      strides[i] = x->strides()[i - off];
    } else {
      TG_CHECK(have == 1, "The expanded size of the tensor (", shape[i], ") must match the existing size (", have,
               ") at non-singleton dimension ", i, ".  Target sizes: ", shape_str(shape_in),
               ".  Tensor sizes: ", shape_str(sizes));
    }
  }
  Tensor out = TensorImpl::view_of(x->storage(), shape, strides, x->storage_offset(), x->dtype());
  if (FormulaNode* n = record("ExpandBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {sum_to(g, n.shape)};
      }, out, {&x}))
    n->shape = sizes;
  return out;
}

}  // namespace tapegrad::ops
