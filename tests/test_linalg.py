# matmul / mm / bmm / mv / dot / outer vs torch: values, gradients, grad_fn names, dtypes, errors.
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tapegrad
import torch
from conftest import (
    FLOAT_DTYPES,
    LIBS,
    capture,
    double_backward_both,
    expect_same_error,
    expect_same_result,
    numeric_gradcheck,
    run_both,
)


def _data(shape, seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, shape)


MATMUL_SHAPES = [
    ((4,), (4,)),
    ((3, 4), (4,)),
    ((4,), (4, 3)),
    ((3, 4), (4, 5)),
    ((1, 1), (1, 1)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((4,), (2, 4, 3)),
    ((2, 3, 4), (4,)),
    ((2, 1, 3, 4), (4,)),
    ((4,), (2, 1, 4, 3)),
    ((1, 3, 4), (2, 4, 5)),
    ((2, 3, 0), (0, 4)),
    ((0, 3), (3, 2)),
]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
@pytest.mark.parametrize("form", ["function", "method", "operator"])
def test_matmul(shapes, form, dtype):
    fn = {"function": lambda lib, a, b: lib.matmul(a, b), "method": lambda lib, a, b: a.matmul(b),
          "operator": lambda lib, a, b: a @ b}[form]
    run_both(fn, _data(shapes[0]), _data(shapes[1], 1), dtype=dtype)


@pytest.mark.parametrize("shapes", [s for s in MATMUL_SHAPES if 0 not in s[0] + s[1]], ids=str)
def test_matmul_gradcheck(shapes):
    numeric_gradcheck(lambda lib, a, b: a @ b, _data(shapes[0]), _data(shapes[1], 1))


@pytest.mark.parametrize("shapes", [((3, 4), (4, 2)), ((4,), (4,)), ((2, 3, 4), (4,)), ((4,), (2, 4, 3))], ids=str)
def test_matmul_double_backward(shapes):
    double_backward_both(lambda lib, a, b: (a @ b) * (a @ b), _data(shapes[0]), _data(shapes[1], 1))


def test_matmul_same_tensor_both_sides():
    run_both(lambda lib, a: a @ a, _data((4, 4)))
    run_both(lambda lib, a: a @ a.t(), _data((3, 4)))
    run_both(lambda lib, a: a.mT @ a, _data((2, 3, 4)))


def test_matmul_only_one_side_requires_grad():
    run_both(lambda lib, a, b: a @ b, _data((3, 4)), _data((4, 2), 1), requires_grad=[True, False])
    run_both(lambda lib, a, b: a @ b, _data((2, 3, 4)), _data((4,), 1), requires_grad=[False, True])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_matmul_noncontiguous_operands(dtype):
    run_both(lambda lib, a, b: a.t() @ b[:, ::2], _data((4, 3)), _data((4, 6), 1), dtype=dtype)
    run_both(lambda lib, a, b: a.permute(0, 2, 1) @ b.expand(2, 3, 5), _data((2, 3, 3)), _data((3, 5), 1), dtype=dtype)
    run_both(lambda lib, a, b: a[1] @ b[:, 1], _data((3, 4)), _data((4, 3), 1), dtype=dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_matmul_large(dtype):
    run_both(lambda lib, a, b: a @ b, _data((65, 130)), _data((130, 33), 1), dtype=dtype,
             rtol=1e-4 if dtype == "float32" else None, atol=1e-4 if dtype == "float32" else None,
             grad_rtol=1e-4 if dtype == "float32" else None, grad_atol=1e-4 if dtype == "float32" else None)


# ---- the explicit forms ----

EXPLICIT = {
    "mm": (((3, 4), (4, 5)), lambda lib, a, b: lib.mm(a, b)),
    "mm_method": (((3, 4), (4, 5)), lambda lib, a, b: a.mm(b)),
    "bmm": (((2, 3, 4), (2, 4, 5)), lambda lib, a, b: lib.bmm(a, b)),
    "bmm_method": (((2, 3, 4), (2, 4, 5)), lambda lib, a, b: a.bmm(b)),
    "mv": (((3, 4), (4,)), lambda lib, a, b: lib.mv(a, b)),
    "mv_method": (((3, 4), (4,)), lambda lib, a, b: a.mv(b)),
    "dot": (((4,), (4,)), lambda lib, a, b: lib.dot(a, b)),
    "dot_method": (((4,), (4,)), lambda lib, a, b: a.dot(b)),
    "outer": (((3,), (4,)), lambda lib, a, b: lib.outer(a, b)),
    "outer_method": (((3,), (4,)), lambda lib, a, b: a.outer(b)),
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", sorted(EXPLICIT))
def test_explicit_products(name, dtype):
    shapes, fn = EXPLICIT[name]
    run_both(fn, _data(shapes[0]), _data(shapes[1], 1), dtype=dtype)


@pytest.mark.parametrize("name", ["mm", "bmm", "mv", "dot", "outer"])
def test_explicit_products_gradcheck(name):
    shapes, fn = EXPLICIT[name]
    numeric_gradcheck(fn, _data(shapes[0]), _data(shapes[1], 1))


@pytest.mark.parametrize("name", ["mm", "bmm", "mv", "dot", "outer"])
def test_explicit_products_double_backward(name):
    shapes, fn = EXPLICIT[name]
    double_backward_both(lambda lib, a, b: fn(lib, a, b) ** 2, _data(shapes[0]), _data(shapes[1], 1))


@pytest.mark.parametrize("dtype", ["int64", "int32"])
@pytest.mark.parametrize("name", ["mm", "bmm", "mv", "dot", "outer"])
def test_integer_products(name, dtype):
    shapes, fn = EXPLICIT[name]
    a = np.arange(int(np.prod(shapes[0]))).reshape(shapes[0]) - 3
    b = np.arange(int(np.prod(shapes[1]))).reshape(shapes[1]) % 5 - 2
    run_both(fn, a, b, dtype=dtype, upstream=None)


@pytest.mark.parametrize("dtype", ["int64", "int32"])
@pytest.mark.parametrize("shapes", [((4,), (4,)), ((3, 4), (4,)), ((2, 3, 4), (4, 2))], ids=str)
def test_integer_matmul(shapes, dtype):
    a = np.arange(int(np.prod(shapes[0]))).reshape(shapes[0]) - 3
    b = np.arange(int(np.prod(shapes[1]))).reshape(shapes[1]) % 5 - 2
    run_both(lambda lib, x, y: x @ y, a, b, dtype=dtype, upstream=None)


@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float64", "float32"), ("int64", "float32"),
                                    ("float32", "int64"), ("int32", "int64")], ids=str)
@pytest.mark.parametrize("name", ["matmul", "mm", "mv", "dot", "bmm", "outer"])
def test_mixed_dtypes(name, dtypes):
    """torch refuses mixed dtypes for matmul/mm/mv/dot/bmm (outer promotes); same here."""
    shapes = {"matmul": ((3, 4), (4, 2)), "mm": ((3, 4), (4, 2)), "mv": ((3, 4), (4,)), "dot": ((4,), (4,)),
              "bmm": ((2, 3, 4), (2, 4, 2)), "outer": ((3,), (4,))}[name]

    def fn(lib):
        a = lib.ones(*shapes[0], dtype=getattr(lib, dtypes[0]))
        b = lib.ones(*shapes[1], dtype=getattr(lib, dtypes[1]))
        return getattr(lib, name)(a, b)

    _, err = capture(fn, torch)
    if err is None:
        expect_same_result(fn)
    else:
        expect_same_error(fn)


# ---- errors ----

LINALG_ERRORS = [
    lambda lib: lib.mm(lib.zeros(3, 4), lib.zeros(5, 6)),
    lambda lib: lib.zeros(3, 4) @ lib.zeros(5, 6),
    lambda lib: lib.zeros(3, 4) @ lib.zeros(5),
    lambda lib: lib.zeros(3) @ lib.zeros(4, 2),
    lambda lib: lib.zeros(3) @ lib.zeros(4),
    lambda lib: lib.zeros(2, 3, 4) @ lib.zeros(3, 5, 6),
    lambda lib: lib.zeros(2, 3, 4) @ lib.zeros(3, 4, 6),
    lambda lib: lib.zeros(()) @ lib.zeros(3),
    lambda lib: lib.zeros(3, 3) @ lib.zeros(()),
    lambda lib: lib.mm(lib.zeros(3), lib.zeros(3, 3)),
    lambda lib: lib.mm(lib.zeros(2, 3, 3), lib.zeros(3, 3)),
    lambda lib: lib.bmm(lib.zeros(3, 3), lib.zeros(3, 3)),
    lambda lib: lib.bmm(lib.zeros(2, 3, 4), lib.zeros(3, 4, 5)),
    lambda lib: lib.bmm(lib.zeros(2, 3, 4), lib.zeros(2, 5, 5)),
    lambda lib: lib.mv(lib.zeros(3, 4), lib.zeros(5)),
    lambda lib: lib.mv(lib.zeros(3), lib.zeros(3)),
    lambda lib: lib.mv(lib.zeros(3, 4), lib.zeros(4, 1)),
    lambda lib: lib.dot(lib.zeros(3), lib.zeros(4)),
    lambda lib: lib.dot(lib.zeros(3, 1), lib.zeros(3)),
    lambda lib: lib.outer(lib.zeros(3, 1), lib.zeros(3)),
]


@pytest.mark.parametrize("i", range(len(LINALG_ERRORS)))
def test_linalg_errors(i):
    expect_same_error(LINALG_ERRORS[i])


def test_mm_error_message_from_issue():
    with pytest.raises(RuntimeError, match=r"^mat1 and mat2 shapes cannot be multiplied \(3x4 and 5x6\)$"):
        tapegrad.mm(tapegrad.zeros(3, 4), tapegrad.zeros(5, 6))


# ---- hypothesis: matmul shapes ----

@st.composite
def matmul_shapes(draw):
    n, m, k = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    a_kind = draw(st.sampled_from(["1d", "2d", "nd"]))
    b_kind = draw(st.sampled_from(["1d", "2d", "nd"]))
    batch = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))

    def batch_for():
        # a broadcast-compatible batch: each dim is its own value or 1, maybe fewer leading dims
        dims = [d if draw(st.booleans()) else 1 for d in batch]
        return dims[draw(st.integers(0, len(dims) - 1)):]

    a = (k,) if a_kind == "1d" else (n, k) if a_kind == "2d" else tuple(batch_for()) + (n, k)
    b = (k,) if b_kind == "1d" else (k, m) if b_kind == "2d" else tuple(batch_for()) + (k, m)
    return a, b


@settings(max_examples=25, deadline=None)
@given(shapes=matmul_shapes(), dtype=st.sampled_from(FLOAT_DTYPES))
def test_hypothesis_matmul(shapes, dtype):
    a, b = shapes
    # grad_fn names of N-D matmul are torch internals (test_matmul pins them for fixed shapes)
    run_both(lambda lib, x, y: x @ y, _data(a), _data(b, 1), dtype=dtype, check_grad_fn=False)


@settings(max_examples=15, deadline=None)
@given(shapes=matmul_shapes())
def test_hypothesis_matmul_shape_mismatch(shapes):
    a, b = shapes
    b = b[:-2] + (b[-2] + 1, b[-1]) if len(b) >= 2 else (b[0] + 1,)
    expect_same_error(lambda lib: lib.zeros(a) @ lib.zeros(b))
