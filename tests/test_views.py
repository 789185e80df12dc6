# Views vs torch: values, gradients, grad_fn names, strides, and storage shared with the base.
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

# name -> (input shape, fn(lib, x) returning a view of x (or a copy where torch copies))
VIEWS = {
    "view_flat": ((3, 4), lambda lib, x: x.view(-1)),
    "view_split_dims": ((3, 4), lambda lib, x: x.view(2, 6)),
    "view_tuple": ((3, 4), lambda lib, x: x.view((4, 3))),
    "view_infer": ((2, 3, 4), lambda lib, x: x.view(6, -1)),
    "view_scalar_to_1": ((), lambda lib, x: x.view(1, 1)),
    "view_1_to_scalar": ((1,), lambda lib, x: x.view(())),
    "view_as": ((3, 4), lambda lib, x: x.view_as(lib.zeros(2, 6))),
    "reshape_contiguous": ((3, 4), lambda lib, x: x.reshape(4, 3)),
    "reshape_function": ((2, 3, 4), lambda lib, x: lib.reshape(x, (-1, 4))),
    "reshape_transposed_copy": ((3, 4), lambda lib, x: x.t().reshape(-1)),
    "reshape_transposed_viewable": ((3, 4), lambda lib, x: x.t().reshape(4, 3, 1)),
    "reshape_as": ((3, 4), lambda lib, x: x.reshape_as(lib.zeros(6, 2))),
    "reshape_as_noncontiguous": ((3, 4), lambda lib, x: x.t().reshape_as(lib.zeros(12))),
    "flatten": ((2, 3, 4), lambda lib, x: x.flatten()),
    "flatten_range": ((2, 3, 4, 1), lambda lib, x: x.flatten(1, 2)),
    "flatten_negative": ((2, 3, 4), lambda lib, x: lib.flatten(x, start_dim=-2)),
    "flatten_1d_is_self": ((5,), lambda lib, x: x.flatten()),
    "flatten_0d": ((), lambda lib, x: x.flatten()),
    "flatten_noncontiguous": ((3, 4), lambda lib, x: x.t().flatten()),
    "squeeze_all": ((1, 3, 1, 4), lambda lib, x: x.squeeze()),
    "squeeze_dim": ((1, 3, 1, 4), lambda lib, x: x.squeeze(2)),
    "squeeze_dim_not_one": ((1, 3, 1, 4), lambda lib, x: x.squeeze(1)),
    "squeeze_negative": ((1, 3, 1, 4), lambda lib, x: lib.squeeze(x, -4)),
    "squeeze_tuple": ((1, 3, 1, 4), lambda lib, x: x.squeeze((0, 2))),
    "squeeze_tuple_mixed": ((1, 3, 1, 4), lambda lib, x: x.squeeze((0, 1, -1))),
    "squeeze_0d": ((), lambda lib, x: x.squeeze()),
    "unsqueeze_front": ((3, 4), lambda lib, x: x.unsqueeze(0)),
    "unsqueeze_back": ((3, 4), lambda lib, x: x.unsqueeze(-1)),
    "unsqueeze_middle": ((3, 4), lambda lib, x: lib.unsqueeze(x, 1)),
    "unsqueeze_0d": ((), lambda lib, x: x.unsqueeze(0)),
    "transpose": ((2, 3, 4), lambda lib, x: x.transpose(0, 2)),
    "transpose_negative": ((2, 3, 4), lambda lib, x: lib.transpose(x, -1, -2)),
    "transpose_same_dim": ((2, 3), lambda lib, x: x.transpose(1, 1)),
    "swapaxes": ((2, 3, 4), lambda lib, x: x.swapaxes(0, 1)),
    "swapaxes_function": ((2, 3, 4), lambda lib, x: lib.swapaxes(x, 2, 0)),
    "t_2d": ((3, 4), lambda lib, x: x.t()),
    "t_function": ((3, 4), lambda lib, x: lib.t(x)),
    "t_1d": ((4,), lambda lib, x: x.t()),
    "T_2d": ((3, 4), lambda lib, x: x.T),
    "mT_3d": ((2, 3, 4), lambda lib, x: x.mT),
    "mT_2d": ((3, 4), lambda lib, x: x.mT),
    "permute": ((2, 3, 4), lambda lib, x: x.permute(2, 0, 1)),
    "permute_tuple": ((2, 3, 4), lambda lib, x: x.permute((1, 2, 0))),
    "permute_negative": ((2, 3, 4), lambda lib, x: lib.permute(x, (-1, 0, -2))),
    "expand": ((3, 1), lambda lib, x: x.expand(3, 4)),
    "expand_new_dims": ((3, 1), lambda lib, x: x.expand(2, 3, 5)),
    "expand_as": ((1, 4), lambda lib, x: x.expand_as(lib.zeros(3, 4))),
    "expand_minus_one": ((3, 1), lambda lib, x: x.expand(-1, 2)),
    "contiguous_of_transposed": ((3, 4), lambda lib, x: x.t().contiguous()),
    "contiguous_of_expanded": ((3, 1), lambda lib, x: x.expand(3, 4).contiguous()),
    "narrow": ((3, 5), lambda lib, x: x.narrow(1, 1, 3)),
    "narrow_function_negative": ((3, 5), lambda lib, x: lib.narrow(x, -2, 1, 2)),
    "narrow_start_negative": ((6,), lambda lib, x: x.narrow(0, -3, 2)),
    "select": ((3, 4), lambda lib, x: x.select(1, 2)),
    "select_negative": ((3, 4), lambda lib, x: lib.select(x, 0, -1)),
    "split_int": ((5, 3), lambda lib, x: x.split(2)[2]),
    "split_int_dim": ((3, 5), lambda lib, x: x.split(2, dim=1)[1]),
    "split_list": ((5, 3), lambda lib, x: x.split([1, 4])[1]),
    "split_function": ((3, 5), lambda lib, x: lib.split(x, [2, 3], 1)[0]),
    "chunk": ((5, 3), lambda lib, x: x.chunk(3)[1]),
    "chunk_dim": ((3, 7), lambda lib, x: lib.chunk(x, 2, dim=-1)[1]),
    "unbind": ((3, 4), lambda lib, x: x.unbind()[1]),
    "unbind_dim": ((3, 4), lambda lib, x: lib.unbind(x, 1)[3]),
    "chain": ((2, 3, 4), lambda lib, x: x.permute(1, 2, 0)[1:].unsqueeze(0).transpose(1, 3).select(2, 2)),
}


