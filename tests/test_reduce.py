# Full reductions (sum, mean) and expand/expand_as: values, dtypes, gradients vs torch.
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad
import torch
from conftest import (
    ALL_DTYPES,
    FLOAT_DTYPES,
    SHAPES,
    double_backward_both,
    expect_same_error,
    expect_same_outcome,
    expect_same_result,
    numeric_gradcheck,
    run_both,
)

REDUCE = {
    "sum_function": lambda lib, x: lib.sum(x),
    "sum_method": lambda lib, x: x.sum(),
    "mean_function": lambda lib, x: lib.mean(x),
    "mean_method": lambda lib, x: x.mean(),
    "sum_of_product": lambda lib, x: (x * x).sum(),
    "mean_then_mul": lambda lib, x: x.mean() * x,
    "sum_broadcast_back": lambda lib, x: x - x.mean(),
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("op", sorted(REDUCE))
def test_reduce_vs_torch(op, dtype, shape):
    x = np.random.default_rng(0).uniform(-2, 2, shape)
    run_both(REDUCE[op], x, dtype=dtype)


@pytest.mark.parametrize("op", sorted(REDUCE))
def test_reduce_gradcheck(op):
    numeric_gradcheck(REDUCE[op], np.random.default_rng(1).uniform(-2, 2, (2, 3)))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("op", ["sum_method", "mean_method"])
def test_reduce_large(op, dtype):
    """Long reductions: float32 accumulation must stay close to torch's (pairwise/vectorised) sum."""
    x = np.random.default_rng(2).uniform(0, 1, (1000, 257))
    run_both(REDUCE[op], x, dtype=dtype, rtol=1e-5 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_reduce_result_dtype(op, dtype):
    """sum of ints/bools is int64; mean of ints raises torch's error."""
    values = [True, False, True] if dtype == "bool" else [3, 1, 2]

    def build(lib):
        return getattr(lib.tensor(values, dtype=getattr(lib, dtype)), op)()

    expect_same_outcome(build)


@pytest.mark.parametrize("out_dtype", ALL_DTYPES)
@pytest.mark.parametrize("in_dtype", ALL_DTYPES)
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_reduce_dtype_argument(op, in_dtype, out_dtype):
    values = [True, False, True] if in_dtype == "bool" else [3, 1, 2]

    def build(lib):
        return getattr(lib.tensor(values, dtype=getattr(lib, in_dtype)), op)(dtype=getattr(lib, out_dtype))

    expect_same_outcome(build)


def test_sum_dtype_argument_gradient():
    run_both(lambda lib, x: x.sum(dtype=lib.float64), np.array([1.0, 2.5, -3.0]), dtype="float32")
    run_both(lambda lib, x: x.mean(dtype=lib.float32), np.array([1.0, 2.5, -3.0]), dtype="float64")


@pytest.mark.parametrize("op", ["sum", "mean"])
def test_reduce_empty(op):
    expect_same_result(lambda lib: getattr(lib.zeros(0), op)())
    expect_same_result(lambda lib: getattr(lib.zeros(2, 0, 3), op)())
    run_both(lambda lib, x: getattr(x, op)(), np.zeros((0, 3)))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_reduce_nan_inf(dtype):
    run_both(lambda lib, x: x.sum(), np.array([1.0, np.inf, 2.0]), dtype=dtype)
    run_both(lambda lib, x: x.mean(), np.array([1.0, np.nan, 2.0]), dtype=dtype)


@settings(max_examples=25, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=4, max_side=5),
                    elements=st.floats(-100, 100)),
       dtype=st.sampled_from(FLOAT_DTYPES), op=st.sampled_from(["sum", "mean"]))
def test_reduce_hypothesis(x, dtype, op):
    run_both(lambda lib, t: getattr(t, op)(), x, dtype=dtype, atol=1e-4 if dtype == "float32" else 1e-10)


# ---- expand / expand_as ----

