"""The loss functions of tapegrad.nn.functional: torch's signatures, reductions and checks; the
fused ones run as one op in _C._nn, the rest are composed of ops exactly as torch composes them."""
import math
import warnings

import tapegrad
from tapegrad import _C
from tapegrad._composites import _bool_arg, _float_arg, _int_arg, _optional_tensor_arg, _tensor_arg

_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


def _reduction_code(reduction, size_average=None, reduce=None):
    if size_average is not None or reduce is not None:
        # torch's legacy pair, read for truth (None counts as True): reduce false means none,
        # size_average false means sum.
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return _REDUCTIONS[reduction]


def _reduce(loss, reduction):
    code = _reduction_code(reduction)
    return loss.mean() if code == 1 else loss.sum() if code == 2 else loss


_SCALAR_NAMES = {"torch.float32": "Float", "torch.float64": "Double", "torch.int64": "Long", "torch.int32": "Int",
                 "torch.bool": "Bool"}


def _scalar_name(t):
    return _SCALAR_NAMES[str(t.dtype)]


def _refuse_grad(tensor, function, argument):
    """torch's fused losses are not differentiable in their weights; it refuses one that requires grad."""
    # The refusal sits in torch's autograd layer, which inference_mode skips.
    recording = tapegrad.is_grad_enabled() and not tapegrad.is_inference_mode_enabled()
    if tensor is not None and tensor.requires_grad and recording:
        raise RuntimeError(f"The function '{function}' is not differentiable with respect to argument '{argument}'. "
                           "This input cannot have requires_grad True.")


def _broadcast_pair(input, target):
    """torch's elementwise losses warn about differing sizes, then broadcast both (so a 0-d target
    takes part in type promotion as a full tensor)."""
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                      "same size.", UserWarning, stacklevel=3)
    return tapegrad.broadcast_tensors(input, target)


