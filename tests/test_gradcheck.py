# tapegrad.autograd.gradcheck / gradgradcheck: pass on every foundation op, fail on wrong gradients, like torch.
import importlib
import re
import warnings

import numpy as np
import pytest

import tapegrad
import torch
from conftest import LIBS, expect_same_error
from tapegrad.autograd.gradcheck import GradcheckError

gradcheck_module = importlib.import_module("tapegrad.autograd.gradcheck")  # the name alone is the function
WARN_F64 = ("Input #{} requires gradient and is not a double precision floating point or complex. "
            "This check will likely fail if all the inputs are not of double precision floating point or complex. ")


def rand64(lib, *shape, seed=0, low=-1.0, high=1.0, requires_grad=True):
    """float64 values drawn uniformly in [low, high), the same in both libraries."""
    a = np.random.default_rng(seed).uniform(low, high, size=shape)
    t = lib.tensor(a.tolist() if shape else float(a), dtype=lib.float64)
    return t.requires_grad_(requires_grad)


def away_from_zero(lib, *shape, seed=0):
    """Values in +-[0.2, 1.2): abs/relu/sign-like ops are differentiable there."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.2, 1.2, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return lib.tensor(a.tolist(), dtype=lib.float64).requires_grad_()


def positive(lib, *shape, seed=0):
    return rand64(lib, *shape, seed=seed, low=0.5, high=2.0)


# name -> (function written against the torch API, input maker). Each input maker takes lib.
OPS = {
    "add": (lambda a, b: a + b, lambda lib: (rand64(lib, 2, 3), rand64(lib, 3, seed=1))),
    "add_alpha": (lambda a, b: tapegrad_or_torch(a).add(a, b, alpha=2.5),
                  lambda lib: (rand64(lib, 3), rand64(lib, 3, seed=1))),
    "sub": (lambda a, b: a - b, lambda lib: (rand64(lib, 2, 3), rand64(lib, 2, 1, seed=1))),
    "rsub_scalar": (lambda a: 2.0 - a, lambda lib: (rand64(lib, 4),)),
    "mul": (lambda a, b: a * b, lambda lib: (rand64(lib, 2, 3), rand64(lib, 2, 3, seed=1))),
    "div": (lambda a, b: a / b, lambda lib: (rand64(lib, 2, 3), positive(lib, 3, seed=1))),
    "pow_tensor": (lambda a, b: a ** b, lambda lib: (positive(lib, 4), rand64(lib, 4, seed=1))),
    "pow_scalar": (lambda a: a.pow(3), lambda lib: (rand64(lib, 2, 2),)),
    "pow_frac": (lambda a: a ** 1.5, lambda lib: (positive(lib, 3),)),
    "neg": (lambda a: -a, lambda lib: (rand64(lib, 3),)),
    "exp": (lambda a: a.exp(), lambda lib: (rand64(lib, 2, 3),)),
    "log": (lambda a: a.log(), lambda lib: (positive(lib, 2, 3),)),
    "sin": (lambda a: a.sin(), lambda lib: (rand64(lib, 5),)),
    "cos": (lambda a: a.cos(), lambda lib: (rand64(lib, 5),)),
    "tanh": (lambda a: a.tanh(), lambda lib: (rand64(lib, 5),)),
    "sigmoid": (lambda a: a.sigmoid(), lambda lib: (rand64(lib, 5),)),
    "relu": (lambda a: a.relu(), lambda lib: (away_from_zero(lib, 6),)),
    "abs": (lambda a: a.abs(), lambda lib: (away_from_zero(lib, 6),)),
    "sqrt": (lambda a: a.sqrt(), lambda lib: (positive(lib, 5),)),
    "reciprocal": (lambda a: a.reciprocal(), lambda lib: (positive(lib, 4),)),
    "clamp": (lambda a: a.clamp(-0.5, 0.5), lambda lib: (lib.tensor([-0.9, -0.3, 0.1, 0.4, 0.8], dtype=lib.float64,
                                                                     requires_grad=True),)),
    "clamp_min": (lambda a: a.clamp(min=0.0), lambda lib: (away_from_zero(lib, 5),)),
    "sum": (lambda a: a.sum(), lambda lib: (rand64(lib, 2, 3),)),
    "sum_dim": (lambda a: a.sum(dim=1, keepdim=True), lambda lib: (rand64(lib, 2, 3),)),
    "mean": (lambda a: a.mean(), lambda lib: (rand64(lib, 2, 3),)),
    "mean_dim": (lambda a: a.mean(dim=0), lambda lib: (rand64(lib, 2, 3),)),
    "prod": (lambda a: a.prod(dim=1), lambda lib: (away_from_zero(lib, 2, 3),)),
    "var": (lambda a: a.var(dim=1), lambda lib: (rand64(lib, 2, 4),)),
    "std": (lambda a: a.std(), lambda lib: (rand64(lib, 5),)),
    "norm": (lambda a: a.norm(), lambda lib: (rand64(lib, 2, 3),)),
    "amax": (lambda a: a.amax(dim=1), lambda lib: (rand64(lib, 3, 4),)),
    "max_dim": (lambda a: a.max(dim=0).values, lambda lib: (rand64(lib, 3, 4),)),
    "maximum": (lambda a, b: tapegrad_or_torch(a).maximum(a, b), lambda lib: (rand64(lib, 5), rand64(lib, 5, seed=1))),
    "where": (lambda a, b: tapegrad_or_torch(a).where(a > 0, a, b), lambda lib: (away_from_zero(lib, 5),
                                                                               rand64(lib, 5, seed=1))),
    "cumsum": (lambda a: a.cumsum(dim=1), lambda lib: (rand64(lib, 2, 3),)),
    "matmul": (lambda a, b: a @ b, lambda lib: (rand64(lib, 2, 3), rand64(lib, 3, 2, seed=1))),
    "matmul_batched": (lambda a, b: tapegrad_or_torch(a).matmul(a, b), lambda lib: (rand64(lib, 2, 2, 3),
                                                                                    rand64(lib, 3, 2, seed=1))),
    "mv": (lambda a, b: a.mv(b), lambda lib: (rand64(lib, 2, 3), rand64(lib, 3, seed=1))),
    "dot": (lambda a, b: a.dot(b), lambda lib: (rand64(lib, 4), rand64(lib, 4, seed=1))),
    "outer": (lambda a, b: a.outer(b), lambda lib: (rand64(lib, 3), rand64(lib, 2, seed=1))),
    "softmax": (lambda a: a.softmax(dim=1), lambda lib: (rand64(lib, 2, 3),)),
    "log_softmax": (lambda a: a.log_softmax(dim=0), lambda lib: (rand64(lib, 3, 2),)),
    "logsumexp": (lambda a: a.logsumexp(dim=1), lambda lib: (rand64(lib, 2, 3),)),
    "cat_stack": (lambda a, b: tapegrad_or_torch(a).stack([tapegrad_or_torch(a).cat([a, b])[1:4], b * a.sum()]),
                  lambda lib: (rand64(lib, 3), rand64(lib, 6, seed=1)[:3].detach().requires_grad_())),
    "views": (lambda a: a.t().reshape(6).unsqueeze(0).expand(2, 6).permute(1, 0).flatten() * 1.5,
              lambda lib: (rand64(lib, 2, 3),)),
    "indexing": (lambda a: a[1, 1:] * a[:, 0].sum() + a[0, :2], lambda lib: (rand64(lib, 2, 3),)),
    "split_unbind": (lambda a: tuple(p * (k + 1) for k, p in enumerate(a.split(1, dim=0))) + tuple(a.unbind(1)),
                     lambda lib: (rand64(lib, 2, 3),)),
    "gather": (lambda a: a.gather(1, tapegrad_or_torch(a).tensor([[0, 2], [1, 1]])), lambda lib: (rand64(lib, 2, 3),)),
    "mlp": (lambda x, w, b: ((x @ w + b).tanh().sigmoid() ** 2).mean(),
            lambda lib: (rand64(lib, 3, 2), rand64(lib, 2, 4, seed=1), rand64(lib, 4, seed=2))),
}

# every op again at second order (linear and piecewise-linear ops must give zero Hessians)
GRADGRAD_OPS = sorted(OPS)


def tapegrad_or_torch(t):
    """The library a tensor belongs to (the lambdas above are written once for both)."""
    return tapegrad if isinstance(t, tapegrad.Tensor) else torch


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck_passes_on_foundation_op(name):
    fn, make_inputs = OPS[name]
    inputs = make_inputs(tapegrad)
    before = [t.detach().numpy().copy() for t in inputs]
    assert tapegrad.autograd.gradcheck(fn, inputs) is True
    # the oracle agrees the function is smooth at these points (else this test would prove nothing)
    assert torch.autograd.gradcheck(fn, make_inputs(torch)) is True
    # the inputs are restored exactly after being perturbed in place
    for b, t in zip(before, inputs):
        np.testing.assert_array_equal(t.detach().numpy(), b)


@pytest.mark.parametrize("name", GRADGRAD_OPS)
def test_gradgradcheck_passes_on_foundation_op(name):
    fn, make_inputs = OPS[name]
    assert tapegrad.autograd.gradgradcheck(fn, make_inputs(tapegrad)) is True


@pytest.mark.parametrize("name", ["mul", "div", "log_softmax", "mlp", "split_unbind", "matmul_batched"])
def test_fast_mode_passes(name):
    fn, make_inputs = OPS[name]
    assert tapegrad.autograd.gradcheck(fn, make_inputs(tapegrad), fast_mode=True) is True
    assert tapegrad.autograd.gradgradcheck(fn, make_inputs(tapegrad), fast_mode=True) is True


def test_exported_names():
    assert tapegrad.autograd.gradcheck is gradcheck_module.gradcheck
    assert tapegrad.autograd.gradgradcheck is gradcheck_module.gradgradcheck
    assert issubclass(GradcheckError, RuntimeError)
    assert tapegrad.autograd.functional.jacobian is not None


# ---- wrong gradients must be caught ----

def wrong_square(x):
    """Value x**2, but the analytic gradient is x (the detached factor is a constant to autograd)."""
    return x.detach() * x


def straight_through_cube(x):
    """Value x**3 with a correct first derivative 3x**2 whose own derivative is 0 instead of 6x."""
    return (x ** 3).detach() + (x - x.detach()) * (3 * x.detach() ** 2)


def test_wrong_gradient_raises_with_torchs_message():
    errors = {}
    for lib in LIBS:
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            lib.autograd.gradcheck(wrong_square, (x,))
        errors[lib.__name__] = info.value
    ours, theirs = errors["tapegrad"], errors["torch"]
    assert type(ours) is GradcheckError
    assert str(ours).startswith("Jacobian mismatch for output 0 with respect to input 0,\nnumerical:")
    assert str(ours) == str(theirs)
    assert "analytical:tensor([[1., 0., 0.],\n        [0., 2., 0.],\n        [0., 0., 3.]]" in str(ours)


def test_wrong_gradient_returns_false_without_raising():
    for lib in LIBS:
        x = lib.tensor([[0.5, -1.0], [2.0, 1.5]], dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradcheck(wrong_square, x, raise_exception=False) is False
        assert lib.autograd.gradcheck(wrong_square, x, raise_exception=False, fast_mode=True) is False
        assert lib.autograd.gradgradcheck(wrong_square, x, raise_exception=False) is False


def test_wrong_gradient_on_second_input_and_output_is_located():
    def f(a, b):
        return a * 2, a.sum() * wrong_square(b)

    a = tapegrad.tensor([0.3, 0.7], dtype=tapegrad.float64, requires_grad=True)
    b = tapegrad.tensor([1.0, 2.0], dtype=tapegrad.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"\AJacobian mismatch for output 1 with respect to input 1,\n"):
        tapegrad.autograd.gradcheck(f, (a, b))


def test_fast_mode_failure_message():
    x = tapegrad.tensor([1.0, 2.0, 3.0], dtype=tapegrad.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        tapegrad.autograd.gradcheck(wrong_square, x, fast_mode=True)
    msg = str(info.value)
    assert msg.startswith("Jacobian mismatch for output 0 with respect to input 0,\nnumerical:")
    assert "we recompute numerical and analytical jacobians in slow mode" in msg
    assert "The max per-element difference (slow mode) is: 3.0000000008" in msg  # |6 - 3| at x = 3


def test_wrong_second_derivative_passes_gradcheck_fails_gradgradcheck():
    for lib in LIBS:
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradcheck(straight_through_cube, x) is True
        with pytest.raises(RuntimeError, match=r"\AJacobian mismatch for output 0 with respect to input 0,"):
            lib.autograd.gradgradcheck(straight_through_cube, x)
        assert lib.autograd.gradgradcheck(straight_through_cube, x, raise_exception=False) is False


def test_tolerances_are_applied():
    x = tapegrad.tensor([0.1, 0.2], dtype=tapegrad.float64, requires_grad=True)
    # |x - 2x| <= 0.2 everywhere: passes with atol=0.25, fails with atol=0.15
    assert tapegrad.autograd.gradcheck(wrong_square, x, atol=0.25) is True
    assert tapegrad.autograd.gradcheck(wrong_square, x, atol=0.15, raise_exception=False) is False
    assert tapegrad.autograd.gradcheck(wrong_square, x, atol=0.0, rtol=0.6) is True


def test_non_differentiable_output_must_have_zero_numerical_gradient():
    for lib in LIBS:
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradcheck(lambda t: t.detach() * 0 + 1, x) is True
        for fast in (False, True):
            with pytest.raises(RuntimeError, match=r"\ANumerical gradient for function expected to be zero\Z"):
                lib.autograd.gradcheck(lambda t: t.detach() * 2, x, fast_mode=fast)


# ---- argument handling ----

def test_double_precision_warning():
    for lib in LIBS:
        x = lib.ones(3, requires_grad=True)
        y = lib.ones(2, dtype=lib.float64, requires_grad=True)
        with pytest.warns(UserWarning, match=re.escape(WARN_F64.format(1))) as record:
            lib.autograd.gradcheck(lambda a, b: a.sum() * b, (y, x), raise_exception=False)
        assert [str(w.message) for w in record] == [WARN_F64.format(1)]


def test_no_warning_for_double_inputs_or_inputs_without_grad():
    x = tapegrad.ones(3, dtype=tapegrad.float64, requires_grad=True)
    y = tapegrad.ones(3)  # float32, but it does not require grad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tapegrad.autograd.gradcheck(lambda a, b: a * b, (x, y)) is True


def test_float32_linear_function_passes_with_loose_tolerance():
    x = tapegrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="Input #0 requires gradient"):
        assert tapegrad.autograd.gradcheck(lambda a: a * 2, x, eps=1e-2, atol=1e-3) is True


@pytest.mark.parametrize("call", [
    lambda lib: lib.autograd.gradcheck(lambda x: x * 2, (lib.ones(3, dtype=lib.float64),)),
    lambda lib: lib.autograd.gradcheck(lambda x: x * 2, (lib.zeros(1, 3, dtype=lib.float64).expand(2, 3)
                                                         .requires_grad_(),)),
    lambda lib: lib.autograd.gradcheck(lambda x: x * 2, lib.ones(2, dtype=lib.float64, requires_grad=True),
                                       check_forward_ad=False, check_backward_ad=False),
], ids=["no_input_requires_grad", "stride_0", "nothing_to_check"])
def test_argument_errors_like_torch(call):
    expect_same_error(call)


def test_mixed_arguments_and_integer_outputs():
    def f(x, k, y):
        return x * k + y, y.sum() * x.argmax(), x.argmax()

    x = rand64(tapegrad, 4)
    y = rand64(tapegrad, 4, seed=1, requires_grad=False)
    assert tapegrad.autograd.gradcheck(f, (x, 2.5, y)) is True
    assert tapegrad.autograd.gradgradcheck(lambda x, k, y: x.pow(3) * k + y, (x, 2.5, y)) is True


def test_non_contiguous_and_view_inputs():
    base = rand64(tapegrad, 3, 2, requires_grad=False)
    x = base.t().requires_grad_()
    assert not x.is_contiguous()
    assert tapegrad.autograd.gradcheck(lambda t: t.exp() @ t.t(), x) is True
    np.testing.assert_array_equal(x.detach().numpy(), rand64(tapegrad, 3, 2).detach().numpy().T)
    # an output that aliases the input it is perturbed through
    assert tapegrad.autograd.gradcheck(lambda t: t, x) is True
    assert tapegrad.autograd.gradcheck(lambda t: t.view(-1)[1:], rand64(tapegrad, 6)) is True


def test_gradcheck_leaves_version_and_grad_alone():
    for lib in LIBS:
        x = rand64(lib, 3)
        v = x._version
        assert lib.autograd.gradcheck(lambda t: t.sin() * t, x) is True
        assert x._version == v and x.grad is None


def test_gradgradcheck_explicit_and_non_contiguous_grad_outputs():
    x = rand64(tapegrad, 2, 3)
    g = rand64(tapegrad, 2, 3, seed=5)
    assert tapegrad.autograd.gradgradcheck(lambda t: t.sin() * t, x, g) is True
    # a grad_output that does not require grad is not differentiated through
    assert tapegrad.autograd.gradgradcheck(lambda t: t.sin() * t, x, g.detach()) is True
    assert tapegrad.autograd.gradgradcheck(lambda t: t.exp() @ t.t(), x, gen_non_contig_grad_outputs=True) is True


def test_gradgradcheck_multiple_inputs_and_outputs_match_torch_verdicts():
    def f(a, b):
        return (a * b).tanh(), (a.exp() * b).sum(), a @ b.t()

    for lib in LIBS:
        assert lib.autograd.gradgradcheck(f, (rand64(lib, 2, 3), rand64(lib, 2, 3, seed=1))) is True
        assert lib.autograd.gradgradcheck(lambda a, b: f(wrong_square(a), b),
                                          (rand64(lib, 2, 3), rand64(lib, 2, 3, seed=1)),
                                          raise_exception=False) is False


# ---- core behaviour gradcheck-style perturbation relies on (torch perturbs through .data) ----

def test_data_alias_has_its_own_version_counter():
    """Writing through x.data must not invalidate x's saved graph (torch gives .data a fresh counter)."""
    results = {}
    for lib in LIBS:
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        y = (x * x).sum()
        with lib.no_grad():
            x.data[0] = 5.0
        (g,) = lib.autograd.grad(y, x)
        results[lib.__name__] = (g.detach().numpy().tolist(), x._version)
    assert results["tapegrad"] == results["torch"] == ([10.0, 4.0, 6.0], 0)


def test_setitem_bumps_version_once():
    for lib in LIBS:
        z = lib.zeros(3)
        z[1] = 2.0
        assert (lib.__name__, z._version) == (lib.__name__, 1)
