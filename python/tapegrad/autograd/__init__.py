"""tapegrad.autograd: backward() and grad() over the C++ engine, and the grad-mode switches."""
import operator
import warnings

import tapegrad
from tapegrad import _C
from tapegrad.autograd.anomaly_mode import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from tapegrad.autograd.function import Function, FunctionCtx
from tapegrad.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

__all__ = [
    "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "functional", "gradcheck", "gradgradcheck", "Function", "FunctionCtx", "detect_anomaly", "set_detect_anomaly",
    "is_anomaly_enabled",
]


def _as_tuple(x):
    if x is None:
        return None
    if isinstance(x, _C.Tensor):
        return (x,)
    return tuple(x)


def _flag(value):
    """torch's engine reads its flags as unsigned bytes: an int in [0, 255] is taken for its truth,
    others overflow, and anything else is refused with Python's own TypeError ("'float' object
    cannot be interpreted as an integer")."""
    number = operator.index(value)
    if not 0 <= number <= 255:
        raise OverflowError(f"unsigned byte integer is {'less than minimum' if number < 0 else 'greater than maximum'}")
    return bool(number)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulates d(tensors)/d(leaves) into the leaves' .grad, seeded with grad_tensors."""
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors) or (None,) * len(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    retain_graph, create_graph = _flag(retain_graph), _flag(create_graph)
    if inputs is not None:
        _C._run_backward_into(tensors, grad_tensors, retain_graph, create_graph, _as_tuple(inputs))
    else:
        _C._run_backward(tensors, grad_tensors, retain_graph, create_graph, None, False)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, materialize_grads=False):
    """Returns d(outputs)/d(inputs) without touching any .grad; materialize_grads gives zeros where an
    input got no gradient."""
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate "
                      "gradient for other parts of the graph, please use torch.autograd.backward.",
                      FutureWarning, stacklevel=2)
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs) if inputs is not None else tuple(inputs)  # None: torch's TypeError
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    grad_outputs = _as_tuple(grad_outputs) or (None,) * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    retain_graph, create_graph = _flag(retain_graph), _flag(create_graph)
    result = _C._run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs, _flag(allow_unused))
    if materialize_grads:
        result = tuple(g if g is not None else tapegrad.zeros_like(x, requires_grad=create_graph)
                       for g, x in zip(result, inputs))
    return result


from tapegrad.autograd import functional  # noqa: E402  (needs grad() above)
from tapegrad.autograd.gradcheck import gradcheck, gradgradcheck  # noqa: E402
