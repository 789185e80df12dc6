# tapegrad.optim vs torch.optim: 100-step parameter trajectories and state for every optimizer over a grid of
# options, param groups, zero_grad, closures, state_dict format and round trips, error texts, repr,
# learning-rate schedulers and their warnings.
import copy
import importlib
import math
import re
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tapegrad
import tapegrad.optim  # noqa: F401  (binds tapegrad.optim, so lib.optim works for both libraries)
from conftest import LIBS, dname, expect_same_error, make, to_numpy

STEPS = 100
# float32 differs from torch by rounding only (torch fuses addcmul/addcdiv/lerp and uses FMA); the problem
# below is chosen so those ULPs are not amplified over 100 steps. float64 must agree almost exactly.
TOLS = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-11, atol=1e-12)}

SGD_CASES = [
    {},
    dict(lr=0.05),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.5),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.05, maximize=True),
    dict(lr=0.02, momentum=0.8, nesterov=True, weight_decay=0.05, maximize=True),
]
ADAM_CASES = [
    {},
    dict(lr=0.01),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.01, betas=(0.3, 0.5)),  # 1 - beta1 > 0.5 takes lerp's other branch
    dict(lr=0.01, maximize=True),
    dict(lr=0.005, amsgrad=True, weight_decay=0.1, maximize=True),
]
RMSPROP_CASES = [
    {},
    dict(lr=1e-3),
    dict(centered=True),
    dict(momentum=0.9),
    dict(centered=True, momentum=0.9),
    dict(weight_decay=0.1),
    dict(alpha=0.9, maximize=True),
    dict(centered=True, alpha=0.3),
    dict(centered=True, maximize=True),
    dict(centered=True, momentum=0.5, weight_decay=0.05),
    dict(alpha=0.9, momentum=0.5, weight_decay=0.05, maximize=True),
]
ADAGRAD_CASES = [
    {},
    dict(lr=0.1),
    dict(lr=0.1, lr_decay=0.01),
    dict(lr=0.1, initial_accumulator_value=0.1),
    dict(lr=0.1, weight_decay=0.1),
    dict(lr=0.1, maximize=True),
    dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.5, weight_decay=0.05, maximize=True, eps=1e-6),
]
GRID = ([("SGD", k) for k in SGD_CASES] + [("Adam", k) for k in ADAM_CASES] + [("AdamW", k) for k in ADAM_CASES]
        + [("RMSprop", k) for k in RMSPROP_CASES] + [("Adagrad", k) for k in ADAGRAD_CASES])
# One representative configuration per optimizer, with every state entry it can create.
FULL_STATE = [("SGD", dict(lr=0.05, momentum=0.9)), ("Adam", dict(lr=0.01, amsgrad=True)),
              ("AdamW", dict(lr=0.01, amsgrad=True)), ("RMSprop", dict(centered=True, momentum=0.9)),
              ("Adagrad", dict(lr=0.1, lr_decay=0.01))]


def case_id(case):
    name, kwargs = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


def problem(lib, dtype="float32", seed=0):
    """Data x and two leaf parameters [w, v], started away from zero and from the optimum.

    Far from the optimum every optimizer is still descending after 100 steps, so float32 rounding
    differences stay rounding-sized instead of being amplified by oscillation around a minimum.
    """
    rng = np.random.default_rng(seed)
    sign = lambda shape: rng.choice([-1.0, 1.0], size=shape)  # noqa: E731
    x = make(lib, rng.standard_normal((5, 4)) * 0.1, dtype)
    w = make(lib, sign((4, 3)) * rng.uniform(2, 4, (4, 3)), dtype, requires_grad=True)
    v = make(lib, sign(3) * rng.uniform(3, 5, 3), dtype, requires_grad=True)
    return x, [w, v]


def loss_fn(x, params):
    w, v = params
    return ((x @ w).tanh() * v).sum() + 0.5 * ((w * w).sum() + (v * v).sum())


def train(opt, x, params, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(x, params).backward()
        opt.step()


def run(lib, name, kwargs, dtype="float32", steps=STEPS):
    """(params, optimizer) after `steps` updates; foreach=False pins torch to the single-tensor algorithm."""
    x, params = problem(lib, dtype)
    opt = getattr(lib.optim, name)(params, foreach=False, **kwargs)
    train(opt, x, params, steps)
    return params, opt


def assert_close(ours, theirs, what, **tol):
    assert dname(ours.dtype) == dname(theirs.dtype), f"{what}: dtype {ours.dtype} != {theirs.dtype}"
    assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: shape"
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), err_msg=what, **(tol or TOLS[dname(theirs.dtype)]))