EXPANDS = [
    ((), (3,)),
    ((), (2, 3)),
    ((1,), (4,)),
    ((4,), (1, 4)),
    ((), (1, 1)),
    ((3,), (2, 3)),
    ((3, 1), (3, 4)),
    ((1, 4), (3, 4)),
    ((2, 1, 4), (2, 3, 4)),
    ((3, 1), (2, 3, 5)),
    ((1, 1), (2, 1, 3)),
]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shapes", EXPANDS, ids=str)
def test_expand(shapes, dtype):
    src, dst = shapes
    x = np.random.default_rng(3).uniform(-2, 2, src)
    run_both(lambda lib, t: t.expand(*dst), x, dtype=dtype)
    run_both(lambda lib, t: t.expand(dst), x, dtype=dtype)
    run_both(lambda lib, t: t.expand_as(lib.zeros(dst)), x, dtype=dtype)
    run_both(lambda lib, t: t.expand(*dst) * 2.0 + 1.0, x, dtype=dtype)


def test_expand_minus_one_and_size_object():
    x = np.arange(3.0)
    run_both(lambda lib, t: t.expand(2, -1), x)
    run_both(lambda lib, t: t.expand(4, 2, -1), x)
    run_both(lambda lib, t: t.expand(lib.zeros(5, 3).shape), x)
    run_both(lambda lib, t: t.expand(-1), x)


def test_expand_same_shape_and_zero_size():
    run_both(lambda lib, t: t.expand(2, 3), np.ones((2, 3)))
    expect_same_result(lambda lib: lib.zeros(0, 3).expand(2, 0, 3))
    expect_same_result(lambda lib: lib.tensor(1.5).expand(()))


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_expand_integer(dtype):
    expect_same_result(lambda lib: lib.tensor([1, 0, 1], dtype=getattr(lib, dtype)).expand(2, 3))


EXPAND_ERRORS = {
    "fewer_sizes": lambda lib: lib.zeros(2, 3).expand(3),
    "non_singleton": lambda lib: lib.zeros(3).expand(4),
    "non_singleton_inner": lambda lib: lib.zeros(2, 3).expand(2, 2),
    "minus_one_leading": lambda lib: lib.zeros(3).expand(-1, 3),
    "expand_as_fewer_dims": lambda lib: lib.zeros(2, 1).expand_as(lib.zeros(3)),
}


@pytest.mark.parametrize("case", sorted(EXPAND_ERRORS))
def test_expand_errors(case):
    expect_same_error(EXPAND_ERRORS[case])


def test_expand_gradcheck():
    numeric_gradcheck(lambda lib, t: t.expand(2, 3, 4) * lib.sin(t), np.random.default_rng(4).uniform(-1, 1, (3, 1)))
    numeric_gradcheck(lambda lib, t: t.expand(2, 3), np.random.default_rng(5).uniform(-1, 1, ()))


def test_expand_double_backward():
    double_backward_both(lambda lib, t: (t.expand(2, 3) ** 3).mean() * t, np.array([0.7]))


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_expand_hypothesis(data):
    src = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    # Target: optional new leading dims, and each singleton dim of src may grow.
    lead = data.draw(st.lists(st.integers(1, 3), max_size=2))
    tail = [data.draw(st.integers(1, 3)) if s == 1 else s for s in src]
    dst = tuple(lead) + tuple(tail)
    x = data.draw(hnp.arrays(np.float64, src, elements=st.floats(-5, 5)))
    dtype = data.draw(st.sampled_from(FLOAT_DTYPES))
    run_both(lambda lib, t: t.expand(dst).exp(), x, dtype=dtype)


def test_expand_result_is_not_leaf_and_shares_values():
    for lib in (tapegrad, torch):
        x = lib.tensor([[1.0], [2.0]], requires_grad=True)
        y = x.expand(2, 3)
        assert not y.is_leaf and y.grad_fn.name() == "ExpandBackward0"
        assert y.tolist() == [[1.0] * 3, [2.0] * 3]
