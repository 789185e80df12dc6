# Interop vs torch: numpy (from_numpy, .numpy(), np.asarray), DLPack with numpy and torch (zero-copy),
# tolist/item/len/iteration and the Python number protocols.
import operator
import warnings

import numpy as np
import pytest

import tapegrad
import torch
from conftest import (
    ALL_DTYPES,
    FLOAT_DTYPES,
    LIBS,
    assert_tensor_equal,
    capture,
    expect_same_error,
    expect_same_result,
)

NP_DTYPES = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "int32": np.int32, "bool": np.bool_}


def dname(d):
    return str(d).replace("torch.", "")


def _array(dtype, shape=(2, 3)):
    a = (np.arange(int(np.prod(shape))).reshape(shape) % 4 - 1)
    return a.astype(NP_DTYPES[dtype])


# ---- from_numpy ----

@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_from_numpy_dtype_values(dtype):
    res = {lib.__name__: lib.from_numpy(_array(dtype)) for lib in LIBS}
    assert_tensor_equal(res["tapegrad"], res["torch"])


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_from_numpy_shares_memory_both_ways(dtype):
    a = _array(dtype)
    t = tapegrad.from_numpy(a)
    a[0, 1] = 1
    assert t[0, 1].item() == a[0, 1]
    t[1, 2] = 0
    assert a[1, 2] == 0
    t.zero_()
    assert not a.any()
    assert np.shares_memory(t.numpy(), a)


@pytest.mark.parametrize("how", ["transposed", "sliced", "step", "fortran", "broadcast_zero_stride"])
def test_from_numpy_strided(how):
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    a = {"transposed": lambda: base.T, "sliced": lambda: base[1:3, 2:], "step": lambda: base[::2, ::3],
         "fortran": lambda: np.asfortranarray(base),
         "broadcast_zero_stride": lambda: np.broadcast_to(base[0].copy(), (3, 6))}[how]()

    def fn(lib):
        if how == "broadcast_zero_stride":
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch warns: non-writable array
                return lib.from_numpy(a)
        return lib.from_numpy(a)

    _, err = capture(fn, torch)
    if err is not None:
        expect_same_error(fn)
        return
    ours, theirs = expect_same_result(fn)
    assert tuple(ours.stride()) == tuple(theirs.stride())
    assert ours.is_contiguous() == theirs.is_contiguous()
    if how != "broadcast_zero_stride":
        base[...] += 100
        assert ours.tolist() == a.tolist()


FROM_NUMPY_BAD = {
    "negative_stride": lambda: np.arange(5.0)[::-1],
    "object": lambda: np.array([1, "a"], dtype=object),
    "not_array": lambda: [1.0, 2.0],
}


@pytest.mark.parametrize("case", sorted(FROM_NUMPY_BAD))
def test_from_numpy_errors(case):
    # torch's message for object arrays lists its own (longer) set of dtypes; compare the type there
    expect_same_error(lambda lib: lib.from_numpy(FROM_NUMPY_BAD[case]()), message=case != "object")


def test_from_numpy_0d():
    expect_same_result(lambda lib: lib.from_numpy(np.array(2.5)))
    expect_same_result(lambda lib: lib.from_numpy(np.array(3, dtype=np.int32)))


@pytest.mark.parametrize("np_dtype", [np.float16, np.uint16, np.int8, np.complex64], ids=str)
def test_from_numpy_dtype_tapegrad_lacks(np_dtype):
    """torch supports these; tapegrad (5 dtypes) must refuse clearly with torch's exception type."""
    with pytest.raises(TypeError, match=r"^can't convert np\.ndarray of type numpy\.\w+\."):
        tapegrad.from_numpy(np.ones(3, np_dtype))


def test_from_numpy_result_is_leaf_without_grad():
    t = tapegrad.from_numpy(np.ones(3))
    assert t.is_leaf and not t.requires_grad and t.grad_fn is None
    t.requires_grad_()
    (t * 2).sum().backward()
    assert t.grad.tolist() == [2.0, 2.0, 2.0]


# ---- .numpy() / np.asarray ----

