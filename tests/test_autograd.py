# Engine semantics vs torch: accumulation, retain_graph, errors, grad modes, graph structure.
import gc
import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

import tapegrad
import torch
from conftest import LIBS, assert_tensor_equal, capture, expect_same_error, package_root, run_both, to_numpy

FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)
NO_GRAD_MSG = "element 0 of tensors does not require grad and does not have a grad_fn"
SCALAR_MSG = "grad can be implicitly created only for scalar outputs"


def both(fn):
    """fn(lib) for both libraries -> {'tapegrad': ..., 'torch': ...}."""
    return {lib.__name__: fn(lib) for lib in LIBS}


def signature(node):
    """The graph below a grad_fn as nested (name, ((child, index), ...)), like torch prints it."""
    if node is None:
        return None
    return (node.name(), tuple((signature(n), i) for n, i in node.next_functions))


def same_values(d, **kw):
    ours, theirs = d["tapegrad"], d["torch"]
    if isinstance(theirs, torch.Tensor):
        assert_tensor_equal(ours, theirs, **kw)
    elif isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            same_values({"tapegrad": o, "torch": t}, **kw)
    else:
        assert ours == theirs


# ---- accumulation and retain_graph ----

def test_grad_accumulates_across_backward_calls():
    def go(lib):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        (x * x).sum().backward()
        first = x.grad.clone()
        (x.exp()).sum().backward()
        return first, x.grad

    same_values(both(go))


def test_retain_graph_allows_second_backward_and_accumulates():
    def go(lib):
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        y = (x.sin() * x).sum()
        y.backward(retain_graph=True)
        g1 = x.grad.clone()
        y.backward(retain_graph=True)
        y.backward()
        return g1, x.grad

    res = both(go)
    same_values(res)
    np.testing.assert_allclose(to_numpy(res["tapegrad"][1]), 3 * to_numpy(res["tapegrad"][0]), rtol=1e-6)


@pytest.mark.parametrize("graph", ["exp", "mul_tensors", "sigmoid_chain", "div", "pow"])
def test_second_backward_through_freed_graph(graph):
    builders = {
        "exp": lambda lib, x: x.exp().sum(),
        "mul_tensors": lambda lib, x: (x * x).sum(),
        "sigmoid_chain": lambda lib, x: x.sigmoid().tanh().mean(),
        "div": lambda lib, x: (1.0 / (x + 3.0)).sum(),
        "pow": lambda lib, x: (x ** x).sum(),
    }

    def go(lib):
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        y = builders[graph](lib, x)
        y.backward()
        y.backward()

    _, terr = capture(go, torch)
    assert str(terr) == FREED_MSG
    expect_same_error(go)


@pytest.mark.parametrize("op", ["add", "neg", "sum", "mul_number", "div_number", "expand", "mul_self",
                                "pow_number", "relu", "clamp"])
def test_second_backward_raises_exactly_when_torch_does(op):
    """Whether a graph can be replayed without retain_graph depends on what its nodes saved; follow torch."""
    builders = {
        "add": lambda x: (x + 1.0).sum(),
        "neg": lambda x: (-x).sum(),
        "sum": lambda x: x.sum(),
        "mul_number": lambda x: (x * 2.0).sum(),
        "div_number": lambda x: (x / 2.0).sum(),
        "expand": lambda x: x.expand(3, 2).sum(),
        "mul_self": lambda x: (x * x).sum(),
        "pow_number": lambda x: (x ** 2).sum(),
        "relu": lambda x: x.relu().sum(),
        "clamp": lambda x: x.clamp(0.0, 1.0).sum(),
    }

    def go(lib):
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        y = builders[op](x)
        y.backward()
        y.backward()
        return x.grad

    _, terr = capture(go, torch)
    if terr is None:
        same_values(both(go))
    else:
        expect_same_error(go)