def _data(shape, seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, shape)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", sorted(VIEWS))
def test_view_values_grads_and_grad_fn(name, dtype):
    shape, fn = VIEWS[name]
    run_both(fn, _data(shape), dtype=dtype)


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_view_integer_values(name):
    shape, fn = VIEWS[name]
    run_both(fn, np.arange(int(np.prod(shape))).reshape(shape), dtype="int64", upstream=None)


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_view_strides_offset_contiguity(name):
    shape, fn = VIEWS[name]
    res = {}
    for lib in LIBS:
        v = fn(lib, make(lib, _data(shape), "float32"))
        res[lib.__name__] = (tuple(v.shape), tuple(v.stride()), v.storage_offset(), v.is_contiguous())
    assert res["tapegrad"] == res["torch"]


def _shares(name):
    """Whether torch's result for VIEWS[name] aliases its input."""
    shape, fn = VIEWS[name]
    x = make(torch, _data(shape), "float64")
    v = fn(torch, x)
    return v.numel() > 0 and v.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()


SHARING = sorted(n for n in VIEWS if _shares(n))
COPYING = sorted(n for n in VIEWS if not _shares(n))


@pytest.mark.parametrize("name", SHARING)
def test_base_write_seen_by_view(name):
    """Mutating the base (through numpy, which shares memory) shows in the view, element for element."""
    shape, fn = VIEWS[name]
    res = {}
    for lib in LIBS:
        x = make(lib, np.zeros(shape), "float64")
        v = fn(lib, x)
        x.numpy()[...] = np.arange(x.numel()).reshape(shape) + 1
        res[lib.__name__] = v.tolist()
    assert res["tapegrad"] == res["torch"]