def assert_state_matches(opt, topt, params, tparams, **tol):
    """Same keys (in torch's order) and values for every parameter's state."""
    for i, (p, tp) in enumerate(zip(params, tparams)):
        ours, theirs = opt.state.get(p, {}), topt.state.get(tp, {})
        assert list(ours) == list(theirs), f"param {i}: state keys {list(ours)} != {list(theirs)}"
        for key, value in theirs.items():
            assert_close(ours[key], value, f"param {i} state[{key!r}]", **tol)


def to_tapegrad(value):
    """A torch tensor (or a container of them) as tapegrad, for feeding torch's state dicts to tapegrad."""
    if isinstance(value, torch.Tensor):
        return make(tapegrad, value.numpy(), dname(value.dtype))
    if isinstance(value, dict):
        return {k: to_tapegrad(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_tapegrad(v) for v in value]
    return value


def plain(group):
    """A param group without its tensors, for comparing group dicts across libraries."""
    return {k: v for k, v in group.items() if k != "params"}


# ---------------------------------------------------------------------------------------------------------
# Update rules


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", GRID, ids=case_id)
def test_trajectory_matches_torch(case, dtype):
    name, kwargs = case
    params, opt = run(tapegrad, name, kwargs, dtype)
    tparams, topt = run(torch, name, kwargs, dtype)
    for i, (p, tp) in enumerate(zip(params, tparams)):
        assert_close(p, tp, f"param {i} after {STEPS} steps")
        assert p.is_leaf and p.requires_grad and p.grad_fn is None
    assert_state_matches(opt, topt, params, tparams)


@pytest.mark.parametrize("case", FULL_STATE, ids=case_id)
def test_step_counter_is_a_float_tensor(case):
    name, kwargs = case
    _, opt = run(tapegrad, name, kwargs, steps=3)
    for state in opt.state.values():
        if "step" in state:
            step = state["step"]
            assert isinstance(step, tapegrad.Tensor) and step.shape == () and step.dtype == tapegrad.float32
            assert step.item() == 3.0


def test_step_dtype_follows_float64_default():
    for lib in LIBS:
        lib.set_default_dtype(lib.float64)
    _, opt = run(tapegrad, "Adam", {}, "float64", steps=2)
    _, topt = run(torch, "Adam", {}, "float64", steps=2)
    ours = [s["step"].dtype for s in opt.state.values()]
    assert [dname(d) for d in ours] == [dname(s["step"].dtype) for s in topt.state.values()] == ["float64"] * 2


settings_kw = dict(max_examples=25, deadline=None)


@settings(**settings_kw)
@given(lr=st.floats(1e-4, 0.1), beta1=st.floats(0.0, 0.99), beta2=st.floats(0.5, 0.9999),
       amsgrad=st.booleans(), decoupled=st.booleans(), weight_decay=st.sampled_from([0.0, 0.1]))
def test_adam_hyperparameters_match_torch(lr, beta1, beta2, amsgrad, decoupled, weight_decay):
    name = "AdamW" if decoupled else "Adam"
    kwargs = dict(lr=lr, betas=(beta1, beta2), amsgrad=amsgrad, weight_decay=weight_decay)
    params, _ = run(tapegrad, name, kwargs, "float64", steps=30)
    tparams, _ = run(torch, name, kwargs, "float64", steps=30)
    for p, tp in zip(params, tparams):
        assert_close(p, tp, "param", rtol=1e-9, atol=1e-11)


@settings(**settings_kw)
@given(lr=st.floats(1e-4, 0.2), momentum=st.floats(0.0, 0.95), dampening=st.floats(0.0, 1.0),
       nesterov=st.booleans(), weight_decay=st.floats(0.0, 0.5), maximize=st.booleans())
def test_sgd_hyperparameters_match_torch(lr, momentum, dampening, nesterov, weight_decay, maximize):
    if nesterov:  # the only legal Nesterov setting: some momentum, no dampening
        momentum, dampening = max(momentum, 0.1), 0.0
    kwargs = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=weight_decay,
                  maximize=maximize)
    params, _ = run(tapegrad, "SGD", kwargs, "float64", steps=30)
    tparams, _ = run(torch, "SGD", kwargs, "float64", steps=30)
    for p, tp in zip(params, tparams):
        assert_close(p, tp, "param", rtol=1e-9, atol=1e-11)


