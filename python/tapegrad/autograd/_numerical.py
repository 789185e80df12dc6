"""Numerical Jacobians for gradcheck: inputs perturbed in place, central differences of the outputs."""
import numpy as np

import tapegrad
from tapegrad import _C

_Tensor = _C.Tensor


def _is_tensor(x):
    return isinstance(x, _Tensor)


def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _differentiable_outputs(x):
    return tuple(o for o in _as_tuple(x) if o.requires_grad)


def _is_float(t):
    return _is_tensor(t) and t.dtype.is_floating_point


def _to_numpy(t):
    """A private copy of t's values (outputs may alias the inputs that are perturbed next)."""
    t = t.detach()
    if t.device.type != "cpu":
        t = t.cpu()
    return np.array(t.numpy(), copy=True)


def _np_dtype(t):
    return np.dtype(repr(t.dtype)[len("torch."):])


def _to_tensor(a, like=None):
    out = tapegrad.from_numpy(np.array(a, order="C", copy=True))
    if like is not None and like.device.type != "cpu":
        out = out.to(like.device)
    return out


# ---- numerical side: perturb the inputs in place through numpy (or indexing off the CPU) ----


def _check_outputs_same_dtype_and_shape(output1, output2, eps, idx=None):
    on_index = f"on index {idx} " if idx is not None else ""
    if output1.shape != output2.shape:
        raise AssertionError(
            f"Expected `func` to return outputs with the same shape"
            f" when inputs are perturbed {on_index}by {eps}, but got:"
            f" shapes {tapegrad.Size(output1.shape)} and {tapegrad.Size(output2.shape)}."
        )
    if output1.dtype != output2.dtype:
        raise AssertionError(
            f"Expected `func` to return outputs with the same dtype"
            f" when inputs are perturbed {on_index}by {eps}, but got:"
            f" dtypes {output1.dtype} and {output2.dtype}."
        )


class _Perturber:
    """Writes into one input's memory without recording anything or moving its version counter.

    On the CPU the tensor's numpy view shares its memory (strides included). On other devices the
    values are written through a no_grad indexing assignment on a detached alias.
    """

    def __init__(self, inp):
        self.inp = inp
        self.shape = tuple(inp.shape)
        if inp.device.type == "cpu":
            self.view = inp.detach().numpy()
            self.orig = self.view.copy()
        else:
            self.view = None
            self.orig = _to_numpy(inp)

    def set(self, values):
        """values: numpy array shaped like the input (the whole input is rewritten)."""
        if self.view is not None:
            self.view[...] = values
        else:
            with tapegrad.no_grad():
                self.inp.detach()[...] = _to_tensor(np.asarray(values, dtype=self.orig.dtype), self.inp)

    def set_element(self, idx, value):
        if self.view is not None:
            self.view[idx] = value
        else:
            with tapegrad.no_grad():
                self.inp.detach()[idx] = float(value)

    def restore(self):
        self.set(self.orig)


def _refresh_outputs(func, inputs, outputs):
    """Outputs whose graph is still usable after perturbing.

    Off the CPU the perturbation writes through indexing, which moves the inputs' version counters
    and so invalidates what the first forward saved: run the forward again there.
    """
    if all(a.device.type == "cpu" for a in inputs if _is_tensor(a) and a.requires_grad):
        return outputs
    return _differentiable_outputs(func(*inputs))


def _evaluate(fn, inputs):
    return tuple(_to_numpy(o) for o in _as_tuple(fn(*inputs)))


def _central_difference(outa, outb, eps, nbhd_idx):
    res = []
    for a, b in zip(outa, outb):
        _check_outputs_same_dtype_and_shape(a, b, eps, nbhd_idx)
        if np.issubdtype(a.dtype, np.floating):
            d = (b - a) / (2 * eps)
        else:
            d = (b.astype(np.float64) - a.astype(np.float64)) / (2 * eps)
        res.append(d.reshape(-1))
    return res


def _numerical_jacobian_wrt_input(fn, inputs, input_idx, n_outputs_like, eps):
    """One (numel_in, numel_out) array per output: row k is d(output)/d(input element k)."""
    inp = inputs[input_idx]
    p = _Perturber(inp)
    jac = [
        np.zeros((inp.numel(), o.size), dtype=o.dtype if np.issubdtype(o.dtype, np.floating) else np.float64)
        for o in n_outputs_like
    ]
    try:
        for k, idx in enumerate(np.ndindex(*p.shape)):
            orig = p.orig[idx]
            p.set_element(idx, orig - eps)
            outa = _evaluate(fn, inputs)
            p.set_element(idx, orig + eps)
            outb = _evaluate(fn, inputs)
            p.set_element(idx, orig)
            for j, col in zip(jac, _central_difference(outa, outb, eps, idx)):
                j[k] = col
    finally:
        p.restore()
    return jac


def _numerical_jacobians(fn, inputs, func_out, eps):
    """jac[input][output] for every input that requires grad and every output of fn."""
    out_arrays = tuple(_to_numpy(o) for o in _as_tuple(func_out))
    return [
        _numerical_jacobian_wrt_input(fn, inputs, i, out_arrays, eps)
        for i, a in enumerate(inputs)
        if _is_tensor(a) and a.requires_grad
    ]


def _numerical_jvp_wrt_input(fn, inputs, input_idx, u, eps):
    """(f(x + eps u) - f(x - eps u)) / (2 eps), flattened, one per output (fast mode)."""
    p = _Perturber(inputs[input_idx])
    delta = (u * eps).reshape(p.shape).astype(p.orig.dtype)
    try:
        p.set(p.orig - delta)
        outa = _evaluate(fn, inputs)
        p.set(p.orig + delta)
        outb = _evaluate(fn, inputs)
    finally:
        p.restore()
    return _central_difference(outa, outb, eps, None)


# ---- analytical side ----
