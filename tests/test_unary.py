# Unary ops: values, dtypes, grad_fn and gradients vs torch; finite differences; double backward.
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad
import torch
from conftest import (
    FLOAT_DTYPES,
    SHAPES,
    double_backward_both,
    expect_same_error,
    expect_same_result,
    numeric_gradcheck,
    run_both,
)


def _away_from_zero(rng, shape, lo=0.1, hi=2.0):
    return rng.uniform(lo, hi, shape) * rng.choice([-1.0, 1.0], shape)


# op name -> (values generator, function form, method form)
DOMAINS = {
    "any": lambda rng, shape: rng.uniform(-2.0, 2.0, shape),
    "nonzero": _away_from_zero,  # away from kinks/poles: relu, abs, sign, reciprocal
    "positive": lambda rng, shape: rng.uniform(0.5, 3.0, shape),
    "unit": lambda rng, shape: rng.uniform(-0.9, 0.9, shape),  # asin, acos, atanh
    "above_one": lambda rng, shape: rng.uniform(1.1, 3.0, shape),  # acosh
}

UNARY = {
    "exp": ("any", lambda lib, x: lib.exp(x), lambda lib, x: x.exp()),
    "log": ("positive", lambda lib, x: lib.log(x), lambda lib, x: x.log()),
    "sin": ("any", lambda lib, x: lib.sin(x), lambda lib, x: x.sin()),
    "cos": ("any", lambda lib, x: lib.cos(x), lambda lib, x: x.cos()),
    "tanh": ("any", lambda lib, x: lib.tanh(x), lambda lib, x: x.tanh()),
    "sigmoid": ("any", lambda lib, x: lib.sigmoid(x), lambda lib, x: x.sigmoid()),
    "relu": ("nonzero", lambda lib, x: lib.relu(x), lambda lib, x: x.relu()),
    "abs": ("nonzero", lambda lib, x: lib.abs(x), lambda lib, x: x.abs()),
    "sqrt": ("positive", lambda lib, x: lib.sqrt(x), lambda lib, x: x.sqrt()),
    "reciprocal": ("nonzero", lambda lib, x: lib.reciprocal(x), lambda lib, x: x.reciprocal()),
    "sign": ("nonzero", lambda lib, x: lib.sign(x), lambda lib, x: x.sign()),
    "neg": ("any", lambda lib, x: lib.neg(x), lambda lib, x: x.neg()),
    "negative": ("any", lambda lib, x: lib.negative(x), lambda lib, x: -x),
    "clamp": ("nonzero", lambda lib, x: lib.clamp(x, -0.5, 0.7), lambda lib, x: x.clamp(-0.5, 0.7)),
    "clamp_min": ("nonzero", lambda lib, x: lib.clamp(x, min=-0.5), lambda lib, x: x.clamp(min=-0.5)),
    "clamp_max": ("nonzero", lambda lib, x: lib.clamp(x, max=0.7), lambda lib, x: x.clamp(max=0.7)),
    "clip": ("nonzero", lambda lib, x: lib.clip(x, -0.5, 0.7), lambda lib, x: x.clip(-0.5, 0.7)),
    "pow_number": ("positive", lambda lib, x: lib.pow(x, 2.5), lambda lib, x: x.pow(2.5)),
    "pow_int": ("any", lambda lib, x: lib.pow(x, 3), lambda lib, x: x ** 3),
    "square_op": ("any", lambda lib, x: x ** 2, lambda lib, x: x.pow(2)),
    # Exponents torch computes directly (and tapegrad's kernels special-case the same way).
    "pow_half": ("positive", lambda lib, x: x ** 0.5, lambda lib, x: x.pow(0.5)),
    "pow_minus_half": ("positive", lambda lib, x: x ** -0.5, lambda lib, x: x.pow(-0.5)),
    "pow_minus_one": ("nonzero", lambda lib, x: x ** -1, lambda lib, x: x.pow(-1.0)),
    "pow_minus_two": ("nonzero", lambda lib, x: x ** -2, lambda lib, x: x.pow(-2)),
    "pow_one": ("any", lambda lib, x: x ** 1, lambda lib, x: x.pow(1.0)),
    "rpow_number": ("any", lambda lib, x: lib.pow(2.0, x), lambda lib, x: 2.0 ** x),
    "sum_then_exp": ("any", lambda lib, x: lib.exp(lib.sum(x)), lambda lib, x: x.sum().exp()),
    "clone": ("any", lambda lib, x: lib.clone(x), lambda lib, x: x.clone()),
    "detach_mul": ("any", lambda lib, x: lib.detach(x) * x, lambda lib, x: x.detach() * x),
}
# Rounding, inverse-trigonometric, hyperbolic and base-2/10 math (ops/math.cpp), same table form.
MATH_DOMAINS = {"asin": "unit", "acos": "unit", "atanh": "unit", "acosh": "above_one", "log2": "positive",
                "log10": "positive", "rsqrt": "positive"}
