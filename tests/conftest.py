# Shared parity helpers: run the same torch-API lambda through tapegrad and torch and compare.
import math
import os
import pathlib
import re
import warnings

import numpy as np
import pytest
import torch

try:
    import tapegrad
except ImportError:  # keep pure-Python suites (test_printing) collectable without the extension;
    tapegrad = None  # modules that need tapegrad import it themselves and fail loudly.

LIBS = (tapegrad, torch)

# When a hypothesis test fails, hypothesis' pytest plugin imports libcst to suggest a patch; that
# import emits a DeprecationWarning, which filterwarnings=error turns into an INTERNALERROR that
# aborts the whole run. Import it once here, quietly, so failures are reported normally.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        import hypothesis.extra._patching  # noqa: F401
    except Exception:  # noqa: BLE001 - optional; without it the plugin simply skips the patch
        pass


def package_root():
    """The directory holding the tapegrad package under test (what PYTHONPATH must point at)."""
    return str(pathlib.Path(tapegrad.__file__).resolve().parents[1])


SANITIZER_VARS = ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS", "PYTHONMALLOC")
# Under AddressSanitizer (tools/sanitize.sh) freed memory sits in a quarantine, every block has redzones
# and the pools step aside: resident-memory bounds measure ASan, not tapegrad, so those checks skip.
SANITIZED = "libasan" in os.environ.get("LD_PRELOAD", "")
NOT_UNDER_ASAN = pytest.mark.skipif(SANITIZED, reason="resident memory under ASan measures ASan")


def sanitizer_env():
    """What a child interpreter needs from ours to load a sanitized build (tools/sanitize.sh sets it);
    tests that start children with a minimal environment add this, else the child cannot import tapegrad."""
    return {k: os.environ[k] for k in SANITIZER_VARS if k in os.environ}

FLOAT_DTYPES = ("float32", "float64")
ALL_DTYPES = ("float32", "float64", "int64", "int32", "bool")
SHAPES = [(), (5,), (3, 4), (2, 3, 4)]
BROADCAST_PAIRS = [((3, 1), (1, 4)), ((4,), (3, 4)), ((), (2, 3)), ((2, 1, 4), (3, 1))]

