# Indexing reads and writes vs torch: basic and advanced indices, masks, gradients, errors.
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tapegrad
import torch
from conftest import (
    FLOAT_DTYPES,
    LIBS,
    assert_tensor_equal,
    double_backward_both,
    expect_same_error,
    make,
    numeric_gradcheck,
    run_both,
)


def _data(shape, seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, shape)


def T(lib, values, dtype="int64"):
    return lib.tensor(values, dtype=getattr(lib, dtype))


# name -> (shape, fn(lib, x))
READS = {
    "int": ((3, 4), lambda lib, x: x[1]),
    "int_negative": ((3, 4), lambda lib, x: x[-1]),
    "two_ints": ((3, 4), lambda lib, x: x[1, 2]),
    "two_ints_negative": ((3, 4), lambda lib, x: x[-1, -4]),
    "int_to_0d_then_int": ((5,), lambda lib, x: x[3]),
    "slice": ((5, 4), lambda lib, x: x[1:3]),
    "slice_full": ((5, 4), lambda lib, x: x[:]),
    "slice_step": ((7, 4), lambda lib, x: x[::2]),
    "slice_start_step": ((7, 6), lambda lib, x: x[1::2, ::3]),
    "slice_negative_bounds": ((7, 6), lambda lib, x: x[-3:-1, -5:]),
    "slice_out_of_range": ((5, 4), lambda lib, x: x[-100:100, 2:50]),
    "slice_empty": ((5, 4), lambda lib, x: x[3:1]),
    "slice_empty_past_end": ((5, 4), lambda lib, x: x[7:9]),
    "column": ((3, 4), lambda lib, x: x[:, 1]),
    "ellipsis_last": ((2, 3, 4), lambda lib, x: x[..., 1]),
    "ellipsis_first": ((2, 3, 4), lambda lib, x: x[1, ...]),
    "ellipsis_middle": ((2, 3, 4), lambda lib, x: x[1, ..., 2]),
    "ellipsis_alone": ((2, 3), lambda lib, x: x[...]),
    "tuple_of_full_slices": ((2, 3), lambda lib, x: x[:, :]),
    "none_then_full_slice": ((2, 3), lambda lib, x: x[None, :]),
    "int_then_full_slice": ((2, 3), lambda lib, x: x[1, :]),
    "full_slice_then_int": ((2, 3), lambda lib, x: x[:, 1]),
    "none": ((3, 4), lambda lib, x: x[None]),
    "none_middle": ((3, 4), lambda lib, x: x[:, None, 1]),
    "none_ellipsis": ((3, 4), lambda lib, x: x[..., None]),
    "none_twice": ((3, 4), lambda lib, x: x[None, 1, None, ::2]),
    "scalar_none": ((), lambda lib, x: x[None]),
    "scalar_ellipsis": ((), lambda lib, x: x[...]),
    "scalar_empty_tuple": ((), lambda lib, x: x[()]),
    "tuple_of_slices": ((4, 5, 6), lambda lib, x: x[1:, :4:2, -2]),
    # advanced indexing
    "tensor_index": ((4, 3), lambda lib, x: x[T(lib, [0, 2, 2])]),
    "tensor_index_negative": ((4, 3), lambda lib, x: x[T(lib, [-1, 0, -4])]),
    "tensor_index_int32": ((4, 3), lambda lib, x: x[T(lib, [3, 1], "int32")]),
    "tensor_index_2d": ((4, 3), lambda lib, x: x[T(lib, [[0, 1], [2, 0]])]),
    "tensor_index_0d": ((4, 3), lambda lib, x: x[T(lib, 2)]),
    "tensor_index_empty": ((4, 3), lambda lib, x: x[lib.zeros(0, dtype=lib.int64)]),
    "list_index": ((4, 3), lambda lib, x: x[[0, 2]]),
    "list_index_repeated": ((4, 3), lambda lib, x: x[[1, 1, 3, 1]]),
    "two_lists": ((4, 5), lambda lib, x: x[[0, 2, 3], [1, 4, 0]]),
    "broadcast_indices": ((4, 5), lambda lib, x: x[T(lib, [[0], [3]]), T(lib, [1, 2, 4])]),
    "list_then_slice": ((4, 5), lambda lib, x: x[[0, 3], 1:4]),
    "slice_then_list": ((4, 5), lambda lib, x: x[:, [0, 2, 2]]),
    "slice_then_tensor_2d": ((4, 5), lambda lib, x: x[1:, T(lib, [[0, 1], [4, 4]])]),
    "adjacent_advanced": ((3, 4, 5), lambda lib, x: x[:, [0, 1], [1, 2]]),
    "non_adjacent_advanced": ((3, 4, 5), lambda lib, x: x[[0, 1], :, [1, 2]]),
    "int_and_list_non_adjacent": ((3, 4, 5), lambda lib, x: x[1, :, [0, 2, 4]]),
    "int_and_list_adjacent": ((3, 4, 5), lambda lib, x: x[1, [0, 2]]),
    "advanced_with_none": ((3, 4, 5), lambda lib, x: x[None, [0, 2], ..., 1]),
    "advanced_with_ellipsis": ((3, 4, 5), lambda lib, x: x[..., [0, 4]]),
    "advanced_broadcast_3": ((3, 4, 5), lambda lib, x: x[T(lib, [[0], [2]]), T(lib, [[1, 3]]), T(lib, 4)]),
    # boolean masks
    "mask_full": ((3, 4), lambda lib, x: x[x > 0]),
    "mask_full_none_true": ((3, 4), lambda lib, x: x[x > 10]),
    "mask_rows": ((4, 3), lambda lib, x: x[T(lib, [True, False, True, True], "bool")]),
    "mask_cols": ((3, 4), lambda lib, x: x[:, T(lib, [False, True, False, True], "bool")]),
    "mask_leading_2d": ((2, 3, 4), lambda lib, x: x[T(lib, [[True, False, True], [False, False, True]], "bool")]),
    "mask_trailing_2d": ((2, 3, 4), lambda lib, x: x[0, x[1] > 0]),
    "mask_list_of_bools": ((3, 2), lambda lib, x: x[[True, False, True]]),
    "mask_and_index": ((3, 4), lambda lib, x: x[T(lib, [True, False, True], "bool"), T(lib, [1, 3])]),
    "mask_0d_true": ((3,), lambda lib, x: x[T(lib, True, "bool")]),
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", sorted(READS))
def test_index_read(name, dtype):
    shape, fn = READS[name]
    run_both(fn, _data(shape), dtype=dtype)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("name", ["int", "slice_step", "tensor_index", "two_lists", "mask_rows",
                                  "non_adjacent_advanced", "none_middle"])
def test_index_read_other_dtypes(name, dtype):
    shape, fn = READS[name]
    values = np.arange(int(np.prod(shape))).reshape(shape) % 3 - 1
    run_both(fn, values, dtype=dtype, upstream=None)


@pytest.mark.parametrize("name", ["two_lists", "broadcast_indices", "non_adjacent_advanced", "mask_full",
                                  "list_index_repeated", "slice_start_step", "mask_leading_2d"])
def test_index_read_gradcheck(name):
    shape, fn = READS[name]
    numeric_gradcheck(fn, _data(shape))


@pytest.mark.parametrize("name", ["list_index_repeated", "mask_full", "int_and_list_non_adjacent"])
def test_index_read_double_backward(name):
    shape, fn = READS[name]
    double_backward_both(lambda lib, x: fn(lib, x) ** 3, _data(shape))


def test_basic_index_reads_are_views():
    x = tapegrad.arange(24.0).reshape(2, 3, 4)
    for v in (x[1], x[:, 1], x[..., ::2], x[None, 1], x[1, 1:, 2]):
        assert np.shares_memory(v.numpy(), x.numpy())
    for v in (x[[0, 1]], x[x > 3], x[:, [0, 2]]):
        assert not np.shares_memory(v.numpy(), x.numpy())


def test_repeated_advanced_index_gradient_accumulates():
    run_both(lambda lib, x: x[[0, 0, 2, 0]] * lib.arange(4.0).unsqueeze(1), _data((3, 2)))


# ---- writes (no autograd) ----

WRITES = {
    "mask_zero": ((3, 4), lambda lib, x: x.__setitem__(x > 0, 0)),
    "mask_float_value": ((3, 4), lambda lib, x: x.__setitem__(x < 0, -0.5)),
    "mask_tensor_values": ((2, 3), lambda lib, x: x.__setitem__(T(lib, [[True, False, True], [False, True, False]], "bool"),
                                                                lib.tensor([7.0, 8.0, 9.0], dtype=x.dtype))),
    "mask_rows_broadcast": ((3, 2), lambda lib, x: x.__setitem__(T(lib, [True, False, True], "bool"), lib.tensor([1.0, 2.0], dtype=x.dtype))),
    "column_number": ((3, 4), lambda lib, x: x.__setitem__((slice(None), 1), 5.0)),
    "column_tensor": ((3, 4), lambda lib, x: x.__setitem__((slice(None), 1), lib.tensor([1.0, 2.0, 3.0]))),
    "row_broadcast": ((3, 4), lambda lib, x: x.__setitem__(1, lib.tensor([1.0, 2.0, 3.0, 4.0]))),
    "rows_slice_broadcast": ((3, 4), lambda lib, x: x.__setitem__(slice(0, 2), lib.tensor([1.0, 2.0, 3.0, 4.0]))),
    "column_broadcast_from_2d": ((3, 4), lambda lib, x: x.__setitem__((slice(None), slice(1, 3)), lib.tensor([[1.0], [2.0], [3.0]]))),
    "step_slice": ((6, 2), lambda lib, x: x.__setitem__(slice(None, None, 2), -1.0)),
    "element": ((3, 4), lambda lib, x: x.__setitem__((1, 2), 3.5)),
    "element_negative": ((3, 4), lambda lib, x: x.__setitem__((-1, -1), 9.0)),
    "ellipsis": ((2, 3, 4), lambda lib, x: x.__setitem__((Ellipsis, 0), 1.0)),
    "ellipsis_alone": ((2, 3), lambda lib, x: x.__setitem__(Ellipsis, 4.0)),
    "none": ((3, 4), lambda lib, x: x.__setitem__((None, 1), lib.tensor([[1.0, 2.0, 3.0, 4.0]]))),
    "index_tensor": ((4, 3), lambda lib, x: x.__setitem__(T(lib, [0, 2]), 7.0)),
    "index_tensor_values": ((4, 3), lambda lib, x: x.__setitem__(T(lib, [3, 0]), lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=x.dtype))),
    "index_tensor_row_broadcast": ((4, 3), lambda lib, x: x.__setitem__(T(lib, [3, 1]), lib.tensor([1.0, 2.0, 3.0], dtype=x.dtype))),
    "index_list": ((4, 3), lambda lib, x: x.__setitem__([1, 2], 0.0)),
    "two_index_lists": ((4, 3), lambda lib, x: x.__setitem__(([0, 1, 3], [2, 0, 1]), lib.tensor([10.0, 20.0, 30.0], dtype=x.dtype))),
    "slice_and_list": ((4, 3), lambda lib, x: x.__setitem__((slice(1, None), [0, 2]), -3.0)),
    "zero_dim_tensor_value": ((3, 4), lambda lib, x: x.__setitem__((slice(None), 0), lib.tensor(2.5))),
    "int_value_into_float": ((3, 4), lambda lib, x: x.__setitem__(0, lib.tensor([1, 2, 3, 4]))),
    "float64_value_into_float32": ((3, 4), lambda lib, x: x.__setitem__(0, lib.tensor([1.25, 2, 3, 4], dtype=lib.float64))),
    "self_overlap_value": ((3, 4), lambda lib, x: x.__setitem__(0, x[2].clone())),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(WRITES))
