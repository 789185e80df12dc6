# tapegrad.nn.functional activations and layers vs torch.nn.functional: values and gradients (float32 and
# float64, hypothesis-drawn shapes and values), in-place forms, dropout statistics, layer_norm, batch_norm
# (running statistics), embedding (padding_idx) and linear.
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad
import tapegrad.nn  # noqa: F401
import torch
from conftest import FLOAT_DTYPES, assert_tensor_equal, make, run_both, to_numpy

TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-10, atol=1e-12)}


def tol(dtype):
    t = TOL[dtype]
    return dict(rtol=t["rtol"], atol=t["atol"], grad_rtol=t["rtol"], grad_atol=t["atol"])


def F(lib):
    return lib.nn.functional


ACTIVATIONS = {
    "relu": lambda f, x: f.relu(x),
    "leaky_relu": lambda f, x: f.leaky_relu(x),
    "leaky_relu_0.2": lambda f, x: f.leaky_relu(x, 0.2),
    "leaky_relu_negative_slope": lambda f, x: f.leaky_relu(x, negative_slope=-0.3),
    "gelu": lambda f, x: f.gelu(x),
    "gelu_tanh": lambda f, x: f.gelu(x, approximate="tanh"),
    "silu": lambda f, x: f.silu(x),
    "elu": lambda f, x: f.elu(x),
    "elu_alpha_0.5": lambda f, x: f.elu(x, alpha=0.5),
    "elu_alpha_2": lambda f, x: f.elu(x, 2.0),
    "softplus": lambda f, x: f.softplus(x),
    "softplus_beta_2_threshold_3": lambda f, x: f.softplus(x, beta=2.0, threshold=3.0),
    "softplus_beta_0.5_threshold_1": lambda f, x: f.softplus(x, beta=0.5, threshold=1.0),
    "sigmoid": lambda f, x: f.sigmoid(x),
    "tanh": lambda f, x: f.tanh(x),
    "hardtanh": lambda f, x: f.hardtanh(x),
    "hardtanh_range": lambda f, x: f.hardtanh(x, -0.5, 3.0),
    "relu6": lambda f, x: f.relu6(x),
    "hardsigmoid": lambda f, x: f.hardsigmoid(x),
    "hardswish": lambda f, x: f.hardswish(x),
    "mish": lambda f, x: f.mish(x),
    "logsigmoid": lambda f, x: f.logsigmoid(x),
    "celu": lambda f, x: f.celu(x),
    "celu_alpha_0.5": lambda f, x: f.celu(x, alpha=0.5),
    "hardshrink": lambda f, x: f.hardshrink(x),
    "softshrink": lambda f, x: f.softshrink(x, 1.4),
    "threshold": lambda f, x: f.threshold(x, 0.5, -2.0),
    "softsign": lambda f, x: f.softsign(x),
    "tanhshrink": lambda f, x: f.tanhshrink(x),
}
SOFTMAXES = ("softmax", "log_softmax")


def act_case(name, x, dtype, seed=0):
    run_both(lambda lib, t: ACTIVATIONS[name](F(lib), t), x, dtype=dtype, check_grad_fn=True, seed=seed,
             **tol(dtype))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@settings(deadline=None, max_examples=25)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=5),
                    elements=st.floats(-30, 30, width=32)),
       dtype=st.sampled_from(FLOAT_DTYPES))
def test_activation_hypothesis(name, x, dtype):
    act_case(name, x, dtype)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_activation_special_values(name, dtype):
    # exact zero (the kinks), saturation, and both sides of softplus' thresholds (beta * x = 20, 3, 1).
    x = np.array([0.0, -0.0, 1e-8, -1e-8, 0.5, -0.5, 1.4, 1.6, 2.1, 1.9, 19.9, 20.1, 25.0, -25.0, 60.0, -60.0,
                  100.0, -100.0, 3.0, 6.0, 0.9, 1.1])
    act_case(name, x, dtype)


@pytest.mark.parametrize("name", SOFTMAXES)
@settings(deadline=None, max_examples=30)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4),
                    elements=st.floats(-50, 50, width=32)),
       dtype=st.sampled_from(FLOAT_DTYPES), data=st.data())
def test_softmax_hypothesis(name, x, dtype, data):
    dim = data.draw(st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1))
    run_both(lambda lib, t: getattr(F(lib), name)(t, dim=dim), x, dtype=dtype, **tol(dtype))


