# Tensor creation, conversion, properties and printing vs torch.
import os
import pathlib
import subprocess
import sys
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
    package_root,
    run_both,
)

ROOT = pathlib.Path(__file__).resolve().parents[1]


def both(fn):
    return {lib.__name__: fn(lib) for lib in LIBS}


def same(fn):
    """fn(lib) returns plain Python data (or tapegrad/torch tensors) equal across libraries."""
    res = both(fn)
    assert _plain(res["tapegrad"]) == _plain(res["torch"])
    return res


def _plain(v):
    if isinstance(v, (tapegrad.Tensor, torch.Tensor)):
        return ("tensor", str(v.dtype), tuple(v.shape), v.detach().numpy().tolist())
    if isinstance(v, (tapegrad.dtype, torch.dtype)):
        return str(v)
    if isinstance(v, (list, tuple)):
        return type(v).__name__, [_plain(x) for x in v]
    return v


# ---- tensor(): dtype inference ----

DATA = {
    "int": 1,
    "float": 1.5,
    "bool": True,
    "int_list": [1, 2],
    "int_float": [1, 2.5],
    "bool_int": [True, 2],
    "bool_float": [True, 1.0],
    "bools": [True, False],
    "nested_mixed": [[1, 2], [3, 4.0]],
    "nested_bool_int_float": [[True, False], [2, 3], [0.5, 1]],
    "tuple": (1, 2),
    "nested_tuple": ((1.0,), (2.0,)),
    "empty": [],
    "empty_nested": [[], []],
    "big_int": 2 ** 40,
    "int64_min": -(2 ** 63),
    "huge_float": [1e40],
    "nan_inf": [float("nan"), float("inf"), -float("inf")],
    "neg_zero": [-0.0, 0.0],
    "np_float32_scalar": np.float32(1.5),
    "np_bool_scalar": np.bool_(True),
    "np_int32_scalar": np.int32(3),
    "np_int64_scalar": np.int64(3),
    "np_float64_scalar": np.float64(2.0),
    "list_of_np_scalars": [np.float32(1), 2],
    "list_of_np_ints": [np.int32(1), np.int64(2)],
    "list_of_np_float64": [np.float64(1.5)],
    "list_of_np_int32": [np.int32(1)],
    "list_np_float32_and_float": [np.float32(1), 2.0],
    "0d_array": np.array(3.0),
    "empty_array": np.zeros((2, 0)),
    "strided_array": np.arange(6).reshape(2, 3)[:, ::2],
    "transposed_array": np.arange(6.0).reshape(2, 3).T,
}


@pytest.mark.parametrize("case", sorted(DATA))
def test_tensor_dtype_inference(case):
    data = DATA[case]
    expect_same_result(lambda lib: lib.tensor(data))


@pytest.mark.parametrize("case", ["list_of_0d_tensors", "tensor_input"])
def test_tensor_from_tensors(case):
    if case == "list_of_0d_tensors":
        expect_same_result(lambda lib: lib.tensor([lib.tensor(1.0), lib.tensor(2.0)]))
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch warns: use clone().detach()
            expect_same_result(lambda lib: lib.tensor(lib.tensor([1, 2], dtype=lib.int32)))


@pytest.mark.parametrize("np_dtype", ["float32", "float64", "int64", "int32", "bool"])
def test_tensor_from_numpy_each_dtype(np_dtype):
    arr = np.array([[1, 0, 2], [3, 1, 0]]).astype(np_dtype)
    expect_same_result(lambda lib: lib.tensor(arr))
    expect_same_result(lambda lib: lib.tensor(arr, dtype=lib.float64))


@pytest.mark.parametrize("np_dtype", ["uint8", "float16", "int16", "complex64"])
def test_tensor_from_unsupported_numpy_dtype_raises(np_dtype):
    with pytest.raises(TypeError):
        tapegrad.tensor(np.zeros(2, dtype=np_dtype))


def test_tensor_copies_numpy_input():
    for lib in LIBS:
        a = np.ones(3)
        t = lib.tensor(a)
        a[0] = 5.0
        assert t.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("target", ALL_DTYPES)