@settings(**settings_kw)
@given(lr=st.floats(1e-4, 0.02), alpha=st.floats(0.5, 0.999), momentum=st.sampled_from([0.0, 0.5, 0.9]),
       eps=st.sampled_from([1e-8, 1e-4]))
def test_rmsprop_hyperparameters_match_torch(lr, alpha, momentum, eps):
    kwargs = dict(lr=lr, alpha=alpha, momentum=momentum, eps=eps)
    params, _ = run(tapegrad, "RMSprop", kwargs, "float64", steps=30)
    tparams, _ = run(torch, "RMSprop", kwargs, "float64", steps=30)
    for p, tp in zip(params, tparams):
        assert_close(p, tp, "param", rtol=1e-9, atol=1e-11)


@settings(**settings_kw)
@given(lr=st.floats(1e-3, 0.5), lr_decay=st.floats(0.0, 0.1), init=st.floats(0.0, 1.0))
def test_adagrad_hyperparameters_match_torch(lr, lr_decay, init):
    kwargs = dict(lr=lr, lr_decay=lr_decay, initial_accumulator_value=init)
    params, _ = run(tapegrad, "Adagrad", kwargs, "float64", steps=30)
    tparams, _ = run(torch, "Adagrad", kwargs, "float64", steps=30)
    for p, tp in zip(params, tparams):
        assert_close(p, tp, "param", rtol=1e-9, atol=1e-11)


# ---------------------------------------------------------------------------------------------------------
# Param groups, zero_grad, closures, grad mode


def grouped(lib, name, dtype="float32"):
    x, (w, v) = problem(lib, dtype)
    groups = [{"params": [w], "lr": 0.02}, {"params": [v]}]
    if name == "SGD":
        groups[0]["momentum"] = 0.5
        opt = lib.optim.SGD(groups, lr=0.05, momentum=0.9, foreach=False)
    elif name == "Adam":
        groups[1]["betas"] = (0.8, 0.99)
        opt = lib.optim.Adam(groups, lr=0.01, foreach=False)
    elif name == "RMSprop":
        groups[1]["centered"] = True
        opt = lib.optim.RMSprop(groups, lr=0.005, foreach=False)
    else:
        groups[1]["lr_decay"] = 0.01
        opt = lib.optim.Adagrad(groups, lr=0.1, foreach=False)
    return x, [w, v], opt


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_param_groups_with_their_own_options(name):
    x, params, opt = grouped(tapegrad, name)
    tx, tparams, topt = grouped(torch, name)
    assert [plain(g) for g in opt.param_groups] == [plain(g) for g in topt.param_groups]
    train(opt, x, params, STEPS)
    train(topt, tx, tparams, STEPS)
    for i, (p, tp) in enumerate(zip(params, tparams)):
        assert_close(p, tp, f"param {i}")
    assert_state_matches(opt, topt, params, tparams)


@pytest.mark.parametrize("name", ["SGD", "Adagrad"])
def test_add_param_group_during_training(name):
    """The new group takes the constructor's defaults for what it leaves out; Adagrad creates its state lazily."""
    results = []
    for lib in LIBS:
        x, (w, v) = problem(lib)
        opt = getattr(lib.optim, name)([w], lr=0.05, foreach=False)
        train(opt, x, [w, v], 10)
        opt.add_param_group({"params": v, "lr": 0.01})
        train(opt, x, [w, v], 20)
        results.append((opt, [w, v]))
    (opt, params), (topt, tparams) = results
    assert [plain(g) for g in opt.param_groups] == [plain(g) for g in topt.param_groups]
    for i, (p, tp) in enumerate(zip(params, tparams)):
        assert_close(p, tp, f"param {i}")
    assert_state_matches(opt, topt, params, tparams)


