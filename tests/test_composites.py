"""Functions composed of other ops (broadcast_to, movedim, isclose, hstack, new_* ...) and clamp_min/max, vs torch."""
import numpy as np
import pytest

import tapegrad
import torch
from conftest import LIBS, expect_same_error, expect_same_result, run_both

rng = np.random.default_rng(0)
A = rng.uniform(-2, 2, (2, 3, 4))


@pytest.mark.parametrize("form", ["function", "method"])
@pytest.mark.parametrize("dims", [(0, 2), ((0, 1), (2, 0)), (-1, 0), ((2,), (0,)), ((0, 1, 2), (2, 1, 0))], ids=str)
def test_movedim(dims, form):
    src, dst = dims
    if form == "function":
        run_both(lambda lib, x: lib.movedim(x, src, dst) * 2, A)
        run_both(lambda lib, x: lib.moveaxis(x, src, dst) * 2, A)
    else:
        run_both(lambda lib, x: x.movedim(src, dst) * 2, A)


MOVEDIM_ERRORS = {
    "count_mismatch": lambda lib: lib.movedim(lib.zeros(2, 3, 4), (0, 1), (0,)),
    "repeated_source": lambda lib: lib.movedim(lib.zeros(2, 3, 4), (0, 0), (1, 2)),
    "repeated_destination": lambda lib: lib.movedim(lib.zeros(2, 3, 4), (0, 1), (2, 2)),
    "out_of_range": lambda lib: lib.movedim(lib.zeros(2, 3, 4), 3, 0),
}


@pytest.mark.parametrize("case", sorted(MOVEDIM_ERRORS))
def test_movedim_errors(case):
    expect_same_error(MOVEDIM_ERRORS[case])


def test_broadcast_to():
    run_both(lambda lib, x: lib.broadcast_to(x, (3, 2, 3, 4)) * 1.5, A)
    run_both(lambda lib, x: x.broadcast_to((2, 2, 3, 4)).sum(0), A)
    expect_same_error(lambda lib: lib.broadcast_to(lib.zeros(2, 3), (3, 3)))


@pytest.mark.parametrize("fn", ["function", "method", "inplace"])
@pytest.mark.parametrize("bound", ["min", "max"])
def test_clamp_min_max(bound, fn):
    forms = {
        "function": lambda lib, x: getattr(lib, f"clamp_{bound}")(x, 0.3),
        "method": lambda lib, x: getattr(x, f"clamp_{bound}")(-0.2),
        "inplace": lambda lib, x: getattr(x * 1, f"clamp_{bound}_")(0.5),
    }
    run_both(forms[fn], A)


def test_clamp_min_max_integer_and_errors():
    expect_same_result(lambda lib: lib.clamp_min(lib.tensor([1, 5, -3]), 2))
    expect_same_result(lambda lib: lib.clamp_max(lib.tensor([1, 5, -3]), 2.5))
    expect_same_error(lambda lib: lib.clamp_min(lib.tensor([1.0]), "a"), message=False)


CLOSE = {
    "exact": ([1.0, 2.0], [1.0, 2.0], {}),
    "within_rtol": ([1.0, 100.0], [1.0 + 1e-6, 100.0005], {}),
    "outside": ([1.0, 2.0], [1.1, 2.0], {}),
    "custom_tolerances": ([1.0, 2.0], [1.05, 2.5], {"rtol": 0.1, "atol": 0.01}),
    "nan_and_inf": ([float("nan"), float("inf"), -float("inf"), 1.0], [float("nan"), float("inf"), float("inf"), 1.0], {}),
    "equal_nan": ([float("nan"), 1.0], [float("nan"), 1.0], {"equal_nan": True}),
}


@pytest.mark.parametrize("case", sorted(CLOSE))
def test_isclose_allclose(case):
    a, b, kw = CLOSE[case]
    expect_same_result(lambda lib: lib.isclose(lib.tensor(a), lib.tensor(b), **kw))
    expect_same_result(lambda lib: lib.tensor(a).isclose(lib.tensor(b), **kw))
    results = [lib.allclose(lib.tensor(a), lib.tensor(b), **kw) for lib in LIBS]
    assert results[0] == results[1] and type(results[0]) is bool


def test_isclose_integers_bools_and_errors():
    expect_same_result(lambda lib: lib.isclose(lib.tensor([1, 2, 100]), lib.tensor([1, 3, 100])))
    expect_same_result(lambda lib: lib.isclose(lib.tensor([True, False]), lib.tensor([True, True])))
    expect_same_error(lambda lib: lib.isclose(lib.tensor([1.0]), lib.tensor([1.0], dtype=lib.float64)))
    expect_same_error(lambda lib: lib.isclose(lib.tensor([1.0]), lib.tensor([1.0]), rtol=-1))
    expect_same_error(lambda lib: lib.isclose(lib.tensor([1.0]), lib.tensor([1.0]), atol=-1))


