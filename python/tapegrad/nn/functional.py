"""tapegrad.nn.functional: the functional forms of the layers and activations (losses come from
_loss_functions.py), with torch's signatures, defaults and argument checks."""

import math
import tapegrad
from tapegrad import _C
from tapegrad._composites import _bool_arg, _float_arg, _ints_arg, _str_arg, _tensor_arg
from tapegrad.nn._loss_functions import (
    binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, hinge_embedding_loss, huber_loss,
    kl_div, l1_loss, log_cosh_loss, margin_ranking_loss, mean_bias_error, mse_loss, nll_loss, rmse,
    smooth_l1_loss, soft_margin_loss)

__all__ = [
    "linear", "relu", "leaky_relu", "gelu", "silu", "elu", "softplus", "sigmoid", "tanh", "softmax", "log_softmax",
    "dropout", "embedding", "layer_norm", "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "hinge_embedding_loss", "huber_loss", "kl_div", "l1_loss", "log_cosh_loss",
    "margin_ranking_loss", "mean_bias_error", "mse_loss", "nll_loss", "rmse", "smooth_l1_loss", "soft_margin_loss",
    "pad", "one_hot", "normalize", "hardtanh", "relu6", "hardsigmoid", "hardswish", "mish", "logsigmoid", "celu",
    "hardshrink", "softshrink", "threshold", "glu", "softsign", "tanhshrink", "softmin",
]


def linear(input, weight, bias=None):
    _tensor_arg("linear", input, "input", 1)
    _tensor_arg("linear", weight, "weight", 2)
    if bias is not None:
        _tensor_arg("linear", bias, "bias", 3)
    if bias is None:
        return input.matmul(weight.t())
    if input.dim() == 2:
        return _C.addmm(bias, input, weight.t())
    if input.dim() > 2 and input.is_contiguous():
        # torch folds the leading dims into one matrix product and views the result back.
        rows = math.prod(input.shape[:-1])  # not -1: ambiguous where the last dim is 0
        out = _C.addmm(bias, input.reshape(rows, input.shape[-1]), weight.t())
        return out.view(*input.shape[:-1], weight.shape[0])
    return input.matmul(weight.t()) + bias


def _maybe_inplace(fn, input, inplace):
    if not inplace or not isinstance(input, tapegrad.Tensor):  # a non-tensor gets the op's own TypeError
        return fn(input)
    # The in-place form writes into input with torch's in-place autograd rules, the op's own node
    # reading a copy of the input as it was.
    return _C._apply_inplace(input, fn)


def relu(input, inplace=False):
    _tensor_arg("relu", input, "input", 1)
    return input.relu_() if inplace else input.relu()


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _maybe_inplace(lambda t: _C._nn.leaky_relu(t, negative_slope), input, inplace)


def elu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(lambda t: _C._nn.elu(t, alpha), input, inplace)


def softplus(input, beta=1.0, threshold=20.0):
    return _C._nn.softplus(input, beta, threshold)


def gelu(input, approximate="none"):
    _tensor_arg("gelu", input, "input", 1)
    _str_arg("gelu", approximate, "approximate")
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _C._nn.gelu(input, approximate == "tanh")


def silu(input, inplace=False):
    return _maybe_inplace(_C._nn.silu, input, inplace)


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def _softmax_dim(ndim, name="softmax"):
    import warnings

    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as "
                  "an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim(input.dim())
    return input.softmax(dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim(input.dim())
    return input.log_softmax(dim, dtype=dtype)


def dropout(input, p=0.5, training=True, inplace=False):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    # torch hands the rest to its C++ dropout, whose parser checks them
    _tensor_arg("dropout_" if inplace else "dropout", input, "input", 1)
    _bool_arg("dropout_" if inplace else "dropout", training, "train", 3)
    if not training or p == 0.0 or input.numel() == 0:  # torch returns an empty input itself
        return input
    if p == 1.0:  # a zero of input's own dtype: integer inputs stay integers, as in torch
        zero = tapegrad.zeros((), dtype=input.dtype)
        return input.mul_(zero) if inplace else input * zero
    # Kept elements are scaled by 1 / (1 - p) so the expected value is unchanged.
    scaled_mask = tapegrad.empty_like(input).bernoulli_(1.0 - p).div_(1.0 - p)
    return input.mul_(scaled_mask) if inplace else input * scaled_mask


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("tapegrad's embedding has neither scale_grad_by_freq nor sparse gradients")
    if padding_idx is not None and padding_idx != 0:  # (torch looks at weight's rows only for a nonzero one)
        rows = weight.shape[0]
        if not -rows <= padding_idx < rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = padding_idx % rows
    _tensor_arg("embedding", weight, "weight", 1)
    _tensor_arg("embedding", input, "indices", 2)
    if max_norm is not None:
        _renorm_rows_(weight, input, max_norm, norm_type)
    return _C._nn.embedding(weight, input, -1 if padding_idx is None else padding_idx)


def _renorm_rows_(weight, indices, max_norm, norm_type):
    """torch's embedding_renorm_: each looked-up row whose norm exceeds max_norm is scaled, in place
    and outside autograd, to max_norm / (norm + 1e-7) of itself."""
    with tapegrad.no_grad():
        rows = tapegrad.tensor(sorted(set(indices.flatten().tolist())), dtype=tapegrad.int64)
        if rows.numel() == 0:
            return
        picked = weight.index_select(0, rows)
        norms = picked.norm(norm_type, 1, True)
        scale = tapegrad.where(norms > max_norm, max_norm / (norms + 1e-7), tapegrad.ones_like(norms))
        weight[rows] = picked * scale


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    if isinstance(normalized_shape, int):  # torch takes a sequence only (nn.LayerNorm wraps an int itself)
        raise TypeError(f"layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not int")
    _ints_arg("layer_norm", normalized_shape, "normalized_shape", 2)
    return _C._nn.layer_norm(input, list(normalized_shape), weight, bias, eps)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    if training:  # torch's check, literally: the batch size times the spatial sizes must not be 1
        size = input.size()
        per_channel = size[0]
        for extent in size[2:]:
            per_channel *= extent
        if per_channel == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")
    return _C._nn.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def pad(input, pad, mode="constant", value=None):
    """Pads with `value` (constant), mirrored values (reflect), edge values (replicate) or wrapped values
    (circular); pad lists (before, after) pairs from the last dim back, negative amounts crop."""
    _tensor_arg("pad", input, "input", 1)
    pad = list(_ints_arg("pad", pad, "pad", 2))
    _str_arg("pad", mode, "mode", 3)
    if value is not None:
        _float_arg("pad", value, "value", 4)
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.dim():
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.dim()}")
    if mode == "constant":
        return _C._constant_pad(input, pad, 0.0 if value is None else float(value))
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pad) // 2
    if k not in (1, 2, 3) or input.dim() not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.dim()}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    if mode == "circular":
        return _pad_circular(input, pad)
    # torch's reflection/replication kernels: only the batch dim may be empty, and no bool inputs.
    batched = input.dim() == k + 2
    if 0 in input.shape[1 if batched else 0:]:
        raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and other "
                           f"non-zero dimensions for input, but got: {list(input.shape)}")
    return _C._positional_pad(input, pad, mode == "reflect")


