# Binary ops: values, broadcasting, Python-number operands, type promotion, gradients vs torch.
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad
import torch
from conftest import (
    ALL_DTYPES,
    BROADCAST_PAIRS,
    FLOAT_DTYPES,
    LIBS,
    SHAPES,
    capture,
    double_backward_both,
    expect_same_error,
    expect_same_outcome,
    expect_same_result,
    numeric_gradcheck,
    run_both,
)

# op -> (domain of a, domain of b, function form, method form, operator form)
BINARY = {
    "add": ("any", "any", lambda lib, a, b: lib.add(a, b), lambda lib, a, b: a.add(b), lambda lib, a, b: a + b),
    "sub": ("any", "any", lambda lib, a, b: lib.sub(a, b), lambda lib, a, b: a.sub(b), lambda lib, a, b: a - b),
    "mul": ("any", "any", lambda lib, a, b: lib.mul(a, b), lambda lib, a, b: a.mul(b), lambda lib, a, b: a * b),
    "div": ("any", "nonzero", lambda lib, a, b: lib.div(a, b), lambda lib, a, b: a.div(b),
            lambda lib, a, b: a / b),
    "pow": ("positive", "any", lambda lib, a, b: lib.pow(a, b), lambda lib, a, b: a.pow(b),
            lambda lib, a, b: a ** b),
    "add_alpha": ("any", "any", lambda lib, a, b: lib.add(a, b, alpha=2.5),
                  lambda lib, a, b: a.add(b, alpha=-3), lambda lib, a, b: a + 2.5 * b),
    "sub_alpha": ("any", "any", lambda lib, a, b: lib.sub(a, b, alpha=2.5),
                  lambda lib, a, b: a.sub(b, alpha=-3), lambda lib, a, b: a - 2.5 * b),
    "rsub": ("any", "any", lambda lib, a, b: lib.rsub(a, b), lambda lib, a, b: b - a, lambda lib, a, b: -a + b),
    "remainder": ("any", "nonzero", lambda lib, a, b: lib.remainder(a, b), lambda lib, a, b: a.remainder(b),
                  lambda lib, a, b: a % b),
    "fmod": ("any", "nonzero", lambda lib, a, b: lib.fmod(a, b), lambda lib, a, b: a.fmod(b),
             lambda lib, a, b: lib.fmod(a, b)),
    "atan2": ("any", "nonzero", lambda lib, a, b: lib.atan2(a, b), lambda lib, a, b: a.atan2(b),
              lambda lib, a, b: lib.arctan2(a, b)),
}
FORMS = {"function": 2, "method": 3, "operator": 4}


def _values(domain, rng, shape):
    if domain == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "nonzero":
        return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return rng.uniform(-2.0, 2.0, shape)


def _data(op, sa, sb, seed=0):
    rng = np.random.default_rng(seed)
    return _values(BINARY[op][0], rng, sa), _values(BINARY[op][1], rng, sb)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_same_shape(op, form, dtype, shape):
    run_both(BINARY[op][FORMS[form]], *_data(op, shape, shape), dtype=dtype)


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_broadcast(op, dtype, shapes, swap):
    sa, sb = shapes[::-1] if swap else shapes
    run_both(BINARY[op][FORMS["operator"]], *_data(op, sa, sb), dtype=dtype)


# Gradients that only need a leading size-1 dimension dropped (no actual summation).
SQUEEZE_PAIRS = [((4,), (1, 4)), ((), (1, 1)), ((), (1,)), ((3,), (1, 1, 3)), ((2, 3), (1, 2, 3))]


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("shapes", SQUEEZE_PAIRS, ids=str)
@pytest.mark.parametrize("op", ["add", "mul", "div"])
def test_binary_broadcast_leading_ones(op, shapes, swap):
    sa, sb = shapes[::-1] if swap else shapes
    run_both(BINARY[op][FORMS["operator"]], *_data(op, sa, sb), dtype="float64")


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow"])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_binary_broadcast_hypothesis(op, data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3))
    sa, sb = shapes.input_shapes
    da, db = BINARY[op][0], BINARY[op][1]
    lo = 0.25 if da == "positive" else -3.0
    a = data.draw(hnp.arrays(np.float64, sa, elements=st.floats(lo, 3.0)))
    b = data.draw(hnp.arrays(np.float64, sb, elements=st.floats(-3.0, 3.0)))
    if db == "nonzero":
        b = np.where(np.abs(b) < 0.25, 0.25, b)
    dtype = data.draw(st.sampled_from(FLOAT_DTYPES))
    rg = data.draw(st.sampled_from([(True, True), (True, False), (False, True)]))
    run_both(BINARY[op][FORMS["operator"]], a, b, dtype=dtype, requires_grad=list(rg),
             rtol=1e-4 if dtype == "float32" else None, atol=1e-5 if dtype == "float32" else None)


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((3, 1), (1, 4)), ((), (2, 3)), ((2, 1, 4), (3, 1))], ids=str)
def test_binary_gradcheck(op, shapes):
    numeric_gradcheck(BINARY[op][FORMS["function"]], *_data(op, *shapes, seed=2))