# Writing one element of an expanded view writes a base element that several view elements share:
# covered separately by test_expanded_view_write_seen_by_base.
EXPANDED = [n for n in SHARING if n.startswith("expand")]


@pytest.mark.parametrize("name", [n for n in SHARING if n not in EXPANDED])
def test_view_write_seen_by_base(name):
    """Writing one element of the view by indexing assignment shows in the base, at the right place."""
    shape, fn = VIEWS[name]
    res = {}
    for lib in LIBS:
        x = make(lib, np.arange(int(np.prod(shape)), dtype=float).reshape(shape), "float64")
        v = fn(lib, x)
        first = (0,) * v.dim()
        last = (-1,) * v.dim()
        v[last] = -100.0
        v[first] = 100.0
        res[lib.__name__] = (x.tolist(), v.tolist())
    assert res["tapegrad"] == res["torch"]


@pytest.mark.parametrize("name", EXPANDED)
def test_expanded_view_write_seen_by_base(name):
    """Writing one element of an expanded view writes the shared base element: every view element
    aliasing it changes. Expected values from a numpy view with the same (zero) strides."""
    shape, fn = VIEWS[name]
    base = np.arange(int(np.prod(shape)), dtype=float).reshape(shape)
    res = {}
    for lib in LIBS:
        x = make(lib, base, "float64")
        v = fn(lib, x)
        v[(-1,) * v.dim()] = -100.0
        v[(0,) * v.dim()] = 100.0
        res[lib.__name__] = (x.tolist(), v.tolist(), tuple(v.shape))
    vshape = res["torch"][2]
    expected_base = base.copy()
    expected_view = np.lib.stride_tricks.as_strided(
        expected_base, shape=vshape, strides=np.broadcast_to(expected_base, vshape).strides)
    expected_view[(-1,) * len(vshape)] = -100.0
    expected_view[(0,) * len(vshape)] = 100.0
    assert res["tapegrad"] == (expected_base.tolist(), expected_view.tolist(), vshape)
    assert res["tapegrad"] == res["torch"]


@pytest.mark.parametrize("name", SHARING)
def test_view_fill_seen_by_base(name):
    shape, fn = VIEWS[name]
    res = {}
    for lib in LIBS:
        x = make(lib, np.arange(int(np.prod(shape)), dtype=float).reshape(shape), "float64")
        v = fn(lib, x)
        if name.startswith("expand"):
            x.fill_(7.0)
        else:
            v.fill_(7.0)
        res[lib.__name__] = (x.tolist(), v.tolist())
    assert res["tapegrad"] == res["torch"]


@pytest.mark.parametrize("name", COPYING)
def test_copying_ops_do_not_alias(name):
    shape, fn = VIEWS[name]
    res = {}
    for lib in LIBS:
        x = make(lib, np.arange(int(np.prod(shape)), dtype=float).reshape(shape), "float64")
        v = fn(lib, x)
        before = v.tolist()
        x.numpy()[...] = -1
        res[lib.__name__] = (v.tolist() == before, x.numel() == 0 or not np.shares_memory(v.numpy(), x.numpy()))
    assert res["tapegrad"] == res["torch"] == (True, True)


def test_issue_examples_write_through_view():
    for lib in LIBS:
        x = lib.zeros(3, 4)
        v = x[0]
        v[1] = 5.0
        assert x[0, 1].item() == 5.0
        x.view(-1)[0] = 3
        assert x[0, 0].item() == 3.0 and v[0].item() == 3.0
        x[0, 2] = 9.0
        assert v[2].item() == 9.0
    x = tapegrad.zeros(2, 3)
    v = x.t()
    v[2, 1] = 4.0
    assert x.tolist() == [[0.0, 0.0, 0.0], [0.0, 0.0, 4.0]]