def test_tensor_explicit_dtype_conversion(target):
    expect_same_result(lambda lib: lib.tensor([2.7, -1.5, 0.0, 3.0], dtype=getattr(lib, target)))
    expect_same_result(lambda lib: lib.tensor([True, False], dtype=getattr(lib, target)))
    expect_same_result(lambda lib: lib.tensor([3, -1, 0], dtype=getattr(lib, target)))


RAGGED = {
    "short_row": [[1, 2], [3]],
    "long_row": [[1], [2, 3]],
    "deep": [[[1, 2], [3, 4]], [[5, 6], [7]]],
    "scalar_then_list": [1, [2]],
    "list_then_scalar": [[1, 2], 3],
}


@pytest.mark.parametrize("case", sorted(RAGGED))
def test_ragged_lists(case):
    expect_same_error(lambda lib: lib.tensor(RAGGED[case]))


BAD = {
    "none_element": [1, None],
    "none": None,
    "object": object(),
    "object_element": [object()],
    "string": "abc",
    "string_element": ["a"],
    "dict": {"a": 1},
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_element_types(case):
    """Same exception type as torch (message is torch's internal wording; only type is compared)."""
    expect_same_error(lambda lib: lib.tensor(BAD[case]), message=False)


def test_bad_dtype_argument():
    expect_same_error(lambda lib: lib.tensor([1.0], dtype=3), message=False)
    expect_same_error(lambda lib: lib.zeros(2, dtype="float32"), message=False)


def test_tensor_requires_grad_flag():
    same(lambda lib: [(t.requires_grad, t.is_leaf, t.grad_fn is None)
                      for t in (lib.tensor([1.0], requires_grad=True), lib.tensor(2.0, dtype=lib.float64,
                                                                               requires_grad=True))])


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_tensor_requires_grad_on_integer_dtype(dtype):
    expect_same_error(lambda lib: lib.tensor([1, 2], dtype=getattr(lib, dtype), requires_grad=True))
    expect_same_error(lambda lib: lib.tensor([1, 2] if dtype != "bool" else [True], requires_grad=True))


# ---- item / tolist / numpy ----

@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_item_and_tolist(dtype):
    def go(lib):
        d = getattr(lib, dtype)
        s = lib.tensor(3, dtype=d)
        m = lib.tensor([[3, 0, 1], [1, 1, 0]], dtype=d)
        return [(type(s.item()).__name__, s.item()), s.tolist(), type(s.tolist()).__name__, m.tolist(),
                [type(v).__name__ for v in m.tolist()[0]], lib.tensor([[5]], dtype=d).item()]

    same(go)


def test_float32_values_widen_exactly_in_item_and_tolist():
    same(lambda lib: [lib.tensor(0.1).item(), lib.tensor([0.1, 1 / 3]).tolist()])


def test_item_errors():
    expect_same_error(lambda lib: lib.tensor([1.0, 2.0]).item())
    expect_same_error(lambda lib: lib.tensor([]).item())


def test_item_and_tolist_on_requires_grad():
    same(lambda lib: [lib.tensor(3.0, requires_grad=True).item(),
                      (lib.tensor([1.0, 2.0], requires_grad=True) * 2).tolist()])


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_numpy_dtype_and_values(dtype):
    def go(lib):
        a = lib.tensor([[1, 0], [2, 3]], dtype=getattr(lib, dtype)).numpy()
        return str(a.dtype), a.shape, a.tolist(), lib.tensor(2, dtype=getattr(lib, dtype)).numpy().shape

    same(go)


def test_numpy_shares_memory_both_ways():
    def go(lib):
        t = lib.tensor([1.0, 2.0, 3.0])
        a = t.numpy()
        a[0] = 7.0
        seen_by_tensor = t.tolist()
        t.fill_(4.0)
        seen_by_array = a.tolist()
        t.zero_()
        return seen_by_tensor, seen_by_array, a.tolist(), np.shares_memory(a, t.numpy())

    same(go)


def test_detach_numpy_shares_memory_with_requires_grad_tensor():
    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.detach().numpy()[1] = 9.0
        return x.detach().tolist()

    same(go)


def test_numpy_on_requires_grad_tensor():
    expect_same_error(lambda lib: lib.tensor([1.0], requires_grad=True).numpy())
    expect_same_error(lambda lib: (lib.tensor([1.0], requires_grad=True) * 2).numpy())


# ---- Python number protocols and len ----

def test_float_int_bool_conversions():
    def go(lib):
        out = []
        for v in (2.5, -2.5, 0.0, 3.0):
            for shape_wrap in (lambda x: x, lambda x: [x], lambda x: [[x]]):
                t = lib.tensor(shape_wrap(v))
                out.append((float(t), int(t), bool(t)))
        ti = lib.tensor(7)
        tb = lib.tensor(True)
        out.append((float(ti), int(ti), bool(ti), float(tb), int(tb), bool(tb)))
        out.append([type(f(x)).__name__ for f in (float, int, bool) for x in (ti, tb, lib.tensor(1.5))])
        return out

    same(go)


@pytest.mark.parametrize("conv", ["float", "int", "bool", "len"])
@pytest.mark.parametrize("shape", [(2,), (0,), (2, 2), ()], ids=str)
def test_conversion_errors(conv, shape):
    fn = {"float": float, "int": int, "bool": bool, "len": len}[conv]

    def go(lib):
        return fn(lib.ones(shape))

    _, err = capture(go, torch)
    if err is None:
        same(go)
    else:
        expect_same_error(go)


def test_float_of_requires_grad_tensor_warns_like_torch():
    def go(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            v = float(lib.tensor(3.0, requires_grad=True))
        return v, [w.category.__name__ for w in caught]

    same(go)


def test_len():
    same(lambda lib: [len(lib.zeros(4)), len(lib.zeros(4, 2)), len(lib.zeros(0, 3))])


# ---- shape, size, dim, numel ----

@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4), (0, 3), (2, 0)], ids=str)
def test_shape_size_dim_numel(shape):
    def go(lib):
        t = lib.zeros(shape)
        return (repr(t.shape), tuple(t.shape), repr(t.size()), t.shape == shape, t.dim(), t.ndim, t.ndimension(),
                t.numel(), t.nelement(), lib.numel(t), [t.size(i) for i in range(-t.dim(), t.dim())],
                [t.size(dim=i) for i in range(t.dim())], isinstance(t.shape, tuple), t.shape.numel())

    same(go)