def _pad_circular(input, pad):
    """Wraps around as torch's circular padding does: crop for negative amounts, copy the input into the
    middle, then fill each padded dim (last first) from the opposite end, writes through views."""
    k = len(pad) // 2
    dims = [input.dim() - 1 - i for i in range(k)]
    for i, d in enumerate(dims):
        if pad[2 * i] > input.shape[d] or pad[2 * i + 1] > input.shape[d]:
            raise RuntimeError("Padding value causes wrapping around more than once.")
    core = input
    for i, d in enumerate(dims):
        lo, hi = min(pad[2 * i], 0), min(pad[2 * i + 1], 0)
        if lo or hi:
            core = core.narrow(d, -lo, core.shape[d] + lo + hi)
    before = [max(pad[2 * i], 0) for i in range(k)]
    after = [max(pad[2 * i + 1], 0) for i in range(k)]
    shape = list(core.shape)
    for i, d in enumerate(dims):
        shape[d] += before[i] + after[i]
    out = core.new_zeros(shape)
    middle = [slice(None)] * core.dim()
    for i, d in enumerate(dims):
        middle[d] = slice(before[i], before[i] + core.shape[d])
    out[tuple(middle)] = core
    for i, d in enumerate(dims):
        n, lo, hi = core.shape[d], before[i], after[i]

        def at(s, d=d):
            idx = [slice(None)] * out.dim()
            idx[d] = s
            return tuple(idx)

        if lo:
            out[at(slice(0, lo))] = out[at(slice(n, n + lo))]
        if hi:
            out[at(slice(lo + n, lo + n + hi))] = out[at(slice(lo, lo + hi))]
    return out


def one_hot(tensor, num_classes=-1):
    """int64 one-hot rows for the class indices in tensor (num_classes=-1: the largest index plus one)."""
    _tensor_arg("one_hot", tensor, "input", 1)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int):
        raise TypeError(f"one_hot(): argument 'num_classes' (position 2) must be int, not {type(num_classes).__name__}")
    if tensor.dtype != tapegrad.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel() > 0 and int(tensor.min()) < 0:
        raise RuntimeError("Class values must be non-negative.")
    if tensor.numel() == 0 and num_classes <= 0:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if num_classes == -1:
        num_classes = int(tensor.max()) + 1
    elif tensor.numel() > 0 and int(tensor.max()) >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return (tensor.unsqueeze(-1) == tapegrad.arange(num_classes)).long()


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p over dim, eps), as torch composes it."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    return input / denom


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _maybe_inplace(lambda t: _C._nn.hardtanh(t, min_val, max_val), input, inplace)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input, inplace=False):
    return _maybe_inplace(_C._nn.hardsigmoid, input, inplace)


def hardswish(input, inplace=False):
    return _maybe_inplace(_C._nn.hardswish, input, inplace)


def mish(input, inplace=False):
    return _maybe_inplace(_C._nn.mish, input, inplace)


def logsigmoid(input):
    return _C._nn.logsigmoid(input)


def celu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(lambda t: _C._nn.celu(t, alpha), input, inplace)


def hardshrink(input, lambd=0.5):
    return _C._nn.hardshrink(input, lambd)


def softshrink(input, lambd=0.5):
    return _C._nn.softshrink(input, lambd)


def threshold(input, threshold, value, inplace=False):
    return _maybe_inplace(lambda t: _C._nn.threshold(t, threshold, value), input, inplace)


def glu(input, dim=-1):
    if not isinstance(input, tapegrad.Tensor):  # torch's glu is Python: it fails reading input.dim()
        raise AttributeError(f"'{type(input).__name__}' object has no attribute 'dim'")
    return _C._nn.glu(input, dim)


def softsign(input):
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - input.tanh()


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim(input.dim(), "softmin")
    return (-input).softmax(dim, dtype=dtype)