def test_index_write(name, dtype):
    shape, fn = WRITES[name]
    res = {}
    for lib in LIBS:
        x = make(lib, _data(shape), dtype)
        assert fn(lib, x) is None
        res[lib.__name__] = x
    assert_tensor_equal(res["tapegrad"], res["torch"])


def test_advanced_index_write_dtype_mismatch_raises():
    """Advanced-index writes (index_put_) need the value's dtype to match (basic-index writes cast)."""
    def fn(lib):
        x = lib.zeros(4, 3, dtype=lib.float64)
        x[T(lib, [3, 1])] = lib.tensor([1.0, 2.0, 3.0])
    expect_same_error(fn)


@pytest.mark.parametrize("dtype", ["int64", "int32"])
@pytest.mark.parametrize("value", [2.7, -2.7, 3, True])
def test_index_write_casts_value_to_tensor_dtype(dtype, value):
    res = {}
    for lib in LIBS:
        x = lib.zeros(2, 3, dtype=getattr(lib, dtype))
        x[0] = value
        x[1, 1:] = lib.tensor([1.9, -1.9])
        res[lib.__name__] = x
    assert_tensor_equal(res["tapegrad"], res["torch"])


def test_index_write_bool_tensor():
    res = {}
    for lib in LIBS:
        x = lib.zeros(2, 3, dtype=lib.bool)
        x[0, 1] = True
        x[1] = lib.tensor([1, 0, 2])
        res[lib.__name__] = x
    assert_tensor_equal(res["tapegrad"], res["torch"])