@pytest.mark.parametrize("dim", [2, -3, 5])
def test_size_dim_out_of_range(dim):
    expect_same_error(lambda lib: lib.zeros(3, 4).size(dim))


def test_size_of_zero_dim_tensor():
    expect_same_error(lambda lib: lib.tensor(1.0).size(0))


def test_size_object():
    same(lambda lib: [repr(lib.Size([2, 3])), repr(lib.Size([])), lib.Size([2, 3]).numel(), repr(lib.Size([2, 3])[1:]),
                      repr(lib.Size([2]) + (4,)), lib.Size([2, 3])[0], lib.Size([2, 3]) == (2, 3)])
    same(lambda lib: repr(lib.zeros(lib.Size([2, 3])).shape))


def test_strides_and_contiguity():
    same(lambda lib: [lib.zeros(2, 3, 4).stride(), lib.zeros(2, 3, 4).stride(1), lib.zeros(3).expand(2, 3).stride(),
                      lib.zeros(3, 1).expand(3, 4).is_contiguous(), lib.zeros(3, 1).expand(3, 4).contiguous().stride(),
                      lib.zeros(3, 1).expand(3, 4).contiguous().is_contiguous(), lib.tensor(1.0).stride()])


def test_contiguous_of_contiguous_is_self_and_expand_gradient():
    for lib in LIBS:
        t = lib.ones(3)
        assert t.contiguous() is t
    run_both(lambda lib, x: x.expand(3, 2).contiguous() * 2.0, np.array([[1.0], [2.0], [3.0]]))


# ---- factories ----

