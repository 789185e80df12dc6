# tapegrad.nn.init vs torch.nn.init: gains, fans and errors exactly; the random fills by their distributions
# (the two libraries' random streams differ, so values are never compared one to one).
import math

import numpy as np
import pytest

import tapegrad
import tapegrad.nn  # noqa: F401  (tapegrad.nn is a subpackage; make sure it is loaded)
import torch
from conftest import expect_same_error

# Samples per statistical check; the tolerances below sit at >= 6 standard errors of each estimate.
N = 100_000


@pytest.mark.parametrize("args", [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",), ("selu",),
                                  ("leaky_relu",), ("leaky_relu", 0.2), ("leaky_relu", 1)])
def test_calculate_gain_matches_torch(args):
    assert tapegrad.nn.init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)


@pytest.mark.parametrize("args", [("leaky_relu", True), ("leaky_relu", "0.1"), ("softmax",)])
def test_calculate_gain_errors_match_torch(args):
    expect_same_error(lambda lib: lib.nn.init.calculate_gain(*args))


@pytest.mark.parametrize("shape", [(3, 5), (4, 3, 5), (6, 2, 3, 3), (0, 4)])
def test_fans_match_torch(shape):
    ours = tapegrad.nn.init._calculate_fan_in_and_fan_out(tapegrad.empty(shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


@pytest.mark.parametrize("fn", [
    lambda lib: lib.nn.init._calculate_fan_in_and_fan_out(lib.empty(5)),
    lambda lib: lib.nn.init.xavier_uniform_(lib.empty(5)),
    lambda lib: lib.nn.init.kaiming_normal_(lib.empty(5)),
    lambda lib: lib.nn.init.kaiming_uniform_(lib.empty(3, 4), mode="fan_avg"),
    lambda lib: lib.nn.init.eye_(lib.empty(2, 2, 2)),
])
def test_init_errors_match_torch(fn):
    expect_same_error(fn)


def _stats(fill, shape=(N // 100, 100), dtype="float32"):
    t = tapegrad.empty(shape, dtype=getattr(tapegrad, dtype))
    assert fill(t) is t  # initialisers work in place and return their argument
    return t.numpy().astype(np.float64)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_uniform_and_normal(dtype):
    u = _stats(lambda t: tapegrad.nn.init.uniform_(t, -2.0, 3.0), dtype=dtype)
    assert u.min() >= -2.0 and u.max() <= 3.0 and u.min() < -1.99 and u.max() > 2.99
    assert abs(u.mean() - 0.5) < 0.03 and abs(u.std() / (5 / math.sqrt(12)) - 1) < 0.01
    d = _stats(lambda t: tapegrad.nn.init.uniform_(t), dtype=dtype)
    assert d.min() >= 0 and d.max() <= 1
    n = _stats(lambda t: tapegrad.nn.init.normal_(t, mean=1.5, std=0.5), dtype=dtype)
    assert abs(n.mean() - 1.5) < 0.01 and abs(n.std() / 0.5 - 1) < 0.015


@pytest.mark.parametrize("shape", [(400, 250), (100, 50, 5, 5)])
def test_xavier(shape):
    fan_in, fan_out = tapegrad.nn.init._calculate_fan_in_and_fan_out(tapegrad.empty(shape))
    std = 1.5 * math.sqrt(2.0 / (fan_in + fan_out))
    u = _stats(lambda t: tapegrad.nn.init.xavier_uniform_(t, gain=1.5), shape)
    assert np.abs(u).max() <= math.sqrt(3) * std and abs(u.std() / std - 1) < 0.03
    n = _stats(lambda t: tapegrad.nn.init.xavier_normal_(t, gain=1.5), shape)
    assert abs(n.std() / std - 1) < 0.03 and abs(n.mean()) < 0.03 * std


@pytest.mark.parametrize("kwargs", [{}, {"a": math.sqrt(5)}, {"mode": "fan_out", "nonlinearity": "relu"},
                                    {"nonlinearity": "tanh"}, {"mode": "FAN_IN", "a": 0.2}])
def test_kaiming(kwargs):
    shape = (250, 400)
    fan = 250 if kwargs.get("mode") == "fan_out" else 400
    gain = tapegrad.nn.init.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0))
    std = gain / math.sqrt(fan)
    u = _stats(lambda t: tapegrad.nn.init.kaiming_uniform_(t, **kwargs), shape)
    assert np.abs(u).max() <= math.sqrt(3) * std and np.abs(u).max() > 0.99 * math.sqrt(3) * std
    assert abs(u.std() / std - 1) < 0.03
    n = _stats(lambda t: tapegrad.nn.init.kaiming_normal_(t, **kwargs), shape)
    assert abs(n.std() / std - 1) < 0.03 and abs(n.mean()) < 0.03 * std


def test_trunc_normal():
    t = _stats(lambda x: tapegrad.nn.init.trunc_normal_(x))
    assert t.min() >= -2 and t.max() <= 2 and abs(t.mean()) < 0.02
    assert abs(t.std() / 0.87962 - 1) < 0.015  # the std of N(0, 1) truncated to [-2, 2]
    s = _stats(lambda x: tapegrad.nn.init.trunc_normal_(x, mean=1.0, std=0.5, a=0.5, b=3.0))
    assert s.min() >= 0.5 and s.max() <= 3.0
    ref = torch.nn.init.trunc_normal_(torch.empty(N), mean=1.0, std=0.5, a=0.5, b=3.0).numpy()
    assert abs(s.mean() - ref.mean()) < 0.01 and abs(s.std() / ref.std() - 1) < 0.02
    for lib in (tapegrad, torch):
        with pytest.warns(UserWarning, match="mean is more than 2 std from"):
            lib.nn.init.trunc_normal_(lib.empty(10), mean=5.0, a=-1.0, b=1.0)


def test_generator_makes_fills_reproducible():
    init = tapegrad.nn.init
    fills = [lambda t, g: init.uniform_(t, generator=g), lambda t, g: init.normal_(t, generator=g),
             lambda t, g: init.xavier_uniform_(t, generator=g), lambda t, g: init.xavier_normal_(t, generator=g),
             lambda t, g: init.kaiming_uniform_(t, generator=g), lambda t, g: init.kaiming_normal_(t, generator=g),
             lambda t, g: init.trunc_normal_(t, generator=g)]
    for fill in fills:
        a, b, c = (fill(tapegrad.empty(4, 5), tapegrad.Generator().manual_seed(s)).numpy() for s in (7, 7, 8))
        assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_deterministic_fills_on_parameters():
    init = tapegrad.nn.init
    p = tapegrad.nn.Parameter(tapegrad.empty(3, 4))
    for fill, expected in [(lambda t: init.constant_(t, 0.25), np.full((3, 4), 0.25)),
                           (init.ones_, np.ones((3, 4))), (init.zeros_, np.zeros((3, 4))), (init.eye_, np.eye(3, 4))]:
        assert fill(p) is p
        np.testing.assert_array_equal(p.detach().numpy(), expected)
        assert p.is_leaf and p.requires_grad and p.grad_fn is None  # filled under no_grad: still a leaf
    init.normal_(p)
    assert p.is_leaf and p.requires_grad


def test_zero_element_tensors_warn_like_torch():
    for lib in (tapegrad, torch):
        for fill in (lib.nn.init.kaiming_uniform_, lib.nn.init.kaiming_normal_):
            with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
                fill(lib.empty(0, 3))
