"""tapegrad: PyTorch's autograd API over a small C++ engine. `import tapegrad as torch` and go."""
import builtins

from tapegrad import _C
from tapegrad import _memory  # noqa: F401  (hooks the garbage collector)
from tapegrad._C import (  # noqa: F401  (re-exported public names)
    Tensor,
    abs,
    acos,
    acosh,
    add,
    addcdiv,
    addcmul,
    arctan2,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    bool,
    ceil,
    clamp,
    clamp_max,
    clamp_min,
    clip,
    clone,
    cos,
    cosh,
    detach,
    device,
    div,
    dtype,
    empty,
    empty_like,
    exp,
    exp2,
    expm1,
    float32,
    float64,
    floor,
    floor_divide,
    fmod,
    frac,
    full,
    full_like,
    get_default_dtype,
    int32,
    int64,
    is_grad_enabled,
    is_tensor,
    lerp,
    log,
    log10,
    log2,
    logaddexp,
    masked_select,
    mean,
    mul,
    nan_to_num,
    neg,
    negative,
    numel,
    ones,
    ones_like,
    pow,
    reciprocal,
    relu,
    remainder,
    round,
    rsqrt,
    rsub,
    set_default_dtype,
    sigmoid,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    sub,
    sum,
    tanh,
    tensor,
    trace,
    trunc,
    zeros,
    zeros_like,
)
from tapegrad._C import (  # noqa: F401  (views, indexing, reductions, comparisons)
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    argsort,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    bmm,
    cat,
    chunk,
    concat,
    concatenate,
    cumsum,
    diag,
    diagonal,
    dot,
    eq,
    flatten,
    flip,
    gather,
    ge,
    gt,
    index_add,
    index_select,
    isfinite,
    isinf,
    isnan,
    le,
    log_softmax,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    logsumexp,
    lt,
    masked_fill,
    matmul,
    maximum,
    minimum,
    mm,
    mv,
    narrow,
    ne,
    nonzero,
    outer,
    permute,
    prod,
    reshape,
    roll,
    scatter,
    scatter_add,
    select,
    softmax,
    squeeze,
    stack,
    std,
    swapaxes,
    t,
    transpose,
    tril,
    triu,
    unbind,
    unsqueeze,
    var,
    where,
)
from tapegrad._C import (  # noqa: F401  (creation, randomness, interop)
    Generator,
    arange,
    default_generator,
    eye,
    from_dlpack,
    from_numpy,
    initial_seed,
    linspace,
    manual_seed,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    seed,
)
from tapegrad._C import is_anomaly_enabled  # noqa: F401
from tapegrad import return_types
from tapegrad._size import Size
from tapegrad import autograd, cuda  # noqa: F401


from tapegrad._C import addmm, divide, erf, log1p, nansum, true_divide  # noqa: F401
from tapegrad._composites import (  # noqa: F401
    allclose,
    atleast_1d,
    atleast_2d,
    broadcast_tensors,
    broadcast_to,
    count_nonzero,
    equal,
    hstack,
    isclose,
    moveaxis,
    movedim,
    repeat_interleave,
    tile,
    unflatten,
    vstack,
)

# nn, optim, utils and save/load load on first use, so `import tapegrad` stays a few milliseconds.
_LAZY_SUBMODULES = ("nn", "optim", "utils")
_LAZY_FUNCTIONS = {"save": "tapegrad.serialization", "load": "tapegrad.serialization"}


def __getattr__(name):
    import importlib

    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"tapegrad.{name}")
    if name in _LAZY_FUNCTIONS:
        return getattr(importlib.import_module(_LAZY_FUNCTIONS[name]), name)
    raise AttributeError(f"module 'tapegrad' has no attribute '{name}'")