@pytest.mark.parametrize("a,b", [([1, 2], [1.0, 2.0]), ([1, 2], [1, 2, 3]), ([[1.0]], [1.0]), ([1.0, 2.0], [1.0, 2.5])],
                         ids=str)
def test_equal(a, b):
    results = [lib.equal(lib.tensor(a), lib.tensor(b)) for lib in LIBS]
    assert results[0] == results[1]
    assert [lib.tensor(a).equal(lib.tensor(b)) for lib in LIBS] == results


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)], ids=str)
def test_count_nonzero(dim):
    expect_same_result(lambda lib: lib.count_nonzero(lib.tensor([[0, 1.5], [2, 0]]), dim=dim))
    expect_same_result(lambda lib: lib.tensor([[0, 1], [2, 0]]).count_nonzero(dim))


STACKS = {
    "hstack_1d": lambda lib, x, y: lib.hstack([x[0, 0], y[0, 0]]),
    "hstack_0d": lambda lib, x, y: lib.hstack([x[0, 0, 0], y[0, 0]]),
    "hstack_2d": lambda lib, x, y: lib.hstack((x[0], y[0])),
    "vstack_1d": lambda lib, x, y: lib.vstack([x[0, 0], y[0, 0]]),
    "vstack_mixed": lambda lib, x, y: lib.vstack([x[0, 0], y[0]]),
    "atleast": lambda lib, x, y: lib.atleast_2d(x[0, 0, 0]) * 2 + lib.atleast_1d(y[0, 0, 0]),
}


@pytest.mark.parametrize("case", sorted(STACKS))
def test_hstack_vstack(case):
    run_both(STACKS[case], A, A + 1)


def test_stack_errors():
    expect_same_error(lambda lib: lib.hstack([]))
    expect_same_error(lambda lib: lib.vstack([]))


NEW = {
    "new_zeros_args": lambda lib, t: t.new_zeros(2, 3),
    "new_zeros_tuple": lambda lib, t: t.new_zeros((2,)),
    "new_ones_dtype": lambda lib, t: t.new_ones((2, 2), dtype=lib.float64),
    "new_full": lambda lib, t: t.new_full((3,), 2.5),
    "new_full_int_self": lambda lib, t: t.long().new_full((1,), 2.5),
    "new_empty_shape": lambda lib, t: t.new_empty((2, 0)).shape,
    "new_tensor_list": lambda lib, t: t.new_tensor([1, 2]),
    "new_tensor_requires_grad": lambda lib, t: t.new_tensor([1.5], requires_grad=True).requires_grad,
}


@pytest.mark.parametrize("case", sorted(NEW))
def test_new_constructors(case):
    ours, theirs = (NEW[case](lib, lib.tensor([1.0, 2.0], dtype=lib.float32)) for lib in LIBS)
    if isinstance(theirs, torch.Tensor):
        assert str(ours.dtype) == str(theirs.dtype)
        assert ours.tolist() == theirs.tolist() and ours.requires_grad == theirs.requires_grad
    else:
        assert tuple(ours) == tuple(theirs) if isinstance(theirs, torch.Size) else ours == theirs


def test_new_tensor_from_a_tensor_warns_and_copies():
    for lib in LIBS:
        src = lib.tensor([1.0, 2.0], requires_grad=True)
        with pytest.warns(UserWarning, match="rather than tensor.new_tensor"):
            copy = lib.tensor([0], dtype=lib.float64).new_tensor(src)
        assert copy.dtype == lib.float64 and not copy.requires_grad and copy.tolist() == [1.0, 2.0]


REPEAT_INTERLEAVE = {
    "int_flat": lambda lib, x: lib.repeat_interleave(x, 2),
    "int_dim": lambda lib, x: x.repeat_interleave(3, dim=1),
    "zero_dim_tensor_repeats": lambda lib, x: x.repeat_interleave(lib.tensor(2), dim=0),
    "tensor_repeats": lambda lib, x: x.repeat_interleave(lib.tensor([1, 0, 2, 1]), dim=2),
    "one_element_tensor": lambda lib, x: x.repeat_interleave(lib.tensor([2]), dim=-1),
}


@pytest.mark.parametrize("case", sorted(REPEAT_INTERLEAVE))
def test_repeat_interleave(case):
    run_both(REPEAT_INTERLEAVE[case], A)


def test_repeat_interleave_counts_and_errors():
    expect_same_result(lambda lib: lib.repeat_interleave(lib.tensor([1, 3, 0, 2])))
    expect_same_error(lambda lib: lib.zeros(2, 3).repeat_interleave(lib.tensor([1, 2]), dim=1))
    expect_same_error(lambda lib: lib.zeros(2, 3).repeat_interleave(-1))
    expect_same_error(lambda lib: lib.repeat_interleave(lib.tensor([1, -1])))
    expect_same_error(lambda lib: lib.repeat_interleave(lib.tensor([[1]])))