@pytest.mark.parametrize("name", SOFTMAXES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_softmax_extreme_logits(name, dtype):
    x = np.array([[1000.0, 0.0, -1000.0], [88.0, 89.0, 90.0], [-100.0, -100.0, -100.0]])
    run_both(lambda lib, t: getattr(F(lib), name)(t, dim=1), x, dtype=dtype, **tol(dtype))


@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_dtype_argument(name):
    x = np.random.default_rng(0).standard_normal((3, 4))
    run_both(lambda lib, t: getattr(F(lib), name)(t, dim=-1, dtype=lib.float64), x, dtype="float32", **tol("float64"))


# ---- in-place forms ----------------------------------------------------------------------------------------

INPLACE = {
    "relu": lambda f, y: f.relu(y, inplace=True),
    "leaky_relu": lambda f, y: f.leaky_relu(y, 0.1, inplace=True),
    "elu": lambda f, y: f.elu(y, 0.7, inplace=True),
    "silu": lambda f, y: f.silu(y, inplace=True),
    "hardtanh": lambda f, y: f.hardtanh(y, -0.5, 0.5, inplace=True),
    "relu6": lambda f, y: f.relu6(y, inplace=True),
    "hardsigmoid": lambda f, y: f.hardsigmoid(y, inplace=True),
    "hardswish": lambda f, y: f.hardswish(y, inplace=True),
    "mish": lambda f, y: f.mish(y, inplace=True),
    "celu": lambda f, y: f.celu(y, 0.5, inplace=True),
    "threshold": lambda f, y: f.threshold(y, 0.1, 20.0, inplace=True),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 2)])
def test_inplace_on_non_leaf(name, dtype, shape):
    x = np.random.default_rng(1).standard_normal(shape) * 2
    written = {}

    def fn(lib, t):
        y = t * 2.0  # a non-leaf
        out = INPLACE[name](F(lib), y)
        written[lib.__name__] = (y, out)
        return out

    run_both(fn, x, dtype=dtype, check_grad_fn=False, **tol(dtype))
    for libname, (y, out) in written.items():
        assert out is y, f"{libname}: the in-place form must return its input"
    assert_tensor_equal(written["tapegrad"][0], written["torch"][0], **TOL[dtype], what="the written input")


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_bumps_the_version_like_torch(name):
    bumps = {}
    for lib in (tapegrad, torch):
        x = make(lib, [[-1.5, 0.5, 2.0], [0.25, -0.75, 3.0]], "float32", True)
        y = x * 1.0
        before = y._version
        INPLACE[name](F(lib), y)
        bumps[lib.__name__] = y._version > before
    assert bumps["tapegrad"] and bumps["torch"]


# ---- dropout -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("call", ["p0_training", "eval", "eval_p1"])
def test_dropout_identity(call, dtype):
    x = np.random.default_rng(2).standard_normal((4, 5))
    kw = {"p0_training": dict(p=0.0, training=True), "eval": dict(p=0.5, training=False),
          "eval_p1": dict(p=1.0, training=False)}[call]
    out, _, ins, _ = run_both(lambda lib, t: F(lib).dropout(t, **kw), x, dtype=dtype, check_grad_fn=False,
                              **tol(dtype))
    np.testing.assert_array_equal(to_numpy(out), to_numpy(ins[0]))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("inplace", [False, True])
def test_dropout_training_statistics_and_gradient(p, inplace, dtype):
    n = 100_000
    rng = np.random.default_rng(3)
    xa = rng.random(n) + 0.5  # never zero: a zero in the output means dropped
    x = make(tapegrad, xa, dtype, True)
    src = x * 1.0 if inplace else x
    out = F(tapegrad).dropout(src, p=p, training=True, inplace=inplace)
    if inplace:
        assert out is src
    o = to_numpy(out)
    kept = o != 0
    frac = 1.0 - kept.mean()
    assert abs(frac - p) < 6 * np.sqrt(p * (1 - p) / n), f"zeroed fraction {frac} for p={p}"
    xr = to_numpy(x)
    np.testing.assert_allclose(o[kept], xr[kept] / (1 - p), **TOL[dtype])
    upstream = rng.standard_normal(n)
    out.backward(make(tapegrad, upstream, dtype))
    expected = np.where(kept, upstream / (1 - p), 0.0)
    np.testing.assert_allclose(to_numpy(x.grad), expected, **TOL[dtype])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_dropout_p1_training_zeroes_everything(dtype):
    x = np.random.default_rng(4).standard_normal((3, 4))
    run_both(lambda lib, t: F(lib).dropout(t, p=1.0, training=True), x, dtype=dtype, check_grad_fn=False,
             **tol(dtype))


def test_dropout_masks_differ_between_calls():
    x = tapegrad.ones(1000)
    a, b = F(tapegrad).dropout(x, 0.5), F(tapegrad).dropout(x, 0.5)
    assert not np.array_equal(to_numpy(a), to_numpy(b))