def test_parameters_without_grad_are_skipped_and_get_no_state():
    for name, kwargs in FULL_STATE:
        results = []
        for lib in LIBS:
            x, (w, v) = problem(lib)
            unused = lib.ones(2, requires_grad=True)
            opt = getattr(lib.optim, name)([w, unused, v], **kwargs)
            train(opt, x, [w, v], 3)
            results.append((opt, [w, unused, v]))
        (opt, params), (topt, tparams) = results
        assert np.array_equal(to_numpy(params[1]), np.ones(2))
        assert_state_matches(opt, topt, params, tparams)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    outcome = []
    for lib in LIBS:
        x, params = problem(lib)
        opt = lib.optim.SGD(params, lr=0.1)
        loss_fn(x, params).backward()
        grads = [p.grad for p in params]
        opt.zero_grad(set_to_none=set_to_none)
        outcome.append([None if p.grad is None else (p.grad is g, to_numpy(p.grad).tolist(), p.grad.requires_grad)
                        for p, g in zip(params, grads)])
    assert outcome[0] == outcome[1]
    if not set_to_none:
        assert all(same for same, _, _ in outcome[0])  # zeroed in place, the same tensors


def test_zero_grad_default_sets_none_and_skips_missing_grads():
    p = tapegrad.ones(3, requires_grad=True)
    q = tapegrad.ones(3, requires_grad=True)
    opt = tapegrad.optim.Adam([p, q])
    (p * 2).sum().backward()
    opt.zero_grad()
    assert p.grad is None and q.grad is None


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")
def test_zero_grad_detaches_a_grad_that_has_a_graph():
    outcome = []
    for lib in LIBS:
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        (p * p).sum().backward(create_graph=True)
        assert p.grad.grad_fn is not None
        lib.optim.SGD([p]).zero_grad(set_to_none=False)
        outcome.append((p.grad.grad_fn is None, p.grad.requires_grad, to_numpy(p.grad).tolist()))
    assert outcome[0] == outcome[1] == (True, False, [0.0, 0.0])


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_closure_runs_with_grad_and_returns_its_loss(name):
    results = []
    for lib in LIBS:
        x, params = problem(lib)
        opt = getattr(lib.optim, name)(params, lr=0.01)
        calls = []

        def closure():
            opt.zero_grad()
            loss = loss_fn(x, params)
            loss.backward()
            calls.append(loss)
            return loss

        losses = []
        for i in range(20):
            if i % 2:  # torch re-enables grad for the closure even inside no_grad
                with lib.no_grad():
                    losses.append(opt.step(closure))
            else:
                losses.append(opt.step(closure))
            assert losses[-1] is calls[-1]
        assert lib.is_grad_enabled()
        results.append(([float(t.detach()) for t in losses], params))
    (losses, params), (tlosses, tparams) = results
    np.testing.assert_allclose(losses, tlosses, rtol=1e-5)
    for p, tp in zip(params, tparams):
        assert_close(p, tp, "param")


def test_step_without_closure_returns_none_and_records_nothing():
    x, params = problem(tapegrad)
    opt = tapegrad.optim.Adam(params)
    loss_fn(x, params).backward()
    versions = [p._version for p in params]
    assert opt.step() is None
    assert tapegrad.is_grad_enabled()
    for p, version in zip(params, versions):
        assert p.is_leaf and p.grad_fn is None and p.requires_grad and p._version > version
    for state in opt.state.values():
        assert all(not t.requires_grad for t in state.values())


def test_base_optimizer_step_is_abstract():
    for lib in LIBS:
        with pytest.raises(NotImplementedError):
            lib.optim.Optimizer([lib.ones(2, requires_grad=True)], {"lr": 0.1}).step()


