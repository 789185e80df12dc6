# In-place ops vs torch: values, gradients of upstream leaves, grad_fn names, _version counters,
# returned object identity, writes through views, version-counter checks, errors and messages.
import numpy as np
import pytest

import tapegrad
import torch
from conftest import (
    FLOAT_DTYPES,
    GRAD_TOLS,
    LIBS,
    assert_tensor_equal,
    dname,
    expect_same_error,
    expect_same_result,
    make,
    to_numpy,
)

SHAPE = (3, 4)


def gfn(t):
    """grad_fn name of t (None for leaves / no graph)."""
    return None if t.grad_fn is None else t.grad_fn.name()


def values(shape, domain, rng):
    """Random values away from the ops' singular/kink points: 'any' (either sign, |v| in [0.2, 2]),
    'pos' (in [0.3, 2]), 'exp' (exponents in [0.5, 2])."""
    if domain == "pos":
        return rng.uniform(0.3, 2.0, size=shape)
    if domain == "exp":
        return rng.uniform(0.5, 2.0, size=shape)
    assert domain == "any"
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 2.0, size=shape)


def compare_grads(ours, theirs, names, tol_dtype=None):
    """tol_dtype: use that dtype's gradient tolerance (float32 when float32 values fed the grad)."""
    for name, o, t in zip(names, ours, theirs):
        if t is None:
            assert o is None, f"{name}: torch has no grad, tapegrad has {o}"
            continue
        assert o is not None, f"{name}: tapegrad has no grad, torch has {t}"
        tol = GRAD_TOLS[tol_dtype or dname(t.dtype)]
        assert_tensor_equal(o, t, what=f"grad of {name}", **tol)


# ---------------------------------------------------------------------------------------------
# The core harness: x (leaf, requires grad) -> y = x * 1 (non-leaf) -> r = fn(lib, y, *others).
# Compares: r is y, y's version bump, grad_fn name, is_leaf, requires_grad, values, and after
# backward of the weighted sum (y * w).sum(): the grads of x and of every tensor operand.
# ---------------------------------------------------------------------------------------------

def _run_on_nonleaf(lib, fn, arrays, dtypes, rgs, weight):
    x = make(lib, arrays[0], dtypes[0], requires_grad=True)
    others = [make(lib, a, d, rg and d in FLOAT_DTYPES) for a, d, rg in zip(arrays[1:], dtypes[1:], rgs)]
    y = x * 1
    assert not y.is_leaf
    v0 = y._version
    r = fn(lib, y, *others)
    meta = dict(returns_self=r is y, version_bump=y._version - v0, grad_fn=gfn(y), is_leaf=y.is_leaf,
                requires_grad=y.requires_grad)
    if y.requires_grad:
        (y * make(lib, weight, dname(y.dtype))).sum().backward()
    return meta, y.detach(), [x.grad] + [o.grad for o in others]


def compare_inplace(fn, arrays, dtypes, rgs=None, seed=0):
    """fn(lib, y, *others) runs in-place ops on the non-leaf y = x * 1; compare with torch."""
    rgs = [True] * (len(arrays) - 1) if rgs is None else rgs
    weight = np.random.default_rng(seed + 100).standard_normal(np.shape(arrays[0]))
    ours = _run_on_nonleaf(tapegrad, fn, arrays, dtypes, rgs, weight)
    theirs = _run_on_nonleaf(torch, fn, arrays, dtypes, rgs, weight)
    assert theirs[0]["returns_self"]  # the oracle returns self; guards against a wrong test
    assert ours[0] == theirs[0], f"tapegrad {ours[0]} vs torch {theirs[0]}"
    assert_tensor_equal(ours[1], theirs[1], what="self after the in-place op")
    tol_dtype = "float32" if "float32" in dtypes else None  # mixed precision: float32 rounding
    compare_grads(ours[2], theirs[2], ["x"] + [f"operand {i}" for i in range(len(arrays) - 1)], tol_dtype)