# ---- layer_norm --------------------------------------------------------------------------------------------

LN_CASES = [((4, 5), (5,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)), ((2, 3, 4), (2, 3, 4)), ((6,), (6,)),
            ((2, 1, 3), (3,))]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("affine", ["none", "weight", "weight_bias", "bias"])
@pytest.mark.parametrize("eps", [1e-5, 0.1])
@pytest.mark.parametrize("shape,normalized", LN_CASES, ids=[f"{s}-{n}" for s, n in LN_CASES])
def test_layer_norm(shape, normalized, affine, eps, dtype):
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal(shape) * 3 + 1, rng.standard_normal(normalized), rng.standard_normal(normalized)

    def fn(lib, xt, wt, bt):
        return F(lib).layer_norm(xt, normalized, wt if "weight" in affine else None, bt if "bias" in affine else None,
                                 eps=eps)

    run_both(fn, x, w, b, dtype=dtype, check_grad_fn=True, **tol(dtype))


# ---- batch_norm --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("momentum", [0.1, 0.35])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batch_norm_training_updates_running_stats(shape, momentum, affine, dtype):
    rng = np.random.default_rng(6)
    c = shape[1]
    x = rng.standard_normal(shape) * 2 + 0.5
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    rm0, rv0 = rng.standard_normal(c), rng.random(c) + 0.5
    stats = {}

    def fn(lib, xt, wt, bt):
        rm, rv = make(lib, rm0, dtype), make(lib, rv0, dtype)
        stats[lib.__name__] = (rm, rv)
        return F(lib).batch_norm(xt, rm, rv, wt if affine else None, bt if affine else None, training=True,
                                 momentum=momentum)

    run_both(fn, x, w, b, dtype=dtype, check_grad_fn=True, **tol(dtype))
    for k, what in enumerate(("running_mean", "running_var")):
        assert_tensor_equal(stats["tapegrad"][k], stats["torch"][k], **TOL[dtype], what=what)
        assert not stats["tapegrad"][k].requires_grad


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batch_norm_training_without_running_stats(shape, dtype):
    x = np.random.default_rng(7).standard_normal(shape)
    run_both(lambda lib, t: F(lib).batch_norm(t, None, None, training=True, eps=1e-3), x, dtype=dtype,
             **tol(dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (1, 3)])
def test_batch_norm_eval_uses_running_stats(shape, affine, dtype):
    rng = np.random.default_rng(8)
    c = shape[1]
    x, w, b = rng.standard_normal(shape), rng.standard_normal(c), rng.standard_normal(c)
    rm0, rv0 = rng.standard_normal(c), rng.random(c) + 0.5
    stats = {}

    def fn(lib, xt, wt, bt):
        rm, rv = make(lib, rm0, dtype), make(lib, rv0, dtype)
        stats[lib.__name__] = (rm, rv)
        return F(lib).batch_norm(xt, rm, rv, wt if affine else None, bt if affine else None, training=False)

    run_both(fn, x, w, b, dtype=dtype, check_grad_fn=True, **tol(dtype))
    for rm_rv, ref in zip(stats["tapegrad"], (rm0, rv0)):  # eval leaves the statistics alone
        np.testing.assert_allclose(to_numpy(rm_rv), np.asarray(ref, dtype=dtype))


# ---- embedding ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("padding_idx", [None, 2, -1, 0])
@pytest.mark.parametrize("indices", [[1, 2, 2, 5, 0], [[0, 2, 4], [2, 2, 1]], 3],
                         ids=["1d_repeats", "2d", "scalar"])
def test_embedding(indices, padding_idx, dtype):
    weight = np.random.default_rng(9).standard_normal((6, 3))
    out, _, ins, _ = run_both(lambda lib, i, w: F(lib).embedding(i, w, padding_idx=padding_idx), indices, weight,
                              dtype=["int64", dtype], check_grad_fn=True, **tol(dtype))
    if padding_idx is not None:
        np.testing.assert_array_equal(to_numpy(ins[1].grad)[padding_idx], np.zeros(3))