@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow"])
def test_binary_only_one_input_requires_grad(op, which):
    rg = [which == 0, which == 1]
    out, _, ins, _ = run_both(BINARY[op][FORMS["operator"]], *_data(op, (3, 1), (1, 4)), requires_grad=rg)
    assert ins[1 - which].grad is None


@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_same_tensor_both_sides(op):
    x = _values("positive", np.random.default_rng(5), (2, 3))
    fn = BINARY[op][FORMS["operator"]]
    run_both(lambda lib, a: fn(lib, a, a), x)
    numeric_gradcheck(lambda lib, a: fn(lib, a, a), x)


# ---- Python numbers on either side ----

NUMBERS = [2, -3, 0, 2.5, -0.75, True, False]
NUM_OPS = {
    "add": (lambda x, s: x + s, lambda x, s: s + x),
    "sub": (lambda x, s: x - s, lambda x, s: s - x),
    "mul": (lambda x, s: x * s, lambda x, s: s * x),
    "div": (lambda x, s: x / s, lambda x, s: s / x),
    "pow": (lambda x, s: x ** s, lambda x, s: s ** x),
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("number", NUMBERS, ids=repr)
@pytest.mark.parametrize("op", sorted(NUM_OPS))
def test_float_tensor_with_python_number(op, number, side, dtype):
    fn = NUM_OPS[op][0 if side == "right" else 1]
    positive = op == "pow" and side == "right"  # x ** s: keep the base positive
    x = np.random.default_rng(1).uniform(0.5, 2.0, (2, 3)) * (1 if positive else np.array([1, -1, 1]))
    _, err = capture(lambda lib: fn(lib.tensor(x.tolist(), dtype=getattr(lib, dtype)), number), torch)
    if err is not None:  # e.g. subtraction with a bool
        expect_same_error(lambda lib: fn(lib.tensor(x.tolist(), dtype=getattr(lib, dtype)), number))
        return
    # torch 2.13 hits an internal assert in the backward of `bool ** tensor`: compare the forward only.
    upstream = None if (op == "pow" and side == "left" and isinstance(number, bool)) else "random"
    run_both(lambda lib, t: fn(t, number), x, dtype=dtype, upstream=upstream)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("number", [2, -3, 0, 2.5, True], ids=repr)
@pytest.mark.parametrize("op", sorted(NUM_OPS))
def test_integer_tensor_with_python_number(op, number, side, dtype):
    """Result dtype/values follow torch, including its errors (bool subtraction, int ** negative int)."""
    fn = NUM_OPS[op][0 if side == "right" else 1]
    values = [True, False, True] if dtype == "bool" else [3, 1, 2, 5]

    def build(lib):
        return fn(lib.tensor(values, dtype=getattr(lib, dtype)), number)

    expect_same_outcome(build)


# ---- type promotion: tensor/tensor (0-dim and not), mixed float widths, gradients keep input dtypes ----

PROMO_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "remainder": lambda a, b: a % b,  # bool False divisors: torch's ZeroDivisionError for integers
    "floor_divide": lambda a, b: a // b,
    "fmod": lambda a, b: a.fmod(b),
    "atan2": lambda a, b: a.atan2(b),
}


def _promo_values(dtype, shape):
    base = {"bool": [True, False, True], "int64": [2, 3, 1], "int32": [1, 2, 4],
            "float32": [1.5, 0.5, 2.0], "float64": [0.25, 1.75, 3.0]}[dtype]
    return base[0] if shape == () else base