for _name in ["floor", "ceil", "trunc", "frac", "expm1", "log2", "log10", "exp2", "rsqrt", "asin", "acos", "atan",
              "sinh", "cosh", "asinh", "acosh", "atanh", "round", "square"]:
    UNARY[_name] = (MATH_DOMAINS.get(_name, "any"), lambda lib, x, n=_name: getattr(lib, n)(x),
                    lambda lib, x, n=_name: getattr(x, n)())
UNARY["round_decimals"] = ("any", lambda lib, x: lib.round(x, decimals=2), lambda lib, x: x.round(decimals=2))
UNARY["round_negative_decimals"] = ("any", lambda lib, x: lib.round(x * 100, decimals=-1),
                                   lambda lib, x: (x * 100).round(decimals=-1))


def _data(op, shape, seed=0):
    rng = np.random.default_rng(seed)
    return DOMAINS[UNARY[op][0]](rng, shape)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("form", ["function", "method"])
@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary_vs_torch(op, form, dtype, shape):
    fn = UNARY[op][1] if form == "function" else UNARY[op][2]
    run_both(fn, _data(op, shape), dtype=dtype)


@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary_no_grad_input(op):
    """Without requires_grad the result has no grad_fn and is a leaf."""
    out, ref, _, _ = run_both(UNARY[op][1], _data(op, (3, 2)), requires_grad=False)
    assert out.grad_fn is None and out.is_leaf and not out.requires_grad


@pytest.mark.parametrize("op", sorted(set(UNARY) - {"detach_mul"}))  # detach hides a path on purpose
def test_unary_gradcheck(op):
    numeric_gradcheck(UNARY[op][1], _data(op, (2, 3), seed=1))


@pytest.mark.parametrize("op", ["exp", "sin", "tanh", "sigmoid", "log", "sqrt", "abs", "reciprocal"])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_unary_hypothesis(op, data):
    domain = UNARY[op][0]
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4))
    if domain == "positive":
        elems = st.floats(0.05, 50.0)
    elif domain == "nonzero":
        elems = st.floats(0.05, 50.0) | st.floats(-50.0, -0.05)
    else:
        elems = st.floats(-20.0, 20.0)
    x = data.draw(hnp.arrays(np.float64, shape, elements=elems))
    dtype = data.draw(st.sampled_from(FLOAT_DTYPES))
    # Large exp values: compare relative; tiny sigmoid values: allow absolute slack.
    run_both(UNARY[op][1], x, dtype=dtype, rtol=3e-5 if dtype == "float32" else None)


# ---- edge points (kinks, zero, boundaries): gradients follow torch's conventions ----