from tapegrad.autograd.grad_mode import (  # noqa: F401
    enable_grad,
    inference_mode,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

__version__ = "0.1.0"

def as_tensor(data, dtype=None, device=None):
    """Shares memory with a numpy array or tensor when no conversion is needed, else copies."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if type(data).__module__ == "numpy" and type(data).__name__ == "ndarray":
        t = from_numpy(data)
        return t if dtype is None else t.to(dtype)
    return tensor(data, dtype=dtype, device=device)


float = float32
double = float64
long = int64
int = int32

_C._set_size_class(Size)


def _find_blas():
    """The path of scipy-openblas32's library, found without importing it (matmul loads it on first use)."""
    import importlib.util
    import os

    spec = importlib.util.find_spec("scipy_openblas32")
    if spec is None or not spec.submodule_search_locations:
        return ""
    lib_dir = os.path.join(list(spec.submodule_search_locations)[0], "lib")
    names = [n for n in os.listdir(lib_dir) if n.startswith("libscipy_openblas")] if os.path.isdir(lib_dir) else []
    return os.path.join(lib_dir, sorted(names)[0]) if names else ""


_C._set_blas_library_path(_find_blas())


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """torch.set_printoptions; the formatter (and numpy) load on first use to keep import fast."""
    from tapegrad import _tensor_str

    _tensor_str.set_printoptions(precision, threshold, edgeitems, linewidth, profile, sci_mode)


def _repr(self, *, tensor_contents=None):
    """Formats exactly as torch prints a tensor (values, dtype, device, grad suffixes)."""
    from tapegrad._tensor_str import format_tensor

    dev = self.device
    empty = self.numel() == 0
    return format_tensor(
        None if empty else self.detach().numpy() if dev.type == "cpu" else self.detach().cpu().numpy(),
        repr(self.dtype)[len("torch."):],
        default_dtype=repr(get_default_dtype())[len("torch."):],
        device=None if dev.type == "cpu" else str(dev),
        requires_grad=self.requires_grad,
        grad_fn_name=self.grad_fn.name().rsplit('::', 1)[-1] if self.grad_fn is not None else None,
        empty_shape=tuple(self.shape) if empty else None,
    )


_ABSENT = object()  # an argument left out: torch's max and min have no dim=None form

_EXTREME_FORMS = {"method": ["()", "(Tensor other)", "(int dim, bool keepdim = False)"],
                  "function": ["(Tensor input, *, Tensor out = None)", "(Tensor input, Tensor other, *, Tensor out = None)",
                               "(Tensor input, int dim, bool keepdim = False, *, tuple of Tensors out = None)"]}


def _invalid_extreme_call(name, form, positional, other):
    got = [type(v).__name__ for v in positional if v is not _ABSENT]
    got += [] if other is _ABSENT else [f"other={type(other).__name__}"]
    forms = "".join(f" * {f}\n" for f in _EXTREME_FORMS[form])
    return TypeError(f"{name}() received an invalid combination of arguments - got ({', '.join(got)}), "
                     f"but expected one of:\n{forms}")


def _extreme_args(name, form, positional, dim, keepdim, other):
    """(dim, keepdim) for max/min in one of torch's three forms: everything (dim None), elementwise
    against a tensor (dim a tensor) or along an int dim; any other arguments are torch's TypeError."""
    if other is not _ABSENT:
        dim, fits = other, isinstance(other, Tensor) and dim is _ABSENT and keepdim is _ABSENT
    elif isinstance(dim, Tensor) or dim is _ABSENT:
        fits = keepdim is _ABSENT
    else:
        # (builtins.bool: this module's `bool` is the dtype)
        fits = (not isinstance(dim, builtins.bool) and hasattr(type(dim), "__index__")
                and (keepdim is _ABSENT or isinstance(keepdim, builtins.bool)))
    if not fits:
        raise _invalid_extreme_call(name, form, positional, other)
    return None if dim is _ABSENT else dim, keepdim is True


def _extreme_method(method, pair_type, name):
    def reduce(self, dim=_ABSENT, keepdim=_ABSENT, *, other=_ABSENT):
        dim, keepdim = _extreme_args(name, "method", (dim, keepdim), dim, keepdim, other)
        r = method(self, dim, keepdim)
        return pair_type(r) if isinstance(r, tuple) else r

    reduce.__name__ = reduce.__qualname__ = name
    return reduce


def _extreme_function(method, pair_type, name):
    def reduce(input, dim=_ABSENT, keepdim=_ABSENT, *, other=_ABSENT):
        if not isinstance(input, Tensor):
            if dim is _ABSENT and keepdim is _ABSENT and other is _ABSENT:
                raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
            raise _invalid_extreme_call(name, "function", (input, dim, keepdim), other)
        dim, keepdim = _extreme_args(name, "function", (input, dim, keepdim), dim, keepdim, other)
        r = method(input, dim, keepdim)
        return pair_type(r) if isinstance(r, tuple) else r

    reduce.__name__ = reduce.__qualname__ = name
    return reduce


_STABLE_NOT_GIVEN = object()


def sort(input, dim=-1, descending=False, stable=_STABLE_NOT_GIVEN):
    """(values, indices) along dim; stable in every case, NaN above every number (as torch)."""
    given = stable is not _STABLE_NOT_GIVEN
    if given and stable is not None and not isinstance(stable, type(True)):  # `bool` here is tapegrad.bool
        raise TypeError(f"sort(): argument 'stable' must be bool, not {type(stable).__name__}")
    return return_types.sort(_C._sort(input, dim, descending, given))


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002  (torch's name)
    return return_types.topk(_C._topk(input, k, dim, largest, sorted))


Tensor.sort = sort
Tensor.topk = topk
Tensor.max = _extreme_method(Tensor._max, return_types.max, "max")
Tensor.min = _extreme_method(Tensor._min, return_types.min, "min")
max = _extreme_function(Tensor._max, return_types.max, "max")  # noqa: A001  (torch's name)
min = _extreme_function(Tensor._min, return_types.min, "min")  # noqa: A001


def split(tensor, split_size_or_sections, dim=0):
    """torch.split is Python in torch: it calls tensor.split (an AttributeError for a non-tensor)."""
    return tensor.split(split_size_or_sections, dim)


def norm(input, p="fro", dim=None, keepdim=False):
    """torch.norm is Python in torch: it reads input.layout first (an AttributeError for a non-tensor)."""
    if not isinstance(input, Tensor):
        raise AttributeError(f"'{type(input).__name__}' object has no attribute 'layout'")
    return _C.norm(input, p, dim, keepdim)


# The getter (in C++) warns as torch does when a non-leaf that does not retain its grad is read.
Tensor.grad = property(Tensor._get_grad, Tensor._set_grad, lambda self: self._set_grad(None), "The gradient (or None).")

_scalar_float = Tensor.__float__


def _float(self):
    if self.requires_grad:
        import warnings

        warnings.warn(
            "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
            "Consider using tensor.detach() first.",
            UserWarning,
            stacklevel=2,
        )
    return _scalar_float(self)


Tensor.__float__ = _float
Tensor.__repr__ = _repr
Tensor.__str__ = _repr
Tensor.__hash__ = object.__hash__


def _deepcopy(self, memo):
    if not self.is_leaf:
        raise RuntimeError(
            "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment.  "
            "If you were attempting to deepcopy a module, this may be because of a torch.nn.utils.weight_norm usage, "
            "see https://github.com/pytorch/pytorch/pull/103001")
    if id(self) not in memo:
        copied = self.detach().clone().requires_grad_(self.requires_grad)
        if self._get_grad() is not None:
            copied.grad = self._get_grad().clone()
        memo[id(self)] = copied
    return memo[id(self)]


Tensor.__deepcopy__ = _deepcopy


def _cpu(self, memory_format=None):
    return self.to("cpu")


def _cuda(self, device=None, non_blocking=False, memory_format=None):
    return self.to("cuda" if device is None else device if not isinstance(device, int) else f"cuda:{device}")


Tensor.cpu = _cpu
Tensor.cuda = _cuda
