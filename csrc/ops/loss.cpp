// The losses torch computes as one op with its own backward node (MseLossBackward0,
// NllLossBackward0, ...). Each forward is composed of ops without history; each rule is written
// with ops, so it differentiates again under create_graph. Losses torch composes from other ops
// (l1, kl_div, cross_entropy, ...) are composed in tapegrad.nn.functional the same way.
#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "ops/helpers.h"

namespace tapegrad::ops {
namespace {

enum Reduction { kNone = 0, kMean = 1, kSum = 2 };

Tensor reduce_loss(const Tensor& l, int64_t reduction) {
  if (reduction == kMean) return mean(l);
  if (reduction == kSum) return sum(l);
  return l;
}

// The gradient of a reduced loss spread over the elements: g itself (none, sum: g is 0-dim and
// broadcasts) or g / count (mean).
Tensor spread(const Tensor& g, int64_t reduction, int64_t count) {
  return reduction == kMean ? div_scalar(g, double(count)) : g;
}

// Records a two-input loss whose rule needs both inputs; returns out.
Tensor record_pair(const char* name, BackwardFormula rule, const Tensor& out, const Tensor& x, const Tensor& y,
                   int64_t reduction, double scalar = 0) {
  if (FormulaNode* n = record(name, rule, out, {&x, &y})) {
    n->save(x);
    n->save(y);
    n->ints = {reduction};
    n->scalars[0] = scalar;
  }
  return out;
}

int64_t broadcast_numel(const Tensor& x, const Tensor& y) { return numel_of(broadcast_shapes(x->sizes(), y->sizes())); }

// The gradients of a loss of d = input - target, given grad_of(d): the target's is grad_of(target -
// input), as torch computes it (so a zero difference gives +0.0 on both sides, not -0.0).
template <class GradOf>
TensorList by_side(FormulaNode& n, GradOf grad_of) {
  Tensor x = n.saved(0), y = n.saved(1);
  return {n.needs_grad(0) ? grad_of(sub(x, y)) : Tensor(), n.needs_grad(1) ? grad_of(sub(y, x)) : Tensor()};
}

// The gradient slope * gs (gs: the spread upstream gradient) of a loss piecewise quadratic in
// d = x - y (huber, smooth_l1). Under create_graph each side gets torch's own double-backward node
// (the target's as the same function with x and y swapped), whose derivative in its own input is
// upstream * gs * curvature, curvature = (|d| < bound) / scale: strict, and a product, so an
// infinite upstream gives NaN outside the bound as in torch.
template <class SlopeOf>
TensorList piecewise_quadratic_grad(FormulaNode& n, const char* name, SlopeOf slope_of, const Tensor& gs, double bound,
                                    double scale) {
  if (!GradMode::is_enabled()) return by_side(n, [&](const Tensor& diff) { return mul(slope_of(diff), gs); });
  Tensor x = n.saved(0), y = n.saved(1), d = sub(x, y);
  Tensor inside = cast_for_compute(compare(abs(d), Scalar(bound), int(CompareOp::Lt)), d->dtype());
  Tensor curvature = scale == 1 ? inside : div_scalar(inside, scale);
  auto side = [&](const Tensor& own_slope, const Tensor& own, const Tensor& other) {
    Tensor grad_in;
    {
      AutoGradMode off(false);
      grad_in = as_new(mul(own_slope, gs));
    }
    if (FormulaNode* h = record(name, [](FormulaNode& h, const Tensor& gg) -> TensorList {
          Tensor d_own = mul(mul(gg, h.saved(2)), h.saved(1));
          return {h.needs_grad(0) ? mul(gg, h.saved(0)) : Tensor(), d_own, h.needs_grad(2) ? neg(d_own) : Tensor()};
        }, grad_in, {&gs, &own, &other})) {
      h->save(own_slope);
      h->save(curvature);
      h->save(gs);
    }
    return grad_in;
  };
  return {n.needs_grad(0) ? side(slope_of(d), x, y) : Tensor(), n.needs_grad(1) ? side(slope_of(sub(y, x)), y, x) : Tensor()};
}

}  // namespace

Tensor mse_loss(const Tensor& x, const Tensor& y, int64_t reduction) {
  Tensor out;
  {
    AutoGradMode off(false);
    Tensor d = sub(x, y);
    out = reduce_loss(mul(d, d), reduction);
  }
  return record_pair("MseLossBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0), y = n.saved(1);
    int64_t r = n.ints[0];
    Tensor gs = spread(g, r, broadcast_numel(x, y));
    return by_side(n, [&](const Tensor& d) { return mul(mul_scalar(d, 2.0), gs); });
  }, out, x, y, reduction);
}