def _pointwise_operands(input, target, kernel):
    """torch's elementwise loss kernels take a bool or integer operand beside a floating one, and none
    when both are integers (NotImplementedError naming the kernel). A bool operand is cast to the other's
    dtype here, as the kernel reads it, since tapegrad's subtraction refuses bool tensors."""
    if not input.is_floating_point() and not target.is_floating_point():
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_scalar_name(input)}'")
    if input.dtype == tapegrad.bool:
        input = input.to(target.dtype)
    if target.dtype == tapegrad.bool:
        target = target.to(input.dtype)
    return input, target


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    input, target = _broadcast_pair(input, target)
    input, target = _pointwise_operands(input, target, "mse_cpu")
    code = _reduction_code(reduction, size_average, reduce)
    if weight is not None:
        return _reduce(weight * (input - target) ** 2, ["none", "mean", "sum"][code])
    return _C._nn.mse_loss(input, target, code)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    input, target = _broadcast_pair(input, target)
    code = _reduction_code(reduction, size_average, reduce)
    loss = (input - target).abs()
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, ["none", "mean", "sum"][code])


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    input, target = _broadcast_pair(input, target)
    if target.dtype.is_floating_point and not input.dtype.is_floating_point:
        raise RuntimeError(f"result type {_scalar_name(target)} can't be cast to the desired output type "
                           f"{_scalar_name(input)}")
    input, target = _pointwise_operands(input, target, "huber_cpu")
    code = _reduction_code(reduction)
    if weight is None:
        return _C._nn.huber_loss(input, target, code, delta)
    return _reduce(weight * _C._nn.huber_loss(input, target, 0, delta), reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    input, target = _broadcast_pair(input, target)
    input, target = _pointwise_operands(input, target, "smooth_l1_cpu")
    code = _reduction_code(reduction, size_average, reduce)
    if beta == 0.0:
        return l1_loss(input, target, reduction=["none", "mean", "sum"][code])  # as torch: beta 0 is l1
    return _C._nn.smooth_l1_loss(input, target, code, beta)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    code = _reduction_code(reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) "
                         "is deprecated. Please ensure they have the same size.")
    if target.dtype != input.dtype:
        raise RuntimeError(f"Found dtype {_scalar_name(target)} but expected {_scalar_name(input)}")
    _refuse_grad(weight, "binary_cross_entropy", "weight")
    if weight is not None and weight.shape != input.shape:
        weight = weight.expand(input.shape)
    return _C._nn.binary_cross_entropy(input, target, weight, code)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    code = _reduction_code(reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    _optional_tensor_arg("binary_cross_entropy_with_logits", weight, "weight", 3)
    _optional_tensor_arg("binary_cross_entropy_with_logits", pos_weight, "pos_weight", 4)
    if not input.is_floating_point():  # torch's kernel starts with log_sigmoid(input)
        raise NotImplementedError(f"\"log_sigmoid_cpu\" not implemented for '{_scalar_name(input)}'")
    if not target.is_floating_point():
        raise RuntimeError(f"result type {_scalar_name(input)} can't be cast to the desired output type "
                           f"{_scalar_name(target)}")
    _refuse_grad(weight, "binary_cross_entropy_with_logits", "weight")
    _refuse_grad(pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
    return _C._nn.binary_cross_entropy_with_logits(input, target, weight, pos_weight, code)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    # torch computes log1p(exp(-target * input)) into input's dtype: no bool input, no integer result
    if isinstance(input, tapegrad.Tensor) and input.dtype == tapegrad.bool:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    if isinstance(input, tapegrad.Tensor) and not input.is_floating_point():
        raise RuntimeError(f"result type Float can't be cast to the desired output type {_scalar_name(input)}")
    return _C._nn.soft_margin_loss(input, target, _reduction_code(reduction, size_average, reduce))


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    code = _reduction_code(reduction, size_average, reduce)
    for pos, (name, value) in enumerate((("input", input), ("target", target), ("weight", weight)), 1):
        if not isinstance(value, tapegrad.Tensor) and not (name == "weight" and value is None):
            raise TypeError(f"nll_loss_nd(): argument '{name}' (position {pos}) must be Tensor, "
                            f"not {type(value).__name__}")
    if isinstance(ignore_index, bool) or not hasattr(type(ignore_index), "__index__"):
        raise TypeError(f"nll_loss_nd(): argument 'ignore_index' (position 5) must be int, "
                        f"not {type(ignore_index).__name__}")
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    _refuse_grad(weight, "nll_loss_forward", "weight")
    if input.dim() <= 2:
        return _C._nn.nll_loss(input, target, weight, code, ignore_index)
    # [N, C, d1, ...]: classes move last and the rest flatten into one batch.
    n, c = input.shape[0], input.shape[1]
    if target.shape != (n,) + tuple(input.shape[2:]):
        raise RuntimeError(f"Expected target size {[n] + list(input.shape[2:])}, got {list(target.shape)}")
    flat = input.permute(0, *range(2, input.dim()), 1).reshape(-1, c)
    loss = _C._nn.nll_loss(flat, target.reshape(-1), weight, code, ignore_index)
    return loss.view(target.shape) if code == 0 else loss


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    code = _reduction_code(reduction, size_average, reduce)
    reduction = ["none", "mean", "sum"][code]
    # torch hands these to its C++ cross_entropy_loss, whose parser checks them
    _tensor_arg("cross_entropy_loss", input, "input", 1)
    _tensor_arg("cross_entropy_loss", target, "target", 2)
    _optional_tensor_arg("cross_entropy_loss", weight, "weight", 3)
    _int_arg("cross_entropy_loss", ignore_index, "ignore_index", 5)
    _float_arg("cross_entropy_loss", label_smoothing, "label_smoothing", 6)
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    logp = input.log_softmax(class_dim)
    if target.is_floating_point() and target.shape == input.shape:
        return _cross_entropy_with_probabilities(logp, target, weight, reduction, label_smoothing, class_dim)
    loss = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing <= 0.0:  # torch smooths only for a positive value
        return loss
    # torch's label smoothing: (1 - eps) * nll + eps / C * (the loss against a uniform target).
    classes = input.shape[class_dim]
    weight_view = None if weight is None else weight.reshape([classes] + [1] * (input.dim() - class_dim - 1))
    smooth = -(logp if weight_view is None else logp * weight_view).sum(class_dim)
    ignored = target == ignore_index
    smooth = smooth.masked_fill(ignored, 0.0)
    if reduction == "mean":
        if weight is None:
            smooth = smooth.sum() / (~ignored).sum()
        else:
            smooth = smooth.sum() / weight.gather(0, target[~ignored].flatten()).sum()
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * loss + smooth * (label_smoothing / classes)


def _cross_entropy_with_probabilities(logp, target, weight, reduction, label_smoothing, class_dim):
    classes = logp.shape[class_dim]
    if weight is not None and weight.numel() != classes:
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all {classes} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    if label_smoothing > 0.0:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    product = logp * target
    if weight is not None:
        product = product * weight.reshape([classes] + [1] * (logp.dim() - class_dim - 1))
    if reduction == "none":
        return -product.sum(class_dim)
    # Negated after the whole sum, as torch: the sign of a zero loss follows it.
    if reduction == "sum":
        return -product.sum()
    return -product.sum() / (logp.numel() // classes) if logp.numel() else -product.sum().fill_(float("nan"))


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    # torch: legacy arguments pick the reduction, yet a 'batchmean' string still divides by the batch
    # size afterwards (so batchmean with size_average=True is the mean over the batch size again).
    batchmean = reduction == "batchmean"
    if size_average is not None or reduce is not None:
        reduced_by = ["none", "mean", "sum"][_reduction_code("mean", size_average, reduce)]
    elif reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    else:
        reduced_by = "sum" if batchmean else reduction
    if reduction == "mean" and size_average is None and reduce is None:
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
    _tensor_arg("kl_div", input, "input", 1)
    _tensor_arg("kl_div", target, "target", 2)
    _bool_arg("kl_div", log_target, "log_target")
    if not input.is_floating_point() or not target.is_floating_point():
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # xlogy(t, t): 0 where t == 0.
        t_log_t = tapegrad.where(target == 0, tapegrad.zeros_like(target), target * target.log())
        loss = t_log_t - target * input
    loss = _reduce(loss, reduced_by)
    return loss / input.shape[0] if batchmean and input.dim() else loss


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    code = _reduction_code(reduction, size_average, reduce)
    _tensor_arg("hinge_embedding_loss", input, "input", 1)
    _tensor_arg("hinge_embedding_loss", target, "target", 2)
    _float_arg("hinge_embedding_loss", margin, "margin", 3)
    zeros = tapegrad.zeros_like(input)
    # torch subtracts from a tensor of input's dtype filled with margin: an integer input stays integer
    # (and a bool one is refused) where the Python number would promote it to float
    diff = margin - input if input.is_floating_point() else tapegrad.full_like(input, margin) - input
    margin_part = tapegrad.where(target != 1, diff.clamp(min=0), zeros)
    self_part = tapegrad.where(target != -1, input, zeros)
    return _reduce(margin_part + self_part, ["none", "mean", "sum"][code])


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    code = _reduction_code(reduction, size_average, reduce)
    _float_arg("margin_ranking_loss", margin, "margin", 4)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), ["none", "mean", "sum"][code])


# Losses torch has no function for: the seed's table defines them.

def mean_bias_error(input, target, reduction="mean"):
    """The signed average error target - input: positive when predictions run low."""
    return _reduce(target - input, reduction)


def rmse(input, target):
    """The root of the mean squared error."""
    return mse_loss(input, target).sqrt()


def log_cosh_loss(input, target, reduction="mean"):
    """log(cosh(input - target)), computed as |d| + log1p(exp(-2|d|)) - log 2 so large errors don't overflow."""
    d = (input - target).abs()
    return _reduce(d + (-2.0 * d).exp().log1p() - math.log(2.0), reduction)