@pytest.mark.parametrize("b_shape", [(), (3,)], ids=["0dim", "1dim"])
@pytest.mark.parametrize("a_shape", [(), (3,)], ids=["0dim", "1dim"])
@pytest.mark.parametrize("db", ALL_DTYPES)
@pytest.mark.parametrize("da", ALL_DTYPES)
@pytest.mark.parametrize("op", sorted(PROMO_OPS))
def test_type_promotion_tensor_tensor(op, da, db, a_shape, b_shape):
    fn = PROMO_OPS[op]

    def build(lib):
        a = lib.tensor(_promo_values(da, a_shape), dtype=getattr(lib, da))
        b = lib.tensor(_promo_values(db, b_shape), dtype=getattr(lib, db))
        return fn(a, b)

    expect_same_outcome(build)


PROMO_GRAD_CASES = [
    # (dtype a, shape a, dtype b, shape b)
    ("float32", (3,), "float64", ()),
    ("float64", (), "float32", (3,)),
    ("float32", (3,), "float64", (3,)),
    ("float64", (2, 3), "float32", (3,)),
    ("float32", (), "float64", ()),
]


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow"])
@pytest.mark.parametrize("case", PROMO_GRAD_CASES, ids=str)
def test_mixed_float_promotion_gradients(op, case):
    """Each input's .grad has that input's dtype and shape; the output has torch's result dtype."""
    da, sa, db, sb = case
    rng = np.random.default_rng(4)
    a, b = rng.uniform(0.5, 2.0, sa), rng.uniform(0.5, 2.0, sb)
    fn = PROMO_OPS[op]
    run_both(lambda lib, x, y: fn(x, y), a, b, dtype=[da, db], grad_rtol=1e-5, grad_atol=1e-6)