@pytest.mark.parametrize("dtype", list(ALL_DTYPES) + [None])
def test_factories(dtype):
    def go(lib):
        d = {} if dtype is None else {"dtype": getattr(lib, dtype)}
        ref = lib.tensor([1, 2, 3], dtype=getattr(lib, dtype or "int64"))
        e = lib.empty(2, 3, **d)
        el = lib.empty_like(ref, **d)
        return [lib.zeros(2, 3, **d), lib.zeros((2,), **d), lib.zeros([1, 2], **d), lib.ones(2, 1, **d),
                lib.ones((), **d), lib.full((2, 2), 7, **d), lib.zeros_like(ref, **d), lib.ones_like(ref, **d),
                lib.full_like(ref, 1, **d), (tuple(e.shape), str(e.dtype)), (tuple(el.shape), str(el.dtype))]

    same(go)


def test_full_infers_dtype_from_fill_value():
    same(lambda lib: [lib.full((2,), 1.5), lib.full((2,), False), lib.full((2,), 2), lib.full((), 3.0)])


def test_full_like_keeps_input_dtype():
    same(lambda lib: [lib.full_like(lib.tensor([1, 2]), 2.7), lib.full_like(lib.tensor([1.0]), 2),
                      lib.full_like(lib.tensor([True]), 0)])


def test_factories_requires_grad():
    same(lambda lib: [(t.requires_grad, t.is_leaf) for t in (
        lib.zeros(2, requires_grad=True), lib.ones(2, requires_grad=True), lib.full((2,), 2.0, requires_grad=True),
        lib.zeros_like(lib.tensor([1.0, 2.0], requires_grad=True)),
        lib.ones_like(lib.tensor([1.0]), requires_grad=True))])


FACTORY_ERRORS = {
    "zeros_negative": lambda lib: lib.zeros(-1),
    "zeros_tuple_negative": lambda lib: lib.zeros((2, -1)),
    "ones_negative": lambda lib: lib.ones(2, -3),
    "empty_negative": lambda lib: lib.empty(-1),
    "full_negative": lambda lib: lib.full((-1,), 2.0),
}


@pytest.mark.parametrize("case", sorted(FACTORY_ERRORS))
def test_factory_negative_size(case):
    expect_same_error(FACTORY_ERRORS[case])


def test_factory_float_size():
    expect_same_error(lambda lib: lib.zeros(2.5), message=False)


@pytest.mark.parametrize("factory", ["zeros", "ones", "empty"])
def test_factory_without_size(factory):
    expect_same_error(lambda lib: getattr(lib, factory)(), message=False)


# ---- in-place fill_/zero_ ----

def test_fill_and_zero():
    same(lambda lib: [lib.zeros(3).fill_(2.5), lib.zeros(3, dtype=lib.int64).fill_(2.7),
                      lib.ones(2, dtype=lib.bool).fill_(0), lib.ones(2, 2).zero_(),
                      (lambda x: x.fill_(1) is x)(lib.zeros(2)), (lambda x: x.zero_() is x)(lib.ones(2))])


def test_fill_with_zero_dim_tensor_value():
    expect_same_result(lambda lib: lib.zeros(3).fill_(lib.tensor(4.0)))
    expect_same_error(lambda lib: lib.zeros(3).fill_(lib.tensor([4.0])))


@pytest.mark.parametrize("method", ["zero_", "fill_"])
def test_inplace_on_leaf_requiring_grad(method):
    def go(lib):
        x = lib.zeros(3, requires_grad=True)
        getattr(x, method)(*([1.0] if method == "fill_" else []))

    expect_same_error(go)


@pytest.mark.parametrize("method", ["zero_", "fill_"])
def test_inplace_on_leaf_requiring_grad_allowed_in_no_grad(method):
    def go(lib):
        x = lib.ones(3, requires_grad=True)
        with lib.no_grad():
            getattr(x, method)(*([2.0] if method == "fill_" else []))
        (x * 3).sum().backward()
        return x.detach(), x.grad, x.requires_grad

    same(go)


# ---- clone / to / conversions and ToCopyBackward0 ----

def test_clone_is_independent_copy():
    def go(lib):
        x = lib.tensor([1.0, 2.0])
        c = x.clone()
        c.fill_(9.0)
        return x, c, c is x

    same(go)


