# tapegrad.autograd.functional vs torch.autograd.functional: values, nesting, shapes, flags, errors.
import numpy as np
import pytest

import tapegrad
import torch
from conftest import assert_tensor_equal, expect_same_error, make

F64 = dict(rtol=1e-12, atol=1e-12)
# torch's forward-mode functional API runs torch.jit.script internally, which now warns.
TORCH_JIT_WARNING = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")


def both(fn):
    """fn(lib) for both libraries -> (tapegrad result, torch result)."""
    return fn(tapegrad), fn(torch)


def same(ours, theirs, what="result", check_requires_grad=True, **tol):
    """Same nesting (tensor / tuple of ... exactly as torch), shapes, dtypes, values, requires_grad."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, tapegrad.Tensor), f"{what}: expected a Tensor, got {type(ours).__name__}"
        assert_tensor_equal(ours, theirs, what=what, **(tol or F64))
        if check_requires_grad:
            assert ours.requires_grad == theirs.requires_grad, f"{what}: requires_grad {ours.requires_grad}"
    else:
        assert type(ours) is type(theirs), f"{what}: {type(ours).__name__} vs torch {type(theirs).__name__}"
        assert len(ours) == len(theirs), f"{what}: length {len(ours)} vs {len(theirs)}"
        for k, (o, t) in enumerate(zip(ours, theirs)):
            same(o, t, f"{what}[{k}]", check_requires_grad, **tol)


def arr(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def t64(lib, a, requires_grad=False):
    return make(lib, a, "float64", requires_grad)


# ---- functions under test (torch API, written once) ----

def exp_reducer(x):
    return x.exp().sum(dim=1)


def scalar_fn(x):
    return (x.sin() * x).sum()


def adder(x, y):
    return 2 * x + 3 * y


def two_out(x, y):
    return x * y, (x.exp() + y).sum()


def pow_adder_reducer(x, y):
    return (2 * x.pow(2) + 3 * y.pow(2)).sum()


def cubic_mix(x, y):
    return (x.pow(3) * y.sum() + (x * y).tanh()).sum()


# ---- jacobian ----

@pytest.mark.parametrize("vectorize", [False, True])
def test_jacobian_single_tensor_in_and_out(vectorize):
    a = arr(4, 3)
    ours, theirs = both(lambda lib: lib.autograd.functional.jacobian(exp_reducer, t64(lib, a), vectorize=vectorize))
    same(ours, theirs)
    assert tuple(ours.shape) == (4, 4, 3)


def test_jacobian_tuple_inputs_tensor_output():
    a, b = arr(3, seed=1), arr(3, seed=2)
    ours, theirs = both(lambda lib: lib.autograd.functional.jacobian(adder, (t64(lib, a), t64(lib, b))))
    same(ours, theirs)
    assert isinstance(ours, tuple) and len(ours) == 2
    np.testing.assert_array_equal(ours[0].numpy(), 2 * np.eye(3))


def test_jacobian_tuple_outputs_tuple_inputs_is_nested():
    a, b = arr(2, 3, seed=1), arr(2, 3, seed=2)
    ours, theirs = both(lambda lib: lib.autograd.functional.jacobian(two_out, (t64(lib, a), t64(lib, b))))
    same(ours, theirs)
    assert tuple(ours[0][1].shape) == (2, 3, 2, 3) and tuple(ours[1][0].shape) == (2, 3)


def test_jacobian_tuple_output_single_input():
    a = arr(3)
    ours, theirs = both(lambda lib: lib.autograd.functional.jacobian(lambda x: (x * x, x.sum()), t64(lib, a)))
    same(ours, theirs)
    assert isinstance(ours, tuple) and isinstance(ours[0], tapegrad.Tensor)


def test_jacobian_one_element_tuple_input_keeps_tuple():
    a = arr(3)
    ours, theirs = both(lambda lib: lib.autograd.functional.jacobian(lambda x: x.exp(), (t64(lib, a),)))
    same(ours, theirs)
    assert isinstance(ours, tuple) and len(ours) == 1


def test_jacobian_scalar_output_and_scalar_input_shapes():
    a = arr(2, 2)
    ours, theirs = both(lambda lib: lib.autograd.functional.jacobian(scalar_fn, t64(lib, a)))
    same(ours, theirs)
    assert tuple(ours.shape) == (2, 2)
    ours, theirs = both(lambda lib: lib.autograd.functional.jacobian(lambda x: x * lib.arange(3.0).double(),
                                                                     t64(lib, 1.5)))
    same(ours, theirs)
    assert tuple(ours.shape) == (3,)


def test_jacobian_float32():
    a = arr(3, 2)
    ours, theirs = both(lambda lib: lib.autograd.functional.jacobian(lambda x: x.tanh() * 2, make(lib, a, "float32")))
    same(ours, theirs, rtol=1e-5, atol=1e-6)
    assert ours.dtype == tapegrad.float32


def test_jacobian_independent_input_gives_zeros():
    a, b = arr(3, seed=1), arr(2, seed=2)
    ours, theirs = both(lambda lib: lib.autograd.functional.jacobian(lambda x, y: x.exp(), (t64(lib, a), t64(lib, b))))
    same(ours, theirs)
    assert tuple(ours[1].shape) == (3, 2) and not ours[1].numpy().any()


def test_jacobian_output_not_requiring_grad_gives_zeros():
    a = arr(3)
    ours, theirs = both(lambda lib: lib.autograd.functional.jacobian(lambda x: lib.ones(2, dtype=lib.float64),
                                                                     t64(lib, a)))
    same(ours, theirs)
    assert tuple(ours.shape) == (2, 3) and not ours.numpy().any()


def test_jacobian_does_not_touch_inputs_or_their_grad():
    def go(lib):
        x = t64(lib, arr(3), requires_grad=True)
        j = lib.autograd.functional.jacobian(lambda v: v * v, x)
        return j, x.grad, x.requires_grad

    (oj, og, orq), (tj, tg, trq) = both(go)
    same(oj, tj)
    assert og is None and tg is None and orq is trq is True
    assert not oj.requires_grad


def test_jacobian_create_graph_result_is_differentiable():
    a = arr(3)

    def go(lib):
        x = t64(lib, a, requires_grad=True)
        j = lib.autograd.functional.jacobian(lambda v: v.pow(3) * v.sin(), x, create_graph=True)
        (g,) = lib.autograd.grad(j.sum(), x)
        return j, g

    ours, theirs = both(go)
    same(ours, theirs)
    assert ours[0].requires_grad and ours[0].grad_fn is not None


def test_jacobian_create_graph_on_input_without_grad_flags_like_torch():
    ours, theirs = both(lambda lib: lib.autograd.functional.jacobian(lambda v: v * v, t64(lib, arr(2)),
                                                                     create_graph=True))
    same(ours, theirs)  # requires_grad compared: the inputs did not require grad


@TORCH_JIT_WARNING
def test_jacobian_forward_mode_vectorized_matches_torch():
    a, b = arr(2, 3, seed=1), arr(2, 3, seed=2)
    ours, theirs = both(lambda lib: lib.autograd.functional.jacobian(
        two_out, (t64(lib, a), t64(lib, b)), vectorize=True, strategy="forward-mode"))
    same(ours, theirs, rtol=1e-12, atol=1e-12)
    ours, theirs = both(lambda lib: lib.autograd.functional.jacobian(
        exp_reducer, t64(lib, a), vectorize=True, strategy="forward-mode"))
    same(ours, theirs)


# ---- hessian ----

def test_hessian_single_input():
    a = arr(2, 2)
    ours, theirs = both(lambda lib: lib.autograd.functional.hessian(lambda x: x.pow(3).sum(), t64(lib, a)))
    same(ours, theirs)
    assert tuple(ours.shape) == (2, 2, 2, 2)
    expected = np.zeros((4, 4))
    np.fill_diagonal(expected, 6 * a.reshape(-1))
    np.testing.assert_allclose(ours.numpy().reshape(4, 4), expected, rtol=1e-14)


def test_hessian_tuple_inputs_nested_tuple():
    a, b = arr(2, seed=1), arr(2, seed=2)
    ours, theirs = both(lambda lib: lib.autograd.functional.hessian(pow_adder_reducer, (t64(lib, a), t64(lib, b))))
    same(ours, theirs)
    np.testing.assert_array_equal(ours[0][0].numpy(), 4 * np.eye(2))
    np.testing.assert_array_equal(ours[1][1].numpy(), 6 * np.eye(2))
    np.testing.assert_array_equal(ours[0][1].numpy(), np.zeros((2, 2)))


def test_hessian_cross_terms_and_vectorize_flag():
    a, b = arr(3, seed=3), arr(2, seed=4)
    for vectorize in (False, True):
        ours, theirs = both(lambda lib: lib.autograd.functional.hessian(
            lambda x, y: (x.pow(3).sum() * y.sin().sum()), (t64(lib, a), t64(lib, b)), vectorize=vectorize))
        same(ours, theirs)
        assert tuple(ours[0][1].shape) == (3, 2) and tuple(ours[1][0].shape) == (2, 3)


@TORCH_JIT_WARNING
def test_hessian_forward_over_reverse_vectorized():
    a, b = arr(3, seed=3), arr(3, seed=4)
    ours, theirs = both(lambda lib: lib.autograd.functional.hessian(
        cubic_mix, (t64(lib, a), t64(lib, b)), vectorize=True, outer_jacobian_strategy="forward-mode"))
    # torch leaks a graph into this result (requires_grad=True, ReshapeAliasBackward0) although
    # create_graph=False; tapegrad returns it detached, as every other create_graph=False result.
    same(ours, theirs, check_requires_grad=False)
    assert not any(t.requires_grad for row in ours for t in row)


def mlp_loss(lib, x, target):
    def loss(w1, b1, w2):
        h = lib.tanh(lib.matmul(x, w1) + b1)
        out = lib.matmul(h, w2)
        return ((out - target) ** 2).sum() / x.shape[0]

    return loss


def mlp_params(lib):
    return (t64(lib, arr(3, 4, seed=10) * 0.5), t64(lib, arr(4, seed=11) * 0.1), t64(lib, arr(4, 2, seed=12) * 0.5))


def test_hessian_of_mlp_loss():
    def go(lib):
        x, target = t64(lib, arr(5, 3, seed=20)), t64(lib, arr(5, 2, seed=21))
        return lib.autograd.functional.hessian(mlp_loss(lib, x, target), mlp_params(lib))

    ours, theirs = both(go)
    same(ours, theirs, rtol=1e-10, atol=1e-12)
    assert tuple(ours[0][2].shape) == (3, 4, 4, 2)
    # symmetric as a whole
    n = [12, 4, 8]
    full = np.block([[ours[i][j].numpy().reshape(n[i], n[j]) for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(full, full.T, rtol=1e-10, atol=1e-12)


def test_mlp_hvp_and_vhp_match_torch_and_hessian():
    def go(lib):
        x, target = t64(lib, arr(5, 3, seed=20)), t64(lib, arr(5, 2, seed=21))
        f = mlp_loss(lib, x, target)
        params = mlp_params(lib)
        v = (t64(lib, arr(3, 4, seed=30)), t64(lib, arr(4, seed=31)), t64(lib, arr(4, 2, seed=32)))
        return (lib.autograd.functional.hvp(f, params, v), lib.autograd.functional.vhp(f, params, v),
                lib.autograd.functional.hessian(f, params))

    (ohvp, ovhp, oh), (thvp, tvhp, _) = both(go)
    same(ohvp, thvp, rtol=1e-10, atol=1e-12)
    same(ovhp, tvhp, rtol=1e-10, atol=1e-12)
    n = [12, 4, 8]
    H = np.block([[oh[i][j].numpy().reshape(n[i], n[j]) for j in range(3)] for i in range(3)])
    v = np.concatenate([arr(3, 4, seed=30).ravel(), arr(4, seed=31), arr(4, 2, seed=32).ravel()])
    hv = np.concatenate([t.numpy().ravel() for t in ohvp[1]])
    np.testing.assert_allclose(hv, H @ v, rtol=1e-10, atol=1e-12)


def test_hessian_create_graph_third_derivative():
    a = arr(3)

    def go(lib):
        x = t64(lib, a, requires_grad=True)
        h = lib.autograd.functional.hessian(lambda v: (v.pow(4) * v.exp()).sum(), x, create_graph=True)
        (g,) = lib.autograd.grad(h.sum(), x)
        return h, g

    ours, theirs = both(go)
    same(ours, theirs, rtol=1e-11, atol=1e-12)


def test_hessian_of_prod():
    """d2 prod(x) / dx_i dx_j = prod of the others (i != j): needs a differentiable prod backward."""
    a = np.array([0.5, -1.5, 2.0, 0.8])
    ours, theirs = both(lambda lib: lib.autograd.functional.hessian(lambda x: x.prod(), t64(lib, a)))
    expected = np.array([[0.0 if i == j else np.prod(np.delete(a, [i, j])) for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(theirs.numpy(), expected, rtol=1e-14)
    same(ours, theirs)


def test_hessian_linear_function_is_zero():
    ours, theirs = both(lambda lib: lib.autograd.functional.hessian(lambda x: (3 * x).sum(), t64(lib, arr(3))))
    same(ours, theirs)
    assert not ours.numpy().any()


# ---- vjp / jvp ----

def test_vjp_tensor_and_tuple():
    a = arr(4, 4)
    ours, theirs = both(lambda lib: lib.autograd.functional.vjp(exp_reducer, t64(lib, a), t64(lib, np.ones(4))))
    same(ours, theirs)
    a, b = arr(2, seed=1), arr(2, seed=2)
    ours, theirs = both(lambda lib: lib.autograd.functional.vjp(adder, (t64(lib, a), t64(lib, b)),
                                                                t64(lib, np.ones(2))))
    same(ours, theirs)
    np.testing.assert_array_equal(ours[1][1].numpy(), [3.0, 3.0])


def test_vjp_scalar_output_v_defaults_to_one():
    a = arr(3)
    ours, theirs = both(lambda lib: lib.autograd.functional.vjp(scalar_fn, t64(lib, a)))
    same(ours, theirs)
    np.testing.assert_allclose(ours[1].numpy(), np.sin(a) + a * np.cos(a), rtol=1e-14)


def test_vjp_tuple_outputs_with_independent_input():
    a, b, c = arr(2, 3, seed=1), arr(2, 3, seed=2), arr(4, seed=3)

    def go(lib):
        return lib.autograd.functional.vjp(lambda x, y, z: two_out(x, y), (t64(lib, a), t64(lib, b), t64(lib, c)),
                                           (t64(lib, arr(2, 3, seed=4)), t64(lib, 2.0)))

    ours, theirs = both(go)
    same(ours, theirs)
    assert not ours[1][2].numpy().any()


def test_vjp_create_graph():
    a = arr(3)

    def go(lib):
        x = t64(lib, a, requires_grad=True)
        v = t64(lib, arr(3, seed=5))
        out, g = lib.autograd.functional.vjp(lambda t: t.exp() * t, x, v, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        return out, g, gg

    ours, theirs = both(go)
    same(ours, theirs)
    assert ours[1].requires_grad


def test_jvp_tensor_tuple_and_default_v():
    a = arr(4, 4)
    ours, theirs = both(lambda lib: lib.autograd.functional.jvp(exp_reducer, t64(lib, a), t64(lib, np.ones((4, 4)))))
    same(ours, theirs)
    np.testing.assert_allclose(ours[1].numpy(), np.exp(a).sum(1), rtol=1e-13)
    a, b = arr(2, seed=1), arr(2, seed=2)
    ours, theirs = both(lambda lib: lib.autograd.functional.jvp(adder, (t64(lib, a), t64(lib, b)),
                                                                (t64(lib, np.ones(2)), t64(lib, np.ones(2)))))
    same(ours, theirs)
    np.testing.assert_array_equal(ours[1].numpy(), [5.0, 5.0])
    ours, theirs = both(lambda lib: lib.autograd.functional.jvp(lambda x: (x.sin(), x * 2), t64(lib, 0.7)))
    same(ours, theirs)
    assert isinstance(ours[1], tuple)


def test_jvp_output_independent_of_input_gives_zeros():
    a, b = arr(3, seed=1), arr(3, seed=2)

    def go(lib):
        return lib.autograd.functional.jvp(lambda x, y: (x * 2, lib.ones(2, dtype=lib.float64)),
                                           (t64(lib, a), t64(lib, b)), (t64(lib, np.ones(3)), t64(lib, np.ones(3))))

    ours, theirs = both(go)
    same(ours, theirs)
    assert not ours[1][1].numpy().any()


def test_jvp_create_graph():
    a = arr(3)

    def go(lib):
        x = t64(lib, a, requires_grad=True)
        v = t64(lib, arr(3, seed=6), requires_grad=True)
        out, jv = lib.autograd.functional.jvp(lambda t: t.sin() * t, x, v, create_graph=True)
        gx, gv = lib.autograd.grad(jv.sum(), (x, v))
        return out, jv, gx, gv

    ours, theirs = both(go)
    same(ours, theirs)


# ---- hvp / vhp ----

def test_hvp_vhp_single_and_tuple():
    a = arr(2, 2)
    for name in ("hvp", "vhp"):
        ours, theirs = both(lambda lib: getattr(lib.autograd.functional, name)(
            lambda x: x.pow(3).sum(), t64(lib, a), t64(lib, np.ones((2, 2)))))
        same(ours, theirs)
        np.testing.assert_allclose(ours[1].numpy(), 6 * a, rtol=1e-14)
        b, c = arr(2, seed=1), arr(2, seed=2)
        ours, theirs = both(lambda lib: getattr(lib.autograd.functional, name)(
            pow_adder_reducer, (t64(lib, b), t64(lib, c)), (t64(lib, np.zeros(2)), t64(lib, np.ones(2)))))
        same(ours, theirs)
        np.testing.assert_array_equal(ours[1][1].numpy(), [6.0, 6.0])


def test_hvp_vhp_nonsymmetric_cross_terms_and_default_v():
    b, c = arr(3, seed=1), arr(3, seed=2)
    for name in ("hvp", "vhp"):
        ours, theirs = both(lambda lib: getattr(lib.autograd.functional, name)(
            cubic_mix, (t64(lib, b), t64(lib, c)), (t64(lib, arr(3, seed=7)), t64(lib, arr(3, seed=8)))))
        same(ours, theirs)
        ours, theirs = both(lambda lib: getattr(lib.autograd.functional, name)(
            lambda x: x.sin() * x.exp(), t64(lib, 0.3)))
        same(ours, theirs)


def test_hvp_vhp_independent_input_and_create_graph():
    b, c = arr(3, seed=1), arr(3, seed=2)
    for name in ("hvp", "vhp"):
        ours, theirs = both(lambda lib: getattr(lib.autograd.functional, name)(
            lambda x, y: x.pow(3).sum(), (t64(lib, b), t64(lib, c)), (t64(lib, np.ones(3)), t64(lib, np.ones(3)))))
        same(ours, theirs)
        assert not ours[1][1].numpy().any()

        def go(lib):
            x = t64(lib, b, requires_grad=True)
            _, hv = getattr(lib.autograd.functional, name)(lambda t: (t.pow(3) * t.sin()).sum(), x,
                                                          t64(lib, arr(3, seed=9)), create_graph=True)
            (g,) = lib.autograd.grad(hv.sum(), x)
            return hv, g

        ours, theirs = both(go)
        same(ours, theirs)


# ---- errors (type and exact message as torch) ----

def _F(lib):
    return lib.autograd.functional


@pytest.mark.parametrize("call", [
    # v missing for a non-scalar output / input
    lambda lib: _F(lib).vjp(lambda x: x * 2, t64(lib, arr(3))),
    lambda lib: _F(lib).jvp(lambda x: x * 2, t64(lib, arr(3))),
    lambda lib: _F(lib).hvp(lambda x: x.pow(3).sum(), t64(lib, arr(3))),
    lambda lib: _F(lib).vhp(lambda x: x.pow(3).sum(), (t64(lib, 1.0), t64(lib, 2.0))),
    # v of the wrong size / length
    lambda lib: _F(lib).vjp(lambda x: x * 2, t64(lib, arr(3)), t64(lib, arr(4))),
    lambda lib: _F(lib).vjp(lambda x, y: (x, y), (t64(lib, arr(3)), t64(lib, arr(2))), (t64(lib, arr(3)),)),
    lambda lib: _F(lib).jvp(lambda x, y: x * y, (t64(lib, arr(3)), t64(lib, arr(3))),
                            (t64(lib, arr(3)), t64(lib, arr(2)))),
    lambda lib: _F(lib).jvp(lambda x: x * 2, t64(lib, arr(3)), (t64(lib, arr(3)), t64(lib, arr(3)))),
    # not tensors
    lambda lib: _F(lib).jacobian(lambda x: x, [t64(lib, arr(3))]),
    lambda lib: _F(lib).vjp(lambda x, y: x, (t64(lib, arr(3)), 2.0), t64(lib, arr(3))),
    lambda lib: _F(lib).jacobian(lambda x: 3.0, t64(lib, arr(3))),
    # scalar-function requirements
    lambda lib: _F(lib).hessian(lambda x: x * 2, t64(lib, arr(3))),
    lambda lib: _F(lib).hessian(lambda x: (x.sum(), x.sum()), t64(lib, arr(3))),
    lambda lib: _F(lib).hvp(lambda x: (x.sum(),), t64(lib, arr(3)), t64(lib, arr(3))),
    lambda lib: _F(lib).vhp(lambda x: x * x, t64(lib, arr(3)), t64(lib, arr(3))),
    # strategies
    lambda lib: _F(lib).jacobian(lambda x: x, t64(lib, arr(3)), strategy="sideways"),
    lambda lib: _F(lib).jacobian(lambda x: x, t64(lib, arr(3)), strategy="forward-mode"),
    lambda lib: _F(lib).jacobian(lambda x: x, t64(lib, arr(3)), strategy="forward-mode", create_graph=True),
    lambda lib: _F(lib).jacobian(lambda x: x, t64(lib, arr(3)), strategy="forward-mode", strict=True),
    lambda lib: _F(lib).jacobian(lambda x: x * x, t64(lib, arr(3)), vectorize=True, strict=True),
    lambda lib: _F(lib).hessian(lambda x: x.pow(3).sum(), t64(lib, arr(3)), outer_jacobian_strategy="forward-mode"),
    lambda lib: _F(lib).hessian(lambda x: x.pow(3).sum(), t64(lib, arr(3)), outer_jacobian_strategy="up"),
], ids=lambda f: "")
def test_misuse_raises_like_torch(call):
    expect_same_error(call)


@pytest.mark.parametrize("call", [
    lambda lib: _F(lib).vjp(lambda x, y: x * 2, (t64(lib, arr(3)), t64(lib, arr(3))), t64(lib, arr(3)), strict=True),
    lambda lib: _F(lib).vjp(lambda x: lib.ones(3, dtype=lib.float64), t64(lib, arr(3)), t64(lib, arr(3)),
                            strict=True),
    lambda lib: _F(lib).vjp(lambda x: x * 2, t64(lib, arr(3)), t64(lib, arr(3)), strict=True, create_graph=True),
    lambda lib: _F(lib).jvp(lambda x, y: x * 2, (t64(lib, arr(3)), t64(lib, arr(3))),
                            (t64(lib, arr(3)), t64(lib, arr(3))), strict=True),
    lambda lib: _F(lib).jvp(lambda x, y: (x * 2, y.detach()), (t64(lib, arr(3)), t64(lib, arr(3))),
                            (t64(lib, arr(3)), t64(lib, arr(3))), strict=True),
    lambda lib: _F(lib).jacobian(lambda x, y: x.exp(), (t64(lib, arr(3)), t64(lib, arr(3))), strict=True),
    lambda lib: _F(lib).jacobian(lambda x: x * 2, t64(lib, arr(3)), strict=True, create_graph=True),
    lambda lib: _F(lib).hessian(lambda x: (x * 2).sum(), t64(lib, arr(3)), strict=True),
    lambda lib: _F(lib).hessian(lambda x, y: (x * x).sum(), (t64(lib, arr(3)), t64(lib, arr(2))), strict=True),
    lambda lib: _F(lib).hvp(lambda x: (x * 3).sum(), t64(lib, arr(3)), t64(lib, arr(3)), strict=True),
    lambda lib: _F(lib).vhp(lambda x: (x * 3).sum(), t64(lib, arr(3)), t64(lib, arr(3)), strict=True),
    lambda lib: _F(lib).vhp(lambda x, y: (x * x).sum(), (t64(lib, arr(3)), t64(lib, arr(3))),
                            (t64(lib, arr(3)), t64(lib, arr(3))), strict=True),
    lambda lib: _F(lib).hvp(lambda x: (x * x).sum(), t64(lib, arr(3)), t64(lib, arr(3)), strict=True,
                            create_graph=True),
], ids=lambda f: "")
def test_strict_mode_errors_like_torch(call):
    expect_same_error(call)


def test_strict_mode_passes_when_everything_depends_on_inputs():
    a, b = arr(3, seed=1), arr(3, seed=2)
    for lib_call in (
        lambda lib: _F(lib).jacobian(lambda x, y: x * y.exp(), (t64(lib, a), t64(lib, b)), strict=True),
        lambda lib: _F(lib).hessian(cubic_mix, (t64(lib, a), t64(lib, b)), strict=True),
        lambda lib: _F(lib).vjp(lambda x: x.sin(), t64(lib, a), t64(lib, b), strict=True),
        lambda lib: _F(lib).jvp(lambda x: x.sin(), t64(lib, a), t64(lib, b), strict=True),
        lambda lib: _F(lib).hvp(lambda x: x.sin().sum(), t64(lib, a), t64(lib, b), strict=True),
        lambda lib: _F(lib).vhp(lambda x: x.sin().sum(), t64(lib, a), t64(lib, b), strict=True),
    ):
        ours, theirs = both(lib_call)
        same(ours, theirs)


def test_grad_mode_is_restored_and_no_grad_is_respected():
    def go(lib):
        with lib.no_grad():
            out, g = lib.autograd.functional.vjp(lambda x: x.exp(), t64(lib, arr(3)), t64(lib, arr(3, seed=1)))
            inside = lib.is_grad_enabled()
        return out, g, inside, lib.is_grad_enabled()

    ours, theirs = both(go)
    same(ours[:2], theirs[:2])
    assert ours[2:] == theirs[2:] == (False, True)