def test_autograd_grad_twice_without_retain():
    def go(lib):
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        y = (x * x.exp()).sum()
        lib.autograd.grad(y, x)
        lib.autograd.grad(y, x)

    expect_same_error(go)


# ---- the standard error messages ----

def test_backward_on_tensor_not_requiring_grad():
    def go(lib):
        lib.tensor([1.0, 2.0]).sum().backward()

    _, terr = capture(go, torch)
    assert str(terr) == NO_GRAD_MSG
    expect_same_error(go)


def test_nonscalar_backward_without_gradient():
    def go(lib):
        (lib.tensor([1.0, 2.0], requires_grad=True) * 2).backward()

    _, terr = capture(go, torch)
    assert str(terr) == SCALAR_MSG
    expect_same_error(go)
    expect_same_error(lambda lib: lib.autograd.grad(lib.tensor([1.0, 2.0], requires_grad=True) * 2,
                                                    lib.tensor(1.0, requires_grad=True)))


def test_single_element_nonscalar_backward_is_allowed():
    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x.sum() * lib.ones(1, 1)).backward()
        return x.grad

    same_values(both(go))


@pytest.mark.parametrize("value", [False, True])
def test_setting_requires_grad_on_non_leaf(value):
    expect_same_error(lambda lib: setattr(lib.tensor([1.0], requires_grad=True) * 2, "requires_grad", value))


def test_requires_grad_false_on_non_leaf_method():
    expect_same_error(lambda lib: (lib.tensor([1.0], requires_grad=True) * 2).requires_grad_(False))


def test_requires_grad_true_on_non_leaf_method_is_noop():
    def go(lib):
        y = lib.tensor([1.0], requires_grad=True) * 2
        return y.requires_grad_() is y, y.requires_grad, y.is_leaf

    same_values(both(go))


@pytest.mark.parametrize("grad_shape", [(3,), (), (2, 1), (1, 2)], ids=str)
def test_backward_gradient_shape_mismatch(grad_shape):
    expect_same_error(lambda lib: (lib.tensor([1.0, 2.0], requires_grad=True) * 2).backward(lib.ones(grad_shape)))
    expect_same_error(lambda lib: lib.autograd.grad(lib.tensor([1.0, 2.0], requires_grad=True) * 2,
                                                    lib.tensor(1.0), lib.ones(grad_shape)))


@pytest.mark.parametrize("gdtype", ["float64", "float32", "int64"])
def test_backward_gradient_of_other_dtype_is_cast(gdtype):
    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * 3).backward(lib.tensor([1, 2], dtype=getattr(lib, gdtype)))
        return x.grad

    same_values(both(go))


def test_backward_gradient_wrong_type():
    expect_same_error(lambda lib: (lib.tensor([1.0], requires_grad=True) * 2).sum().backward(1.0),
                      message=False)


INT_RG = {
    "constructor": lambda lib, d: lib.tensor([1, 0], dtype=d, requires_grad=True),
    "requires_grad_": lambda lib, d: lib.tensor([1, 0], dtype=d).requires_grad_(),
    "setter": lambda lib, d: setattr(lib.tensor([1, 0], dtype=d), "requires_grad", True),
    "ones": lambda lib, d: lib.ones(2, dtype=d, requires_grad=True),
}


@pytest.mark.parametrize("how", sorted(INT_RG))
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_requires_grad_on_integer_tensor(dtype, how):
    expect_same_error(lambda lib: INT_RG[how](lib, getattr(lib, dtype)))


def test_requires_grad_false_on_integer_tensor_is_fine():
    def go(lib):
        x = lib.tensor([1, 2])
        x.requires_grad = False
        return x.requires_grad_(False).requires_grad

    same_values(both(go))


# ---- the three ways to stop tracking ----

STOPPERS = {
    "requires_grad_false": lambda lib, x: (x.requires_grad_(False), x * 2)[1],
    "detach": lambda lib, x: x.detach() * 2,
    "no_grad": lambda lib, x: _in_no_grad(lib, lambda: x * 2),
    "set_grad_enabled_false": lambda lib, x: _in_set_grad(lib, False, lambda: x * 2),
}