@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_numpy_shares_memory(dtype):
    t = tapegrad.tensor(_array(dtype).tolist(), dtype=getattr(tapegrad, dtype))
    a = t.numpy()
    assert a.dtype == NP_DTYPES[dtype]
    a[0, 0] = 1
    assert t[0, 0].item() == a[0, 0]
    t.fill_(0)
    assert not a.any()


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
def test_np_asarray(dtype):
    res = {}
    for lib in LIBS:
        t = lib.tensor(_array(dtype).tolist(), dtype=getattr(lib, dtype))
        a = np.asarray(t)
        a[1, 1] = 0
        res[lib.__name__] = (a.dtype, a.shape, a.tolist(), t.tolist(), np.array(t).tolist())
    assert res["tapegrad"] == res["torch"]


def test_np_asarray_of_view_and_scalar():
    res = {}
    for lib in LIBS:
        t = lib.arange(12.0).reshape(3, 4)
        v = np.asarray(t.t()[1:])
        s = np.asarray(lib.tensor(3.5))
        res[lib.__name__] = (v.strides, v.tolist(), s.shape, s.item(), np.asarray(t[1]).base is not None)
    assert res["tapegrad"] == res["torch"]


def test_numpy_of_requires_grad_raises():
    expect_same_error(lambda lib: lib.ones(2, requires_grad=True).numpy())
    expect_same_error(lambda lib: np.asarray(lib.ones(2, requires_grad=True)))
    expect_same_error(lambda lib: (lib.ones(2, requires_grad=True) * 2).numpy())


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch 2.13's own __array__/__array_wrap__ under numpy 2
def test_numpy_ufunc_on_tensor():
    res = {lib.__name__: np.add(lib.tensor([1.0, 2.0]), 1).tolist() for lib in LIBS}
    assert res["tapegrad"] == res["torch"]


# ---- DLPack ----

@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_dlpack_to_numpy_zero_copy(dtype):
    t = tapegrad.tensor(_array(dtype).tolist(), dtype=getattr(tapegrad, dtype))
    a = np.from_dlpack(t)
    assert a.dtype == NP_DTYPES[dtype] and a.shape == (2, 3)
    assert a.tolist() == t.tolist()
    t[0, 0] = 1
    assert a[0, 0] == 1
    t.zero_()
    assert not a.any()


def test_dlpack_device():
    res = {lib.__name__: tuple(int(v) for v in lib.zeros(2).__dlpack_device__()) for lib in LIBS}
    assert res["tapegrad"] == res["torch"] == (1, 0)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_dlpack_tapegrad_to_torch_zero_copy(dtype):
    t = tapegrad.tensor(_array(dtype).tolist(), dtype=getattr(tapegrad, dtype))
    tt = torch.from_dlpack(t)
    assert dname(tt.dtype) == dtype and tuple(tt.shape) == (2, 3)
    assert tt.tolist() == t.tolist()
    tt[1, 1] = 1  # torch side writes, tapegrad sees
    assert t[1, 1].item() == tt[1, 1].item()
    t.zero_()  # tapegrad side writes, torch sees
    assert not tt.any()


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_dlpack_torch_to_tapegrad_zero_copy(dtype):
    tt = torch.tensor(_array(dtype).tolist(), dtype=getattr(torch, dtype))
    t = tapegrad.from_dlpack(tt)
    assert dname(t.dtype) == dtype and tuple(t.shape) == (2, 3)
    assert t.tolist() == tt.tolist()
    tt.zero_()
    assert not t.any().item()
    t[0, 2] = 1
    assert tt[0, 2].item() == t[0, 2].item()
    t2 = tapegrad.from_dlpack(tt.__dlpack__())  # a capsule works too
    tt[1, 0] = 1
    assert t2[1, 0].item() == tt[1, 0].item()