def test_issue_examples_view_writes():
    res = {}
    for lib in LIBS:
        x = lib.arange(12.0).reshape(3, 4)
        v = x[0]
        v[1] = 5.0
        x.view(-1)[0] = 3
        w = x[:, 2]
        x[1, 2] = -1.0
        res[lib.__name__] = (x.tolist(), v.tolist(), w.tolist())
    assert res["tapegrad"] == res["torch"]


def test_write_through_chained_views():
    res = {}
    for lib in LIBS:
        x = lib.zeros(4, 6)
        x[1:, ::2][:, 1] = lib.tensor([1.0, 2.0, 3.0])
        x.t()[5][x.t()[5] == 0] = 9.0
        x[2][[0, 1]] = -1.0
        res[lib.__name__] = x.tolist()
    assert res["tapegrad"] == res["torch"]


# ---- writes with autograd ----

GRAD_WRITES = {
    "column_tensor": (lambda lib, y, w: y.__setitem__((slice(None), 1), w), (3,)),
    "column_broadcast": (lambda lib, y, w: y.__setitem__((slice(None), slice(1, 3)), w), (3, 1)),
    "row_broadcast_0d": (lambda lib, y, w: y.__setitem__(1, w), ()),
    "element": (lambda lib, y, w: y.__setitem__((2, 3), w), ()),
    "mask": (lambda lib, y, w: y.__setitem__(y > 0, w), ()),
    "index_tensor": (lambda lib, y, w: y.__setitem__(T(lib, [2, 0]), w), (2, 4)),
    "index_tensor_broadcast": (lambda lib, y, w: y.__setitem__(T(lib, [2, 0]), w), (4,)),
    "two_index_lists": (lambda lib, y, w: y.__setitem__(([0, 2], [1, 3]), w), (2,)),
    "step_slice": (lambda lib, y, w: y.__setitem__((slice(None, None, 2), slice(1, None, 2)), w), (2, 2)),
    "through_select_view": (lambda lib, y, w: y[1].__setitem__(slice(1, 3), w), (2,)),
    "through_transposed_view": (lambda lib, y, w: y.t().__setitem__(0, w), (3,)),
    "through_view_reshape": (lambda lib, y, w: y.view(-1).__setitem__(slice(2, 5), w), (3,)),
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", sorted(GRAD_WRITES))
def test_index_write_autograd(name, dtype):
    """y = x * 2 (non-leaf); y[...] = w: gradient to x (zero where overwritten) and to w, via CopySlices etc."""
    write, wshape = GRAD_WRITES[name]
    res = {}
    for lib in LIBS:
        x = make(lib, _data((3, 4)), dtype, True)
        w = make(lib, _data(wshape, 1), dtype, True)
        y = x * 2
        write(lib, y, w)
        out = (y * y).sum() if name == "mask" else (y * make(lib, _data((3, 4), 2), dtype)).sum()
        out.backward()
        res[lib.__name__] = dict(y=y, name=y.grad_fn.name(), xg=x.grad, wg=w.grad)
    o, t = res["tapegrad"], res["torch"]
    assert_tensor_equal(o["y"], t["y"], what="written tensor")
    for k in ("xg", "wg"):
        assert (o[k] is None) == (t[k] is None), f"{k}: tapegrad {o[k]} vs torch {t[k]}"
        assert_tensor_equal(o[k], t[k], what=k)


@pytest.mark.parametrize("name", sorted(GRAD_WRITES))
def test_index_write_grad_fn_name(name):
    """The written tensor's grad_fn: torch names it 'torch::autograd::CopySlices' (basic indices,
    also through views) or 'IndexPutBackward0' (advanced indices / masks)."""
    write, wshape = GRAD_WRITES[name]
    names = {}
    for lib in LIBS:
        y = make(lib, _data((3, 4)), "float32", True) * 2
        write(lib, y, make(lib, _data(wshape, 1), "float32", True))
        names[lib.__name__] = y.grad_fn.name()
    assert names["tapegrad"] == names["torch"]


def test_index_write_value_requires_grad_into_plain_tensor():
    """Writing a requires-grad value into a tensor that does not require grad makes it require grad."""
    res = {}
    for lib in LIBS:
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.zeros(3, 2)
        y[1] = w * 3
        assert y.requires_grad and not y.is_leaf
        (y * lib.arange(6.0).reshape(3, 2)).sum().backward()
        res[lib.__name__] = (w.grad.tolist(), y.tolist())
    assert res["tapegrad"] == res["torch"]


def test_index_write_twice_gradient():
    def fn(lib, x, w):
        y = x * 3
        y[0] = w
        y[:, 0] = w[0] * 2
        return y * x
    run_both(fn, _data((3, 3)), _data((3,), 1), check_grad_fn=True)


def test_index_write_gradcheck():
    def fn(lib, x, w):
        y = x * 1
        y[:, 1] = w * w
        y[y > 1.5] = 0.0
        return y.sin()
    numeric_gradcheck(fn, _data((3, 4)), _data((3,), 1))


@pytest.mark.parametrize("index", [0, (slice(None), 1), "mask", "tensor"])
def test_index_write_leaf_requiring_grad_raises(index):
    def fn(lib):
        x = lib.ones(3, 4, requires_grad=True)
        i = {"mask": x > 0, "tensor": T(lib, [0, 1])}.get(index, index) if isinstance(index, str) else index
        x[i] = 0.0
    err, _ = expect_same_error(fn)
    assert "a leaf Variable that requires grad is being used in an in-place operation." in str(err)


def test_index_write_leaf_requiring_grad_through_view_raises():
    def fn(lib):
        x = lib.ones(3, 4, requires_grad=True)
        v = x[0]
        v[1] = 5.0
    expect_same_error(fn)


def test_index_write_leaf_allowed_under_no_grad():
    res = {}
    for lib in LIBS:
        x = lib.ones(3, 4, requires_grad=True)
        with lib.no_grad():
            x[1] = 5.0
            x[x > 4] = 2.0
        assert x.is_leaf and x.requires_grad and x.grad_fn is None
        (x * x).sum().backward()
        res[lib.__name__] = (x.tolist(), x.grad.tolist())
    assert res["tapegrad"] == res["torch"]


# ---- errors ----

INDEX_ERRORS = [
    lambda lib: lib.zeros(3)[5],
    lambda lib: lib.zeros(3)[-4],
    lambda lib: lib.zeros(3, 4)[:, 7],
    lambda lib: lib.zeros(3, 4)[1, -5],
    lambda lib: lib.zeros(3)[T(lib, [0, 5])],
    lambda lib: lib.zeros(3)[T(lib, [-4])],
    lambda lib: lib.zeros(3, 4)[:, [1, 4]],
    lambda lib: lib.zeros(3, 4)[[0, 3]],
    lambda lib: lib.zeros(3, 4)[0, 0, 0],
    lambda lib: lib.zeros(3, 4)[0, :, 0],
    lambda lib: lib.zeros(())[0],
    lambda lib: lib.zeros(3, 4)[T(lib, [True, False], "bool")],
    lambda lib: lib.zeros(3, 4)[lib.zeros(3, 4, dtype=lib.bool)[:2]],
    lambda lib: lib.zeros(3, 4)[lib.tensor([0.0, 1.0])],
    lambda lib: lib.zeros(3, 4)[[0, 1], [0, 1, 2]],
    lambda lib: lib.zeros(3, 4)[1.5],
    lambda lib: lib.zeros(3, 4)["a"],
    lambda lib: lib.zeros(3)[::-1],
    lambda lib: lib.zeros(3)[::0],
]


@pytest.mark.parametrize("i", range(len(INDEX_ERRORS)))
def test_index_read_errors(i):
    expect_same_error(INDEX_ERRORS[i])


def test_out_of_range_message_from_issue():
    with pytest.raises(IndexError, match=r"^index 5 is out of bounds for dimension 0 with size 3$"):
        tapegrad.zeros(3)[5]


INDEX_WRITE_ERRORS = [
    lambda lib: lib.zeros(3).__setitem__(5, 1.0),
    lambda lib: lib.zeros(3, 4).__setitem__((slice(None), 4), 1.0),
    lambda lib: lib.zeros(3).__setitem__(T(lib, [3]), 1.0),
    lambda lib: lib.zeros(3, 4).__setitem__((0, 0, 0), 1.0),
    lambda lib: lib.zeros(3, 4).__setitem__(0, lib.ones(3)),
    lambda lib: lib.zeros(3, 4).__setitem__((slice(None), 0), lib.ones(2)),
    lambda lib: lib.zeros(3, 4).__setitem__(T(lib, [True, False], "bool"), 1.0),
    lambda lib: lib.zeros(3, 4).__setitem__(lib.zeros(3, 4, dtype=lib.bool), lib.ones(2)),
]


@pytest.mark.parametrize("i", range(len(INDEX_WRITE_ERRORS)))
def test_index_write_errors(i):
    expect_same_error(INDEX_WRITE_ERRORS[i])


# ---- hypothesis: random basic + advanced indices ----

@st.composite
def random_index(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim)))
    parts = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "full", "list", "none"]))
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            parts.append(slice(draw(st.none() | st.integers(-n - 2, n + 2)),
                               draw(st.none() | st.integers(-n - 2, n + 2)),
                               draw(st.none() | st.integers(1, 3))))
        elif kind == "full":
            parts.append(slice(None))
        elif kind == "list":
            parts.append(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=3,
                                        unique_by=lambda v, n=n: v % n)))
        else:
            parts.append(None)
            parts.append(slice(None))
    # several index lists must broadcast: keep them all the same length
    lists = [p for p in parts if isinstance(p, list)]
    if len(lists) > 1:
        k = min(len(p) for p in lists)
        parts = [p[:k] if isinstance(p, list) else p for p in parts]
    if draw(st.booleans()) and len(parts) > 1:
        parts = parts[: draw(st.integers(1, len(parts)))]
    return shape, tuple(parts)


@settings(max_examples=40, deadline=None)
@given(case=random_index(), dtype=st.sampled_from(FLOAT_DTYPES))
def test_hypothesis_index_read(case, dtype):
    shape, index = case
    # grad_fn names: torch skips full slices inside a tuple index (x[None, :] -> UnsqueezeBackward0,
    # x[:, :] -> AliasBackward0); test_index_read checks those names, here values and gradients.
    run_both(lambda lib, x: x[index], _data(shape), dtype=dtype, check_grad_fn=False)


@settings(max_examples=30, deadline=None)
@given(case=random_index())
def test_hypothesis_index_write(case):
    shape, index = case
    res = {}
    for lib in LIBS:
        x = make(lib, _data(shape), "float64")
        target = x[index]
        value = make(lib, np.arange(target.numel(), dtype=float).reshape(tuple(target.shape)) + 100, "float64")
        x[index] = value
        res[lib.__name__] = x
    assert_tensor_equal(res["tapegrad"], res["torch"])