Tensor huber_loss(const Tensor& x, const Tensor& y, int64_t reduction, double delta) {
  TG_CHECK(delta > 0, "huber_loss does not support non-positive values for delta.");
  Tensor out;
  {
    AutoGradMode off(false);
    Tensor d = sub(x, y), a = abs(d);
    Tensor quadratic = mul_scalar(mul(d, d), 0.5);
    Tensor linear = mul_scalar(sub(a, Scalar(0.5 * delta)), delta);
    // torch writes the elementwise loss into a tensor of the input's dtype before reducing.
    Tensor elementwise = where(compare(a, Scalar(delta), int(CompareOp::Lt)), quadratic, linear);
    out = reduce_loss(to_dtype(elementwise, x->dtype()), reduction);
  }
  return record_pair("HuberLossBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0), y = n.saved(1);
    TG_CHECK(y->dtype() == x->dtype(), "Found dtype ", dtype_scalar_type_name(y->dtype()), " but expected ",
             dtype_scalar_type_name(x->dtype()));  // torch's backward refuses a target of another dtype
    double delta = n.scalars[0];
    auto slope_of = [delta](const Tensor& d) { return clamp(d, Scalar(-delta), Scalar(delta)); };
    Tensor gs = spread(g, n.ints[0], broadcast_numel(x, y));
    return piecewise_quadratic_grad(n, "HuberLossBackwardBackward0", slope_of, gs, delta, 1.0);
  }, out, x, y, reduction, delta);
}

Tensor smooth_l1_loss(const Tensor& x, const Tensor& y, int64_t reduction, double beta) {
  TG_CHECK(beta >= 0, "smooth_l1_loss does not support negative values for beta.");
  Tensor out;
  {
    AutoGradMode off(false);
    Tensor d = sub(x, y), a = abs(d);
    if (beta == 0) {
      out = reduce_loss(a, reduction);
    } else {
      Tensor quadratic = div_scalar(mul_scalar(mul(d, d), 0.5), beta);
      Tensor linear = sub(a, Scalar(0.5 * beta));
      out = reduce_loss(where(compare(a, Scalar(beta), int(CompareOp::Lt)), quadratic, linear), reduction);
    }
  }
  return record_pair("SmoothL1LossBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0), y = n.saved(1);
    double beta = n.scalars[0];
    Tensor gs = spread(g, n.ints[0], broadcast_numel(x, y));
    if (beta == 0) {  // torch's l1 form: the target's gradient is the input's negated
      Tensor gd = mul(sign(sub(x, y)), gs);
      return {n.needs_grad(0) ? gd : Tensor(), n.needs_grad(1) ? neg(gd) : Tensor()};
    }
    auto slope_of = [beta](const Tensor& diff) { return clamp(div_scalar(diff, beta), Scalar(-1.0), Scalar(1.0)); };
    return piecewise_quadratic_grad(n, "SmoothL1LossBackwardBackward0", slope_of, gs, beta, beta);
  }, out, x, y, reduction, beta);
}