@pytest.mark.parametrize("src", ALL_DTYPES)
@pytest.mark.parametrize("target", ALL_DTYPES)
def test_to_dtype(src, target):
    values = [True, False, True] if src == "bool" else [2.7, -1.5, 0.0] if src in FLOAT_DTYPES else [3, -1, 0]

    def go(lib):
        x = lib.tensor(values, dtype=getattr(lib, src))
        y = x.to(getattr(lib, target))
        return y, y is x, x.to(dtype=getattr(lib, target))

    same(go)


@pytest.mark.parametrize("method", ["float", "double", "long", "int", "bool"])
@pytest.mark.parametrize("src", ALL_DTYPES)
def test_conversion_methods(method, src):
    values = [True, False] if src == "bool" else [1.7, -2.7] if src in FLOAT_DTYPES else [3, -1]

    def go(lib):
        x = lib.tensor(values, dtype=getattr(lib, src))
        y = getattr(x, method)()
        return y, y is x

    same(go)


def test_type_as():
    same(lambda lib: [lib.tensor([1.5, -2.5]).type_as(lib.tensor([1])),
                      lib.tensor([1, 2]).type_as(lib.tensor([1.0], dtype=lib.float64))])


@pytest.mark.parametrize("how", ["to", "double", "float_from_double"])
def test_to_copy_backward_gradient(how):
    if how == "to":
        fn = lambda lib, x: (x.to(lib.float64) * 3.0).exp()  # noqa: E731
    elif how == "double":
        fn = lambda lib, x: x.double().sin() * x.double()  # noqa: E731
    else:
        fn = lambda lib, x: x.to(lib.float64).float() ** 2  # noqa: E731
    out, ref, ins, _ = run_both(fn, np.array([0.25, -0.5, 1.0]), dtype="float32")
    assert str(ins[0].grad.dtype) == "torch.float32"


def test_to_copy_backward_grad_fn_and_float64_to_float32():
    run_both(lambda lib, x: x.to(lib.float32), np.array([0.1, 0.2]), dtype="float64")
    same(lambda lib: lib.tensor([1.0], requires_grad=True).double().grad_fn.name())


def test_to_integer_drops_requires_grad():
    same(lambda lib: [(t.requires_grad, t.grad_fn is None, t.is_leaf) for t in (
        lib.tensor([1.5], requires_grad=True).long(), lib.tensor([1.5], requires_grad=True).to(lib.bool))])


def test_to_invalid_argument():
    expect_same_error(lambda lib: lib.tensor([1.0]).to(3))


# ---- default dtype ----

@pytest.mark.parametrize("default", FLOAT_DTYPES)
def test_default_dtype(default):
    def go(lib):
        lib.set_default_dtype(getattr(lib, default))
        try:
            return [lib.get_default_dtype(), lib.tensor([1.5]), lib.tensor(2.0), lib.zeros(1), lib.ones(()),
                    lib.full((1,), 2.0), lib.tensor([1]), lib.tensor([1, 2]) / 2,
                    lib.empty(1).dtype, lib.tensor(np.array([1.0], dtype=np.float32)), repr(lib.tensor([1.5]))]
        finally:
            lib.set_default_dtype(lib.float32)

    same(go)
    assert tapegrad.get_default_dtype() == tapegrad.float32


@pytest.mark.parametrize("scalar",
                         [np.float32(1.5), np.float64(1.5), np.int32(2), [np.float32(1.5)], [np.float32(1), 2.0]],
                         ids=["f32", "f64", "i32", "list_f32", "list_f32_float"])
def test_numpy_scalar_dtype_under_float64_default(scalar):
    def go(lib):
        lib.set_default_dtype(lib.float64)
        try:
            return lib.tensor(scalar)
        finally:
            lib.set_default_dtype(lib.float32)

    same(go)


@pytest.mark.parametrize("bad", ["int64", "bool"])
def test_set_default_dtype_rejects_non_float(bad):
    expect_same_error(lambda lib: lib.set_default_dtype(getattr(lib, bad)), message=False)
    assert tapegrad.get_default_dtype() == tapegrad.float32


# ---- dtype objects ----

