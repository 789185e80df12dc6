"""Module.to / float / double / cpu / cuda: converting parameters (in place of their data), grads and buffers."""
from tapegrad import _C
from tapegrad.autograd.grad_mode import no_grad


def apply_to_tensors(self, fn, recurse=True):
    """fn on every parameter (and its grad) and buffer; Parameter objects keep their identity."""
    if recurse:
        for module in self.children():
            module._apply(fn)
    for param in self._parameters.values():
        if param is None:
            continue
        with no_grad():
            # Swapping .data keeps the Parameter object, so optimizers holding it stay valid.
            param.data = fn(param)
            grad = param.grad
            if grad is not None:
                grad.data = fn(grad)
    for key, buf in self._buffers.items():
        if buf is not None:
            self._buffers[key] = fn(buf)
    return self


def to(self, *args, **kwargs):
    """Moves/casts parameters and buffers: to(device), to(dtype), to(device, dtype), to(tensor)."""
    device, dtype = _parse_to(args, kwargs)
    if dtype is not None and not dtype.is_floating_point:
        raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired "
                        f"dtype={dtype}")

    def convert(t):
        # Integer buffers (num_batches_tracked) move devices but keep their dtype.
        target = {"device": device, "dtype": dtype if t.is_floating_point() else None}
        return t.to(**{k: v for k, v in target.items() if v is not None})

    return self._apply(convert)


def cpu(self):
    return self._apply(lambda t: t.to("cpu"))


def cuda(self, device=None):
    where = "cuda" if device is None else (f"cuda:{device}" if isinstance(device, int) else device)
    return self._apply(lambda t: t.to(where))


def to_float(self):
    return self._apply(lambda t: t.float() if t.is_floating_point() else t)


def to_double(self):
    return self._apply(lambda t: t.double() if t.is_floating_point() else t)


def _parse_to(args, kwargs):
    """(device, dtype) from Module.to's overloads; non_blocking and memory_format are accepted and ignored."""
    kwargs = dict(kwargs)
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for arg in args:
        if isinstance(arg, _C.dtype):
            dtype = arg
        elif isinstance(arg, _C.Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, bool):
            continue  # non_blocking
        elif isinstance(arg, int):
            device = f"cuda:{arg}"
        elif isinstance(arg, (str, _C.device)):
            device = arg
        elif arg is not None:
            raise TypeError(f"to() received an invalid argument of type {type(arg).__name__}")
    return device, dtype