# Tolerances per result dtype: float32 kernels may differ from torch's by a few ULP
# (vectorised transcendental math), float64 is expected to be essentially exact.
TOLS = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-12, atol=1e-13)}
GRAD_TOLS = {"float32": dict(rtol=5e-5, atol=5e-6), "float64": dict(rtol=1e-11, atol=1e-12)}


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Grad mode and the default dtype are process-global in both libraries: always restore them."""
    yield
    for lib in LIBS:
        if lib is None:
            continue
        lib.set_grad_enabled(True)
        lib.set_default_dtype(lib.float32)


def dt(lib, name):
    """The dtype object called `name` ("float32", ...) in lib."""
    return None if name is None else getattr(lib, name)


def dname(dtype):
    """'float32' for torch.float32 or tapegrad.float32."""
    return str(dtype).replace("torch.", "")


def to_numpy(t):
    return t.detach().numpy()


def make(lib, arr, dtype=None, requires_grad=False):
    """A lib tensor with the values of numpy array/number `arr`."""
    if np.size(arr) == 0:  # tolist() would lose the shape of an empty array
        return lib.zeros(np.shape(arr), dtype=dt(lib, dtype), requires_grad=requires_grad)
    return lib.tensor(np.array(arr).tolist() if np.ndim(arr) else np.array(arr).item(),
                      dtype=dt(lib, dtype), requires_grad=requires_grad)


def make_pair(arr, dtype=None, requires_grad=False):
    return make(tapegrad, arr, dtype, requires_grad), make(torch, arr, dtype, requires_grad)


def assert_tensor_equal(ours, theirs, *, rtol=None, atol=None, what="output"):
    """Same type (tensor), shape, dtype, requires_grad-independent values within tolerance."""
    assert isinstance(ours, tapegrad.Tensor), f"{what}: expected tapegrad.Tensor, got {type(ours)}"
    assert isinstance(theirs, torch.Tensor)
    assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: shape {tuple(ours.shape)} != {tuple(theirs.shape)}"
    assert dname(ours.dtype) == dname(theirs.dtype), f"{what}: dtype {ours.dtype} != {theirs.dtype}"
    a, b = to_numpy(ours), to_numpy(theirs)
    name = dname(theirs.dtype)
    if name in TOLS:
        tol = TOLS[name].copy()
        if rtol is not None:
            tol["rtol"] = rtol
        if atol is not None:
            tol["atol"] = atol
        np.testing.assert_allclose(a, b, equal_nan=True, err_msg=what, **tol)
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


def _per_input(value, n):
    if isinstance(value, (list, tuple)):
        assert len(value) == n
        return list(value)
    return [value] * n


def run_both(fn, *arrays, dtype="float32", requires_grad=True, upstream="random", seed=0,
             rtol=None, atol=None, grad_rtol=None, grad_atol=None, check_grad_fn=True):
    """Runs fn(lib, *tensors) in tapegrad and torch on the same data and compares everything.

    `fn` is written against the torch API. `dtype` and `requires_grad` apply to every input or
    are per-input lists (requires_grad is forced off for non-float inputs). `upstream` is
    "random" (a fixed random gradient with the output's shape), "sum" (backward of out.sum())
    or None (forward only). Compares the output's values, dtype, shape, requires_grad and
    grad_fn name, and every input's .grad (None-ness, dtype, shape, values).
    Returns (ours_out, torch_out, ours_inputs, torch_inputs).
    """
    n = len(arrays)
    dtypes = _per_input(dtype, n)
    rgs = [bool(rg) and d in FLOAT_DTYPES for rg, d in zip(_per_input(requires_grad, n), dtypes)]
    ours_in = [make(tapegrad, a, d, rg) for a, d, rg in zip(arrays, dtypes, rgs)]
    theirs_in = [make(torch, a, d, rg) for a, d, rg in zip(arrays, dtypes, rgs)]

    ours_out = fn(tapegrad, *ours_in)
    theirs_out = fn(torch, *theirs_in)
    assert_tensor_equal(ours_out, theirs_out, rtol=rtol, atol=atol)
    assert ours_out.requires_grad == theirs_out.requires_grad
    assert ours_out.is_leaf == theirs_out.is_leaf
    if check_grad_fn:
        ours_name = None if ours_out.grad_fn is None else ours_out.grad_fn.name()
        theirs_name = None if theirs_out.grad_fn is None else theirs_out.grad_fn.name()
        assert ours_name == theirs_name

    if upstream is not None and theirs_out.requires_grad:
        if upstream == "random":
            rng = np.random.default_rng(seed)
            g = rng.standard_normal(tuple(theirs_out.shape))
            gname = dname(theirs_out.dtype)
            ours_out.backward(make(tapegrad, g, gname))
            theirs_out.backward(make(torch, g, gname))
        elif upstream == "sum":
            ours_out.sum().backward()
            theirs_out.sum().backward()
        else:
            raise ValueError(upstream)
        for i, (o, t) in enumerate(zip(ours_in, theirs_in)):
            if t.grad is None:
                assert o.grad is None, f"input {i}: torch has no grad, tapegrad has {o.grad}"
                continue
            assert o.grad is not None, f"input {i}: tapegrad has no grad"
            tol = GRAD_TOLS[dname(t.grad.dtype)]
            assert_tensor_equal(o.grad, t.grad, rtol=grad_rtol or tol["rtol"],
                                atol=grad_atol or tol["atol"], what=f"grad of input {i}")
    return ours_out, theirs_out, ours_in, theirs_in


def numeric_gradcheck(fn, *arrays, eps=1e-6, rtol=1e-5, atol=1e-6, seed=0):
    """Finite-difference check of tapegrad's analytic gradient, in float64.

    Checks the vector-Jacobian product v^T J against central differences of <v, fn(x)>
    for a fixed random v, element by element for every input.
    """
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    inputs = [make(tapegrad, a, "float64", True) for a in arrays]
    out = fn(tapegrad, *inputs)
    assert dname(out.dtype) == "float64"
    v = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    out.backward(make(tapegrad, v, "float64"))

    def f(vals):
        with tapegrad.no_grad():
            r = fn(tapegrad, *[make(tapegrad, a, "float64") for a in vals])
        return float(np.sum(to_numpy(r) * v))

    for i, a in enumerate(arrays):
        assert inputs[i].grad is not None, f"input {i} got no gradient"
        analytic = to_numpy(inputs[i].grad)
        assert analytic.shape == a.shape
        numeric = np.zeros_like(a)
        flat = numeric.reshape(-1)
        for j in range(a.size):
            plus, minus = [x.copy() for x in arrays], [x.copy() for x in arrays]
            plus[i].reshape(-1)[j] += eps
            minus[i].reshape(-1)[j] -= eps
            flat[j] = (f(plus) - f(minus)) / (2 * eps)
        np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol,
                                   err_msg=f"analytic vs numeric gradient of input {i}")


def double_backward_both(fn, *arrays, dtype="float64", seed=0, rtol=1e-10, atol=1e-12):
    """Second derivatives vs torch.

    g = autograd.grad(fn(x), x, v, create_graph=True) for a fixed random v; then, for the first
    gradients that require grad (must be the same ones as torch's), autograd.grad(g, x, w).
    """
    results = {}
    for lib in LIBS:
        xs = [make(lib, a, dtype, True) for a in arrays]
        out = fn(lib, *xs)
        v = make(lib, np.random.default_rng(seed).standard_normal(tuple(out.shape)), dtype)
        firsts = lib.autograd.grad(out, xs, v, create_graph=True)
        results[lib.__name__] = (xs, firsts)
    (oxs, of), (txs, tf) = results["tapegrad"], results["torch"]
    for k, (o, t) in enumerate(zip(of, tf)):
        assert_tensor_equal(o, t, rtol=rtol, atol=atol, what=f"first grad {k}")
        if o.requires_grad != t.requires_grad:
            # torch's fused double-backward nodes (NativeLayerNormBackwardBackward0, ...) mark every
            # output as requiring grad, even one constant in the inputs (a bias's gradient). That is
            # the same thing only if torch's derivative of it is zero everywhere.
            assert not o.requires_grad, f"first grad {k}: requires grad where torch's does not"
            w = torch.ones_like(t)
            derivs = torch.autograd.grad(t, txs, w, retain_graph=True, allow_unused=True)
            assert all(d is None or not d.any() for d in derivs), f"first grad {k}: requires_grad differs"
    live = [k for k, o in enumerate(of) if o.requires_grad]
    assert live, "nothing to differentiate twice; test is wrong"
    seconds = {}
    for lib, xs, firsts in ((tapegrad, oxs, of), (torch, txs, tf)):
        ws = [make(lib, np.random.default_rng(seed + 1 + k).standard_normal(tuple(firsts[k].shape)), dtype)
              for k in live]
        seconds[lib.__name__] = lib.autograd.grad([firsts[k] for k in live], xs, ws, allow_unused=True)
    for k, (o, t) in enumerate(zip(seconds["tapegrad"], seconds["torch"])):
        # None and an all-zero gradient mean the same thing here (torch itself varies by op).
        if t is None or o is None:
            other = o if t is None else t
            assert other is None or np.all(to_numpy(other) == 0), f"second grad {k}: {o} vs torch {t}"
        else:
            assert_tensor_equal(o, t, rtol=rtol, atol=atol, what=f"second grad {k}")


def capture(fn, lib):
    """(result, None) or (None, exception) of fn(lib)."""
    try:
        return fn(lib), None
    except Exception as e:  # noqa: BLE001 - we compare whatever torch raises
        return None, e


def expect_same_error(fn, *, message=True):
    """torch must raise for fn(torch); tapegrad must raise the same type (and exact message)."""
    _, terr = capture(fn, torch)
    assert terr is not None, "oracle did not raise; test is wrong"
    pattern = r"\A" + re.escape(str(terr)) + r"\Z" if message else None
    with pytest.raises(Exception, match=pattern) as info:
        fn(tapegrad)
    assert type(info.value) is type(terr), f"tapegrad raised {type(info.value).__name__}: {info.value}"
    return info.value, terr


def expect_same_outcome(fn, *, message=True):
    """Whatever torch does with fn(torch) - a result or an error - tapegrad must do the same."""
    _, terr = capture(fn, torch)
    if terr is not None:
        return expect_same_error(fn, message=message)
    return expect_same_result(fn)


def expect_same_result(fn, **kw):
    """fn(lib) returns a tensor in both libraries (neither raises); compare them."""
    ours, theirs = fn(tapegrad), fn(torch)
    assert_tensor_equal(ours, theirs, **kw)
    return ours, theirs


def grad_fn_name(t):
    fn = t.grad_fn
    return None if fn is None else fn.name()


def assert_same(ours, theirs, what="result"):
    """tapegrad's result against torch's: nested lists/tuples item by item; tensors on shape, dtype,
    requires_grad, grad_fn name and values (NaN equal to NaN); dtypes by name; anything else by ==."""
    import tapegrad
    if theirs is None or ours is None:
        assert ours is None and theirs is None, f"{what}: {ours!r} vs torch {theirs!r}"
        return
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs), f"{what}: {ours!r} vs torch {theirs!r}"
        for k, (o, t) in enumerate(zip(ours, theirs)):
            assert_same(o, t, f"{what}[{k}]")
        return
    if isinstance(theirs, torch.dtype):
        assert dname(ours) == dname(theirs), f"{what}: {ours} vs torch {theirs}"
        return
    if not isinstance(theirs, torch.Tensor):
        assert ours == theirs or (isinstance(theirs, float) and math.isnan(theirs) and math.isnan(ours)), \
            f"{what}: {ours!r} vs torch {theirs!r}"
        return
    assert isinstance(ours, tapegrad.Tensor), f"{what}: {type(ours)}"
    assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: shape {tuple(ours.shape)} vs {tuple(theirs.shape)}"
    assert dname(ours.dtype) == dname(theirs.dtype), f"{what}: dtype {ours.dtype} vs {theirs.dtype}"
    assert ours.requires_grad == theirs.requires_grad, f"{what}: requires_grad {ours.requires_grad}"
    assert grad_fn_name(ours) == grad_fn_name(theirs), f"{what}: grad_fn {grad_fn_name(ours)} vs {grad_fn_name(theirs)}"
    a, b = to_numpy(ours), to_numpy(theirs)
    if a.dtype.kind == "f":
        tol = dict(rtol=1e-6, atol=1e-7) if a.dtype == np.float32 else dict(rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(a, b, equal_nan=True, err_msg=what, **tol)
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


def same_program(program, message=False, quiet=False):
    """program(T) runs in both libraries and must give the same results, or raise the same error type
    (and, with message, the same text). quiet silences warnings while the programs run."""
    import tapegrad

    def run(lib):
        if not quiet:
            return capture(program, lib)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return capture(program, lib)
    theirs, terr = run(torch)
    ours, oerr = run(tapegrad)
    if terr is not None:
        assert oerr is not None, f"torch raised {type(terr).__name__}: {terr}; tapegrad returned {ours!r}"
        assert type(oerr) is type(terr), f"{type(oerr).__name__}: {oerr} vs torch {type(terr).__name__}: {terr}"
        if message:
            assert str(oerr) == str(terr), f"message {oerr} vs torch {terr}"
        return
    assert oerr is None, f"tapegrad raised {type(oerr).__name__}: {oerr}"
    assert_same(ours, theirs)