Tensor binary_cross_entropy(const Tensor& p, const Tensor& y, const Tensor& weight, int64_t reduction) {
  Tensor out;
  {
    AutoGradMode off(false);
    // Written as torch's checks (0 <= v <= 1 must hold), so a NaN probability or target is refused too.
    auto all_in_unit_range = [](const Tensor& v) {
      Tensor inside = logical_and(compare(v, Scalar(0.0), int(CompareOp::Ge)), compare(v, Scalar(1.0), int(CompareOp::Le)));
      return !item_of(any(logical_not(inside), {}, false));
    };
    TG_CHECK(all_in_unit_range(p), "all elements of input should be between 0 and 1");
    TG_CHECK(all_in_unit_range(y), "all elements of target should be between 0 and 1");
    // torch clamps both logs at -100 so p = 0 or 1 gives a finite loss.
    Tensor log_p = clamp(log(p), Scalar(-100.0), std::nullopt);
    Tensor log_q = clamp(log(rsub(p, Scalar(1.0))), Scalar(-100.0), std::nullopt);
    Tensor l = neg(add(mul(y, log_p), mul(rsub(y, Scalar(1.0)), log_q)));
    if (weight) l = to_dtype(mul(l, weight), l->dtype());  // torch scales the loss in place: its dtype stays
    out = reduce_loss(l, reduction);
  }
  FormulaNode* n = record("BinaryCrossEntropyBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor p = n.saved(0), y = n.saved(1), w = n.saved(2);
    Tensor scale = spread(g, n.ints[0], p->numel());
    if (w) scale = mul(scale, w);
    Tensor gp, gy;
    if (n.needs_grad(0)) {
      // torch's form: (p - y) / max(p (1 - p), eps), with eps the float 1e-12 even for doubles.
      Tensor denom = clamp(mul(rsub(p, Scalar(1.0)), p), Scalar(double(1e-12f)), std::nullopt);
      gp = div(mul(sub(p, y), scale), denom);
    }
    if (n.needs_grad(1)) gy = mul(sub(log(rsub(p, Scalar(1.0))), log(p)), scale);
    return {gp, gy};
  }, out, {&p, &y});
  if (n) {
    n->save(p);
    n->save(y);
    n->save(weight);
    n->ints = {reduction};
  }
  return out;
}

Tensor binary_cross_entropy_with_logits(const Tensor& x, const Tensor& y, const Tensor& weight,
                                        const Tensor& pos_weight, int64_t reduction) {
  Tensor out;
  {
    AutoGradMode off(false);
    // (1 - y) x + (1 + (pw - 1) y) softplus(-x), with softplus(-x) = log1p(exp(-|x|)) + max(-x, 0),
    // rounded where torch's in-place steps round: softplus(-x) in x's dtype (also once scaled by
    // pos_weight), the loss in y's dtype, from (1 - y).mul_(x) on.
    Tensor sp = add(log1p(exp(neg(abs(x)))), clamp(neg(x), Scalar(0.0), std::nullopt));
    if (pos_weight) sp = to_dtype(mul(add(mul(sub(pos_weight, Scalar(1.0)), y), Scalar(1.0)), sp), sp->dtype());
    Tensor l = to_dtype(mul(rsub(y, Scalar(1.0)), x), y->dtype());
    l = to_dtype(add(l, sp), l->dtype());
    if (weight) l = to_dtype(mul(l, weight), l->dtype());
    out = reduce_loss(l, reduction);
  }
  FormulaNode* n = record("BinaryCrossEntropyWithLogitsBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0), y = n.saved(1), w = n.saved(2), pw = n.saved(3);
    // torch's order: times g, then the weight, then divided by the count (in the gradient's dtype,
    // which may be wider than g's).
    auto finish = [&](Tensor t) {
      t = mul(t, g);
      if (w) t = mul(t, w);
      return n.ints[0] == kMean ? div_scalar(t, double(x->numel())) : t;
    };
    Tensor gx, gy;
    if (n.needs_grad(0)) {
      Tensor s = sigmoid(x);
      gx = pw ? sub(mul(add(mul(sub(pw, Scalar(1.0)), y), Scalar(1.0)), s), mul(pw, y)) : sub(s, y);
      gx = finish(gx);
    }
    if (n.needs_grad(1)) {
      Tensor d = neg(x);
      if (pw) d = add(d, mul(sub(pw, Scalar(1.0)), softplus(neg(x), 1.0, 20.0)));
      gy = finish(d);
    }
    return {gx, gy};
  }, out, {&x, &y});
  if (n) {
    n->save(x);
    n->save(y);
    n->save(weight);
    n->save(pos_weight);
    n->ints = {reduction};
  }
  return out;
}