@pytest.mark.parametrize("how", ["transposed", "sliced", "expanded", "scalar", "empty", "offset"])
def test_dlpack_torch_strided_views(how):
    base = torch.arange(24.0).reshape(4, 6)
    tt = {"transposed": lambda: base.t(), "sliced": lambda: base[1:, ::2], "expanded": lambda: base[0].expand(3, 6),
          "scalar": lambda: base[2, 3], "empty": lambda: base[:0], "offset": lambda: base[2]}[how]()
    t = tapegrad.from_dlpack(tt)
    assert tuple(t.shape) == tuple(tt.shape)
    assert t.tolist() == tt.tolist()
    if how not in ("empty",):
        assert tuple(t.stride()) == tuple(tt.stride())
        base += 1
        assert t.tolist() == tt.tolist()


@pytest.mark.parametrize("how", ["transposed", "sliced", "offset", "scalar"])
def test_dlpack_tapegrad_strided_views_to_torch_and_numpy(how):
    base = tapegrad.arange(24.0).reshape(4, 6)
    t = {"transposed": lambda: base.t(), "sliced": lambda: base[1:, ::2], "offset": lambda: base[2],
         "scalar": lambda: base[2, 3]}[how]()
    tt = torch.from_dlpack(t)
    a = np.from_dlpack(t)
    assert tt.tolist() == t.tolist() == a.tolist()
    assert tuple(tt.stride()) == tuple(t.stride())
    base.fill_(-1)
    assert tt.tolist() == t.tolist() == a.tolist()


def test_dlpack_from_numpy_array():
    a = np.arange(6.0).reshape(2, 3)
    t = tapegrad.from_dlpack(a)
    assert t.tolist() == a.tolist() and dname(t.dtype) == "float64"
    a[0, 0] = 10
    assert t[0, 0].item() == 10


def test_dlpack_round_trip_keeps_memory_alive():
    t = tapegrad.from_dlpack(torch.arange(5.0) * 2)  # the torch tensor has no other owner
    import gc
    gc.collect()
    assert t.tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]
    a = np.from_dlpack(tapegrad.arange(4.0) + 1)
    gc.collect()
    assert a.tolist() == [1.0, 2.0, 3.0, 4.0]
    back = tapegrad.from_dlpack(torch.from_dlpack(tapegrad.arange(3)))
    assert back.tolist() == [0, 1, 2] and dname(back.dtype) == "int64"


def test_dlpack_of_requires_grad_tensor_raises_like_torch():
    expect_same_error(lambda lib: np.from_dlpack(lib.ones(2, requires_grad=True)), message=False)


# ---- tolist / item / len / iteration ----

@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 0), (1, 2, 2)], ids=str)
def test_tolist(shape, dtype):
    res = {}
    for lib in LIBS:
        t = lib.tensor(_array(dtype, shape).tolist(), dtype=getattr(lib, dtype)) if shape != (2, 0) else \
            lib.zeros(2, 0, dtype=getattr(lib, dtype))
        out = t.tolist()
        res[lib.__name__] = (out, type(out).__name__, repr(out))
    assert res["tapegrad"] == res["torch"]


def test_tolist_of_views():
    res = {lib.__name__: [v.tolist() for v in _views(lib)] for lib in LIBS}
    assert res["tapegrad"] == res["torch"]


def _views(lib):
    x = lib.arange(12).reshape(3, 4)
    return [x.t(), x[:, ::2], x[1], x.unsqueeze(1).expand(3, 2, 4), x[2, 3]]


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_item(dtype):
    res = {}
    for lib in LIBS:
        vals = [lib.tensor(v, dtype=getattr(lib, dtype)) for v in (3, 0, -1)]
        vals += [lib.tensor([[5]], dtype=getattr(lib, dtype)), lib.arange(6).reshape(2, 3)[1, 2].to(getattr(lib, dtype))]
        res[lib.__name__] = [(t.item(), type(t.item()).__name__) for t in vals]
    assert res["tapegrad"] == res["torch"]


def test_len_and_iteration():
    res = {}
    for lib in LIBS:
        x = lib.arange(6.0).reshape(3, 2)
        rows = [row for row in x]
        rows[1][0] = 100.0  # rows are views
        res[lib.__name__] = (len(x), len(x[0]), len(lib.zeros(0, 3)), [r.tolist() for r in rows], x.tolist(),
                             [v.item() for v in x[2]], list(map(float, lib.tensor([1, 2]))),
                             [type(r).__name__ for r in lib.tensor([1, 2])])
    assert res["tapegrad"] == res["torch"]


