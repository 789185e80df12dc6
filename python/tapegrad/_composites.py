"""torch functions that are compositions of tapegrad ops: each records the same nodes torch's does."""
import warnings

from tapegrad import _C
from tapegrad._C import Tensor

__all__ = ["broadcast_to", "broadcast_tensors", "movedim", "moveaxis", "isclose", "allclose", "equal", "tile", "unflatten", "repeat_interleave",
           "count_nonzero", "atleast_1d", "atleast_2d", "hstack", "vstack"]


def _type_name(value):
    t = type(value)
    return t.__name__ if t.__module__ in ("builtins", "tapegrad._C") else f"{t.__module__}.{t.__qualname__}"


def _tensor_arg(fn, value, name, pos):
    """torch's TypeError for an argument that must be a tensor."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not {_type_name(value)}")
    return value


def _argument_error(fn, value, name, pos, kind):
    where = f"argument '{name}'" + ("" if pos is None else f" (position {pos})")
    return TypeError(f"{fn}(): {where} must be {kind}, not {_type_name(value)}")


def _optional_tensor_arg(fn, value, name, pos):
    """A tensor or None (torch's 'Tensor?'), else torch's TypeError."""
    if value is not None and not isinstance(value, Tensor):
        raise _argument_error(fn, value, name, pos, "Tensor")
    return value


def _bool_arg(fn, value, name, pos=None):
    """True or False only, as torch's parser reads a bool."""
    if type(value).__name__ not in ("bool", "bool_"):
        raise _argument_error(fn, value, name, pos, "bool")
    return bool(value)


def _int_arg(fn, value, name, pos=None):
    """An int or anything with __index__, never a bool or a float."""
    if isinstance(value, bool) or isinstance(value, Tensor) or not hasattr(type(value), "__index__"):
        raise _argument_error(fn, value, name, pos, "int")
    return value.__index__()


def _float_arg(fn, value, name, pos=None):
    """Any real number (a bool too, as torch's parser takes one), never a tensor or a string."""
    if isinstance(value, Tensor) or not (hasattr(type(value), "__float__") or hasattr(type(value), "__index__")) \
            or isinstance(value, (str, bytes)):
        raise _argument_error(fn, value, name, pos, "float")
    return value


def _str_arg(fn, value, name, pos=None):
    if not isinstance(value, str):
        raise _argument_error(fn, value, name, pos, "str")
    return value


def _tensors_arg(fn, tensors):
    """A sequence of tensors (torch's 'tuple of Tensors' argument), else torch's TypeError."""
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{fn}(): argument 'tensors' (position 1) must be tuple of Tensors, not {_type_name(tensors)}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {_type_name(t)}")
    return list(tensors)


def _ints_arg(fn, value, name, pos, single=False):
    """A tuple of ints (or, where torch takes one, an int), else torch's TypeError."""
    if single and isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be tuple of ints, not {_type_name(value)}")
    for i, v in enumerate(value):
        if isinstance(v, bool) or not (isinstance(v, int) or hasattr(v, "__index__")):
            if i:  # torch words a bad element after the first by its unpacking error
                raise TypeError(f"{fn}(): argument '{name}' failed to unpack the object at pos {i + 1} with error "
                                f"\"type must be tuple of ints,but got {_type_name(v)}\"")
            raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be tuple of ints, but found element of "
                            f"type {_type_name(v)} at pos {i}")
    return value


def broadcast_to(input, size):
    _tensor_arg("broadcast_to", input, "input", 1)
    return input.expand(_ints_arg("broadcast_to", size, "size", 2))


def broadcast_tensors(*tensors):
    """The tensors expanded to their common shape (torch's message for shapes that clash)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {k} in argument 0, but got {type(t).__name__}")
    shape = list(tensors[0].shape) if tensors else []
    for k, t in enumerate(tensors[1:], 1):
        a, b = shape, list(t.shape)
        n = max(len(a), len(b))
        a, b = [1] * (n - len(a)) + a, [1] * (n - len(b)) + b
        for d in range(n):
            if a[d] != b[d] and a[d] != 1 and b[d] != 1:
                raise RuntimeError(f"The size of tensor a ({a[d]}) must match the size of tensor b ({b[d]}) at "
                                   f"non-singleton dimension {d}")
        shape = [max(x, y) if 0 not in (x, y) else 0 for x, y in zip(a, b)]
    # torch hands back a tensor already of that shape itself, no view (so no ExpandBackward0).
    return tuple(t if list(t.shape) == shape else t.expand(shape) for t in tensors)


def _wrap_dim(d, ndim):
    """d as a dim of a tensor of ndim dims (a 0-d tensor takes 0 and -1), with torch's IndexError."""
    if not -max(ndim, 1) <= d < max(ndim, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(ndim, 1)}, "
                         f"{max(ndim, 1) - 1}], but got {d})")
    return d % max(ndim, 1)