@pytest.mark.parametrize("int_dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("op", ["add", "mul", "div", "pow"])
def test_int_tensor_with_float_tensor_requiring_grad(op, int_dtype):
    a = np.array([1, 0, 1]) if int_dtype == "bool" else np.array([1, 2, 3])
    b = np.array([0.5, 1.5, 2.5])
    fn = PROMO_OPS[op]
    if op == "pow" and int_dtype == "bool":
        # torch 2.13's own pow backward fails for a bool exponent (it subtracts 1 from it): compare the
        # forward results, and the gradient where the bool tensor is the base.
        expect_same_result(lambda lib: lib.tensor(b, dtype=lib.float32) ** lib.tensor(a, dtype=lib.bool))
        run_both(lambda lib, x, y: fn(x, y), a, b, dtype=[int_dtype, "float32"])
        return
    run_both(lambda lib, x, y: fn(x, y), a, b, dtype=[int_dtype, "float32"])
    run_both(lambda lib, x, y: fn(y, x), a, b, dtype=[int_dtype, "float64"])


def test_int_div_int_is_float():
    expect_same_result(lambda lib: lib.tensor([1, 2, 3]) / lib.tensor([2, 4, 5]))
    expect_same_result(lambda lib: lib.tensor([1, 2, 3], dtype=lib.int32) / 2)
    expect_same_result(lambda lib: 7 / lib.tensor([1, 2, 3]))
    expect_same_result(lambda lib: lib.tensor([True, False]) / lib.tensor([True, True]))
    expect_same_result(lambda lib: lib.div(lib.tensor([1, 2, 3]), lib.tensor(2)))


@pytest.mark.parametrize("default", FLOAT_DTYPES)
def test_promotion_with_default_dtype(default):
    for lib in (tapegrad, torch):
        lib.set_default_dtype(getattr(lib, default))
    expect_same_result(lambda lib: lib.tensor([1, 2]) + 0.5)
    expect_same_result(lambda lib: lib.tensor([1, 2]) / lib.tensor([3, 4]))
    expect_same_result(lambda lib: lib.tensor([True, False]) * 1.5)
    expect_same_result(lambda lib: lib.tensor([1.0, 2.0], dtype=lib.float32) + 0.5)


def test_broadcast_shape_mismatch_error():
    expect_same_error(lambda lib: lib.zeros(3) + lib.zeros(4))
    expect_same_error(lambda lib: lib.zeros(2, 3) * lib.zeros(3, 2))
    expect_same_error(lambda lib: lib.ones(2, 3, 4) / lib.ones(5, 1))


def test_int_pow_negative_int_tensor_exponent():
    expect_same_result(lambda lib: lib.tensor([2, 1, -1]) ** lib.tensor([-1, -2, -3]))


# ---- pow edge cases (tensor exponent; base 0; exponent 0/2) ----

POW_EDGES = {
    "base0_exp0": ([0.0, 0.0], [0.0, 2.0]),
    "base0_exp2": ([0.0, 1.0], [2.0, 2.0]),
    "base0_exp_half": ([0.0, 4.0], [0.5, 0.5]),
    "base_neg_int_exp": ([-2.0, -1.5], [2.0, 3.0]),
    "exp_zero": ([3.0, 0.5], [0.0, 0.0]),
    "base_one": ([1.0, 1.0], [5.0, -3.0]),
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("case", sorted(POW_EDGES))
def test_pow_tensor_exponent_edges(case, dtype):
    a, b = POW_EDGES[case]
    run_both(lambda lib, x, y: x ** y, np.array(a), np.array(b), dtype=dtype)


@pytest.mark.parametrize("exponent", [0, 0.0, 2, 1, 0.5, -1.0])
def test_pow_number_exponent_at_zero(exponent):
    run_both(lambda lib, x: lib.pow(x, exponent), np.array([0.0, 1.0, 2.0]), dtype="float64")


@pytest.mark.parametrize("base", [0, 0.0, 1, 2.5, -2.0])
def test_pow_number_base(base):
    run_both(lambda lib, x: lib.pow(base, x), np.array([0.0, 1.0, 2.0, -1.5]), dtype="float64")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_div_by_zero_tensor(dtype):
    run_both(lambda lib, x, y: x / y, np.array([1.0, -1.0, 0.0]), np.array([0.0, 0.0, 0.0]), dtype=dtype)


# ---- double backward ----

SECOND = {
    "mul": lambda lib, a, b: a * b,
    "mul_square": lambda lib, a, b: a * a * b,
    "div": lambda lib, a, b: a / b,
    "div_number": lambda lib, a, b: 2.0 / a + b / 3.0,
    "pow": lambda lib, a, b: a ** b,
    "pow_mixed": lambda lib, a, b: (a ** 2.5) * (1.5 ** b),
    "add_sub": lambda lib, a, b: (a + b) * (a - b),
    "broadcast_mul": lambda lib, a, b: a * b.expand(2, 3) * a,
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("op", sorted(SECOND))
def test_binary_double_backward(op, dtype):
    rng = np.random.default_rng(6)
    a, b = rng.uniform(0.5, 2.0, (2, 3)), rng.uniform(0.5, 2.0, (2, 3))
    if op == "broadcast_mul":
        b = b[:1]
    tol = {} if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    double_backward_both(SECOND[op], a, b, dtype=dtype, **tol)


def test_double_backward_broadcast_shapes():
    rng = np.random.default_rng(7)
    double_backward_both(lambda lib, a, b: a * b / (a + 2.0) ** b, rng.uniform(0.5, 2, (3, 1)),
                         rng.uniform(0.5, 2, (1, 4)))


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow"])
def test_number_operands_do_not_leak_into_graph(op):
    """The result of x op 2 has exactly one tensor input edge, like torch."""
    for lhs in (True, False):
        f = NUM_OPS[op][0 if lhs else 1]
        outs = {}
        for lib in (tapegrad, torch):
            x = lib.tensor([1.5, 2.0], requires_grad=True)
            y = f(x, 2)
            outs[lib.__name__] = [(None if n is None else n.name(), i) for n, i in y.grad_fn.next_functions]
        assert outs["tapegrad"] == outs["torch"]


@pytest.mark.parametrize("combo", list(itertools.product(["float32", "float64"], repeat=2)))
def test_mixed_dtype_broadcast_chain(combo):
    rng = np.random.default_rng(8)
    run_both(lambda lib, a, b: ((a * b).exp() / (a + 3.0)).sigmoid() - b ** 2,
             rng.uniform(-1, 1, (2, 1, 3)), rng.uniform(-1, 1, (4, 1)), dtype=list(combo),
             grad_rtol=1e-5, grad_atol=1e-6)


# ---- the operators are number slots: operands they do not take, and reflected forms ----

BAD_OPERANDS = {
    "tensor_plus_str": lambda lib, t: t + "a",
    "str_minus_tensor": lambda lib, t: "a" - t,
    "tensor_times_none": lambda lib, t: t * None,
    "tensor_div_list": lambda lib, t: t / [1],
    "pow_with_modulo": lambda lib, t: pow(t, 2, 3),
    "tensor_plus_huge_int": lambda lib, t: t + 2**70,
    "huge_int_minus_tensor": lambda lib, t: 2**70 - t,
    "neg_of_bool": lambda lib, t: -(t > 1),
}


@pytest.mark.parametrize("case", sorted(BAD_OPERANDS))
def test_operator_bad_operands_raise_like_torch(case):
    expect_same_error(lambda lib: BAD_OPERANDS[case](lib, lib.tensor([1.0, 2.0])))


NUMPY_SCALAR_OPERANDS = {
    "np_float64_times_tensor": lambda lib, t: np.float64(2.5) * t,
    "np_float32_minus_tensor": lambda lib, t: np.float32(2.5) - t,
    "tensor_pow_np_int64": lambda lib, t: t ** np.int64(2),
    "np_int64_div_tensor": lambda lib, t: np.int64(3) / t,
    "dunder_radd": lambda lib, t: t.__radd__(1),
    "dunder_rsub": lambda lib, t: t.__rsub__(1),
    "dunder_rpow": lambda lib, t: t.__rpow__(2),
    "dunder_rtruediv": lambda lib, t: t.__rtruediv__(1),
    "unbound_add": lambda lib, t: lib.Tensor.__add__(t, t),
    "abs_of_neg": lambda lib, t: abs(-t),
}


@pytest.mark.parametrize("case", sorted(NUMPY_SCALAR_OPERANDS))
def test_operator_forms_match_torch(case):
    expect_same_result(lambda lib: NUMPY_SCALAR_OPERANDS[case](lib, lib.tensor([1.0, 2.0])))


def test_operators_on_a_python_subclass_keep_gradients():
    grads = {}
    for lib in LIBS:
        p = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
        (2.0 - p * p / 4.0 + p**2).sum().backward()
        grads[lib.__name__] = p.grad.tolist()
    assert grads["tapegrad"] == grads["torch"]



# ---- the division family: %, //, fmod with numbers and integers; rounding conventions ----

DIVISION_NUMBER_OPS = {
    "mod": (lambda x, s: x % s, lambda x, s: s % x),
    "floordiv": (lambda x, s: x // s, lambda x, s: s // x),
    "fmod": (lambda x, s: x.fmod(s), None),
}


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool"])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("number", [2, -3, 0, 2.5, -0.75, True], ids=repr)
@pytest.mark.parametrize("op", sorted(DIVISION_NUMBER_OPS))
def test_division_family_with_python_numbers(op, number, side, dtype):
    fn = DIVISION_NUMBER_OPS[op][0 if side == "right" else 1]
    if fn is None:  # torch.fmod takes no number as its input
        expect_same_error(lambda lib: lib.fmod(number, lib.tensor([1.0])), message=False)
        return
    values = [True, False, True] if dtype == "bool" else [5, -5, 3, -7, 0]

    def build(lib):
        return fn(lib.tensor(values, dtype=getattr(lib, dtype)), number)

    expect_same_outcome(build)


DIVISION_EDGES = {
    "mod_signs": lambda lib: lib.tensor([5.5, -5.5, 5.5, -5.5, -0.0, 0.0]) % lib.tensor([2.0, 2.0, -2.0, -2.0, 3.0, -3.0]),
    "fmod_signs": lambda lib: lib.fmod(lib.tensor([5.5, -5.5, 5.5, -5.5]), lib.tensor([2.0, 2.0, -2.0, -2.0])),
    "floordiv_signs": lambda lib: lib.tensor([7.5, -7.5, 7.5, -0.0, 0.5]) // lib.tensor([-2.5, 2.5, 2.0, 1.0, -3.0]),
    "by_zero_float": lambda lib: lib.tensor([5.0, -5.0, 0.0]) // 0.0 + lib.tensor([5.0, -5.0, 0.0]) % 0.0,
    "by_inf": lambda lib: lib.tensor([5.0, -5.0]) % float("inf") + lib.fmod(lib.tensor([5.0, -5.0]), float("inf")),
    "large_quotient": lambda lib: lib.tensor([1e300, 3.0], dtype=lib.float64) // lib.tensor([1e-10, 1e-300],
                                                                                         dtype=lib.float64),
    "int_min_by_minus_one": lambda lib: lib.stack([lib.tensor([-2**63]) % -1, lib.tensor([-2**63]) // -1,
                                                   lib.fmod(lib.tensor([-2**63]), -1)]),
    "int_signs": lambda lib: lib.stack([lib.tensor([5, -5, 5, -5]) % lib.tensor([3, 3, -3, -3]),
                                        lib.tensor([5, -5, 5, -5]) // lib.tensor([3, 3, -3, -3]),
                                        lib.fmod(lib.tensor([5, -5, 5, -5]), lib.tensor([3, 3, -3, -3]))]),
    "atan2_quadrants_and_zeros": lambda lib: lib.atan2(lib.tensor([1.0, 1.0, -1.0, -1.0, 0.0, -0.0, 0.0, -0.0]),
                                                       lib.tensor([1.0, -1.0, 1.0, -1.0, 0.0, 0.0, -0.0, -0.0])),
    "atan2_integers": lambda lib: lib.atan2(lib.tensor([1, -2]), lib.tensor([3, 0])),
}


@pytest.mark.parametrize("case", sorted(DIVISION_EDGES))
def test_division_family_edge_values(case):
    expect_same_result(DIVISION_EDGES[case])


DIVISION_ERRORS = {
    "int_mod_by_zero_tensor": lambda lib: lib.tensor([5, 3]) % lib.tensor([1, 0]),
    "int_floordiv_by_zero": lambda lib: lib.tensor([5, 3]) // 0,
    "int_fmod_by_zero": lambda lib: lib.fmod(lib.tensor([5, 3]), 0),
    "number_mod_int_zero": lambda lib: 7 % lib.tensor([1, 0]),
    "bool_mod": lambda lib: lib.tensor([True]) % lib.tensor([True]),
    "bool_floordiv": lambda lib: lib.tensor([True]) // lib.tensor([True]),
    "bool_fmod": lambda lib: lib.fmod(lib.tensor([True]), lib.tensor([True])),
    "atan2_number": lambda lib: lib.atan2(lib.tensor([1.0]), 2),
    "mod_string": lambda lib: lib.tensor([1.0]) % "a",
    "backward_through_floordiv": lambda lib: (lib.tensor([5.0], requires_grad=True) // 2).sum().backward(),
    "backward_through_number_mod": lambda lib: (7 % lib.tensor([5.0], requires_grad=True)).sum().backward(),
    "backward_through_number_floordiv": lambda lib: (7 // lib.tensor([5.0], requires_grad=True)).sum().backward(),
}


@pytest.mark.parametrize("case", sorted(DIVISION_ERRORS))
def test_division_family_errors(case):
    expect_same_error(DIVISION_ERRORS[case])


def test_division_family_grad_fn_names():
    names = {}
    for lib in LIBS:
        x = lib.tensor([5.5, -1.5], requires_grad=True)
        y = lib.tensor([2.0, 3.0], requires_grad=True)
        outs = [x % y, x % 2, 7 % x, lib.fmod(x, y), lib.fmod(x, 2), x // y, x // 2, 7 // x, lib.atan2(x, y)]
        names[lib.__name__] = [o.grad_fn.name() for o in outs]
    assert names["tapegrad"] == names["torch"]


@pytest.mark.parametrize("op", ["remainder", "fmod", "atan2"])
def test_division_family_double_backward(op):
    rng = np.random.default_rng(9)
    a, b = rng.uniform(0.5, 2.5, (2, 3)), rng.uniform(0.6, 1.9, (2, 3)) * np.array([1, -1, 1])
    fn = BINARY[op][FORMS["function"]]  # times a * b: remainder's own second derivative is zero
    double_backward_both(lambda lib, x, y: fn(lib, x, y) * x * y, a, b, dtype="float64")


@pytest.mark.parametrize("op", ["remainder_", "fmod_", "floor_divide_", "atan2_", "imod", "ifloordiv"])
def test_division_family_in_place(op):
    calls = {"remainder_": lambda t, o: t.remainder_(o), "fmod_": lambda t, o: t.fmod_(o),
             "floor_divide_": lambda t, o: t.floor_divide_(o), "atan2_": lambda t, o: t.atan2_(o)}

    def go(lib):
        t = lib.tensor([5.5, -5.5, 3.0])
        o = lib.tensor([2.0, 2.0, -2.0])
        before = t
        if op == "imod":
            t %= o
        elif op == "ifloordiv":
            t //= 2
        else:
            calls[op](t, o)
        return t is before, t._version, [round(v, 6) for v in t.tolist()]

    assert go(tapegrad) == go(torch)