def test_dtype_objects():
    same(lambda lib: [(repr(d), str(d), d.is_floating_point, d.is_signed, d.itemsize)
                      for d in (lib.float32, lib.float64, lib.int64, lib.int32, lib.bool)])
    same(lambda lib: [lib.float is lib.float32, lib.double is lib.float64, lib.long is lib.int64,
                      lib.int is lib.int32, lib.float32 == lib.float32, lib.float32 == lib.float64])
    same(lambda lib: [lib.zeros(2, dtype=d).element_size() for d in (lib.float32, lib.float64, lib.int64,
                                                                       lib.int32, lib.bool)])


def test_is_tensor_and_is_floating_point():
    same(lambda lib: [lib.is_tensor(lib.zeros(1)), lib.is_tensor(1.0), lib.is_tensor(np.zeros(1)),
                      lib.zeros(1).is_floating_point(), lib.zeros(1, dtype=lib.int32).is_floating_point()])


def test_device_is_cpu():
    same(lambda lib: [str(lib.zeros(1).device), lib.zeros(1).is_cuda, str(lib.zeros(1, device="cpu").device),
                      str(lib.tensor([1.0], device="cpu").device)])


# ---- repr ----

REPRS = {
    "float_vec": lambda lib: lib.tensor([1.0, 2.5, -3.0]),
    "float64": lambda lib: lib.tensor([1.0, 2.5], dtype=lib.float64),
    "float64_0d": lambda lib: lib.tensor(3.0, dtype=lib.float64),
    "int32": lambda lib: lib.tensor([1, 2], dtype=lib.int32),
    "int64_0d": lambda lib: lib.tensor(7),
    "bool": lambda lib: lib.tensor([True, False]),
    "matrix": lambda lib: lib.tensor([[1.0, 2.0], [3.0, 4.0]]),
    "3d_int": lambda lib: lib.ones(2, 2, 2, dtype=lib.int64),
    "requires_grad": lambda lib: lib.tensor([1.0, 2.0], requires_grad=True),
    "requires_grad_f64": lambda lib: lib.tensor([1.0], dtype=lib.float64, requires_grad=True),
    "grad_fn_pow": lambda lib: lib.tensor(3.0, requires_grad=True) ** 2,
    "grad_fn_f64": lambda lib: lib.tensor([1.5, 2.0], dtype=lib.float64, requires_grad=True) * 2,
    "grad_fn_sum": lambda lib: lib.tensor([1.5, 2.0], requires_grad=True).sum(),
    "grad_fn_rsub": lambda lib: 2 - lib.tensor([1.5, 2.0], requires_grad=True),
    "grad_fn_expand": lambda lib: lib.ones(2, 1, requires_grad=True).expand(2, 3),
    "grad_fn_tocopy": lambda lib: lib.ones(2, requires_grad=True).double(),
    "to_bool_from_rg": lambda lib: lib.tensor([1.0, 0.0], requires_grad=True).bool(),
    "empty": lambda lib: lib.zeros(0, 3),
    "empty_f64": lambda lib: lib.zeros(0, dtype=lib.float64),
    "empty_int32": lambda lib: lib.zeros(0, dtype=lib.int32),
    "sci": lambda lib: lib.tensor([-0.0, 1e-10, 1e10]),
    "nan_inf": lambda lib: lib.tensor([float("nan"), float("inf"), -1.0]),
    "summarized": lambda lib: lib.ones(1001) * 1.5,
    "detached": lambda lib: (lib.tensor([1.0], requires_grad=True) * 3).detach(),
    "no_grad_result": lambda lib: _no_grad(lib, lambda: lib.tensor([1.0], requires_grad=True) * 3),
}


def _no_grad(lib, fn):
    with lib.no_grad():
        return fn()


@pytest.mark.parametrize("case", sorted(REPRS))
def test_repr_matches_torch(case):
    res = both(lambda lib: (repr(REPRS[case](lib)), str(REPRS[case](lib))))
    assert res["tapegrad"] == res["torch"]


@pytest.mark.parametrize("default", FLOAT_DTYPES)
def test_repr_depends_on_default_dtype(default):
    def go(lib):
        lib.set_default_dtype(getattr(lib, default))
        try:
            return [repr(lib.tensor([1.5], dtype=d)) for d in (lib.float32, lib.float64)]
        finally:
            lib.set_default_dtype(lib.float32)

    same(go)