def test_custom_optimizer_on_the_base_class():
    """The base class is usable the way torch's is: defaults, param groups, state, own step()."""

    class SignSGD(tapegrad.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        @tapegrad.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    self.state[p]["n"] = self.state[p].get("n", 0) + 1
                    p.sub_(p.grad.sign() * group["lr"])

    p = tapegrad.tensor([1.0, -2.0], requires_grad=True)
    opt = SignSGD([p])
    (p * p).sum().backward()
    opt.step()
    assert to_numpy(p).tolist() == pytest.approx([0.9, -1.9])
    assert opt.state_dict() == {"state": {0: {"n": 1}}, "param_groups": [{"lr": 0.1, "params": [0]}]}


# ---------------------------------------------------------------------------------------------------------
# state_dict


@pytest.mark.parametrize("case", FULL_STATE + [("Adagrad", {}), ("SGD", {})], ids=case_id)
def test_state_dict_structure_matches_torch(case):
    name, kwargs = case
    for steps in (0, 3):
        _, opt = run(tapegrad, name, kwargs, steps=steps)
        _, topt = run(torch, name, kwargs, steps=steps)
        sd, tsd = opt.state_dict(), topt.state_dict()
        assert list(sd) == list(tsd) == ["state", "param_groups"]
        assert sd["param_groups"] == tsd["param_groups"]
        assert list(sd["state"]) == list(tsd["state"])
        for index, tstate in tsd["state"].items():
            assert list(sd["state"][index]) == list(tstate)
            for key, value in tstate.items():
                assert_close(sd["state"][index][key], value, f"state[{index}][{key!r}]")


def test_state_dict_indices_run_across_groups_and_hold_live_state():
    x, (w, v) = problem(tapegrad)
    opt = tapegrad.optim.SGD([{"params": [w]}, {"params": [v], "lr": 0.5}], lr=0.1, momentum=0.9)
    train(opt, x, [w, v], 2)
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["state"][1]["momentum_buffer"] is opt.state[v]["momentum_buffer"]  # as torch: no copies


def test_named_parameters_are_recorded_like_torch():
    groups = []
    for lib in LIBS:
        _, (w, v) = problem(lib)
        opt = lib.optim.SGD([("w", w), ("v", v)], lr=0.1)
        groups.append(opt.state_dict()["param_groups"])
    assert groups[0] == groups[1]


@pytest.mark.parametrize("case", FULL_STATE + [("Adam", dict(lr=0.01, weight_decay=0.1)),
                                               ("RMSprop", dict(lr=0.005))], ids=case_id)
def test_state_dict_round_trip_continues_exactly(case):
    name, kwargs = case
    x, params = problem(tapegrad)
    opt = getattr(tapegrad.optim, name)(params, **kwargs)
    train(opt, x, params, 30)
    saved = copy.deepcopy(opt.state_dict())
    resumed = [p.detach().clone().requires_grad_(True) for p in params]
    opt2 = getattr(tapegrad.optim, name)(resumed, **kwargs)
    opt2.load_state_dict(saved)
    train(opt, x, params, 30)
    train(opt2, x, resumed, 30)
    for p, q in zip(params, resumed):
        np.testing.assert_array_equal(to_numpy(q), to_numpy(p))
    assert opt2.state_dict()["param_groups"] == opt.state_dict()["param_groups"]


def test_load_state_dict_restores_hyperparameters_and_casts_state():
    x, params = problem(tapegrad, "float64")
    opt = tapegrad.optim.Adam(params, lr=0.01)
    train(opt, x, params, 3)
    sd = copy.deepcopy(opt.state_dict())
    sd["param_groups"][0]["lr"] = 0.5
    target = [p.detach().float().requires_grad_(True) for p in params]
    opt2 = tapegrad.optim.Adam(target, lr=0.01)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.5 and opt2.param_groups[0]["params"][0] is target[0]
    state = opt2.state[target[0]]
    assert state["exp_avg"].dtype == tapegrad.float32  # follows the parameter
    assert state["step"].dtype == tapegrad.float32 and state["step"].item() == 3.0  # kept as saved


@pytest.mark.parametrize("case", FULL_STATE, ids=case_id)
def test_loads_a_state_dict_saved_by_torch(case):
    """The formats are the same: torch's saved state (as tapegrad tensors) resumes to torch's result."""
    name, kwargs = case
    tparams, topt = run(torch, name, kwargs, steps=20)
    tsd = to_tapegrad(topt.state_dict())
    params = [make(tapegrad, tp.detach().numpy(), "float32", requires_grad=True) for tp in tparams]
    opt = getattr(tapegrad.optim, name)(params, **kwargs)
    opt.load_state_dict(tsd)
    x, _ = problem(tapegrad)
    tx, _ = problem(torch)
    train(opt, x, params, 20)
    train(topt, tx, tparams, 20)
    for p, tp in zip(params, tparams):
        assert_close(p, tp, "param")


def test_load_state_dict_errors_match_torch():
    def groups_mismatch(lib):
        _, (w, v) = problem(lib)
        sd = lib.optim.SGD([w, v]).state_dict()
        lib.optim.SGD([{"params": [w]}, {"params": [v]}]).load_state_dict(sd)

    def size_mismatch(lib):
        _, (w, v) = problem(lib)
        sd = lib.optim.SGD([w, v]).state_dict()
        lib.optim.SGD([w]).load_state_dict(sd)

    expect_same_error(groups_mismatch)
    expect_same_error(size_mismatch)


# ---------------------------------------------------------------------------------------------------------
# Construction errors, warnings, repr


def param(lib):
    return lib.ones(3, requires_grad=True)


BAD_ARGUMENTS = [
    ("SGD", dict(lr=-1.0)), ("SGD", dict(momentum=-0.5)), ("SGD", dict(weight_decay=-1e-3)),
    ("SGD", dict(nesterov=True)), ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1)),
    ("Adam", dict(lr=-1.0)), ("Adam", dict(eps=-1e-8)), ("Adam", dict(betas=(1.0, 0.999))),
    ("Adam", dict(betas=(0.9, -0.1))), ("Adam", dict(weight_decay=-1.0)), ("Adam", dict(betas=(0.9, 1))),
    ("AdamW", dict(lr=-0.1)), ("AdamW", dict(betas=(-0.5, 0.999))), ("AdamW", dict(weight_decay=-0.01)),
    ("RMSprop", dict(lr=-1.0)), ("RMSprop", dict(eps=-1.0)), ("RMSprop", dict(momentum=-1.0)),
    ("RMSprop", dict(weight_decay=-1.0)), ("RMSprop", dict(alpha=-0.5)),
    ("Adagrad", dict(lr=-1.0)), ("Adagrad", dict(lr_decay=-1.0)), ("Adagrad", dict(weight_decay=-1.0)),
    ("Adagrad", dict(initial_accumulator_value=-1.0)), ("Adagrad", dict(eps=-1.0)),
]