def test_numpy_of_view_shares_memory():
    x = tapegrad.arange(12.0).reshape(3, 4)
    for v in (x.t(), x[:, 1], x[1:, ::2], x.view(2, 6), x.unsqueeze(1), x.permute(1, 0)):
        assert np.shares_memory(v.numpy(), x.numpy())
    y = x.t().contiguous()
    assert not np.shares_memory(y.numpy(), x.numpy())


def test_multi_output_views_share_base():
    res = {}
    for lib in LIBS:
        x = lib.zeros(6, 2)
        for i, p in enumerate(x.split(2) + x.chunk(3, 1) + x.unbind(0) + x.split([1, 5])):
            p.fill_(float(i + 1))
            res.setdefault(lib.__name__, []).append(x.tolist())
    assert res["tapegrad"] == res["torch"]


def test_split_chunk_unbind_shapes():
    cases = [
        lambda lib, x: x.split(2),
        lambda lib, x: x.split(4, 1),
        lambda lib, x: x.split([3, 0, 2]),
        lambda lib, x: x.chunk(2),
        lambda lib, x: x.chunk(4, 1),
        lambda lib, x: x.chunk(10),
        lambda lib, x: x.unbind(1),
        lambda lib, x: lib.split(x, 5),
    ]
    for fn in cases:
        res = {lib.__name__: [(tuple(p.shape), p.tolist()) for p in fn(lib, lib.arange(15).reshape(5, 3))]
               for lib in LIBS}
        assert res["tapegrad"] == res["torch"]
        assert isinstance(fn(tapegrad, tapegrad.zeros(5, 3)), tuple)


@pytest.mark.parametrize("fn", [lambda x: x.unbind(0), lambda x: x.split([], 0)])
def test_multi_output_views_of_an_empty_dim_that_requires_grad(fn):
    # No pieces: record_multi used to return the address of a node nobody owned, which the caller then
    # wrote into (a heap use-after-free that tools/sanitize.sh's ASan build found).
    res = {lib.__name__: fn(lib.zeros(0, 3, requires_grad=True)) for lib in LIBS}
    assert res["tapegrad"] == () and res["torch"] == ()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("which", ["split", "split_list", "chunk", "unbind"])
def test_multi_output_gradients_from_several_outputs(which, dtype):
    def fn(lib, x):
        parts = {"split": lambda: x.split(2), "split_list": lambda: x.split([1, 2, 2]),
                 "chunk": lambda: x.chunk(3), "unbind": lambda: x.unbind()}[which]()
        return parts[0].sum() * 2 + (parts[-1] * parts[-1]).sum()

    run_both(fn, _data((5, 3)), dtype=dtype)


def test_contiguous_of_contiguous_is_self():
    for lib in LIBS:
        x = lib.ones(3, 4, requires_grad=True)
        assert x.contiguous() is x
        y = x.t()
        assert y.contiguous() is not y
        assert y.t().contiguous().is_contiguous()


def test_reshape_shares_when_viewable_and_copies_otherwise():
    res = {}
    for lib in LIBS:
        x = lib.arange(12.0).reshape(3, 4)
        a = x.reshape(2, 6)       # viewable: shares
        b = x.t().reshape(12)     # not viewable: copy
        c = x[:, :2].reshape(6)   # not viewable: copy
        d = x[1:].reshape(8)      # viewable: shares (contiguous rows)
        x.fill_(0)
        res[lib.__name__] = [t.tolist() for t in (a, b, c, d)]
    assert res["tapegrad"] == res["torch"]