def _dim_list(dims, ndim, what):
    dims = [dims] if isinstance(dims, int) else list(dims)
    wrapped = [_wrap_dim(d, ndim) for d in dims]
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"movedim: repeated dim in `{what}` ({dims})")
    return dims, wrapped


def movedim(input, source, destination):
    """The dims in `source` moved to the places in `destination`, the others keeping their order."""
    _tensor_arg("movedim", input, "input", 1)
    if isinstance(source, (list, tuple)) != isinstance(destination, (list, tuple)):
        raise TypeError(f"movedim(): source and destination must both be ints or both be tuples of ints, got "
                        f"{type(source).__name__} and {type(destination).__name__}")
    for name, pos, value in (("source", 2, source), ("destination", 3, destination)):
        _ints_arg("movedim", value, name, pos, single=True)
    src, src_w = _dim_list(source, input.dim(), "source")
    dst, dst_w = _dim_list(destination, input.dim(), "destination")
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the "
                           f"same number of dims as destination ({dst} dims)")
    if input.dim() == 0:  # only dim 0 (or -1) exists: torch returns an alias
        return _C._alias(input)
    order = [None] * input.dim()
    for s, d in zip(src_w, dst_w):
        order[d] = s
    rest = iter(d for d in range(input.dim()) if d not in src_w)
    return input.permute([o if o is not None else next(rest) for o in order])


moveaxis = movedim


def tile(input, dims):
    """input repeated dims times per dimension; missing leading dims count as 1 (either side)."""
    _tensor_arg("tile", input, "input", 1)
    dims = tuple(_ints_arg("tile", dims, "dims", 2, single=True)) if isinstance(dims, (list, tuple)) else \
        (_ints_arg("tile", dims, "dims", 2, single=True),)
    dims = (1,) * (input.dim() - len(dims)) + dims
    return input.repeat(*dims)


def unflatten(input, dim, sizes):
    """Dim `dim` split into `sizes` (one of them may be -1), as a view."""
    _tensor_arg("unflatten", input, "input", 1)
    _int_arg("unflatten", dim, "dim", 2)
    sizes = list(_ints_arg("unflatten", sizes, "sizes", 3))
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if input.dim() == 0:
        raise RuntimeError(f"unflatten got an unexpected error:\nDimension specified as {dim} but tensor has no "
                           "dimensions")
    d = _wrap_dim(dim, input.dim())
    known = 1
    for s in sizes:
        known *= s if s != -1 else 1
    total = input.shape[d]
    if sizes.count(-1) > 1:
        raise RuntimeError("unflatten got an unexpected error:\nonly one dimension can be inferred")
    if -1 in sizes:  # inferred from the dim's own size (not the whole tensor's, which may be empty)
        if known == 0:
            raise RuntimeError(f"unflatten got an unexpected error:\ncannot reshape tensor of 0 elements into shape "
                               f"{sizes} because the unspecified dimension size -1 can be any value and is ambiguous")
        if total % known:
            raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size of dim {dim} "
                               f"({total}) in the input tensor")
        sizes[sizes.index(-1)] = total // known
    elif known != total:
        raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size of dim {dim} ({total}) "
                           "in the input tensor")
    return input.view(*input.shape[:d], *sizes, *input.shape[d + 1:])


_ABSENT = object()  # repeat_interleave's repeats left out: the one-tensor form, which None is not


def _repeat_interleave_args(input, repeats, dim, output_size):
    """torch's forms (Tensor input, Tensor or int repeats, int dim=None, *, int output_size=None) and
    (Tensor repeats, *, int output_size=None); other arguments are its "invalid combination" TypeError."""
    def is_int(v):
        return not isinstance(v, (bool, Tensor)) and hasattr(type(v), "__index__")

    fits = isinstance(input, Tensor) and (output_size is None or is_int(output_size))
    if repeats is not _ABSENT:
        fits = fits and (isinstance(repeats, Tensor) or is_int(repeats)) and (dim is None or is_int(dim))
    if not fits:
        given = [v for v in (input, repeats) if v is not _ABSENT]
        got = ", ".join([_type_name(v) for v in given] + [f"{k}={_type_name(v)}" for k, v in
                                                           (("dim", dim), ("output_size", output_size)) if v is not None])
        raise TypeError(f"repeat_interleave() received an invalid combination of arguments - got ({got}), but expected "
                        "one of:\n * (Tensor input, Tensor repeats, int dim = None, *, int output_size = None)\n"
                        " * (Tensor input, int repeats, int dim = None, *, int output_size = None)\n"
                        " * (Tensor repeats, *, int output_size = None)\n")
    counts = input if repeats is _ABSENT else repeats
    if isinstance(counts, Tensor) and counts.dtype not in (_C.int64, _C.int32):
        raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for '{_scalar_name(counts.dtype)}'")