@pytest.mark.parametrize("case", BAD_ARGUMENTS, ids=case_id)
def test_bad_hyperparameters_raise_like_torch(case):
    name, kwargs = case
    expect_same_error(lambda lib: getattr(lib.optim, name)([param(lib)], **kwargs))


BAD_PARAMS = {
    "empty": lambda lib: lib.optim.SGD([]),
    "empty generator": lambda lib: lib.optim.Adam(p for p in []),
    "a tensor": lambda lib: lib.optim.SGD(param(lib)),
    "a float64 tensor": lambda lib: lib.optim.Adam(lib.ones(2, dtype=lib.float64)),
    "non-leaf": lambda lib: lib.optim.SGD([param(lib) * 2]),
    "not a tensor": lambda lib: lib.optim.SGD([param(lib), 1.5]),
    "a set": lambda lib: lib.optim.SGD([{"params": {param(lib)}}]),
    "shared across groups": lambda lib: (lambda p: lib.optim.SGD([{"params": [p]}, {"params": [p]}]))(param(lib)),
    "group not a dict": lambda lib: lib.optim.SGD([param(lib)]).add_param_group([param(lib)]),
    "added twice": lambda lib: (lambda p: lib.optim.SGD([p]).add_param_group({"params": p}))(param(lib)),
    "names mixed": lambda lib: lib.optim.SGD([("a", param(lib)), param(lib)]),
    "names across groups": lambda lib: lib.optim.SGD([{"params": [("a", param(lib))]}, {"params": [param(lib)]}]),
}


@pytest.mark.parametrize("name", list(BAD_PARAMS))
def test_bad_params_raise_like_torch(name):
    expect_same_error(BAD_PARAMS[name])


def test_required_hyperparameter_missing_from_a_group():
    def make_opt(lib):
        p = param(lib)
        required = importlib.import_module(lib.__name__ + ".optim.optimizer").required
        lib.optim.Optimizer([{"params": [p]}], {"lr": required})

    expect_same_error(make_opt)


def captured_warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [(w.category, str(w.message)) for w in caught]


def test_duplicate_parameters_in_a_group_warn_like_torch():
    msgs = [captured_warnings(lambda lib=lib: (lambda p: lib.optim.SGD([p, p]))(param(lib))) for lib in LIBS]
    assert msgs[0] == msgs[1] and len(msgs[0]) == 1 and msgs[0][0][0] is UserWarning


@pytest.mark.parametrize("case", [("SGD", {}), ("Adam", {}), ("AdamW", dict(amsgrad=True)), ("RMSprop", {}),
                                  ("Adagrad", dict(lr_decay=0.1))], ids=case_id)
def test_repr_matches_torch(case):
    name, kwargs = case
    reprs = []
    for lib in LIBS:
        p, q = param(lib), param(lib)
        reprs.append(repr(getattr(lib.optim, name)([{"params": [p]}, {"params": [q], "lr": 0.5}], **kwargs)))
    assert reprs[0] == reprs[1]