@pytest.mark.parametrize("case", [
    lambda lib: lib.zeros(3, 4).t().view(12),
    lambda lib: lib.zeros(3, 4).view(5, 3),
    lambda lib: lib.zeros(3, 4).view(-1, -1),
    lambda lib: lib.zeros(3, 4).view(-1, 5),
    lambda lib: lib.zeros(3, 4).reshape(5, -1),
    lambda lib: lib.zeros(3, 4).view_as(lib.zeros(5)),
    lambda lib: lib.zeros(3, 4).transpose(0, 2),
    lambda lib: lib.zeros(3, 4).transpose(-3, 0),
    lambda lib: lib.zeros(3, 4).permute(0),
    lambda lib: lib.zeros(3, 4).permute(0, 0),
    lambda lib: lib.zeros(3, 4).permute(0, 2),
    lambda lib: lib.zeros(3, 4).squeeze(2),
    lambda lib: lib.zeros(3, 4).unsqueeze(3),
    lambda lib: lib.zeros(3, 4).unsqueeze(-4),
    lambda lib: lib.zeros(3, 4).expand(3, 5),
    lambda lib: lib.zeros(3, 4).expand(4),
    lambda lib: lib.zeros(3, 4).narrow(1, 3, 2),
    lambda lib: lib.zeros(3, 4).narrow(2, 0, 1),
    lambda lib: lib.zeros(3, 4).select(0, 3),
    lambda lib: lib.zeros(3, 4).select(2, 0),
    lambda lib: lib.zeros(3, 4).flatten(1, 0),
    lambda lib: lib.zeros(3, 4).chunk(0),
    lambda lib: lib.zeros(3, 4).split([1, 1]),
    lambda lib: lib.zeros(3, 4).unbind(2),
    lambda lib: lib.zeros(2, 3, 4).t(),
    lambda lib: lib.zeros(4).mT,
], ids=lambda f: "")
def test_view_errors(case):
    expect_same_error(case)


# ---- elementwise ops on non-contiguous inputs ----

NONCONTIG = {
    "transposed_add": (((3, 4), (4, 3)), lambda lib, x, y: x.t() + y),
    "transposed_both_mul": (((3, 4), (3, 4)), lambda lib, x, y: x.t() * y.t()),
    "step_slice_exp": (((5, 6),), lambda lib, x: x[::2, 1::3].exp()),
    "step_slice_sub": (((6, 4), (3, 2)), lambda lib, x, y: x[1::2, ::2] - y),
    "expanded_mul": (((3, 1), (3, 4)), lambda lib, x, y: x.expand(3, 4) * y),
    "expanded_sin": (((1, 4),), lambda lib, x: x.expand(3, 4).sin()),
    "permuted_tanh_sum": (((2, 3, 4),), lambda lib, x: x.permute(2, 0, 1).tanh().sum(0)),
    "permuted_pow": (((2, 3, 4), (4, 2, 3)), lambda lib, x, y: x.permute(2, 0, 1) ** 2 + y),
    "selected_column_div": (((3, 4), (3,)), lambda lib, x, y: x[:, 1] / (y.abs() + 1)),
    "narrowed_sigmoid": (((3, 6),), lambda lib, x: x.narrow(1, 2, 3).sigmoid()),
    "transposed_broadcast": (((4, 3), (4,)), lambda lib, x, y: x.t() * y),
    "transposed_contiguous_view": (((3, 4),), lambda lib, x: x.t().contiguous().view(-1) * 2),
    "transposed_reshape": (((3, 4),), lambda lib, x: (x.t().reshape(2, 6) ** 2)),
    "mT_relu": (((2, 3, 4),), lambda lib, x: x.mT.relu()),
    "same_tensor_two_views": (((4, 4),), lambda lib, x: x * x.t()),
    "view_of_sliced_clone": (((4, 6),), lambda lib, x: x[:, ::2].clone().view(-1)),
    "chained_views_mean": (((2, 3, 4),), lambda lib, x: x.transpose(0, 1)[::2].unsqueeze(1).mean()),
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", sorted(NONCONTIG))
def test_elementwise_on_noncontiguous(name, dtype):
    shapes, fn = NONCONTIG[name]
    run_both(fn, *[_data(s, i) for i, s in enumerate(shapes)], dtype=dtype)


@pytest.mark.parametrize("name", ["transposed_add", "step_slice_sub", "expanded_mul", "permuted_pow",
                                  "chained_views_mean", "same_tensor_two_views"])
def test_noncontiguous_gradcheck(name):
    shapes, fn = NONCONTIG[name]
    numeric_gradcheck(fn, *[_data(s, i) for i, s in enumerate(shapes)])


@pytest.mark.parametrize("name", ["permute", "expand_new_dims", "select", "squeeze_tuple", "split_list",
                                  "reshape_transposed_copy", "chain"])
def test_view_gradcheck(name):
    shape, fn = VIEWS[name]
    numeric_gradcheck(lambda lib, x: fn(lib, x) * fn(lib, x), _data(shape))


@pytest.mark.parametrize("name", ["permute", "expand", "narrow", "unbind", "t_2d"])
def test_view_double_backward(name):
    shape, fn = VIEWS[name]
    double_backward_both(lambda lib, x: fn(lib, x) ** 3, _data(shape))


def test_gradient_accumulates_from_base_and_view():
    run_both(lambda lib, x: x * 2 + x.t().t() * x.view(-1).view(3, 4), _data((3, 4)))


def test_view_of_nonleaf_keeps_graph():
    run_both(lambda lib, x: (x * 3).t().reshape(-1)[2:].view(2, 5), _data((3, 4)))


def test_write_through_view_of_nonleaf_propagates_gradient():
    """y = x * 1; y.t()[0] = w (a write through a view): grads flow to x (except overwritten) and w."""
    res = {}
    for lib in LIBS:
        x = make(lib, _data((3, 4)), "float64", True)
        w = make(lib, _data((3,), 1), "float64", True)
        y = x * 1
        y.t()[0] = w
        assert y.grad_fn is not None
        (y * make(lib, _data((3, 4), 2), "float64")).sum().backward()
        res[lib.__name__] = (y.grad_fn.name(), x.grad.tolist(), w.grad.tolist(), y.tolist())
    assert res["tapegrad"] == res["torch"]


# ---- hypothesis: random permutation + slicing + elementwise op ----

@st.composite
def permuted_sliced(draw):
    ndim = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim)))
    perm = draw(st.permutations(range(ndim)))
    pshape = [shape[p] for p in perm]
    index = []
    for n in pshape:
        kind = draw(st.sampled_from(["full", "slice", "int"]))
        if kind == "full":
            index.append(slice(None))
        elif kind == "int":
            index.append(draw(st.integers(-n, n - 1)))
        else:
            index.append(slice(draw(st.integers(-n - 1, n + 1)), draw(st.integers(-n - 1, n + 1)),
                               draw(st.integers(1, 3))))
    return shape, tuple(perm), tuple(index)