def repeat_interleave(input, repeats=_ABSENT, dim=None, *, output_size=None):
    """Each element (along dim, or of the flattened input) repeated; repeat_interleave(counts) gives the
    index each output position takes."""
    _repeat_interleave_args(input, repeats, dim, output_size)
    for v in (repeats, dim, output_size):  # torch's parser unpacks each int as an int64 first
        if v is not _ABSENT and v is not None and not isinstance(v, Tensor) and not -2**63 <= v.__index__() < 2**63:
            raise ValueError("Overflow when unpacking long long")
    if dim is not None:
        _wrap_dim(dim, input.dim())
    if repeats is _ABSENT:
        if input.dim() != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        counts = input.tolist()
        if any(c < 0 for c in counts):
            raise RuntimeError("repeats can not be negative")
        return _C.tensor([i for i, c in enumerate(counts) for _ in range(c)], dtype=_C.int64)
    if dim is None:
        input, dim = input.flatten(), 0
    d = _wrap_dim(dim, input.dim())
    if isinstance(repeats, Tensor) and repeats.numel() == 1:  # one count for every element
        repeats = repeats.reshape(1).expand(input.shape[d])
    if isinstance(repeats, int):  # a copy of the expanded view, as torch: its node is ViewBackward0
        if repeats < 0:
            raise RuntimeError("Repeats must be non-negative")
        shape = list(input.shape)
        expanded = input.unsqueeze(d + 1).expand(*shape[:d + 1], repeats, *shape[d + 1:])
        return expanded.clone().view(*shape[:d], shape[d] * repeats, *shape[d + 1:])  # never input itself
    if repeats.dim() != 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    if repeats.shape[0] != input.shape[d]:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                           f"{repeats.shape[0]} and input.size({dim}) = {input.shape[d]}")
    return input.index_select(d, repeat_interleave(repeats))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other| elementwise, with torch's handling of inf and nan."""
    _tensor_arg("isclose", input, "input", 1)
    _tensor_arg("isclose", other, "other", 2)
    _float_arg("isclose", rtol, "rtol")
    _float_arg("isclose", atol, "atol")
    _bool_arg("isclose", equal_nan, "equal_nan")
    if input.dtype != other.dtype:
        raise RuntimeError(f"{_scalar_name(input.dtype)} did not match {_scalar_name(other.dtype)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    a, b = input.detach(), other.detach()
    close = a == b
    if equal_nan and a.is_floating_point():
        close = close | (a.isnan() & b.isnan())
    if a.dtype == _C.bool:
        return close
    if not a.is_floating_point():
        a, b = a.double(), b.double()
    error = (a - b).abs()
    return close | (error.isfinite() & (error <= atol + (b * rtol).abs()))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    _tensor_arg("allclose", input, "input", 1)
    _tensor_arg("allclose", other, "other", 2)
    _float_arg("allclose", rtol, "rtol")
    _float_arg("allclose", atol, "atol")
    _bool_arg("allclose", equal_nan, "equal_nan")
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other):
    """True when both have the same size and the same values."""
    _tensor_arg("equal", input, "input", 1)
    _tensor_arg("equal", other, "other", 2)
    return input.shape == other.shape and bool((input == other).all())


def count_nonzero(input, dim=None):
    _tensor_arg("count_nonzero", input, "input", 1)
    if dim is not None:
        _ints_arg("count_nonzero", dim, "dim", 2, single=True)
    return (input != 0).sum() if dim is None else (input != 0).sum(dim)


def atleast_1d(*tensors):
    out = [t.reshape(1) if t.dim() == 0 else t for t in _unpack(tensors, "atleast_1d")]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_2d(*tensors):
    out = [t.reshape(1, 1) if t.dim() == 0 else t.unsqueeze(0) if t.dim() == 1 else t
           for t in _unpack(tensors, "atleast_2d")]
    return out[0] if len(out) == 1 else tuple(out)