@pytest.mark.parametrize("kwargs", [dict(fused=True), dict(differentiable=True)])
def test_unsupported_modes_refuse_loudly(kwargs):
    with pytest.raises(NotImplementedError, match=next(iter(kwargs))):
        tapegrad.optim.Adam([param(tapegrad)], **kwargs)


# ---------------------------------------------------------------------------------------------------------
# Learning-rate schedulers

SCHEDULERS = [
    ("StepLR", dict(step_size=3)),
    ("StepLR", dict(step_size=4, gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),  # 40 epochs: several half-periods up and down
    ("LambdaLR", dict(lr_lambda=lambda epoch: 0.95**epoch)),
    ("LambdaLR", dict(lr_lambda=[lambda epoch: 1 / (epoch + 1), lambda epoch: 0.5 * (epoch % 5)])),
]


def scheduled(lib, name, kwargs, epochs=40, momentum=0.0):
    """[(get_last_lr(), group lrs)] after construction and after each epoch; the optimizer steps first."""
    p, q = param(lib), param(lib)
    opt = lib.optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.3}], lr=0.1, momentum=momentum)
    sched = getattr(lib.optim.lr_scheduler, name)(opt, **kwargs)
    seen = [(list(sched.get_last_lr()), [g["lr"] for g in opt.param_groups])]
    for _ in range(epochs):
        opt.step()
        sched.step()
        seen.append((list(sched.get_last_lr()), [g["lr"] for g in opt.param_groups]))
    return seen, opt, sched


@pytest.mark.parametrize("case", SCHEDULERS, ids=case_id)
def test_scheduler_lrs_equal_torch(case):
    name, kwargs = case
    seen, opt, sched = scheduled(tapegrad, name, kwargs)
    tseen, topt, tsched = scheduled(torch, name, kwargs)
    assert seen == tseen  # exact: the same float formulas in the same order
    assert sched.last_epoch == tsched.last_epoch == 40
    assert sched.base_lrs == tsched.base_lrs == [0.1, 0.3]
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.3]


@pytest.mark.parametrize("case", SCHEDULERS, ids=case_id)
def test_scheduler_state_dict_matches_torch_and_resumes(case):
    name, kwargs = case
    _, _, sched = scheduled(tapegrad, name, kwargs, epochs=12)
    _, _, tsched = scheduled(torch, name, kwargs, epochs=12)
    sd, tsd = sched.state_dict(), tsched.state_dict()
    assert sd == tsd  # same keys (never the optimizer) and values; lambdas are saved as None

    full, _, _ = scheduled(tapegrad, name, kwargs, epochs=30)
    # Resume torch's way: fresh optimizer and scheduler, then both load_state_dicts.
    _, opt, sched = scheduled(tapegrad, name, kwargs, epochs=12)
    opt_sd = copy.deepcopy(opt.state_dict())
    _, opt2, sched2 = scheduled(tapegrad, name, kwargs, epochs=0)
    sched2.load_state_dict(copy.deepcopy(sd))
    opt2.load_state_dict(opt_sd)
    resumed = []
    for _ in range(18):
        opt2.step()
        sched2.step()
        resumed.append(list(sched2.get_last_lr()))
    assert resumed == [lr for lr, _ in full[13:]]


def test_lambda_lr_saves_callable_objects_state():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate**epoch

    sds = []
    for lib in LIBS:
        opt = lib.optim.SGD([param(lib)], lr=1.0)
        sched = lib.optim.lr_scheduler.LambdaLR(opt, Decay(0.5))
        sds.append(sched.state_dict())
    assert sds[0] == sds[1] and sds[0]["lr_lambdas"] == [{"rate": 0.5}]
    fresh = tapegrad.optim.lr_scheduler.LambdaLR(tapegrad.optim.SGD([param(tapegrad)], lr=1.0), Decay(0.9))
    fresh.load_state_dict(sds[0])
    assert fresh.lr_lambdas[0].rate == 0.5 and "lr_lambdas" in sds[0]


def test_lambda_lr_needs_one_lambda_per_group():
    expect_same_error(lambda lib: lib.optim.lr_scheduler.LambdaLR(
        lib.optim.SGD([param(lib)]), [lambda e: 1.0, lambda e: 2.0]))