EDGES = {
    "relu_at_0": (lambda lib, x: lib.relu(x), [0.0, -0.0, 1.0, -1.0]),
    "abs_at_0": (lambda lib, x: lib.abs(x), [0.0, -0.0, 2.0, -2.0]),
    "sign_at_0": (lambda lib, x: lib.sign(x), [0.0, -0.0, 3.0, -3.0]),
    "sqrt_at_0": (lambda lib, x: lib.sqrt(x), [0.0, 4.0]),
    "log_at_0": (lambda lib, x: lib.log(x), [0.0, 1.0]),
    "log_negative": (lambda lib, x: lib.log(x), [-1.0, 1.0]),
    "sqrt_negative": (lambda lib, x: lib.sqrt(x), [-1.0, 1.0]),
    "reciprocal_at_0": (lambda lib, x: lib.reciprocal(x), [0.0, -0.0, 2.0]),
    "clamp_at_bounds": (lambda lib, x: lib.clamp(x, -1.0, 1.0), [-1.0, 1.0, 0.0, -2.0, 2.0]),
    "clamp_min_only_at_bound": (lambda lib, x: lib.clamp(x, min=0.0), [0.0, -1.0, 1.0]),
    "clamp_max_only_at_bound": (lambda lib, x: lib.clamp(x, max=0.0), [0.0, -1.0, 1.0]),
    "clamp_min_gt_max": (lambda lib, x: lib.clamp(x, min=2.0, max=1.0), [0.0, 1.5, 3.0]),
    "clamp_int_bounds": (lambda lib, x: lib.clamp(x, -1, 1), [-3.0, 0.5, 3.0]),
    "pow_0_exp_0": (lambda lib, x: x ** 0, [0.0, 2.0]),
    "pow_0_exp_0_float": (lambda lib, x: x ** 0.0, [0.0, 2.0]),
    "pow_0_exp_2": (lambda lib, x: x ** 2, [0.0, -1.5]),
    "pow_0_exp_1": (lambda lib, x: x ** 1, [0.0, -1.5]),
    "pow_0_exp_half": (lambda lib, x: x ** 0.5, [0.0, 4.0]),
    "pow_neg_base_int_exp": (lambda lib, x: x ** 3, [-2.0, -0.5]),
    "pow_neg_base_frac_exp": (lambda lib, x: x ** 0.5, [-2.0, 4.0]),
    "pow_negative_exp": (lambda lib, x: x ** -2, [0.5, -2.0]),
    "exp_large": (lambda lib, x: lib.exp(x), [100.0, -100.0, 0.0]),
    "sigmoid_large": (lambda lib, x: lib.sigmoid(x), [50.0, -50.0, 0.0]),
    "tanh_large": (lambda lib, x: lib.tanh(x), [30.0, -30.0, 0.0]),
    "inf_nan": (lambda lib, x: lib.exp(x) + lib.relu(x), [np.inf, -np.inf, np.nan]),
    "round_halves_to_even": (lambda lib, x: lib.round(x), [0.5, 1.5, 2.5, -0.5, -1.5, 0.49999997]),
    "round_decimals_halves": (lambda lib, x: lib.round(x, decimals=1), [0.25, 0.35, -0.25, 1234.5678]),
    "floor_ceil_trunc_frac_negative": (lambda lib, x: lib.floor(x) + lib.ceil(x) * 10 + lib.trunc(x) * 100
                                       + lib.frac(x), [-1.5, -0.5, -0.0, 2.0, 2.7]),
    "asin_acos_at_one": (lambda lib, x: lib.asin(x) + lib.acos(x), [1.0, -1.0, 0.0]),
    "atanh_at_one": (lambda lib, x: lib.atanh(x), [1.0, -1.0, 0.5]),
    "acosh_at_one": (lambda lib, x: lib.acosh(x), [1.0, 2.0]),
    "rsqrt_at_zero": (lambda lib, x: lib.rsqrt(x), [0.0, 4.0]),
    "log2_log10_at_zero": (lambda lib, x: lib.log2(x) + lib.log10(x), [0.0, 8.0]),
    "math_out_of_domain": (lambda lib, x: lib.asin(x) + lib.acosh(x) + lib.log2(x), [-2.0, 0.5]),
    "math_inf_nan": (lambda lib, x: lib.expm1(x) + lib.exp2(x) + lib.sinh(x) + lib.atan(x),
                     [np.inf, -np.inf, np.nan, 30.0]),
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("case", sorted(EDGES))
def test_unary_edge_values(case, dtype):
    fn, values = EDGES[case]
    run_both(fn, np.array(values), dtype=dtype)


def test_clamp_requires_a_bound():
    expect_same_error(lambda lib: lib.clamp(lib.tensor([1.0, 2.0])))
    expect_same_error(lambda lib: lib.tensor([1.0, 2.0]).clamp())


def test_clamp_grad_fn_names():
    for fn in (lambda lib, x: x.clamp(min=0.0), lambda lib, x: x.clamp(max=0.0),
               lambda lib, x: x.clamp(0.0, 1.0), lambda lib, x: lib.clip(x, 0.0, 1.0)):
        run_both(fn, np.array([-1.0, 0.5, 2.0]))


# ---- integer and bool inputs: result dtype follows torch (float ops promote to the default dtype) ----

INT_OPS = {
    "exp": lambda lib, x: lib.exp(x),
    "log": lambda lib, x: lib.log(x),
    "sin": lambda lib, x: x.sin(),
    "cos": lambda lib, x: x.cos(),
    "tanh": lambda lib, x: x.tanh(),
    "sigmoid": lambda lib, x: x.sigmoid(),
    "sqrt": lambda lib, x: x.sqrt(),
    "reciprocal": lambda lib, x: x.reciprocal(),
    "relu": lambda lib, x: x.relu(),
    "abs": lambda lib, x: x.abs(),
    "sign": lambda lib, x: x.sign(),
    "neg": lambda lib, x: -x,
    "clamp_int": lambda lib, x: x.clamp(0, 2),
    "clamp_float": lambda lib, x: x.clamp(min=0.5),
    "pow_int": lambda lib, x: x ** 2,
    "pow_float": lambda lib, x: x ** 0.5,
    "rpow_int": lambda lib, x: 2 ** x,
    "rpow_float": lambda lib, x: 2.0 ** x,
    "clone": lambda lib, x: x.clone(),
}
for _name in ["floor", "ceil", "trunc", "frac", "expm1", "log2", "log10", "exp2", "rsqrt", "asin", "acos", "atan",
              "sinh", "cosh", "asinh", "acosh", "atanh", "round", "square"]:
    INT_OPS[_name] = lambda lib, x, n=_name: getattr(lib, n)(x)
INT_OPS["round_decimals"] = lambda lib, x: x.round(decimals=1)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("op", sorted(INT_OPS))
def test_unary_integer_inputs(op, dtype):
    values = [True, False, True] if dtype == "bool" else [3, 0, 1, 2]
    fn = INT_OPS[op]

    def build(lib):
        return fn(lib, lib.tensor(values, dtype=getattr(lib, dtype)))

    try:
        build(torch)
    except Exception:
        expect_same_error(build)
        return
    expect_same_result(build)


def test_int_pow_negative_exponent_error():
    expect_same_error(lambda lib: lib.tensor([2, 3]) ** -1)


@pytest.mark.parametrize("default", FLOAT_DTYPES)
def test_integer_unary_follows_default_dtype(default):
    for lib in (tapegrad, torch):
        lib.set_default_dtype(getattr(lib, default))
    expect_same_result(lambda lib: lib.tensor([1, 2, 3]).exp())
    expect_same_result(lambda lib: lib.tensor([True, False]).sqrt())


# ---- double backward (create_graph=True) ----

SECOND = {
    "sin_of_square": lambda lib, x: lib.sin(x ** 2),
    "exp": lambda lib, x: lib.exp(x),
    "tanh": lambda lib, x: lib.tanh(x),
    "sigmoid": lambda lib, x: lib.sigmoid(x),
    "log": lambda lib, x: lib.log(x),
    "sqrt": lambda lib, x: lib.sqrt(x),
    "cos": lambda lib, x: lib.cos(x),
    "reciprocal": lambda lib, x: lib.reciprocal(x),
    "pow_number": lambda lib, x: x ** 3.5,
    "rpow_number": lambda lib, x: 3.0 ** x,
    "abs_times_x": lambda lib, x: lib.abs(x) * x,
    "relu_times_x": lambda lib, x: lib.relu(x) * x,
    "clamp_times_x": lambda lib, x: lib.clamp(x, 0.6, 2.0) * x,
    "mean_of_cube": lambda lib, x: (x ** 3).mean(),
    "rounding_times_x": lambda lib, x: (lib.floor(x) + lib.ceil(x) + lib.round(x) + lib.trunc(x) + lib.frac(x)) * x,
    "expm1": lambda lib, x: lib.expm1(x),
    "log2_log10": lambda lib, x: lib.log2(x) * lib.log10(x),
    "exp2": lambda lib, x: lib.exp2(x),
    "rsqrt": lambda lib, x: lib.rsqrt(x),
    "asin_acos_atanh": lambda lib, x: lib.asin(x / 3) * lib.acos(x / 3) + lib.atanh(x / 3),
    "atan": lambda lib, x: lib.atan(x),
    "sinh_cosh": lambda lib, x: lib.sinh(x) * lib.cosh(x),
    "asinh_acosh": lambda lib, x: lib.asinh(x) + lib.acosh(x + 1),
    "square": lambda lib, x: lib.square(x) * x,
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("op", sorted(SECOND))
def test_unary_double_backward(op, dtype):
    x = np.random.default_rng(3).uniform(0.5, 2.5, (2, 3))
    tol = {} if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    double_backward_both(SECOND[op], x, dtype=dtype, **tol)


def test_sin_square_second_derivative_exact():
    """d2/dx2 sin(x^2) = 2cos(x^2) - 4x^2 sin(x^2), through autograd.grad twice."""
    xv = np.array([0.3, -1.1, 2.0])
    x = tapegrad.tensor(xv.tolist(), dtype=tapegrad.float64, requires_grad=True)
    (g,) = tapegrad.autograd.grad(tapegrad.sin(x ** 2).sum(), x, create_graph=True)
    assert g.grad_fn is not None
    (h,) = tapegrad.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), 2 * xv * np.cos(xv ** 2), rtol=1e-12)
    np.testing.assert_allclose(h.numpy(), 2 * np.cos(xv ** 2) - 4 * xv ** 2 * np.sin(xv ** 2), rtol=1e-12)


def test_third_derivative_of_tanh():
    out = {}
    for lib in (tapegrad, torch):
        x = lib.tensor([0.2, -0.7, 1.3], dtype=lib.float64, requires_grad=True)
        (g1,) = lib.autograd.grad(x.tanh().sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad(g1.sum(), x, create_graph=True)
        (g3,) = lib.autograd.grad(g2.sum(), x)
        out[lib.__name__] = g3.numpy()
    np.testing.assert_allclose(out["tapegrad"], out["torch"], rtol=1e-12)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")
def test_create_graph_backward_accumulates_graph_grad():
    ref = {}
    for lib in (tapegrad, torch):
        x = lib.tensor([0.5, 1.5], dtype=lib.float64, requires_grad=True)
        (x.exp() * x).sum().backward(create_graph=True)
        assert x.grad.requires_grad and x.grad.grad_fn is not None
        g = x.grad
        x.grad = None
        g.sum().backward()
        ref[lib.__name__] = x.grad.numpy().copy()
    np.testing.assert_allclose(ref["tapegrad"], ref["torch"], rtol=1e-12)