def _in_no_grad(lib, fn):
    with lib.no_grad():
        return fn()


def _in_set_grad(lib, mode, fn):
    with lib.set_grad_enabled(mode):
        return fn()


@pytest.mark.parametrize("how", sorted(STOPPERS))
def test_stop_tracking(how):
    def props(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = STOPPERS[how](lib, x)
        return y.requires_grad, y.is_leaf, y.grad_fn is None, x.requires_grad

    same_values(both(props))

    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        STOPPERS[how](lib, x).sum().backward()

    _, terr = capture(go, torch)
    assert str(terr) == NO_GRAD_MSG
    expect_same_error(go)


def test_detach_shares_storage_and_is_leaf():
    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        d = x.detach()
        d.numpy()[0] = 5.0
        return x.detach().tolist(), d.is_leaf, d.requires_grad, d.grad_fn is None

    same_values(both(go))


# ---- grad mode: context managers, decorators, nesting ----

def test_grad_mode_context_managers_and_nesting():
    def go(lib):
        x = lib.tensor([1.0], requires_grad=True)
        trace = [lib.is_grad_enabled()]
        with lib.no_grad():
            trace.append((lib.is_grad_enabled(), (x * 2).requires_grad))
            with lib.enable_grad():
                trace.append((lib.is_grad_enabled(), (x * 2).requires_grad))
                with lib.set_grad_enabled(False):
                    trace.append((lib.is_grad_enabled(), (x * 2).requires_grad))
                trace.append(lib.is_grad_enabled())
            trace.append(lib.is_grad_enabled())
            with lib.set_grad_enabled(True):
                trace.append((lib.is_grad_enabled(), (x * 2).requires_grad))
            with lib.no_grad():
                trace.append(lib.is_grad_enabled())
            trace.append(lib.is_grad_enabled())
        trace.append((lib.is_grad_enabled(), (x * 2).requires_grad))
        return trace

    same_values(both(go))


def test_grad_mode_restored_after_exception():
    def go(lib):
        try:
            with lib.no_grad():
                raise KeyError("boom")
        except KeyError:
            pass
        a = lib.is_grad_enabled()
        try:
            with lib.set_grad_enabled(False):
                with lib.enable_grad():
                    raise KeyError("boom")
        except KeyError:
            pass
        return a, lib.is_grad_enabled()

    same_values(both(go))


def test_set_grad_enabled_as_function_call():
    def go(lib):
        lib.set_grad_enabled(False)
        a = lib.is_grad_enabled()
        y = lib.tensor([1.0], requires_grad=True) * 2
        lib.set_grad_enabled(True)
        return a, y.requires_grad, lib.is_grad_enabled()

    same_values(both(go))


def test_grad_mode_decorators():
    def go(lib):
        x = lib.tensor([1.0], requires_grad=True)

        @lib.no_grad()
        def f_no(t):
            return t * 2, lib.is_grad_enabled()

        @lib.no_grad
        def f_bare(t):
            return t * 2, lib.is_grad_enabled()

        @lib.enable_grad()
        def f_en(t):
            return t * 2, lib.is_grad_enabled()

        @lib.set_grad_enabled(False)
        def f_set(t):
            return t * 2, lib.is_grad_enabled()

        after_decorating = lib.is_grad_enabled()
        out = []
        for f in (f_no, f_bare, f_en, f_set):
            y, mode = f(x)
            out.append((y.requires_grad, mode, lib.is_grad_enabled()))
        with lib.no_grad():
            y, mode = f_en(x)
            out.append((y.requires_grad, mode, lib.is_grad_enabled()))
        return after_decorating, out, f_no.__name__, f_set.__name__

    same_values(both(go))


def test_decorated_function_reentrant_and_returns_value():
    def go(lib):
        @lib.no_grad()
        def inner(n):
            return [lib.is_grad_enabled()] + (inner(n - 1) if n else [])

        return inner(3), lib.is_grad_enabled()

    same_values(both(go))


def test_backward_inside_no_grad_still_computes_grads():
    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        with lib.no_grad():
            y.backward()
        return x.grad, x.grad.requires_grad

    same_values(both(go))


def test_autograd_grad_of_graph_built_in_no_grad():
    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.no_grad():
            y = (x * x).sum()
        lib.autograd.grad(y, x)

    expect_same_error(go)


# ---- grad_fn names and next_functions ----

NAMED = {
    "2 - x": (lambda lib, x, y: 2 - x, "RsubBackward1"),
    "x - 2": (lambda lib, x, y: x - 2, "SubBackward0"),
    "x - y": (lambda lib, x, y: x - y, "SubBackward0"),
    "rsub(x, y)": (lambda lib, x, y: lib.rsub(x, y), "RsubBackward0"),
    "rsub(x, 2)": (lambda lib, x, y: lib.rsub(x, 2), "RsubBackward1"),
    "2 / x": (lambda lib, x, y: 2 / x, "MulBackward0"),
    "x / 2": (lambda lib, x, y: x / 2, "DivBackward0"),
    "x / y": (lambda lib, x, y: x / y, "DivBackward0"),
    "x ** 2": (lambda lib, x, y: x ** 2, "PowBackward0"),
    "x ** y": (lambda lib, x, y: x ** y, "PowBackward1"),
    "2 ** x": (lambda lib, x, y: 2 ** x, "PowBackward2"),
    "x + 2": (lambda lib, x, y: x + 2, "AddBackward0"),
    "2 + x": (lambda lib, x, y: 2 + x, "AddBackward0"),
    "x + y": (lambda lib, x, y: x + y, "AddBackward0"),
    "add alpha": (lambda lib, x, y: x.add(y, alpha=3), "AddBackward0"),
    "x * y": (lambda lib, x, y: x * y, "MulBackward0"),
    "2 * x": (lambda lib, x, y: 2 * x, "MulBackward0"),
    "-x": (lambda lib, x, y: -x, "NegBackward0"),
    "exp": (lambda lib, x, y: x.exp(), "ExpBackward0"),
    "log": (lambda lib, x, y: x.log(), "LogBackward0"),
    "sin": (lambda lib, x, y: x.sin(), "SinBackward0"),
    "cos": (lambda lib, x, y: x.cos(), "CosBackward0"),
    "tanh": (lambda lib, x, y: x.tanh(), "TanhBackward0"),
    "sigmoid": (lambda lib, x, y: x.sigmoid(), "SigmoidBackward0"),
    "relu": (lambda lib, x, y: x.relu(), "ReluBackward0"),
    "abs": (lambda lib, x, y: x.abs(), "AbsBackward0"),
    "sqrt": (lambda lib, x, y: x.sqrt(), "SqrtBackward0"),
    "reciprocal": (lambda lib, x, y: x.reciprocal(), "ReciprocalBackward0"),
    "sign": (lambda lib, x, y: x.sign(), "SignBackward0"),
    "clamp": (lambda lib, x, y: x.clamp(0.0, 1.0), "ClampBackward1"),
    "clamp min": (lambda lib, x, y: x.clamp(min=0.0), "ClampBackward1"),
    "clamp max": (lambda lib, x, y: x.clamp(max=1.0), "ClampBackward1"),
    "clip": (lambda lib, x, y: x.clip(0.0, 1.0), "ClampBackward1"),
    "sum": (lambda lib, x, y: x.sum(), "SumBackward0"),
    "mean": (lambda lib, x, y: x.mean(), "MeanBackward0"),
    "expand": (lambda lib, x, y: x.expand(3, 2), "ExpandBackward0"),
    "expand_as": (lambda lib, x, y: x.expand_as(lib.zeros(4, 2)), "ExpandBackward0"),
    "clone": (lambda lib, x, y: x.clone(), "CloneBackward0"),
    "to float64": (lambda lib, x, y: x.to(lib.float64), "ToCopyBackward0"),
    "double": (lambda lib, x, y: x.double(), "ToCopyBackward0"),
    "detach * x": (lambda lib, x, y: x.detach() * x, "MulBackward0"),
    "x * 0-dim": (lambda lib, x, y: x * lib.tensor(2.0), "MulBackward0"),
    "x32 + y64": (lambda lib, x, y: x + y.double(), "AddBackward0"),
    "x + y * x": (lambda lib, x, y: x + y * x, "AddBackward0"),
    "sum(dtype)": (lambda lib, x, y: x.sum(dtype=lib.float64), "SumBackward0"),
    "sin(x ** 2)": (lambda lib, x, y: (x ** 2).sin(), "SinBackward0"),
}


@pytest.mark.parametrize("case", sorted(NAMED))
def test_grad_fn_name_and_next_functions(case):
    fn, expected = NAMED[case]

    def go(lib):
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        y = lib.tensor([2.0, 3.0], requires_grad=True)
        out = fn(lib, x, y)
        return out.grad_fn.name(), signature(out.grad_fn), out.is_leaf, out.requires_grad

    res = both(go)
    assert res["torch"][0] == expected
    assert res["tapegrad"] == res["torch"]


def test_two_over_x_has_reciprocal_below_mul():
    x = tapegrad.tensor([0.5, 1.5], requires_grad=True)
    fn = (2 / x).grad_fn
    assert fn.name() == "MulBackward0"
    (child, idx), (none, nidx) = fn.next_functions
    assert child.name() == "ReciprocalBackward0" and idx == 0
    assert none is None and nidx == 0
    assert child.next_functions[0][0].variable is x


def test_accumulate_grad_node_identity_and_variable():
    def go(lib):
        x = lib.tensor([1.0], requires_grad=True)
        a = (x * 2).grad_fn.next_functions[0][0]
        b = (x.exp()).grad_fn.next_functions[0][0]
        y = x * 3
        return (a.name(), a is b, a.variable is x, a.next_functions, y.grad_fn is y.grad_fn,
                x.grad_fn is None)

    same_values(both(go))


def test_next_functions_of_non_leaf_and_no_grad_inputs():
    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        c = lib.tensor([3.0, 4.0])
        h = x.exp()
        out = (h * c + h.sin()) / c
        return signature(out.grad_fn)

    res = both(go)
    assert res["tapegrad"] == res["torch"]


@pytest.mark.parametrize("case", ["leaf_rg", "leaf_plain", "op_on_rg", "op_on_plain", "int_leaf",
                                  "created_in_no_grad", "detached", "mixed_inputs", "expand_plain"])
def test_is_leaf_and_requires_grad_of_results(case):
    builders = {
        "leaf_rg": lambda lib: lib.tensor([1.0], requires_grad=True),
        "leaf_plain": lambda lib: lib.tensor([1.0]),
        "op_on_rg": lambda lib: lib.tensor([1.0], requires_grad=True).exp(),
        "op_on_plain": lambda lib: lib.tensor([1.0]).exp(),
        "int_leaf": lambda lib: lib.tensor([1]) + 1,
        "created_in_no_grad": lambda lib: _in_no_grad(lib, lambda: lib.ones(2, requires_grad=True)),
        "detached": lambda lib: (lib.tensor([1.0], requires_grad=True) * 2).detach(),
        "mixed_inputs": lambda lib: lib.tensor([1.0]) * lib.tensor([2.0], requires_grad=True),
        "expand_plain": lambda lib: lib.tensor([1.0]).expand(3),
    }

    def go(lib):
        t = builders[case](lib)
        return t.is_leaf, t.requires_grad, t.grad_fn is None

    same_values(both(go))


# ---- gradient flow through shared subgraphs ----

def test_same_leaf_through_several_paths():
    run_both(lambda lib, x: x * x.exp() + x.sin() * x - x / (x + 2.0) + x, np.array([0.3, -0.8, 1.7]),
             dtype="float64")


def test_diamond_graph():
    def f(lib, x, w):
        a = x * w
        b = a.exp()
        c = a.sin()
        d = b * c + a
        return d.sum() * a.mean()

    rng = np.random.default_rng(0)
    run_both(f, rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, (4,)), dtype="float64")