def test_scheduler_needs_an_optimizer():
    expect_same_error(lambda lib: lib.optim.lr_scheduler.StepLR(object(), 3))


def test_resuming_with_last_epoch_needs_initial_lr():
    expect_same_error(lambda lib: lib.optim.lr_scheduler.StepLR(lib.optim.SGD([param(lib)]), 3, last_epoch=5))


@pytest.mark.parametrize("name", ["StepLR", "ExponentialLR", "CosineAnnealingLR"])
def test_scheduler_with_last_epoch_resumes_like_torch(name):
    kwargs = {"StepLR": dict(step_size=3), "ExponentialLR": dict(gamma=0.8), "CosineAnnealingLR": dict(T_max=6)}
    seqs = []
    for lib in LIBS:
        opt = lib.optim.SGD([param(lib)], lr=0.2)
        for g in opt.param_groups:
            g["initial_lr"] = 0.4
        sched = getattr(lib.optim.lr_scheduler, name)(opt, last_epoch=4, **kwargs[name])
        seq = [sched.get_last_lr()[0]]
        for _ in range(10):
            opt.step()
            sched.step()
            seq.append(sched.get_last_lr()[0])
        seqs.append(seq)
    assert seqs[0] == seqs[1]


def test_scheduler_drives_training_like_torch():
    results = []
    for lib in LIBS:
        x, params = problem(lib)
        opt = lib.optim.SGD(params, lr=0.1, momentum=0.9)
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=30)
        for _ in range(30):
            train(opt, x, params, 1)
            sched.step()
        results.append(params)
    for p, tp in zip(*results):
        assert_close(p, tp, "param")


def test_scheduler_step_before_optimizer_step_warns_like_torch():
    def misuse(lib):
        opt = lib.optim.SGD([param(lib)], lr=0.1)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2)
        sched.step()
        opt.step()
        sched.step()

    ours, theirs = (captured_warnings(lambda lib=lib: misuse(lib)) for lib in LIBS)
    assert ours == theirs and len(ours) == 1 and ours[0][0] is UserWarning
    assert ours[0][1].startswith("Detected call of `lr_scheduler.step()` before `optimizer.step()`.")
    with pytest.warns(UserWarning, match=re.escape(theirs[0][1])):
        misuse(tapegrad)


def test_scheduler_after_optimizer_step_does_not_warn():
    for lib in LIBS:  # filterwarnings=error turns any warning into a failure here
        scheduled(lib, "StepLR", dict(step_size=2), epochs=3)


def test_overridden_optimizer_step_warns_like_torch():
    def override(lib):
        opt = lib.optim.SGD([param(lib)], lr=0.1)
        sched = lib.optim.lr_scheduler.ExponentialLR(opt, 0.5)
        opt.step = lambda closure=None: None
        opt.step()
        sched.step()

    ours, theirs = (captured_warnings(lambda lib=lib: override(lib)) for lib in LIBS)
    assert ours == theirs and len(ours) == 1


def test_get_lr_outside_step_warns_like_torch():
    def call_get_lr(lib):
        opt = lib.optim.SGD([param(lib)], lr=0.1)
        return lib.optim.lr_scheduler.StepLR(opt, 2).get_lr()

    msgs = [captured_warnings(lambda lib=lib: call_get_lr(lib)) for lib in LIBS]
    assert msgs[0] == msgs[1] and len(msgs[0]) == 1


@pytest.mark.parametrize("case", SCHEDULERS[:5], ids=case_id)
def test_step_with_epoch_uses_the_closed_form_and_warns(case):
    name, kwargs = case
    seqs, msgs = [], []
    for lib in LIBS:
        opt = lib.optim.SGD([param(lib)], lr=0.1)
        sched = getattr(lib.optim.lr_scheduler, name)(opt, **kwargs)

        def jump(sched=sched, opt=opt):
            for epoch in (5, 9, 2, 17):
                opt.step()
                sched.step(epoch)
                seqs.append(sched.get_last_lr()[0])

        msgs.append(captured_warnings(jump))
    assert seqs[:4] == seqs[4:]
    assert msgs[0] == msgs[1] and len(msgs[0]) == 4
    assert math.isfinite(seqs[0])


def test_scheduler_names_are_exposed():
    for name in ("LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR"):
        assert hasattr(tapegrad.optim.lr_scheduler, name)
    for name in ("Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad"):
        assert hasattr(tapegrad.optim, name)