def test_iteration_gradients():
    res = {}
    for lib in LIBS:
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        total = sum(row * (i + 1) for i, row in enumerate(x)).sum()
        total.backward()
        res[lib.__name__] = (x.grad.tolist(), [r.grad_fn.name() for r in x])
    assert res["tapegrad"] == res["torch"]


def test_unpacking():
    res = {}
    for lib in LIBS:
        a, b = lib.tensor([[1, 2], [3, 4]])
        c, d = lib.tensor([5.0, 6.0])
        res[lib.__name__] = (a.tolist(), b.tolist(), c.item(), d.item())
    assert res["tapegrad"] == res["torch"]


def test_in_operator():
    res = {lib.__name__: (2 in lib.tensor([1, 2, 3]), 5 in lib.tensor([1, 2, 3]), 2.0 in lib.tensor([[1.0, 2.0]]))
           for lib in LIBS}
    assert res["tapegrad"] == res["torch"]


# ---- bool / float / int / __index__ ----

CONVERSIONS = {
    "bool": bool,
    "float": float,
    "int": int,
    "index_range": lambda t: range(10)[t],
    "index_list": lambda t: [10, 20, 30, 40][t],
    "operator_index": operator.index,
    "hex": hex,
    "complex": complex,
}
VALUES = {
    "float_0d": lambda lib: lib.tensor(2.75),
    "float_neg": lambda lib: lib.tensor(-2.75),
    "float_1elem": lambda lib: lib.tensor([[0.0]]),
    "float64": lambda lib: lib.tensor(1.5, dtype=lib.float64),
    "int_0d": lambda lib: lib.tensor(3),
    "int_neg": lambda lib: lib.tensor(-2),
    "int32_1elem": lambda lib: lib.tensor([2], dtype=lib.int32),
    "bool_true": lambda lib: lib.tensor(True),
    "bool_false_1elem": lambda lib: lib.tensor([False]),
    "int_view": lambda lib: lib.arange(5)[3],
    "many": lambda lib: lib.tensor([1, 2]),
    "many_float": lambda lib: lib.tensor([1.0, 2.0]),
    "empty": lambda lib: lib.zeros(0),
}


@pytest.mark.parametrize("value", sorted(VALUES))
@pytest.mark.parametrize("conv", sorted(CONVERSIONS))
def test_python_conversions(conv, value):
    """Same result and result type, same exception, and the same warnings (e.g. Python's
    DeprecationWarning if __index__ returns a bool). Tensors requiring grad are left to test_tensor.py:
    torch warns about converting them only once per process, so using them here would eat that warning."""
    def fn(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = CONVERSIONS[conv](VALUES[value](lib))
        return r, type(r).__name__, [(w.category.__name__, str(w.message).splitlines()[0]) for w in caught]

    theirs, terr = capture(fn, torch)
    if terr is not None:
        expect_same_error(fn)
    else:
        assert fn(tapegrad) == theirs


@pytest.mark.parametrize("value", ["many", "empty", "float_0d"])
def test_len_and_iter_errors(value):
    for op in (len, iter, lambda t: list(t)):
        _, terr = capture(lambda lib: op(VALUES[value](lib)), torch)
        if terr is not None:
            expect_same_error(lambda lib: op(VALUES[value](lib)))
        else:
            assert len(list(op(VALUES[value](tapegrad)))) == len(list(op(VALUES[value](torch)))) \
                if op is not len else op(VALUES[value](tapegrad)) == op(VALUES[value](torch))


def test_item_errors():
    expect_same_error(lambda lib: lib.tensor([1, 2]).item())
    expect_same_error(lambda lib: lib.zeros(0).item())


def test_tensor_in_control_flow():
    res = {}
    for lib in LIBS:
        x = lib.tensor([1.0, -2.0, 3.0])
        res[lib.__name__] = ["pos" if v > 0 else "neg" for v in x] + [bool((x > 0).any()), bool((x > 0).all())]
        res[lib.__name__].append(1 if x.sum() else 0)
    assert res["tapegrad"] == res["torch"]