def test_diamond_with_intermediate_used_many_times():
    def f(lib, x):
        h = x.tanh()
        total = h
        for _ in range(20):
            total = total + h * h
        return total

    run_both(f, np.array([0.1, 0.5, -0.7]), dtype="float64")


CRASH_CANARIES = {
    "mul_leading_one": ("x = tg.ones(4, requires_grad=True); (x * tg.ones(1, 4)).sum().backward()",
                        "[1.0, 1.0, 1.0, 1.0]"),
    "expand_leading_one": ("x = tg.ones(4, requires_grad=True); x.expand(1, 4).sum().backward()",
                           "[1.0, 1.0, 1.0, 1.0]"),
    "scalar_to_1x1": ("x = tg.tensor(2.0, requires_grad=True); (x + tg.ones(1, 1)).backward(tg.ones(1, 1))", "1.0"),
}


@pytest.mark.parametrize("case", sorted(CRASH_CANARIES))
def test_broadcast_backward_dropping_leading_ones_does_not_kill_interpreter(case):
    """Runs in a subprocess so that a crash shows as a failure here (the in-process tests would abort the run)."""
    snippet, expected = CRASH_CANARIES[case]
    env = dict(os.environ, PYTHONPATH=package_root())
    r = subprocess.run([sys.executable, "-c", f"import tapegrad as tg; {snippet}; print(x.grad.tolist())"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"interpreter died with exit code {r.returncode}: {r.stderr[-300:]}"
    assert r.stdout.strip() == expected


def test_long_chain_backward_does_not_crash():
    n = 10 ** 6
    x = tapegrad.tensor([1.5, -2.0], requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0
    assert y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_long_chain_autograd_grad_with_scaling():
    n = 10 ** 5
    x = tapegrad.tensor(0.0, dtype=tapegrad.float64, requires_grad=True)
    y = x
    for _ in range(n):
        y = y + x * 1e-5
    (g,) = tapegrad.autograd.grad(y, x)
    assert g.item() == pytest.approx(1.0 + n * 1e-5, rel=1e-12)


def test_long_chain_freed_without_backward_does_not_crash():
    x = tapegrad.tensor([1.0], requires_grad=True)
    for _ in range(2):
        y = x
        for _ in range(10 ** 6):
            y = y.neg()
        del y
        gc.collect()
    # The engine is still usable afterwards.
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0]


def test_long_chain_freed_after_backward_and_intermediates_kept():
    x = tapegrad.tensor([2.0], requires_grad=True)
    y = x
    keep = []
    for i in range(10 ** 5):
        y = y * 1.0
        if i % 10000 == 0:
            keep.append(y)
    y.backward(tapegrad.ones(1))
    del y
    keep.clear()
    assert x.grad.tolist() == [1.0]


# ---- autograd.grad vs torch ----

def test_autograd_grad_multiple_inputs_and_does_not_touch_grad():
    def go(lib):
        x = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
        w = lib.tensor([[1.0], [-1.0]], requires_grad=True)
        out = (x * w).exp()
        gx, gw = lib.autograd.grad(out, (x, w), lib.ones(2, 3) * 0.5)
        return gx, gw, x.grad is None, w.grad is None

    same_values(both(go))


def test_autograd_grad_multiple_outputs_with_grad_outputs():
    def go(lib):
        x = lib.tensor([0.5, 1.0], requires_grad=True)
        y = lib.tensor([2.0, -1.0], requires_grad=True)
        o1, o2 = x * y, (x + y).sin()
        return lib.autograd.grad([o1, o2], [x, y], [lib.tensor([1.0, 2.0]), lib.tensor([-1.0, 0.5])])

    same_values(both(go))


def test_autograd_grad_wrt_intermediate_and_output_itself():
    def go(lib):
        x = lib.tensor([0.5, 1.0], requires_grad=True)
        h = x * 3
        out = (h * h).sum()
        (gh,) = lib.autograd.grad(out, h, retain_graph=True)
        (gx,) = lib.autograd.grad(out, x, retain_graph=True)
        (gself,) = lib.autograd.grad(h, h, lib.ones(2))
        (gleaf,) = lib.autograd.grad(x, x, lib.tensor([2.0, 3.0]))
        return gh, gx, gself, gleaf

    same_values(both(go))


def test_autograd_grad_unused_inputs():
    def unused(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        z = lib.tensor([1.0, 2.0], requires_grad=True)
        return lib.autograd.grad((x * 2).sum(), [x, z])

    expect_same_error(unused)

    def allowed(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        z = lib.tensor([1.0, 2.0], requires_grad=True)
        gx, gz = lib.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
        return gx, gz is None

    same_values(both(allowed))


def test_autograd_grad_input_not_requiring_grad():
    expect_same_error(lambda lib: lib.autograd.grad((lib.tensor([1.0], requires_grad=True) * 2).sum(),
                                                    [lib.tensor([1.0])]))


def test_autograd_grad_empty_inputs():
    expect_same_error(lambda lib: lib.autograd.grad((lib.tensor([1.0], requires_grad=True) * 2).sum(), []))


def test_autograd_grad_never_writes_leaf_grad():
    for inputs in ([], "x", "h"):
        x = tapegrad.tensor([1.0, 2.0], requires_grad=True)
        w = tapegrad.tensor([3.0, 4.0], requires_grad=True)
        h = x * w
        try:
            tapegrad.autograd.grad((h * x).sum(), [] if inputs == [] else [x if inputs == "x" else h])
        except RuntimeError:
            pass
        assert x.grad is None and w.grad is None, f"inputs={inputs!r}: .grad was written"


def test_autograd_grad_create_graph_result_requires_grad():
    def go(lib):
        x = lib.tensor([0.5, 1.0], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad((x ** 3).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        return g.requires_grad, g.is_leaf, g, h

    same_values(both(go))


def test_autograd_backward_function():
    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.tensor([3.0, 4.0], requires_grad=True)
        lib.autograd.backward([(x * y).sum(), (x * x)], [None, lib.tensor([1.0, -1.0])])
        lib.autograd.backward((y.exp()).sum())
        return x.grad, y.grad

    same_values(both(go))


def test_backward_on_leaf_itself():
    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.backward(lib.tensor([3.0, 4.0]))
        s = lib.tensor(2.0, requires_grad=True)
        s.backward()
        return x.grad, s.grad

    same_values(both(go))


def test_backward_with_create_graph_false_gives_plain_grad():
    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x ** 3).sum().backward()
        return x.grad, x.grad.requires_grad, x.grad.grad_fn is None, x.grad.is_leaf

    same_values(both(go))


# ---- .grad getter/setter ----

def test_grad_identity_is_stable():
    x = tapegrad.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    g = x.grad
    assert x.grad is x.grad
    assert x.grad is g
    (x * 3).sum().backward()  # accumulation happens in place, as in torch
    assert x.grad is g
    assert g.tolist() == [5.0, 7.0]


def test_grad_accumulates_in_place_like_torch():
    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        g = x.grad
        (x * 3).sum().backward()
        return x.grad is g, g

    same_values(both(go))


def test_grad_zero_and_none_reset():
    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        x.grad.zero_()
        (x * 3).sum().backward()
        a = x.grad.clone()
        x.grad = None
        (x * 5).sum().backward()
        return a, x.grad

    same_values(both(go))


def test_grad_setter_accepts_tensor_and_backward_accumulates_into_it():
    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        g = lib.tensor([10.0, 20.0])
        x.grad = g
        same = x.grad is g
        (x * 2).sum().backward()
        return same, x.grad, g

    same_values(both(go))


@pytest.mark.parametrize("value", [3, 1.5, [1.0, 2.0], np.ones(2, dtype=np.float32), "grad"],
                         ids=["int", "float", "list", "ndarray", "str"])
def test_grad_setter_wrong_type(value):
    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.grad = value

    _, terr = capture(go, torch)
    assert isinstance(terr, TypeError)
    expect_same_error(go)


@pytest.mark.parametrize("shape", [(3,), (), (1, 2), (2, 1)], ids=str)
def test_grad_setter_wrong_shape(shape):
    expect_same_error(lambda lib: setattr(lib.tensor([1.0, 2.0], requires_grad=True), "grad", lib.ones(shape)))


@pytest.mark.parametrize("pair", [("float32", "float64"), ("float64", "float32"), ("float32", "int64"),
                                  ("float64", "bool"), ("int64", "float32")], ids=str)
def test_grad_setter_wrong_dtype(pair):
    own, given = pair

    def go(lib):
        x = lib.tensor([1, 2], dtype=getattr(lib, own))
        x.grad = lib.ones(2, dtype=getattr(lib, given))

    expect_same_error(go)


def test_grad_setter_own_tensor():
    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.grad = x

    expect_same_error(go)


def test_grad_setter_on_non_leaf_and_plain_tensor():
    def go(lib):
        p = lib.tensor([1.0, 2.0])
        p.grad = lib.ones(2)
        q = lib.tensor([1, 2])
        q.grad = lib.tensor([3, 4])
        return p.grad, q.grad

    same_values(both(go))


def test_grad_deleter():
    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        del x.grad
        return x.grad is None

    same_values(both(go))


def test_non_leaf_grad_access_warns_like_torch():
    def go(lib):
        y = lib.tensor([1.0], requires_grad=True) * 2
        y.sum().backward()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            g = y.grad
        # torch appends the C++ source location it warned from; that part is not API.
        return g is None, [(w.category.__name__, str(w.message).split(" (Triggered internally at")[0]) for w in caught]

    res = both(go)
    assert res["torch"][1], "torch warns on non-leaf .grad access"
    assert res["tapegrad"] == res["torch"]


def test_grad_of_plain_leaf_stays_none():
    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        c = lib.tensor([3.0, 4.0])
        (x * c).sum().backward()
        return c.grad is None, x.grad

    same_values(both(go))


def test_requires_grad_setter_on_leaf_roundtrip():
    def go(lib):
        x = lib.tensor([1.0, 2.0])
        x.requires_grad = True
        a = (x * 2).requires_grad
        x.requires_grad = False
        b = (x * 2).requires_grad
        r = x.requires_grad_()
        return a, b, r is x, x.requires_grad

    same_values(both(go))


def test_error_message_texts_match_torch_literally():
    """Guards the oracle: if torch's wording changes, these literal texts must be revisited."""
    for fn, msg in [
        (lambda lib: lib.tensor([1.0]).sum().backward(), NO_GRAD_MSG),
        (lambda lib: (lib.tensor([1.0, 2.0], requires_grad=True) * 2).backward(), SCALAR_MSG),
    ]:
        with pytest.raises(RuntimeError, match=r"\A" + re.escape(msg) + r"\Z"):
            fn(tapegrad)
        with pytest.raises(RuntimeError, match=r"\A" + re.escape(msg) + r"\Z"):
            fn(torch)