@settings(max_examples=25, deadline=None)
@given(case=permuted_sliced(), dtype=st.sampled_from(FLOAT_DTYPES))
def test_hypothesis_permute_slice(case, dtype):
    shape, perm, index = case

    def fn(lib, x):
        return x.permute(perm)[index] * 2.0

    run_both(fn, _data(shape), dtype=dtype, check_grad_fn=True)
    views = {}
    for lib in LIBS:
        v = make(lib, _data(shape), dtype).permute(perm)[index]
        views[lib.__name__] = (tuple(v.shape), tuple(v.stride()), v.storage_offset(), v.is_contiguous())
    assert views["tapegrad"] == views["torch"]


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_hypothesis_view_reshape(data):
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    n = int(np.prod(shape))
    # a random factorisation of n into 1..4 dims (maybe with one -1)
    k = data.draw(st.integers(1, 4))
    new, rest = [], n
    for _ in range(k - 1):
        d = data.draw(st.sampled_from([f for f in range(1, rest + 1) if rest % f == 0]))
        new.append(d)
        rest //= d
    new.append(rest)
    if data.draw(st.booleans()):
        new[data.draw(st.integers(0, len(new) - 1))] = -1
    transpose = data.draw(st.booleans()) and len(shape) >= 2
    dtype = data.draw(st.sampled_from(FLOAT_DTYPES))

    def fn(lib, x):
        if transpose:
            x = x.transpose(0, -1)
        return x.reshape(new).sin()

    run_both(fn, _data(shape), dtype=dtype)