# name -> (fn(lib, y, *others), domain of y, [(shape of operand, domain), ...])
TENSOR = [(SHAPE, "any")]
NONZERO = [(SHAPE, "any")]
OPS = {
    # unary
    "neg_": (lambda lib, y: y.neg_(), "any", []),
    "exp_": (lambda lib, y: y.exp_(), "any", []),
    "log_": (lambda lib, y: y.log_(), "pos", []),
    "sin_": (lambda lib, y: y.sin_(), "any", []),
    "cos_": (lambda lib, y: y.cos_(), "any", []),
    "tanh_": (lambda lib, y: y.tanh_(), "any", []),
    "sigmoid_": (lambda lib, y: y.sigmoid_(), "any", []),
    "relu_": (lambda lib, y: y.relu_(), "any", []),
    "abs_": (lambda lib, y: y.abs_(), "any", []),
    "sqrt_": (lambda lib, y: y.sqrt_(), "pos", []),
    "reciprocal_": (lambda lib, y: y.reciprocal_(), "any", []),
    "zero_": (lambda lib, y: y.zero_(), "any", []),
    "floor_": (lambda lib, y: y.floor_(), "any", []),
    "ceil_": (lambda lib, y: y.ceil_(), "any", []),
    "trunc_": (lambda lib, y: y.trunc_(), "any", []),
    "frac_": (lambda lib, y: y.frac_(), "any", []),
    "round_": (lambda lib, y: y.round_(), "any", []),
    "round_decimals_": (lambda lib, y: y.round_(decimals=1), "any", []),
    "square_": (lambda lib, y: y.square_(), "any", []),
    "expm1_": (lambda lib, y: y.expm1_(), "any", []),
    "exp2_": (lambda lib, y: y.exp2_(), "any", []),
    "rsqrt_": (lambda lib, y: y.rsqrt_(), "pos", []),
    "log2_": (lambda lib, y: y.log2_(), "pos", []),
    "log10_": (lambda lib, y: y.log10_(), "pos", []),
    "atan_": (lambda lib, y: y.atan_(), "any", []),
    "sinh_": (lambda lib, y: y.sinh_(), "any", []),
    "cosh_": (lambda lib, y: y.cosh_(), "any", []),
    # tensor operands
    "add_tensor": (lambda lib, y, o: y.add_(o), "any", TENSOR),
    "add_tensor_alpha": (lambda lib, y, o: y.add_(o, alpha=2.5), "any", TENSOR),
    "add_tensor_int_alpha": (lambda lib, y, o: y.add_(o, alpha=-3), "any", TENSOR),
    "sub_tensor": (lambda lib, y, o: y.sub_(o), "any", TENSOR),
    "sub_tensor_alpha": (lambda lib, y, o: y.sub_(o, alpha=0.5), "any", TENSOR),
    "mul_tensor": (lambda lib, y, o: y.mul_(o), "any", TENSOR),
    "div_tensor": (lambda lib, y, o: y.div_(o), "any", NONZERO),
    "pow_tensor": (lambda lib, y, o: y.pow_(o), "pos", [(SHAPE, "exp")]),
    "copy_tensor": (lambda lib, y, o: y.copy_(o), "any", TENSOR),
    "fill_0d_tensor": (lambda lib, y, o: y.fill_(o), "any", [((), "any")]),
    "add_self": (lambda lib, y: y.add_(y), "any", []),
    # Python-number operands
    "add_number": (lambda lib, y: y.add_(1.5), "any", []),
    "add_number_alpha": (lambda lib, y: y.add_(2, alpha=3), "any", []),
    "sub_number": (lambda lib, y: y.sub_(0.75), "any", []),
    "sub_number_alpha": (lambda lib, y: y.sub_(1.5, alpha=2), "any", []),
    "mul_float": (lambda lib, y: y.mul_(-2.5), "any", []),
    "mul_int": (lambda lib, y: y.mul_(3), "any", []),
    "div_float": (lambda lib, y: y.div_(4.0), "any", []),
    "div_int": (lambda lib, y: y.div_(3), "any", []),
    "pow_2": (lambda lib, y: y.pow_(2), "any", []),
    "pow_3": (lambda lib, y: y.pow_(3), "any", []),
    "pow_half": (lambda lib, y: y.pow_(0.5), "pos", []),
    "pow_negative": (lambda lib, y: y.pow_(-1.5), "pos", []),
    "pow_0": (lambda lib, y: y.pow_(0), "any", []),
    "clamp_both": (lambda lib, y: y.clamp_(-0.5, 0.7), "any", []),
    "clamp_min_positional": (lambda lib, y: y.clamp_(0.0), "any", []),
    "clamp_min_kw": (lambda lib, y: y.clamp_(min=0.1), "any", []),
    "clamp_max_kw": (lambda lib, y: y.clamp_(max=-0.2), "any", []),
    "clamp_min_max_kw": (lambda lib, y: y.clamp_(min=-1.0, max=1.0), "any", []),
    "fill_float": (lambda lib, y: y.fill_(3.25), "any", []),
    "fill_int": (lambda lib, y: y.fill_(2), "any", []),
}


def _arrays(domain, others, seed):
    rng = np.random.default_rng(seed)
    return [values(SHAPE, domain, rng)] + [values(s, d, rng) for s, d in others]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", list(OPS))
def test_inplace_op_on_nonleaf(name, dtype):
    fn, domain, others = OPS[name]
    arrays = _arrays(domain, others, seed=len(name))
    compare_inplace(fn, arrays, [dtype] * len(arrays))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", [n for n, (_, _, o) in OPS.items() if o])
def test_inplace_op_operand_without_grad(name, dtype):
    """Tensor operand that does not require grad: only x gets a gradient."""
    fn, domain, others = OPS[name]
    arrays = _arrays(domain, others, seed=7)
    compare_inplace(fn, arrays, [dtype] * len(arrays), rgs=[False] * len(others))


# ---- augmented assignment ----

def _iadd(lib, y, o):
    y += o
    return y


def _isub(lib, y, o):
    y -= o
    return y


def _imul(lib, y, o):
    y *= o
    return y


def _idiv(lib, y, o):
    y /= o
    return y


def _ipow(lib, y, o):
    y **= o
    return y


def _number(op, n):
    return lambda lib, y: op(lib, y, n)