# ---- packaging ----

def test_import_does_not_import_torch():
    # PYTHONPATH=python in a checkout; package_root() is that same directory for the package under test.
    env = dict(os.environ, PYTHONPATH=package_root())
    r = subprocess.run([sys.executable, "-c", "import tapegrad, sys; assert 'torch' not in sys.modules, 'torch'"],
                       env=env, cwd=str(ROOT), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_grad_values_are_compared_exactly_where_exact():
    """A self-check of the shared helper: a deliberately different lambda must be caught."""
    with pytest.raises(AssertionError):
        run_both(lambda lib, x: x * (2.0 if lib is tapegrad else 2.001), np.array([1.0, 2.0]))
    with pytest.raises(AssertionError):
        assert_tensor_equal(tapegrad.tensor([1.0]), torch.tensor([1.0], dtype=torch.float64))


# ---- tensor()'s arguments (a fast-call function, parsed by hand) ----

TENSOR_ARGUMENT_ERRORS = {
    "no_data": lambda lib: lib.tensor(),
    "two_positional": lambda lib: lib.tensor(1.0, 2.0),
    "unknown_keyword": lambda lib: lib.tensor(1.0, foo=1),
    "requires_grad_int": lambda lib: lib.tensor(1.0, requires_grad=1),
    "dtype_not_a_dtype": lambda lib: lib.tensor(1.0, dtype=3),
    "only_keywords": lambda lib: lib.tensor(dtype=lib.float32),
    "data_twice": lambda lib: lib.tensor(1.0, data=2.0),
    "huge_int": lambda lib: lib.tensor(2**70),
    "huge_int_in_list": lambda lib: lib.tensor([1, 2**70]),
}


@pytest.mark.parametrize("case", sorted(TENSOR_ARGUMENT_ERRORS))
def test_tensor_argument_errors(case):
    expect_same_error(TENSOR_ARGUMENT_ERRORS[case])


def test_tensor_keywords_in_any_order_and_data_by_keyword():
    expect_same_result(lambda lib: lib.tensor(requires_grad=True, dtype=lib.float64, data=[1.5, 2.0]))
    expect_same_result(lambda lib: lib.tensor([1, 2], **{"dtype": lib.float32}))


# ---- one Python object per tensor ----

def test_methods_returning_self_return_the_same_object():
    for lib in LIBS:
        t = lib.tensor([1.0, 2.0])
        assert t.requires_grad_() is t
        assert (+t) is t
        d = t.detach()
        assert d.detach_() is d
        p = lib.nn.Parameter(lib.tensor([1.0]))
        assert p.requires_grad_() is p and type(p.requires_grad_()) is lib.nn.Parameter


def test_a_tensor_keeps_its_python_object_while_alive():
    x = tapegrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.sum().backward()
    assert x.grad is x.grad
    assert y.grad is y.grad
    assert y.grad_fn.next_functions[0][0].variable is x


def test_a_dropped_python_object_is_remade_for_a_live_tensor():
    x = tapegrad.tensor([1.0, 2.0], requires_grad=True)
    node = (x * 3).grad_fn
    acc = node.next_functions[0][0]
    del x
    again = acc.variable
    assert type(again) is tapegrad.Tensor and again.tolist() == [1.0, 2.0]
    assert acc.variable is again


def test_init_again_on_a_live_tensor_unlinks_the_old_tensor():
    x = tapegrad.tensor([1.0, 2.0], requires_grad=True)
    acc = (x * 3).grad_fn.next_functions[0][0]
    x.__init__(_alias_of=tapegrad.tensor([5.0]), _requires_grad=False)
    assert x.tolist() == [5.0]
    old = acc.variable
    assert old is not x and old.tolist() == [1.0, 2.0]
    del x
    assert acc.variable is old


@pytest.mark.parametrize("make", ["zeros", "tensor", "device"])
def test_bare_device_index_without_an_accelerator(make):
    calls = {"zeros": lambda lib: lib.zeros(2, device=0), "tensor": lambda lib: lib.tensor(1.0, device=1),
             "device": lambda lib: lib.device(0)}
    expect_same_error(calls[make])
