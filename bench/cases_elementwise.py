# Cases: bandwidth-bound work on big float32 vectors (copy, elementwise fwd+bwd, full reductions).
"""Each case declares the least traffic its work needs, so the table can show GB/s and the
share of the machine's copy bandwidth (see bandwidth.py).

Elementwise forward+backward times, as a user would write it,

    x.grad = None; op(x).backward(g)

with x a float32 leaf that requires grad, y a float32 constant (no grad) and g a
preallocated gradient. Minimal traffic per call, in tensors of n float32:
  forward   read x (and y), write the output;
  backward  read g and the one saved tensor (x, the output, or y for mul), write x.grad;
            add saves nothing: read g, write x.grad.
pow is x ** 2, the case torch special-cases (squares in losses and norms).
"""
from harness import case

F32 = 4
EW_SIZES = (20, 24)  # log2 of the element count
EW_TARGET = 0.8  # tapegrad/torch
EW_COPY_TARGET = 1.3  # time / (time a copy of the same bytes takes), at 2^24 only
REDUCE_COPY_TARGET = 1.1

# name -> (timed expression, tensors the whole fwd+bwd must move, in units of n float32)
ELEMENTWISE = {
    "sin": ("sin(x)", 5),
    "sigmoid": ("sigmoid(x)", 5),
    "log": ("log(x)", 5),  # x in [0.5, 1.5): positive
    "exp": ("exp(x)", 5),
    "pow": ("x ** 2", 5),
    "mul": ("x * y", 6),  # forward reads y too; backward reads g and y
    "add": ("x + y", 5),  # forward reads y too; backward only reads g
}


def _vector(lib, n):
    """n float32 in [0.5, 1.5): positive for log, no denormals anywhere."""
    return lib.rand(n) + 0.5


def _elementwise_setup(op, expr, n):
    def setup(lib):
        lib.manual_seed(0)
        x = _vector(lib, n).requires_grad_()
        ns = {"x": x, "y": _vector(lib, n), "g": _vector(lib, n), op: getattr(lib, op)}
        # Clearing .grad keeps the work the same every call (no accumulation into old grads).
        return f"x.grad = None; ({expr}).backward(g)", ns

    return setup


@case("copy: dst.copy_(x) into preallocated", size="2^24", target=None, bytes=2 * F32 * 2**24)
def copy_into(lib):
    x = _vector(lib, 2**24)
    dst = lib.empty(2**24)
    return "dst.copy_(x)", {"x": x, "dst": dst}


for _log2 in EW_SIZES:
    _n = 2**_log2
    for _op, (_expr, _tensors) in ELEMENTWISE.items():
        case(f"elementwise fwd+bwd: {_expr}", size=f"2^{_log2}", target=EW_TARGET,
             bytes=_tensors * F32 * _n,
             copy_target=EW_COPY_TARGET if _log2 == 24 else None,
             )(_elementwise_setup(_op, _expr, _n))


def _full_reduce(op):
    def setup(lib):
        lib.manual_seed(0)
        return f"x.{op}()", {"x": _vector(lib, 2**24)}

    return setup


for _op in ("sum", "mean"):
    # Forward only; the traffic is reading x once.
    case(f"full reduction: x.{_op}()", size="2^24", target=None, bytes=F32 * 2**24,
         copy_target=REDUCE_COPY_TARGET)(_full_reduce(_op))