AUGMENTED = {
    "iadd_tensor": (_iadd, "any", TENSOR),
    "isub_tensor": (_isub, "any", TENSOR),
    "imul_tensor": (_imul, "any", TENSOR),
    "idiv_tensor": (_idiv, "any", NONZERO),
    "ipow_tensor": (_ipow, "pos", [(SHAPE, "exp")]),
    "iadd_number": (_number(_iadd, 2.5), "any", []),
    "isub_number": (_number(_isub, 1), "any", []),
    "imul_number": (_number(_imul, -0.5), "any", []),
    "idiv_number": (_number(_idiv, 8), "any", []),
    "ipow_number": (_number(_ipow, 2), "any", []),
    "ipow_float_number": (_number(_ipow, 1.5), "pos", []),
    "iadd_broadcast": (_iadd, "any", [((4,), "any")]),
    "imul_broadcast": (_imul, "any", [((3, 1), "any")]),
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", list(AUGMENTED))
def test_augmented_assignment(name, dtype):
    fn, domain, others = AUGMENTED[name]
    arrays = _arrays(domain, others, seed=len(name) + 1)
    compare_inplace(fn, arrays, [dtype] * len(arrays))


# ---- broadcasting of the other operand ----

BROADCAST_OPS = {
    "add_": (lambda lib, y, o: y.add_(o, alpha=1.5), "any", "any"),
    "sub_": (lambda lib, y, o: y.sub_(o), "any", "any"),
    "mul_": (lambda lib, y, o: y.mul_(o), "any", "any"),
    "div_": (lambda lib, y, o: y.div_(o), "any", "any"),
    "pow_": (lambda lib, y, o: y.pow_(o), "pos", "exp"),
    "copy_": (lambda lib, y, o: y.copy_(o), "any", "any"),
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("other_shape", [(4,), (3, 1), (1, 4), (), (1, 1)], ids=str)
@pytest.mark.parametrize("op", list(BROADCAST_OPS))
def test_broadcast_other_operand(op, other_shape, dtype):
    fn, sdom, odom = BROADCAST_OPS[op]
    rng = np.random.default_rng(3)
    arrays = [values(SHAPE, sdom, rng), values(other_shape, odom, rng)]
    compare_inplace(fn, arrays, [dtype, dtype])


@pytest.mark.parametrize("self_shape,other_shape", [((3, 4), (2, 3, 4)), ((3, 1), (3, 4)), ((4,), (3, 4))],
                         ids=str)
@pytest.mark.parametrize("op", list(BROADCAST_OPS))
def test_broadcast_cannot_grow_self(op, self_shape, other_shape):
    fn, _, _ = BROADCAST_OPS[op]

    def go(lib):
        y = lib.ones(self_shape, requires_grad=True) * 1
        fn(lib, y, lib.full(other_shape, 1.5))

    expect_same_error(go)


# ---- mixed dtypes: self keeps its dtype, operand gradients keep theirs ----

@pytest.mark.parametrize("self_dtype,other_dtype", [("float32", "float64"), ("float64", "float32"),
                                                    ("float32", "int64"), ("float64", "int32")])
@pytest.mark.parametrize("op", ["add_", "sub_", "mul_", "div_", "copy_"])
def test_mixed_dtype_operand(op, self_dtype, other_dtype):
    fn = BROADCAST_OPS[op][0]
    rng = np.random.default_rng(5)
    other = values(SHAPE, "any", rng)
    if other_dtype.startswith("int"):
        other = np.where(np.round(other) == 0, 1.0, np.round(other))  # nonzero integers
    compare_inplace(fn, [values(SHAPE, "any", rng), other], [self_dtype, other_dtype])


# ---- self does not require grad, the operand does ----

NONRG_SELF = {
    "add_": lambda lib, s, o: s.add_(o, alpha=2),
    "sub_": lambda lib, s, o: s.sub_(o),
    "mul_": lambda lib, s, o: s.mul_(o),
    "div_": lambda lib, s, o: s.div_(o),
    "pow_": lambda lib, s, o: s.pow_(o),
    "copy_": lambda lib, s, o: s.copy_(o),
    "copy_broadcast": lambda lib, s, o: s.copy_(o[0]),
    "fill_": lambda lib, s, o: s.fill_(o[0, 0]),
    "iadd": _iadd,
    "imul": _imul,
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("op", list(NONRG_SELF))
def test_self_without_grad_operand_with_grad(op, dtype):
    rng = np.random.default_rng(11)
    s_arr, o_arr = values(SHAPE, "pos", rng), values(SHAPE, "exp", rng)
    w = rng.standard_normal(SHAPE)
    out = {}
    for lib in LIBS:
        s = make(lib, s_arr, dtype)
        o = make(lib, o_arr, dtype, requires_grad=True)
        r = NONRG_SELF[op](lib, s, o)
        meta = (r is s, s._version, gfn(s), s.is_leaf, s.requires_grad)
        (s * make(lib, w, dtype)).sum().backward()
        out[lib.__name__] = (meta, s.detach(), o.grad)
    (om, os_, og), (tm, ts, tg) = out["tapegrad"], out["torch"]
    assert om == tm
    assert_tensor_equal(os_, ts)
    compare_grads([og], [tg], ["operand"])


# ---- in-place under no_grad ----

@pytest.mark.parametrize("op", ["mul_", "add_", "exp_", "zero_", "copy_", "iadd"])
def test_inplace_under_no_grad_on_nonleaf_keeps_graph(op):
    """torch: the op is not recorded; y keeps its grad_fn and gradient flows as if it had not run."""
    fns = {"mul_": lambda y: y.mul_(2), "add_": lambda y: y.add_(1), "exp_": lambda y: y.exp_(),
           "zero_": lambda y: y.zero_(), "copy_": lambda y: y.copy_(y * 3), "iadd": lambda y: _iadd(None, y, 5)}
    x_arr = values(SHAPE, "any", np.random.default_rng(2))
    out = {}
    for lib in LIBS:
        x = make(lib, x_arr, requires_grad=True)
        y = x * 3
        with lib.no_grad():
            r = fns[op](y)
        meta = (r is y, y._version, gfn(y), y.requires_grad, y.is_leaf)
        (y * y.detach()).sum().backward()
        out[lib.__name__] = (meta, y.detach(), x.grad)
    assert out["tapegrad"][0] == out["torch"][0]
    assert_tensor_equal(out["tapegrad"][1], out["torch"][1])
    compare_grads([out["tapegrad"][2]], [out["torch"][2]], ["x"])


LEAF_NO_GRAD_OPS = {
    "sub_": lambda lib, w: w.sub_(lib.ones(SHAPE), alpha=0.1),
    "add_": lambda lib, w: w.add_(0.5),
    "mul_": lambda lib, w: w.mul_(0.9),
    "div_": lambda lib, w: w.div_(2),
    "clamp_": lambda lib, w: w.clamp_(-0.5, 0.5),
    "copy_": lambda lib, w: w.copy_(lib.full(SHAPE, 4.0)),
    "zero_": lambda lib, w: w.zero_(),
    "fill_": lambda lib, w: w.fill_(1.25),
    "exp_": lambda lib, w: w.exp_(),
    "isub": lambda lib, w: _isub(lib, w, 0.25),
    "ipow": lambda lib, w: _ipow(lib, w, 2),
    "view_mul_": lambda lib, w: w[1].mul_(10),
    "view_t_add_": lambda lib, w: w.t().add_(100),
}


@pytest.mark.parametrize("op", list(LEAF_NO_GRAD_OPS))
def test_inplace_on_leaf_under_no_grad(op):
    """Allowed on a leaf requiring grad when grad mode is off; it stays a leaf and trains normally."""
    x_arr = values(SHAPE, "any", np.random.default_rng(4))
    out = {}
    for lib in LIBS:
        w = make(lib, x_arr, requires_grad=True)
        with lib.no_grad():
            LEAF_NO_GRAD_OPS[op](lib, w)
        meta = (w._version, gfn(w), w.is_leaf, w.requires_grad)
        (w * w).sum().backward()
        out[lib.__name__] = (meta, w.detach(), w.grad)
    assert out["tapegrad"][0] == out["torch"][0]
    assert_tensor_equal(out["tapegrad"][1], out["torch"][1])
    compare_grads([out["tapegrad"][2]], [out["torch"][2]], ["w"])


# ---------------------------------------------------------------------------------------------
# In-place ops on views of non-leaves: the base sees the write, gets CopySlices, shares versions.
# ---------------------------------------------------------------------------------------------

def _iadd_view(lib, y, o):
    v = y[2]
    v += o
    return v


# name -> (fn(lib, y, o) returning the modified view, operand shape or None)
VIEW_CASES = {
    "select_mul_": (lambda lib, y, o: y[0].mul_(2), None),
    "t_add_": (lambda lib, y, o: y.t().add_(1), None),
    "column_zero_": (lambda lib, y, o: y[:, 1].zero_(), None),
    "slice_step_exp_": (lambda lib, y, o: y[1:, ::2].exp_(), None),
    "narrow_clamp_": (lambda lib, y, o: y.narrow(1, 1, 2).clamp_(-0.3, 0.3), None),
    "unsqueeze_sigmoid_": (lambda lib, y, o: y.unsqueeze(0).sigmoid_(), None),
    "view_of_view_fill_": (lambda lib, y, o: y.view(-1)[3:7].fill_(0.5), None),
    "select_of_t_neg_": (lambda lib, y, o: y.t()[2].neg_(), None),
    "select_mul_tensor": (lambda lib, y, o: y[1].mul_(o), (4,)),
    "t_select_sub_alpha": (lambda lib, y, o: y.t()[2].sub_(o, alpha=2), (3,)),
    "t_copy_": (lambda lib, y, o: y.t().copy_(o), (4, 3)),
    "column_div_broadcast": (lambda lib, y, o: y[:, 1:3].div_(o), (1, 2)),
    "select_iadd": (_iadd_view, (4,)),
}


def _run_view_case(lib, fn, x_arr, o_arr, w_arr, dtype, through):
    x = make(lib, x_arr, dtype, requires_grad=True)
    o = None if o_arr is None else make(lib, o_arr, dtype, requires_grad=True)
    y = x * 1
    v = fn(lib, y, o)
    meta = dict(base_version=y._version, view_version=v._version, base_grad_fn=gfn(y), view_grad_fn=gfn(v),
                base_is_leaf=y.is_leaf, view_requires_grad=v.requires_grad)
    target = y if through == "base" else v
    (target * make(lib, np.resize(w_arr, tuple(target.shape)), dtype)).sum().backward()
    return meta, y.detach(), v.detach(), x.grad, None if o is None else o.grad


@pytest.mark.parametrize("through", ["base", "view"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", list(VIEW_CASES))
def test_inplace_on_view_of_nonleaf(name, dtype, through):
    fn, oshape = VIEW_CASES[name]
    rng = np.random.default_rng(len(name))
    x_arr = values(SHAPE, "any", rng)
    o_arr = None if oshape is None else values(oshape, "any", rng)
    w_arr = rng.standard_normal(12)
    ours = _run_view_case(tapegrad, fn, x_arr, o_arr, w_arr, dtype, through)
    theirs = _run_view_case(torch, fn, x_arr, o_arr, w_arr, dtype, through)
    assert theirs[0]["base_grad_fn"] == "torch::autograd::CopySlices"  # oracle sanity
    assert ours[0] == theirs[0], f"tapegrad {ours[0]} vs torch {theirs[0]}"
    assert_tensor_equal(ours[1], theirs[1], what="base after writing through the view")
    assert_tensor_equal(ours[2], theirs[2], what="view")
    compare_grads(ours[3:], theirs[3:], ["x", "operand"])


def test_inplace_on_view_returns_the_view():
    for lib in LIBS:
        y = lib.ones(SHAPE, requires_grad=True) * 1
        v = y[0]
        assert (lib.__name__, v.mul_(2) is v, v.add_(1) is v) == (lib.__name__, True, True)


@pytest.mark.parametrize("write", [lambda lib, v: v.mul_(2), lambda lib, v: v.add_(lib.ones(4, requires_grad=True)),
                                   lambda lib, v: v.copy_(lib.ones(4, requires_grad=True)), lambda lib, v: v.exp_(),
                                   lambda lib, v: v.div_(lib.ones(1, requires_grad=True) * 2)])
def test_copyslices_wraps_the_inplace_node(write):
    def go(lib):
        x = lib.ones(SHAPE, requires_grad=True)
        y = x * 1
        v = y[0]
        write(lib, v)
        names = lambda node: [(None if f is None else f.name(), i) for f, i in node.next_functions]
        wrapped = names(y.grad_fn), names(v.grad_fn)
        (y * lib.arange(12.0).reshape(SHAPE)).sum().backward()
        return wrapped, x.grad

    (names_tg, grad_tg), (names_torch, grad_torch) = go(tapegrad), go(torch)
    assert names_tg == names_torch
    np.testing.assert_allclose(grad_tg.numpy(), grad_torch.numpy(), rtol=1e-6)


def _view_then_base_write(lib, x_arr, dtype):
    x = make(lib, x_arr, dtype, requires_grad=True)
    y = x * 1
    v = y[0]
    y.mul_(2)
    meta = (v._version, gfn(v))
    (v * 3).sum().backward()
    return meta, v.detach(), x.grad


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_view_sees_later_write_to_base_values_and_grad(dtype):
    """v = y[0]; y.mul_(2): v sees the new values and its gradient includes the base's op."""
    x_arr = values(SHAPE, "any", np.random.default_rng(8))
    ours, theirs = _view_then_base_write(tapegrad, x_arr, dtype), _view_then_base_write(torch, x_arr, dtype)
    assert_tensor_equal(ours[1], theirs[1])
    compare_grads([ours[2]], [theirs[2]], ["x"])


def test_view_sees_later_write_to_base_grad_fn_and_version():
    x_arr = values(SHAPE, "any", np.random.default_rng(8))
    assert _view_then_base_write(tapegrad, x_arr, "float32")[0] == _view_then_base_write(torch, x_arr, "float32")[0]


@pytest.mark.parametrize("view", ["select", "t", "column", "slice"])
def test_view_write_into_base_without_grad(view):
    """Base needs no grad; an operand requiring grad written through a view makes the base require grad."""
    views = {"select": lambda b: b[1], "t": lambda b: b.t(), "column": lambda b: b[:, 2],
             "slice": lambda b: b[:2, 1:]}
    rng = np.random.default_rng(9)
    b_arr = values(SHAPE, "any", rng)
    out = {}
    for lib in LIBS:
        b = make(lib, b_arr)
        v = views[view](b)
        o = make(lib, values(tuple(v.shape), "any", np.random.default_rng(10)), requires_grad=True)
        v.add_(o, alpha=3)
        meta = (b._version, gfn(b), b.is_leaf, b.requires_grad, gfn(v))
        (b * b.detach()).sum().backward()
        out[lib.__name__] = (meta, b.detach(), o.grad)
    assert out["tapegrad"][0] == out["torch"][0]
    assert_tensor_equal(out["tapegrad"][1], out["torch"][1])
    compare_grads([out["tapegrad"][2]], [out["torch"][2]], ["operand"])


@pytest.mark.parametrize("split", ["unbind", "split", "chunk"])
def test_inplace_on_multi_output_view_error(split):
    fns = {"unbind": lambda y: y.unbind(0), "split": lambda y: y.split(1), "chunk": lambda y: y.chunk(3)}

    def go(lib):
        y = lib.ones(SHAPE, requires_grad=True) * 1
        fns[split](y)[0].mul_(2)

    expect_same_error(go)


def test_view_created_in_no_grad_modified_with_grad_error():
    def go(lib):
        y = lib.ones(SHAPE, requires_grad=True) * 1
        with lib.no_grad():
            v = y[0]
        v.mul_(2)

    expect_same_error(go)


# ---------------------------------------------------------------------------------------------
# Errors: leaves, views of leaves, integer results, saved tensors modified in place.
# ---------------------------------------------------------------------------------------------

LEAF_OPS = {
    "add_": lambda lib, x: x.add_(1),
    "add_tensor": lambda lib, x: x.add_(lib.ones(SHAPE), alpha=2),
    "sub_": lambda lib, x: x.sub_(lib.ones(SHAPE)),
    "mul_": lambda lib, x: x.mul_(2),
    "div_": lambda lib, x: x.div_(2),
    "pow_": lambda lib, x: x.pow_(2),
    "neg_": lambda lib, x: x.neg_(),
    "exp_": lambda lib, x: x.exp_(),
    "log_": lambda lib, x: x.log_(),
    "sin_": lambda lib, x: x.sin_(),
    "cos_": lambda lib, x: x.cos_(),
    "tanh_": lambda lib, x: x.tanh_(),
    "sigmoid_": lambda lib, x: x.sigmoid_(),
    "relu_": lambda lib, x: x.relu_(),
    "abs_": lambda lib, x: x.abs_(),
    "sqrt_": lambda lib, x: x.sqrt_(),
    "reciprocal_": lambda lib, x: x.reciprocal_(),
    "clamp_": lambda lib, x: x.clamp_(0, 1),
    "copy_": lambda lib, x: x.copy_(lib.zeros(SHAPE)),
    "zero_": lambda lib, x: x.zero_(),
    "fill_": lambda lib, x: x.fill_(3.0),
    "iadd": lambda lib, x: _iadd(lib, x, 1),
    "isub": lambda lib, x: _isub(lib, x, lib.ones(SHAPE)),
    "imul": lambda lib, x: _imul(lib, x, 2),
    "idiv": lambda lib, x: _idiv(lib, x, 2),
    "ipow": lambda lib, x: _ipow(lib, x, 2),
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("op", list(LEAF_OPS))
def test_leaf_requiring_grad_error(op, dtype):
    def go(lib):
        x = lib.full(SHAPE, 0.5, dtype=getattr(lib, dtype), requires_grad=True)
        LEAF_OPS[op](lib, x)

    expect_same_error(go)


@pytest.mark.parametrize("op", ["add_", "mul_", "exp_", "zero_", "copy_", "iadd", "clamp_"])
def test_leaf_error_leaves_tensor_untouched(op):
    def go(lib):
        x = lib.full(SHAPE, 0.5, requires_grad=True)
        try:
            LEAF_OPS[op](lib, x)
        except RuntimeError:
            pass
        return x.detach(), x._version

    (ov, over), (tv, tver) = go(tapegrad), go(torch)
    assert over == tver
    assert_tensor_equal(ov, tv)


VIEW_OF_LEAF = {
    "select_mul_": lambda lib, x: x[0].mul_(2),
    "t_add_": lambda lib, x: x.t().add_(1),
    "column_zero_": lambda lib, x: x[:, 1].zero_(),
    "view_exp_": lambda lib, x: x.view(-1).exp_(),
    "slice_copy_": lambda lib, x: x[1:].copy_(lib.zeros(2, 4)),
    "unsqueeze_fill_": lambda lib, x: x.unsqueeze(0).fill_(1.0),
    "select_iadd": lambda lib, x: _iadd_view(lib, x, 1.0),
    "view_of_view_neg_": lambda lib, x: x.t()[1].neg_(),
}


@pytest.mark.parametrize("case", list(VIEW_OF_LEAF))
def test_view_of_leaf_requiring_grad_error(case):
    def go(lib):
        x = lib.full(SHAPE, 0.5, requires_grad=True)
        VIEW_OF_LEAF[case](lib, x)

    expect_same_error(go)


def test_leaf_not_requiring_grad_is_fine():
    def go(lib):
        x = lib.full(SHAPE, 0.5)
        r = x.mul_(3).add_(1)
        x[0].zero_()
        return (r is x, x._version, x.is_leaf, x.requires_grad, gfn(x)), x

    (om, ov), (tm, tv) = go(tapegrad), go(torch)
    assert om == tm
    assert_tensor_equal(ov, tv)


INT_ERRORS = {
    "div_number": lambda lib, a: a.div_(2),
    "div_int_tensor": lambda lib, a: a.div_(lib.tensor([2, 4, 1])),
    "mul_float": lambda lib, a: a.mul_(1.5),
    "add_float": lambda lib, a: a.add_(0.5),
    "add_float_tensor": lambda lib, a: a.add_(lib.ones(3)),
    "sub_float_tensor": lambda lib, a: a.sub_(lib.ones(3, dtype=lib.float64)),
    "pow_float": lambda lib, a: a.pow_(0.5),
    "exp_": lambda lib, a: a.exp_(),
    "log_": lambda lib, a: a.log_(),
    "sin_": lambda lib, a: a.sin_(),
    "cos_": lambda lib, a: a.cos_(),
    "tanh_": lambda lib, a: a.tanh_(),
    "sigmoid_": lambda lib, a: a.sigmoid_(),
    "sqrt_": lambda lib, a: a.sqrt_(),
    "reciprocal_": lambda lib, a: a.reciprocal_(),
    "clamp_float": lambda lib, a: a.clamp_(0.5),
    "clamp_float_both": lambda lib, a: a.clamp_(0.5, 2.5),
    "iadd_float": lambda lib, a: _iadd(lib, a, 1.5),
    "isub_float": lambda lib, a: _isub(lib, a, 0.25),
    "imul_float": lambda lib, a: _imul(lib, a, 0.5),
    "idiv_int": lambda lib, a: _idiv(lib, a, 2),
    "ipow_float": lambda lib, a: _ipow(lib, a, 2.0),
    "add_float_alpha": lambda lib, a: a.add_(1, alpha=1.5),
    "sub_float_alpha": lambda lib, a: a.sub_(lib.ones(3, dtype=lib.int64), alpha=0.5),
    "pow_negative_int": lambda lib, a: a.pow_(-1),
}


@pytest.mark.parametrize("dtype", ["int64", "int32"])
@pytest.mark.parametrize("op", list(INT_ERRORS))
def test_integer_self_float_result_error(op, dtype):
    def go(lib):
        a = lib.tensor([1, 2, 3], dtype=getattr(lib, dtype))
        INT_ERRORS[op](lib, a)

    expect_same_error(go)


@pytest.mark.parametrize("op", ["add_", "mul_", "iadd"])
def test_bool_self_integer_result_error(op):
    fns = {"add_": lambda a: a.add_(1), "mul_": lambda a: a.mul_(2), "iadd": lambda a: _iadd(None, a, 3)}

    def go(lib):
        fns[op](lib.tensor([True, False, True]))

    expect_same_error(go)


INT_OK = {
    "add_int": lambda lib, a: a.add_(2),
    "add_int_alpha": lambda lib, a: a.add_(lib.tensor([1, 1, 1]), alpha=3),
    "sub_int": lambda lib, a: a.sub_(5),
    "mul_int": lambda lib, a: a.mul_(-3),
    "pow_int": lambda lib, a: a.pow_(3),
    "neg_": lambda lib, a: a.neg_(),
    "abs_": lambda lib, a: a.neg_().abs_(),
    "relu_": lambda lib, a: a.sub_(2).relu_(),
    "clamp_int": lambda lib, a: a.clamp_(2, 3),
    "copy_float": lambda lib, a: a.copy_(lib.tensor([1.7, -2.2, 9.9])),
    "fill_float": lambda lib, a: a.fill_(2.7),
    "zero_": lambda lib, a: a.zero_(),
    "iadd_int": lambda lib, a: _iadd(lib, a, 4),
    "imul_bool_tensor": lambda lib, a: _imul(lib, a, lib.tensor([True, False, True])),
    "ipow_int": lambda lib, a: _ipow(lib, a, 2),
}


@pytest.mark.parametrize("dtype", ["int64", "int32"])
@pytest.mark.parametrize("op", list(INT_OK))
def test_integer_self_integer_result(op, dtype):
    def go(lib):
        a = lib.tensor([1, 2, 3], dtype=getattr(lib, dtype))
        r = INT_OK[op](lib, a)
        assert r is a
        return a

    expect_same_result(go)


# Saved tensors modified in place: torch checks versions at backward and raises with a precise
# message (tensor type and shape, producing node, versions, hint).

def _sin_input_modified(lib, x):
    y = x * 1
    z = y.sin()
    y.mul_(2)
    return z


def _exp_output_modified(lib, x):
    z = (x * 1).exp()
    z.add_(1)
    return z


def _sigmoid_output_modified(lib, x):
    z = (x * 1).sigmoid()
    z.mul_(2)
    return z


def _exp_then_exp_(lib, x):
    y = x * 1
    return y.exp_().exp_()


def _exp_then_mul_(lib, x):
    y = x * 1
    y.exp_()
    return y.mul_(2)


def _tanh_then_add_(lib, x):
    y = x * 1
    y.tanh_()
    return y.add_(1)


def _sqrt_then_zero_(lib, x):
    y = x * 1
    y.sqrt_()
    return y.zero_()


def _mul_self_(lib, x):
    y = x * 1
    return y.mul_(y)


def _matmul_input_modified(lib, x):
    y = x * 1
    z = y @ y.t().detach()
    y.add_(1)
    return z


def _modified_through_view(lib, x):
    y = x * 1
    z = y.sin()
    y[0].zero_()
    return z


def _modified_through_detach(lib, x):
    y = x * 1
    z = y.cos()
    y.detach().zero_()
    return z


def _view_modified_through_base(lib, x):
    y = x * 1
    v = y[1]
    z = v.sin()  # saves its input v, which shares y's version counter
    y.mul_(2)
    return z


def _other_row_modified(lib, x):
    """Views share the base's version counter: writing row 1 invalidates saved row 0."""
    y = x * 1
    z = y[0].sin()
    y[1].zero_()
    return z


def _relu_then_add_then_log(lib, x):
    y = x * 1
    return y.relu_().add_(1).log_()  # relu_ saved its output; add_ overwrites it


def _reciprocal_then_cos(lib, x):
    y = x * 1
    return y.reciprocal_().cos_()


def _leaf_modified_under_no_grad(lib, x):
    w = x.detach().clone().requires_grad_()
    z = w * x
    with lib.no_grad():
        w.sub_(0.1)
    return z


def _relu_output_then_iadd(lib, x):
    z = (x * 1).relu()
    z += 1
    return z


def _pow_output_saved_by_next(lib, x):
    y = x * 1
    z = y.pow_(2).log()
    y.add_(1)
    return z


SAVED_ERRORS = {
    "sin_input_modified": _sin_input_modified,
    "exp_output_modified": _exp_output_modified,
    "sigmoid_output_modified": _sigmoid_output_modified,
    "exp_then_exp_": _exp_then_exp_,
    "exp_then_mul_": _exp_then_mul_,
    "tanh_then_add_": _tanh_then_add_,
    "sqrt_then_zero_": _sqrt_then_zero_,
    "mul_self_": _mul_self_,
    "matmul_input_modified": _matmul_input_modified,
    "modified_through_view": _modified_through_view,
    "modified_through_detach": _modified_through_detach,
    "view_modified_through_base": _view_modified_through_base,
    "leaf_modified_under_no_grad": _leaf_modified_under_no_grad,
    "other_row_of_shared_base_modified": _other_row_modified,
    "relu_output_then_iadd": _relu_output_then_iadd,
    "relu_then_add_then_log": _relu_then_add_then_log,
    "reciprocal_then_cos": _reciprocal_then_cos,
    "pow_output_saved_by_next": _pow_output_saved_by_next,
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("case", list(SAVED_ERRORS))
def test_saved_tensor_modified_inplace_error(case, dtype):
    x_arr = values(SHAPE, "pos", np.random.default_rng(12))

    def go(lib):
        x = make(lib, x_arr, dtype, requires_grad=True)
        z = SAVED_ERRORS[case](lib, x)
        z.sum().backward()

    expect_same_error(go)


@pytest.mark.parametrize("case", ["sin_input_modified", "exp_then_exp_", "leaf_modified_under_no_grad"])
def test_saved_tensor_error_is_not_raised_at_forward(case):
    """The check happens at backward: the forward itself must succeed in both libraries."""
    x_arr = values(SHAPE, "pos", np.random.default_rng(12))
    expect_same_result(lambda lib: SAVED_ERRORS[case](lib, make(lib, x_arr, requires_grad=True)).detach())


# Modifications that torch accepts: nothing needed for backward was overwritten (or torch kept a copy).

def _add_input_modified(lib, x, o):
    y = x * 1
    z = y + 2
    y.mul_(3)
    return z


def _mul_operand_twice(lib, x, o):
    y = x * 1
    return y.mul_(o).mul_(o)


def _pow_then_add(lib, x, o):
    y = x * 1
    return y.pow_(2).add_(1)


def _div_tensor_then_sub(lib, x, o):
    y = x * 1
    return y.div_(o).sub_(o)


def _exp_output_used_then_modified_detached_copy(lib, x, o):
    z = (x * 1).exp()
    w = z.clone()
    w.add_(1)
    return z * w


def _sin_then_neg(lib, x, o):
    y = x * 1
    return y.sin_().neg_()


def _clamp_then_mul(lib, x, o):
    y = x * 1
    return y.clamp_(0.5, 1.5).mul_(o)


OK_AFTER_INPLACE = {
    "add_input_modified": _add_input_modified,
    "mul_operand_twice": _mul_operand_twice,
    "pow_then_add": _pow_then_add,
    "div_tensor_then_sub": _div_tensor_then_sub,
    "clone_modified": _exp_output_used_then_modified_detached_copy,
    "sin_then_neg": _sin_then_neg,
    "clamp_then_mul": _clamp_then_mul,
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("case", list(OK_AFTER_INPLACE))
def test_inplace_not_touching_saved_tensors_backward_ok(case, dtype):
    rng = np.random.default_rng(13)
    x_arr, o_arr = values(SHAPE, "pos", rng), values(SHAPE, "pos", rng)
    out = {}
    for lib in LIBS:
        x = make(lib, x_arr, dtype, requires_grad=True)
        o = make(lib, o_arr, dtype, requires_grad=True)
        z = OK_AFTER_INPLACE[case](lib, x, o)
        z.sum().backward()
        out[lib.__name__] = (gfn(z), z.detach(), x.grad, o.grad)
    assert out["tapegrad"][0] == out["torch"][0]
    assert_tensor_equal(out["tapegrad"][1], out["torch"][1])
    compare_grads(out["tapegrad"][2:], out["torch"][2:], ["x", "operand"])


# ---------------------------------------------------------------------------------------------
# Version counters
# ---------------------------------------------------------------------------------------------

def _version_trace(lib):
    trace = []
    x = lib.ones(SHAPE, requires_grad=True)
    trace.append(x._version)
    y = x * 2
    trace.append(y._version)
    y.add_(1)
    trace.append(y._version)
    y.mul_(2).sub_(1)  # two ops, two bumps
    trace.append(y._version)
    y += 1
    trace.append(y._version)
    z = y + 1  # out-of-place: no bump
    trace += [y._version, z._version]
    v = y[0]
    trace.append(v._version)  # shares the base's counter
    v.zero_()
    trace += [v._version, y._version]
    t = y.t()
    t.add_(1)
    trace += [t._version, v._version, y._version]
    d = y.detach()  # detach shares the counter
    d.fill_(2.0)
    trace += [d._version, y._version]
    y.copy_(lib.ones(SHAPE))
    trace += [y._version, d._version]
    with lib.no_grad():
        y.mul_(3)
        x.add_(1)
    trace += [y._version, x._version]
    y.clamp_(0, 100)
    y **= 2
    y /= 2
    trace.append(y._version)
    y[1, 2] = 5.0  # setitem: one bump
    trace.append(y._version)
    c = y.clone()  # clone: its own counter
    c.neg_()
    trace += [c._version, y._version]
    return trace


def test_version_counter_trace():
    assert _version_trace(tapegrad) == _version_trace(torch)


@pytest.mark.parametrize("name", list(OPS))
def test_each_op_bumps_version_exactly_once(name):
    fn, domain, others = OPS[name]

    def bumps(lib):
        rng = np.random.default_rng(1)
        y = make(lib, values(SHAPE, domain, rng), requires_grad=True) * 1
        ops = [make(lib, values(s, d, rng)) for s, d in others]
        v0 = y._version
        fn(lib, y, *ops)
        return y._version - v0, [o._version for o in ops]

    assert bumps(tapegrad) == bumps(torch)


def test_grad_zero_bumps_grad_version_and_keeps_identity():
    def go(lib):
        w = lib.ones(3, requires_grad=True)
        (w * 2).sum().backward()
        g = w.grad
        v0 = g._version
        r = g.zero_()
        (w * 3).sum().backward()  # accumulates into the zeroed grad
        return (r is g, g._version - v0, w.grad is g), to_numpy(w.grad).tolist()

    assert go(tapegrad) == go(torch)


# ---------------------------------------------------------------------------------------------
# Manual SGD: w -= lr * w.grad; w.grad.zero_() on a tiny linear regression
# ---------------------------------------------------------------------------------------------

def _sgd(lib, variant, dtype, steps=5, lr=0.1):
    rng = np.random.default_rng(21)
    X_arr = rng.standard_normal((8, 3))
    Y_arr = X_arr @ np.array([[1.5], [-2.0], [0.5]]) + 0.3 + 0.01 * rng.standard_normal((8, 1))
    X, Y = make(lib, X_arr, dtype), make(lib, Y_arr, dtype)
    w = lib.zeros(3, 1, dtype=getattr(lib, dtype), requires_grad=True)
    b = lib.zeros(1, dtype=getattr(lib, dtype), requires_grad=True)
    losses, flags = [], []
    for _ in range(steps):
        loss = ((X @ w + b - Y) ** 2).mean()
        loss.backward()
        with lib.no_grad():
            if variant in ("augmented", "augmented_grad_none"):
                w -= lr * w.grad
                b -= lr * b.grad
            elif variant == "sub_alpha":
                w.sub_(w.grad, alpha=lr)
                b.sub_(b.grad, alpha=lr)
            elif variant == "add_neg":
                w.add_(w.grad * -lr)
                b.add_(-lr * b.grad)
            else:
                raise ValueError(variant)
        if variant == "augmented_grad_none":
            w.grad = None
            b.grad = None
        else:
            w.grad.zero_()
            b.grad.zero_()
        losses.append(loss.item())
        flags.append((w.is_leaf, w.requires_grad, gfn(w), b.is_leaf, b.requires_grad, gfn(b)))
    flags.append((w._version, b._version))
    return losses, flags, w.detach(), b.detach(), w.grad, b.grad


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("variant", ["augmented", "sub_alpha", "add_neg", "augmented_grad_none"])
def test_manual_sgd_linear_regression(variant, dtype):
    ours, theirs = _sgd(tapegrad, variant, dtype), _sgd(torch, variant, dtype)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(ours[0], theirs[0], rtol=rtol, atol=rtol, err_msg="losses")
    assert theirs[0][-1] < theirs[0][0]  # oracle sanity: it trains
    assert ours[1] == theirs[1]
    assert_tensor_equal(ours[2], theirs[2], rtol=rtol, atol=rtol, what="w")
    assert_tensor_equal(ours[3], theirs[3], rtol=rtol, atol=rtol, what="b")
    compare_grads(ours[4:], theirs[4:], ["w.grad", "b.grad"])


def test_manual_sgd_without_no_grad_raises():
    def go(lib):
        w = lib.zeros(3, requires_grad=True)
        (w * 2).sum().backward()
        w -= 0.1 * w.grad

    expect_same_error(go)


# ---------------------------------------------------------------------------------------------
# Chained in-place ops
# ---------------------------------------------------------------------------------------------

def _aug_chain(lib, y, o):
    y += o
    y *= 2
    y **= 2
    y /= o
    y -= 1
    return y


def _views_then_base(lib, y, o):
    y[0].mul_(o[0])
    y.add_(1)
    y.t()[1].zero_()
    y[:, 2:].sub_(o[:, 2:], alpha=0.5)
    return y.tanh_()


def _mixed_inplace_outofplace(lib, y, o):
    y.mul_(o)
    z = y * 2  # z saved nothing of y's current version needed later
    y.add_(z)
    return y.sigmoid_()


CHAINS = {
    "mul_add_exp": (lambda lib, y, o: y.mul_(0.5).add_(1).exp_(), "any"),
    "add_mul_sigmoid_tensor": (lambda lib, y, o: y.add_(o).mul_(o).sigmoid_(), "any"),
    "sub_div_clamp_pow": (lambda lib, y, o: y.sub_(0.5).div_(o).clamp_(-1, 1).pow_(2), "any"),
    "mul_tensor_twice": (lambda lib, y, o: y.mul_(o).mul_(o), "any"),
    "neg_abs_sqrt": (lambda lib, y, o: y.neg_().abs_().sqrt_(), "any"),
    "copy_mul_sin": (lambda lib, y, o: y.copy_(o).mul_(3).sin_(), "any"),
    "zero_add_alpha": (lambda lib, y, o: y.zero_().add_(o, alpha=2), "any"),
    "fill_mul": (lambda lib, y, o: y.fill_(2).mul_(o), "any"),
    "abs_add_log": (lambda lib, y, o: y.abs_().add_(1).log_(), "any"),
    "cos_add_reciprocal": (lambda lib, y, o: y.cos_().add_(2).reciprocal_(), "any"),
    "log_pow_tensor_tanh": (lambda lib, y, o: y.log_().pow_(2).mul_(o).tanh_(), "pos"),
    "augmented_chain": (_aug_chain, "pos"),
    "views_then_base": (_views_then_base, "any"),
    "mixed_inplace_outofplace": (_mixed_inplace_outofplace, "any"),
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", list(CHAINS))
def test_chained_inplace(name, dtype):
    fn, domain = CHAINS[name]
    rng = np.random.default_rng(len(name) + 30)
    arrays = [values(SHAPE, domain, rng), values(SHAPE, "pos", rng)]
    compare_inplace(fn, arrays, [dtype, dtype])


@pytest.mark.parametrize("op", ["asinh_", "acosh_", "atanh_"])
def test_inplace_without_a_derivative_refuses_at_backward(op):
    """torch writes the values and records {Op}Backward1, whose backward raises NotImplementedError."""
    def go(lib):
        x = lib.tensor([0.5, 0.7], requires_grad=True)
        shift = 1.0 if op == "acosh_" else 0.0  # inside each op's domain
        y = x * 0.5 + shift
        getattr(y, op)()
        seen = (y.grad_fn.name(), y._version, [round(v, 5) for v in y.tolist()])
        with pytest.raises(NotImplementedError) as info:
            y.sum().backward()
        with lib.no_grad():
            z = x * 0.5 + shift
            getattr(z, op)()
        return seen, str(info.value), [round(v, 5) for v in z.tolist()]

    assert go(tapegrad) == go(torch)