Tensor soft_margin_loss(const Tensor& x, const Tensor& y, int64_t reduction) {
  TG_CHECK(!(GradMode::is_enabled() && y->requires_grad()), "The function 'soft_margin_loss' is not differentiable "
           "with respect to argument 'target'. This input cannot have requires_grad True.");
  Tensor out;
  {
    AutoGradMode off(false);
    // torch writes -x*y into a tensor of the input's dtype (and shape), then takes exp and log1p in place.
    const Shape shape = broadcast_shapes(x->sizes(), y->sizes());
    TG_CHECK(shape == x->sizes(), "output with shape ", shape_str(x->sizes()), " doesn't match the broadcast shape ",
             shape_str(shape));
    out = reduce_loss(log1p(exp(to_dtype(neg(mul(x, y)), x->dtype()))), reduction);
  }
  return record_pair("SoftMarginLossBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0), y = n.saved(1);
    // torch's form: -norm * y * e / (1 + e) * g with e = exp(-y x), so an infinite e gives NaN as there.
    double norm = n.ints[0] == kMean ? 1.0 / double(broadcast_numel(x, y)) : 1.0;
    Tensor e = exp(neg(mul(y, x)));
    Tensor slope = div(mul_scalar(mul(y, e), -norm), add(e, Scalar(1.0)));
    if (!GradMode::is_enabled()) return {mul(slope, g), Tensor()};
    // Under create_graph, torch's own node: its second derivative g y^2 e / (1 + e)^2 keeps e^-30-sized
    // values that differentiating the form above would cancel to 0.
    Tensor grad_in;
    {
      AutoGradMode off(false);
      grad_in = as_new(mul(slope, g));
    }
    if (FormulaNode* h = record("SoftMarginLossBackwardBackward0", [](FormulaNode& h, const Tensor& gg) -> TensorList {
          Tensor e = h.saved(2), y = h.saved(3), e1 = add(e, Scalar(1.0));
          Tensor dx = mul_scalar(div(mul(mul(mul(gg, h.saved(1)), mul(y, y)), e), mul(e1, e1)), h.scalars[0]);
          return {h.needs_grad(0) ? mul(gg, h.saved(0)) : Tensor(), dx};
        }, grad_in, {&g, &x})) {
      h->save(slope);
      h->save(g);
      h->save(e);
      h->save(y);
      h->scalars[0] = norm;
    }
    return {grad_in, Tensor()};
  }, out, x, y, reduction);
}

