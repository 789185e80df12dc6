"""flip, roll, repeat, tril/triu, sort/argsort/topk vs torch: values, gradients, node names, errors."""
import numpy as np
import pytest

import tapegrad
import torch
from conftest import FLOAT_DTYPES, LIBS, double_backward_both, expect_same_error, expect_same_result, numeric_gradcheck, run_both

rng = np.random.default_rng(0)
A3 = rng.permutation(24).reshape(2, 3, 4) / 7.0 - 1.5  # distinct values: no ties in sort/topk
M = rng.permutation(20).reshape(4, 5) / 3.0 - 2.0

OPS = {
    "flip_0": (A3, lambda lib, x: lib.flip(x, [0])),
    "flip_many": (A3, lambda lib, x: x.flip(0, 2)),
    "flip_tuple_negative": (A3, lambda lib, x: x.flip((-1, 1))),
    "flip_none": (A3, lambda lib, x: lib.flip(x, [])),
    "roll_flat": (A3, lambda lib, x: lib.roll(x, 5)),
    "roll_dim": (A3, lambda lib, x: x.roll(1, 2)),
    "roll_negative_big": (A3, lambda lib, x: x.roll(-7, 1)),
    "roll_dims": (A3, lambda lib, x: lib.roll(x, (1, -2), (0, 2))),
    "roll_zero": (A3, lambda lib, x: x.roll(0, 0)),
    "repeat_same_rank": (M, lambda lib, x: x.repeat(2, 3)),
    "repeat_more_dims": (M, lambda lib, x: x.repeat(2, 1, 2)),
    "repeat_ones": (M, lambda lib, x: x.repeat(1, 1)),
    "repeat_zero": (M, lambda lib, x: x.repeat(0, 2)),
    "tril": (M, lambda lib, x: lib.tril(x)),
    "tril_positive": (M, lambda lib, x: x.tril(2)),
    "tril_negative": (M, lambda lib, x: x.tril(diagonal=-1)),
    "triu": (A3, lambda lib, x: lib.triu(x)),
    "triu_offsets": (A3, lambda lib, x: x.triu(1) + x.triu(-2)),
    "sort_values": (A3, lambda lib, x: lib.sort(x).values),
    "sort_descending_dim": (A3, lambda lib, x: x.sort(dim=1, descending=True)[0]),
    "sort_dim0": (A3, lambda lib, x: lib.sort(x, 0).values),
    "topk": (A3, lambda lib, x: lib.topk(x, 2).values),
    "topk_smallest_dim": (A3, lambda lib, x: x.topk(2, dim=1, largest=False)[0]),
    "topk_all": (M, lambda lib, x: x.topk(5).values),
    "topk_zero": (M, lambda lib, x: x.topk(0, dim=0).values),
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("case", sorted(OPS))
def test_reorder_vs_torch(case, dtype):
    data, fn = OPS[case]
    run_both(fn, data, dtype=dtype)


@pytest.mark.parametrize("case", sorted(c for c in OPS if "zero" not in c))
def test_reorder_gradcheck(case):
    data, fn = OPS[case]
    numeric_gradcheck(fn, data[..., :3] if data.ndim == 3 else data)


@pytest.mark.parametrize("case", ["flip_many", "roll_dims", "repeat_more_dims", "tril", "sort_values", "topk"])
def test_reorder_double_backward(case):
    data, fn = OPS[case]
    double_backward_both(lambda lib, x: fn(lib, x) ** 3, data, dtype="float64")


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool"])
def test_sort_indices_and_dtypes(dtype, descending):
    values = [3, 1, 2, 0, 5] if dtype != "bool" else [True, False, True, False, False]

    def go(lib):
        t = lib.tensor(values, dtype=getattr(lib, dtype))
        s = lib.sort(t, descending=descending, stable=True)
        return lib.stack([s.values.long(), s.indices, lib.argsort(t, descending=descending, stable=True)])

    expect_same_result(go)


def test_sort_nan_and_inf_order():
    data = [1.0, float("nan"), -float("inf"), 0.5, float("inf"), float("nan"), -1.0]
    for descending in (False, True):
        expect_same_result(lambda lib: lib.sort(lib.tensor(data), descending=descending).values)
        expect_same_result(lambda lib: lib.topk(lib.tensor(data), 3, largest=descending).values)


def test_sort_ties_are_stable():
    data = [2.0, 1.0, 2.0, 1.0, 2.0]
    expect_same_result(lambda lib: lib.sort(lib.tensor(data), stable=True).indices)
    expect_same_result(lambda lib: lib.sort(lib.tensor(data), descending=True, stable=True).indices)


def test_sort_and_topk_return_named_pairs_and_0d():
    for lib in LIBS:
        s = lib.sort(lib.tensor([3.0, 1.0]))
        assert type(s).__name__ == "sort" and s.indices.tolist() == [1, 0] and s[0].tolist() == [1.0, 3.0]
        k = lib.tensor([3.0, 1.0, 2.0]).topk(2)
        assert type(k).__name__ == "topk" and k.indices.tolist() == [0, 2]
    expect_same_result(lambda lib: lib.sort(lib.tensor(3.0)).values)
    expect_same_result(lambda lib: lib.sort(lib.tensor(3.0)).indices)
    expect_same_result(lambda lib: lib.topk(lib.tensor(3.0), 1).indices)


def test_grad_fn_names():
    names = {}
    for lib in LIBS:
        x = lib.tensor(M.tolist(), requires_grad=True)
        outs = [x.flip(0), x.roll(1), x.repeat(2, 1), x.tril(), x.triu(), x.sort().values, x.topk(2).values]
        names[lib.__name__] = [o.grad_fn.name() for o in outs]
    assert names["tapegrad"] == names["torch"]


def test_tril_triu_integers_bools_and_in_place():
    expect_same_result(lambda lib: lib.tril(lib.tensor([[1, 2], [3, 4]])))
    expect_same_result(lambda lib: lib.triu(lib.tensor([[True, True], [True, True]]), 1))
    expect_same_result(lambda lib: lib.tensor([[1.0, 2.0], [3.0, float("inf")]]).tril())
    run_both(lambda lib, x: (x * 1).tril_(1), M)
    run_both(lambda lib, x: (x * 1).triu_(), M)


ERRORS = {
    "flip_repeated_dim": lambda lib: lib.flip(lib.zeros(2, 3), [0, 0]),
    "flip_dim_out_of_range": lambda lib: lib.zeros(2, 3).flip(2),
    "roll_misaligned": lambda lib: lib.roll(lib.zeros(2, 3), (1, 2), (0,)),
    "roll_two_shifts_no_dims": lambda lib: lib.roll(lib.zeros(2, 3), (1, 2)),
    "repeat_too_few": lambda lib: lib.zeros(2, 3).repeat(2),
    "repeat_negative": lambda lib: lib.zeros(2, 3).repeat(2, -1),
    "tril_1d": lambda lib: lib.tril(lib.zeros(3)),
    "triu_0d": lambda lib: lib.triu(lib.tensor(1.0)),
    "topk_too_big": lambda lib: lib.topk(lib.zeros(3), 4),
    "topk_negative": lambda lib: lib.topk(lib.zeros(3), -1),
    "sort_dim_out_of_range": lambda lib: lib.sort(lib.zeros(3), 1),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_reorder_errors(case):
    expect_same_error(ERRORS[case])


# ---- scatter (src and value), tile, unflatten ----

IDX = [[0, 2], [1, 0]]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("form", ["function", "method", "value", "value_keyword", "inplace", "inplace_value"])
def test_scatter(form, dtype):
    forms = {
        "function": lambda lib, x, s: lib.scatter(x, 1, lib.tensor(IDX), s[:, :2]),
        "method": lambda lib, x, s: x.scatter(0, lib.tensor([[1, 0, 1]]), s[:1, :3] if s.dim() > 1 else s),
        "value": lambda lib, x, s: x.scatter(1, lib.tensor(IDX), 2.5) * s.sum(),
        "value_keyword": lambda lib, x, s: lib.scatter(x, 1, lib.tensor(IDX), value=-1.0) * s.sum(),
        "inplace": lambda lib, x, s: (x * 1).scatter_(1, lib.tensor(IDX), s[:, :2]),
        "inplace_value": lambda lib, x, s: (x * 1).scatter_(1, lib.tensor(IDX), 7.0) * s.sum(),
    }
    run_both(forms[form], rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (2, 3)), dtype=dtype)


def test_scatter_src_larger_than_index_fails_at_backward_as_in_torch():
    def go(lib):
        x = lib.zeros(2, 3, requires_grad=True)
        s = lib.ones(2, 3, requires_grad=True)
        out = x.scatter(1, lib.tensor(IDX), s)
        out.sum().backward()

    expect_same_error(go)


def test_scatter_one_hot_and_errors():
    expect_same_result(lambda lib: lib.zeros(3, 4).scatter_(1, lib.tensor([[0], [3], [1]]), 1.0))
    expect_same_result(lambda lib: lib.zeros(3, 4, dtype=lib.int64).scatter(1, lib.tensor([[2], [0], [1]]), 5))
    expect_same_error(lambda lib: lib.zeros(2, 3).scatter(1, lib.tensor([[0.0]]), 1.0))
    expect_same_error(lambda lib: lib.zeros(2, 3).scatter(1, lib.tensor([[3]]), 1.0))
    expect_same_error(lambda lib: lib.zeros(2, 3).scatter(1, lib.tensor([[0]]), lib.ones(1, 1, dtype=lib.float64)))
    names = [lib.zeros(2, 3, requires_grad=True).scatter(1, lib.tensor(IDX), lib.ones(2, 2, requires_grad=True)).grad_fn.name()
             + lib.zeros(2, 3, requires_grad=True).scatter(1, lib.tensor(IDX), 1.0).grad_fn.name() for lib in LIBS]
    assert names[0] == names[1]


@pytest.mark.parametrize("case", ["tile_more", "tile_fewer", "tile_method_args", "unflatten", "unflatten_infer",
                                  "unflatten_negative_dim"])
def test_tile_unflatten(case):
    fns = {
        "tile_more": lambda lib, x: lib.tile(x, (2, 1, 2)),
        "tile_fewer": lambda lib, x: lib.tile(x, (3,)),
        "tile_method_args": lambda lib, x: x.tile(2, 2),
        "unflatten": lambda lib, x: lib.unflatten(x, 1, (5, 1)),
        "unflatten_infer": lambda lib, x: x.unflatten(0, (2, -1)),
        "unflatten_negative_dim": lambda lib, x: x.unflatten(-1, [1, 5]),
    }
    run_both(fns[case], M)


def test_unflatten_error():
    expect_same_error(lambda lib: lib.zeros(3, 4).unflatten(1, (3, 2)))


# ---- diagonal (a view), diag ----

A34 = rng.uniform(-1, 1, (3, 4))
DIAG = {
    "diagonal": (A34, lambda lib, x: lib.diagonal(x)),
    "diagonal_offset": (A34, lambda lib, x: x.diagonal(1)),
    "diagonal_negative_offset": (A34, lambda lib, x: x.diagonal(-1)),
    "diagonal_swapped_dims": (A34, lambda lib, x: x.diagonal(0, 1, 0)),
    "diagonal_3d": (A3, lambda lib, x: lib.diagonal(x, 1, 1, 2)),
    "diagonal_3d_negative_dims": (A3, lambda lib, x: x.diagonal(0, -1, 0)),
    "diagonal_empty": (A34, lambda lib, x: x.diagonal(5)),
    "diag_vector": (A34[0], lambda lib, x: lib.diag(x)),
    "diag_vector_offset": (A34[0], lambda lib, x: lib.diag(x, -2)),
    "diag_matrix": (A34, lambda lib, x: x.diag(1)),
}


@pytest.mark.parametrize("case", sorted(DIAG))
def test_diagonal_and_diag(case):
    data, fn = DIAG[case]
    run_both(fn, data)
    if "empty" not in case:
        numeric_gradcheck(fn, data)
        double_backward_both(lambda lib, x: fn(lib, x) ** 3, data, dtype="float64")


def test_diagonal_is_a_view_with_writes_through():
    for lib in LIBS:
        m = lib.zeros(3, 3)
        m.diagonal().fill_(1.0)
        assert m.tolist() == lib.eye(3).tolist()
    run_both(lambda lib, x: (x * 1).diagonal().mul_(2).sum() * x, A34[:3, :3])
    expect_same_error(lambda lib: lib.diagonal(lib.zeros(3, 4), 0, 0, 0))
    expect_same_error(lambda lib: lib.diagonal(lib.zeros(3, 4), 0, 0, 2))
    expect_same_error(lambda lib: lib.diag(lib.zeros(2, 2, 2)))