# ---- linear ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,), (2, 1, 2, 3)])
def test_linear(shape, bias, dtype):
    rng = np.random.default_rng(10)
    x, w, b = rng.standard_normal(shape), rng.standard_normal((4, 3)), rng.standard_normal(4)
    run_both(lambda lib, xt, wt, bt: F(lib).linear(xt, wt, bt if bias else None), x, w, b, dtype=dtype,
             requires_grad=[True, True, bias], check_grad_fn=len(shape) == 2, **tol(dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_linear_non_contiguous_3d_input(dtype):
    rng = np.random.default_rng(11)
    x, w, b = rng.standard_normal((2, 3, 5)), rng.standard_normal((4, 3)), rng.standard_normal(4)
    run_both(lambda lib, xt, wt, bt: F(lib).linear(xt.transpose(1, 2), wt, bt), x, w, b, dtype=dtype,
             check_grad_fn=False, **tol(dtype))


@settings(deadline=None, max_examples=25)
@given(batch=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4), fin=st.integers(1, 6),
       fout=st.integers(1, 6), bias=st.booleans(), dtype=st.sampled_from(FLOAT_DTYPES), seed=st.integers(0, 999))
def test_linear_hypothesis(batch, fin, fout, bias, dtype, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal(batch + (fin,)), rng.standard_normal((fout, fin)), rng.standard_normal(fout)
    run_both(lambda lib, xt, wt, bt: F(lib).linear(xt, wt, bt if bias else None), x, w, b, dtype=dtype,
             requires_grad=[True, True, bias], check_grad_fn=False, **tol(dtype))


@pytest.mark.parametrize("norm_type", [2.0, 1.0])
def test_embedding_max_norm_renormalises_looked_up_rows_like_torch(norm_type):
    weights = np.random.default_rng(3).standard_normal((6, 4)) * 2
    indices = np.array([[0, 2, 2], [5, 1, 0]])
    results = {}
    for lib in (tapegrad, torch):
        w = lib.tensor(weights, requires_grad=True)
        out = lib.nn.functional.embedding(lib.tensor(indices), w, max_norm=1.5, norm_type=norm_type)
        (out * 2).sum().backward()
        results[lib.__name__] = [out.detach().numpy(), w.detach().numpy(), w.grad.numpy()]
    for ours, theirs in zip(results["tapegrad"], results["torch"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    assert np.allclose(results["torch"][1][3], weights[3])  # rows not looked up stay as they were



# ---- glu, softmin; double backward of the piecewise activations; the module classes ----

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_glu_and_softmin(dim, dtype):
    x = np.random.default_rng(2).uniform(-3, 3, (4, 6))
    run_both(lambda lib, t: F(lib).glu(t, dim), x, dtype=dtype, **tol(dtype))
    run_both(lambda lib, t: F(lib).softmin(t, dim), x, dtype=dtype, **tol(dtype))


def test_glu_errors_and_softmin_default_dim_warning():
    from conftest import expect_same_error
    expect_same_error(lambda lib: F(lib).glu(lib.zeros(3, 5)))
    expect_same_error(lambda lib: F(lib).glu(lib.tensor(1.0)))
    for lib in (tapegrad, torch):
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
            F(lib).softmin(lib.zeros(2, 3))


@pytest.mark.parametrize("name", ["hardswish", "mish", "logsigmoid", "celu_alpha_0.5", "softsign", "tanhshrink"])
def test_activation_double_backward(name):
    from conftest import double_backward_both
    x = np.random.default_rng(3).uniform(-4, 4, (3, 4))
    double_backward_both(lambda lib, t: ACTIVATIONS[name](F(lib), t) * t, x, dtype="float64")


MODULES = {
    "Hardtanh": lambda nn: nn.Hardtanh(), "Hardtanh_args": lambda nn: nn.Hardtanh(-2, 3, True),
    "ReLU6": lambda nn: nn.ReLU6(inplace=True), "Hardsigmoid": lambda nn: nn.Hardsigmoid(),
    "Hardswish": lambda nn: nn.Hardswish(True), "Mish": lambda nn: nn.Mish(), "LogSigmoid": lambda nn: nn.LogSigmoid(),
    "CELU": lambda nn: nn.CELU(0.5), "Hardshrink": lambda nn: nn.Hardshrink(), "Softshrink": lambda nn: nn.Softshrink(0.3),
    "Threshold": lambda nn: nn.Threshold(0.1, 2.0), "GLU": lambda nn: nn.GLU(), "Softmin": lambda nn: nn.Softmin(1),
    "Softsign": lambda nn: nn.Softsign(), "Tanhshrink": lambda nn: nn.Tanhshrink(),
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_activation_modules_repr_and_output(name):
    ours, theirs = MODULES[name](tapegrad.nn), MODULES[name](torch.nn)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(4).uniform(-4, 4, (2, 6))
    # In-place forms record torch's *Backward1 nodes there and a copy here (see INPLACE): values only.
    run_both(lambda lib, t: (ours if lib is tapegrad else theirs)(t * 1), x,
             check_grad_fn=not getattr(theirs, "inplace", False))