Tensor nll_loss(const Tensor& logp, const Tensor& target, const Tensor& weight, int64_t reduction,
                int64_t ignore_index) {
  TG_CHECK(logp->dim() == 1 || logp->dim() == 2, "input tensor should be 1D or 2D");
  bool batched = logp->dim() == 2;
  // torch reads a 0-d target's batch size as 0.
  if (batched && (target->dim() == 0 || target->sizes()[0] != logp->sizes()[0]))
    fail(ErrorKind::Value, "Expected input batch_size (", logp->sizes()[0], ") to match target batch_size (",
         target->dim() ? target->sizes()[0] : 0, ").");
  TG_CHECK(target->dtype() == DType::Int64,
           "expected target dtype to be Long or Byte, but got ", dtype_scalar_type_name(target->dtype()));
  TG_CHECK(target->dim() <= 1, "0D or 1D target tensor expected, multi-target not supported");
  if (!batched && target->dim() == 1 && target->sizes()[0] != 1)
    fail(ErrorKind::Value, "For 1D input, 1D target must have size 1, but got target size: ", target->sizes()[0]);
  int64_t classes = logp->sizes().back();
  TG_CHECK(!weight || (weight->dim() == 1 && weight->numel() == classes), "weight tensor should be defined either for all ",
           classes, " classes or no classes but got weight tensor of shape: ", shape_str(weight ? weight->sizes() : Shape{}));
  // torch's kernel has no integer version, and it is chosen before the weight's dtype is compared.
  TG_CHECK_KIND(is_floating(logp->dtype()), NotImplemented, "\"nll_loss_out_frame\" not implemented for '",
                dtype_scalar_type_name(logp->dtype()), "'");
  TG_CHECK(!weight || weight->dtype() == logp->dtype(), "expected scalar type ", dtype_scalar_type_name(logp->dtype()),
           " but found ", dtype_scalar_type_name(weight->dtype()));
  Tensor t2 = batched ? target : reshape(target, {1});
  Tensor lp2 = batched ? logp : unsqueeze(logp, 0);
  Tensor out, rows, row_weight;
  {
    AutoGradMode off(false);
    Tensor valid = compare(t2, Scalar::from_int(ignore_index), int(CompareOp::Ne));
    Tensor safe = where(valid, t2, full({}, 0.0, DType::Int64, t2->device()));
    Tensor bad = logical_and(valid, logical_or(compare(safe, Scalar::from_int(0), int(CompareOp::Lt)),
                                                 compare(safe, Scalar::from_int(classes), int(CompareOp::Ge))));
    if (item_of(any(bad, {}, false))) {
      int64_t at = item_of(argmax(to_dtype(bad, DType::Int64), 0, false));
      fail(ErrorKind::Index, "Target ", item_of(select(t2, 0, at)), " is out of bounds.");
    }
    row_weight = to_dtype(valid, logp->dtype());
    // No classes: every row is ignored (a valid target was refused above), and there is nothing to pick.
    if (weight && classes > 0) row_weight = mul(row_weight, index_select(weight, 0, safe));
    rows = unsqueeze(safe, 1);
    // An ignored row contributes nothing, even when its log-probability is -inf or NaN.
    Tensor picked = classes > 0 ? mul(squeeze(gather(lp2, 1, rows), {1}), row_weight) : zeros_like(row_weight);
    Tensor l = where(valid, neg(picked), full({}, 0.0, picked->dtype(), picked->device()));  // ignored: +0.0, as torch
    if (reduction == kMean) out = div(sum(l), sum(row_weight));
    else if (reduction == kSum) out = sum(l);
    else out = batched ? l : sum(l);  // torch sums a 1-d input's one row from 0 (so -0.0 gives +0.0)
  }
  // The rule scatters each row's weighted gradient to its target's column.
  if (FormulaNode* n = record("NllLossBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        Tensor lp = n.saved(0), rows = n.saved(1), w = n.saved(2);
        int64_t r = n.ints[0];
        Tensor scale = r == kMean ? div(g, sum(w)) : g;
        scale = reshape(scale, {r == kNone && lp->dim() == 2 ? -1 : 1, 1});
        Tensor lp2 = lp->dim() == 2 ? lp : unsqueeze(lp, 0);
        // Ignored rows weigh 0 and get no gradient, even when g / sum(w) is inf (all ignored).
        Tensor row_grad = keep_where(neg(mul(unsqueeze(w, 1), scale)), unsqueeze(w, 1));
        Tensor grad = lp2->numel() ? scatter_add(zeros_like(lp2), 1, rows, row_grad) : zeros_like(lp2);
        return {lp->dim() == 2 ? grad : squeeze(grad, {0})};
      }, out, {&logp})) {
    n->save(logp);
    n->save(rows);
    n->save(row_weight);
    n->ints = {reduction};
  }
  return out;
}

}  // namespace tapegrad::ops