def hstack(tensors):
    tensors = _tensors_arg("hstack", tensors)
    if len(tensors) == 0:
        raise RuntimeError("hstack expects a non-empty TensorList")
    ts = [atleast_1d(t) for t in tensors]
    return _C.cat(ts, 0 if ts[0].dim() == 1 else 1)


def vstack(tensors):
    tensors = _tensors_arg("vstack", tensors)
    if len(tensors) == 0:
        raise RuntimeError("vstack expects a non-empty TensorList")
    return _C.cat([atleast_2d(t) for t in tensors], 0)


def _unpack(tensors, fn):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return _tensors_arg(fn, tensors[0])
    if len(tensors) == 1 and not isinstance(tensors[0], Tensor):
        got = _type_name(tensors[0])
        raise TypeError(f"{fn}() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                        f" * (Tensor input)\n      didn't match because some of the arguments have invalid types: "
                        f"(!{got}!)\n * (tuple of Tensors tensors)\n      didn't match because some of the arguments "
                        f"have invalid types: (!{got}!)\n")
    return _tensors_arg(fn, tensors)


def _scalar_name(dtype):
    return {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int", "bool": "Bool"}[str(dtype).split(".")[-1]]


# --- Tensor methods: the same functions, and torch's new_* constructors ---

def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, _name="new_full"):
    _ints_arg(_name, size, "size", 1)
    return _C.full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                   requires_grad=requires_grad)


def _new_filled(value, name):
    def method(self, *size, dtype=None, device=None, requires_grad=False):
        # one argument that is not an int is the whole size (torch names it, not its element)
        one = len(size) == 1 and (isinstance(size[0], bool) or not hasattr(type(size[0]), "__index__"))
        shape = size[0] if one else size
        return _new_full(self, shape, value, dtype=dtype, device=device, requires_grad=requires_grad, _name=name)

    return method


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                      "sourceTensor.detach().clone().requires_grad_(True), rather than tensor.new_tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
        copy = data.detach().clone().to(dtype=dtype or self.dtype, device=device or self.device)
        return copy.requires_grad_(requires_grad)
    return _C.tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


Tensor.new_full = _new_full
Tensor.new_zeros = _new_filled(0, "new_zeros")
Tensor.new_ones = _new_filled(1, "new_ones")
Tensor.new_empty = _new_filled(0, "new_empty")
Tensor.new_tensor = _new_tensor
Tensor.broadcast_to = broadcast_to
Tensor.tile = lambda self, *dims: tile(self, dims[0] if len(dims) == 1 and isinstance(dims[0], (list, tuple)) else dims)
# (the method, unlike the function, takes sizes=None, as no sizes)
Tensor.unflatten = lambda self, dim, sizes: unflatten(self, dim, () if sizes is None else sizes)
Tensor.repeat_interleave = repeat_interleave
Tensor.movedim = movedim
Tensor.moveaxis = movedim


def _method_of(fn, name):
    """fn as a Tensor method: torch counts a method's `other` as position 1."""
    def method(self, other, *args, **kwargs):
        _tensor_arg(name, other, "other", 1)
        return fn(self, other, *args, **kwargs)

    method.__name__ = name
    return method


Tensor.isclose = _method_of(isclose, "isclose")
Tensor.allclose = _method_of(allclose, "allclose")
Tensor.equal = _method_of(equal, "equal")
Tensor.count_nonzero = count_nonzero


# Tensor.type(): torch's legacy type names ('torch.FloatTensor', 'torch.cuda.LongTensor').
_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "int64": "LongTensor", "int32": "IntTensor",
               "bool": "BoolTensor"}


def _type(self, dtype=None, non_blocking=False, **kwargs):
    """With no argument the type's name; else self converted to that dtype (or type name), self if unchanged."""
    if dtype is None:
        prefix = "torch." if self.device.type == "cpu" else f"torch.{self.device.type}."
        return prefix + _TYPE_NAMES[str(self.dtype).split(".")[-1]]
    if isinstance(dtype, str):
        device = "cpu"
        name = dtype
        if name.startswith("torch.cuda."):
            device, name = "cuda", "torch." + name[len("torch.cuda."):]
        by_name = {"torch." + v: k for k, v in _TYPE_NAMES.items()}
        if name not in by_name:
            raise ValueError(f"invalid type: '{dtype}'")
        target = getattr(_C, by_name[name])
        if self.device.type != device:
            return self.to(device=device, dtype=target)
        return self.to(target)
    if not isinstance(dtype, _C.dtype):
        raise TypeError("dtype must be a type, str, or dtype object")
    return self.to(dtype)


Tensor.type = _type
