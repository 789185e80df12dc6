# tapegrad.nn layers vs torch.nn: outputs and every gradient with torch's weights copied in, default-init
# distributions, dropout statistics, running statistics, losses and reprs.
import math

import numpy as np
import pytest

import tapegrad
import tapegrad.nn  # noqa: F401  (tapegrad.nn is a subpackage; make sure it is loaded)
import torch
from conftest import assert_tensor_equal, expect_same_error

# Layers chain several ops whose float32 rounding differs from torch's by a few ULP each.
TOL = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-12)}


def to_ours(t):
    return tapegrad.from_numpy(t.detach().numpy().copy())


def pair(make, dtype="float32", randomize=False):
    """The same layer in both libraries with torch's (optionally randomised) state copied into ours."""
    ours, theirs = make(tapegrad), make(torch)
    if randomize:  # ones/zeros defaults would hide a weight or bias used the wrong way round
        with torch.no_grad():
            for p in theirs.parameters():
                p.copy_(torch.randn_like(p))
    ours.load_state_dict({k: to_ours(v) for k, v in theirs.state_dict().items()})
    return ours.to(getattr(tapegrad, dtype)), theirs.to(getattr(torch, dtype))


def inputs(arrays, dtype, lib):
    """Float arrays become float `dtype` leaves that require grad; integer arrays stay int64 indices."""
    out = []
    for a in arrays:
        if np.issubdtype(a.dtype, np.integer):
            out.append(lib.from_numpy(a.astype(np.int64)) if lib is tapegrad else torch.from_numpy(a.astype(np.int64)))
        else:
            t = lib.tensor(a.tolist(), dtype=getattr(lib, dtype))
            out.append(t.requires_grad_(True))
    return out


def check_layer(make, *arrays, dtype="float32", randomize=False, train=True, steps=1, seed=0):
    """Forward (steps times), backward of (out * r).sum(), compare outputs, input/parameter grads, buffers."""
    ours, theirs = pair(make, dtype, randomize)
    ours.train(train)
    theirs.train(train)
    tol = TOL[dtype]
    for step in range(steps):
        ours.zero_grad()
        theirs.zero_grad()
        xs_o, xs_t = inputs(arrays, dtype, tapegrad), inputs(arrays, dtype, torch)
        out_o, out_t = ours(*xs_o), theirs(*xs_t)
        assert_tensor_equal(out_o, out_t, what=f"output (step {step})", **tol)
        if out_t.requires_grad:
            r = np.random.default_rng(seed + step).standard_normal(tuple(out_t.shape))
            (out_o * tapegrad.tensor(r.tolist(), dtype=out_o.dtype)).sum().backward()
            (out_t * torch.tensor(r.tolist(), dtype=out_t.dtype)).sum().backward()
            for i, (xo, xt) in enumerate(zip(xs_o, xs_t)):
                if xt.grad is not None:
                    assert_tensor_equal(xo.grad, xt.grad, what=f"grad of input {i}", **tol)
            for (name, po), (_, pt) in zip(ours.named_parameters(), theirs.named_parameters()):
                assert (po.grad is None) == (pt.grad is None), name
                if pt.grad is not None:
                    assert_tensor_equal(po.grad, pt.grad, what=f"grad of {name}", **tol)
    for (name, bo), (_, bt) in zip(ours.named_buffers(), theirs.named_buffers()):
        assert_tensor_equal(bo, bt, what=f"buffer {name}", **tol)
    return ours, theirs


def rand(*shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


DTYPES = ["float32", "float64"]


# ---------------------------------------------------------------- Linear, activations, shapes


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make, shape", [
    (lambda lib: lib.nn.Linear(3, 4), (5, 3)),
    (lambda lib: lib.nn.Linear(3, 4, bias=False), (2, 5, 3)),
    (lambda lib: lib.nn.Linear(3, 2), (3,)),
    (lambda lib: lib.nn.Linear(6, 2), (2, 2, 3, 6)),
])
def test_linear_matches_torch(make, shape, dtype):
    check_layer(make, rand(*shape), dtype=dtype)


ACTIVATIONS = [
    lambda lib: lib.nn.ReLU(),
    lambda lib: lib.nn.LeakyReLU(0.2),
    lambda lib: lib.nn.LeakyReLU(),
    lambda lib: lib.nn.Sigmoid(),
    lambda lib: lib.nn.Tanh(),
    lambda lib: lib.nn.GELU(),
    lambda lib: lib.nn.GELU(approximate="tanh"),
    lambda lib: lib.nn.SiLU(),
    lambda lib: lib.nn.ELU(),
    lambda lib: lib.nn.ELU(alpha=0.7),
    lambda lib: lib.nn.Softplus(),
    lambda lib: lib.nn.Softplus(beta=2.0, threshold=3.0),
    lambda lib: lib.nn.Softmax(dim=1),
    lambda lib: lib.nn.Softmax(dim=-1),
    lambda lib: lib.nn.LogSoftmax(dim=1),
    lambda lib: lib.nn.LogSoftmax(dim=0),
    lambda lib: lib.nn.Identity(54, unused="ignored"),
    lambda lib: lib.nn.Flatten(),
    lambda lib: lib.nn.Flatten(0, 1),
    lambda lib: lib.nn.Unflatten(1, (2, 2)),
    lambda lib: lib.nn.Unflatten(-1, (1, 5)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make", ACTIVATIONS)
def test_parameter_free_layers_match_torch(make, dtype):
    check_layer(make, rand(3, 4, 5, scale=3.0), dtype=dtype)


@pytest.mark.parametrize("make", [lambda lib: lib.nn.ReLU(inplace=True), lambda lib: lib.nn.LeakyReLU(0.1, True),
                                  lambda lib: lib.nn.SiLU(inplace=True), lambda lib: lib.nn.ELU(0.5, True)])
def test_inplace_activations_write_their_input(make):
    def run(lib):
        x = lib.tensor(rand(4, 3, scale=2.0).tolist(), dtype=lib.float64, requires_grad=True)
        h = x * 1.0  # in-place on a non-leaf, as inside a network
        out = make(lib)(h)
        assert out is h
        (out * out).sum().backward()
        return out, x.grad, h

    (o, g, h), (to, tg, _) = run(tapegrad), run(torch)
    assert_tensor_equal(o, to, **TOL["float64"])
    assert_tensor_equal(h, to, what="the input itself", **TOL["float64"])
    assert_tensor_equal(g, tg, what="grad", **TOL["float64"])


def test_softmax_without_dim_warns_like_torch():
    for lib in (tapegrad, torch):
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated"):
            out = lib.nn.Softmax()(lib.ones(2, 3))
        np.testing.assert_allclose(out.numpy(), np.full((2, 3), 1 / 3), rtol=1e-6)


# ---------------------------------------------------------------- Embedding, LayerNorm, BatchNorm1d


INDICES = np.array([[0, 2, 1, 4], [4, 4, 3, 1]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make", [lambda lib: lib.nn.Embedding(5, 3), lambda lib: lib.nn.Embedding(5, 3, padding_idx=1),
                                  lambda lib: lib.nn.Embedding(5, 3, padding_idx=-1)])
def test_embedding_matches_torch(make, dtype):
    ours, _ = check_layer(make, INDICES, dtype=dtype)
    if ours.padding_idx is not None:
        assert not ours.weight.grad[ours.padding_idx].numpy().any()  # the padding row gets no gradient


def test_embedding_init_padding_and_from_pretrained():
    emb = tapegrad.nn.Embedding(10, 4, padding_idx=-3)
    assert emb.padding_idx == 7 and not emb.weight[7].detach().numpy().any()
    weights = tapegrad.randn(3, 2)
    frozen = tapegrad.nn.Embedding.from_pretrained(weights)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen.weight.detach().numpy(), weights.numpy())
    assert tapegrad.nn.Embedding.from_pretrained(weights, freeze=False).weight.requires_grad
    expect_same_error(lambda lib: lib.nn.Embedding(3, 2, padding_idx=3))
    expect_same_error(lambda lib: lib.nn.Embedding(3, 2, padding_idx=-4))
    expect_same_error(lambda lib: lib.nn.Embedding(3, 2, _weight=lib.zeros(2, 2)))
    expect_same_error(lambda lib: lib.nn.Embedding.from_pretrained(lib.zeros(3)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make, shape", [
    (lambda lib: lib.nn.LayerNorm(5), (3, 4, 5)),
    (lambda lib: lib.nn.LayerNorm([4, 5]), (3, 4, 5)),
    (lambda lib: lib.nn.LayerNorm(5, bias=False), (2, 5)),
    (lambda lib: lib.nn.LayerNorm(5, eps=1e-2, elementwise_affine=False), (3, 5)),
])
def test_layer_norm_matches_torch(make, shape, dtype):
    check_layer(make, rand(*shape, scale=2.0) + 1.0, dtype=dtype, randomize=True)


BATCHNORMS = [
    lambda lib: lib.nn.BatchNorm1d(4),
    lambda lib: lib.nn.BatchNorm1d(4, momentum=None),
    lambda lib: lib.nn.BatchNorm1d(4, momentum=0.3, eps=1e-3),
    lambda lib: lib.nn.BatchNorm1d(4, affine=False),
    lambda lib: lib.nn.BatchNorm1d(4, track_running_stats=False),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5)])
@pytest.mark.parametrize("make", BATCHNORMS)
def test_batch_norm_training_then_eval_matches_torch(make, shape, dtype):
    ours, theirs = check_layer(make, rand(*shape, scale=3.0) + 2.0, dtype=dtype, randomize=True, steps=3)
    if ours.track_running_stats:
        assert int(ours.num_batches_tracked) == 3 and ours.num_batches_tracked.dtype == tapegrad.int64
    # Eval: the running estimates (or, untracked, the batch statistics) with the trained state.
    for lib, module in ((tapegrad, ours), (torch, theirs)):
        module.eval()
    x = rand(*shape, seed=9)
    xo, xt = inputs([x], dtype, tapegrad)[0], inputs([x], dtype, torch)[0]
    assert_tensor_equal(ours(xo), theirs(xt), what="eval output", **TOL[dtype])
    if ours.track_running_stats:
        assert int(ours.num_batches_tracked) == 3  # eval leaves the statistics alone


def test_batch_norm_running_var_is_unbiased():
    bn = tapegrad.nn.BatchNorm1d(2, momentum=1.0)
    x = rand(5, 2, seed=3).astype(np.float32)
    bn(tapegrad.from_numpy(x))
    np.testing.assert_allclose(bn.running_var.numpy(), x.var(axis=0, ddof=1), rtol=1e-5)
    np.testing.assert_allclose(bn.running_mean.numpy(), x.mean(axis=0), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("shape", [(2, 4, 3, 3), (4,)])
def test_batch_norm_rejects_other_ranks(shape):
    expect_same_error(lambda lib: lib.nn.BatchNorm1d(4)(lib.zeros(*shape)))


def test_norm_defaults():
    bn, ln = tapegrad.nn.BatchNorm1d(3), tapegrad.nn.LayerNorm((2, 3))
    for t, value in [(bn.weight, 1), (bn.bias, 0), (bn.running_mean, 0), (bn.running_var, 1), (ln.weight, 1),
                     (ln.bias, 0)]:
        assert np.all(t.detach().numpy() == value)
    assert ln.normalized_shape == (2, 3) and bn.num_batches_tracked.item() == 0
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert tapegrad.nn.BatchNorm1d(3, track_running_stats=False).state_dict().keys() == {"weight", "bias"}


# ---------------------------------------------------------------- Dropout


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_training_statistics_and_gradient(p):
    drop = tapegrad.nn.Dropout(p)
    x = tapegrad.full((200, 500), 2.0, requires_grad=True)
    out = drop(x)
    values = out.detach().numpy()
    kept = values != 0
    assert abs(1 - kept.mean() - p) < 0.01  # 1e5 Bernoulli draws: sd of the mean is < 0.002
    np.testing.assert_allclose(values[kept], 2.0 / (1 - p), rtol=1e-6)
    out.backward(tapegrad.ones(200, 500))
    np.testing.assert_allclose(x.grad.numpy(), kept / (1 - p), rtol=1e-6)
    assert not np.array_equal(kept, drop(x).detach().numpy() != 0)  # a fresh mask each call


def test_dropout_eval_and_edge_probabilities():
    x = tapegrad.randn(4, 5)
    drop = tapegrad.nn.Dropout(0.5).eval()
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())
    np.testing.assert_array_equal(tapegrad.nn.Dropout(0.0)(x).numpy(), x.numpy())
    assert not tapegrad.nn.Dropout(1.0)(x).numpy().any()
    for p in (1.5, -0.1):
        expect_same_error(lambda lib: lib.nn.Dropout(p))


def test_dropout_inplace_writes_input():
    x = tapegrad.ones(100, 100)
    out = tapegrad.nn.Dropout(0.5, inplace=True)(x)
    assert np.array_equal(x.numpy(), out.numpy()) and 0.4 < (x.numpy() == 0).mean() < 0.6


# ---------------------------------------------------------------- losses


_KINDS = {"x": ("float64", True), "t": ("float64", False), "i": ("int64", False)}


def _loss_case(make, *arrays, kinds=None):
    """kinds: per input, 'x' float64 requiring grad (the default), 't' float64 without, 'i' int64 classes."""
    def run(lib):
        specs = [_KINDS[k] for k in (kinds or "x" * len(arrays))]
        xs = [lib.tensor(a.tolist(), dtype=getattr(lib, d), requires_grad=rg) for a, (d, rg) in zip(arrays, specs)]
        out = make(lib)(*xs)
        out.backward(lib.ones_like(out))
        return out, [x.grad for x in xs]

    (oo, og), (to, tg) = run(tapegrad), run(torch)
    assert_tensor_equal(oo, to, **TOL["float64"])
    for i, (a, b) in enumerate(zip(og, tg)):
        assert (a is None) == (b is None)
        if b is not None:
            assert_tensor_equal(a, b, what=f"grad of input {i}", **TOL["float64"])


X, Y = rand(4, 3), rand(4, 3, seed=1)
P, T01 = 1 / (1 + np.exp(-X)), (rand(4, 3, seed=2) > 0).astype(np.float64)
SIGNS = np.where(rand(4, 3, seed=3) > 0, 1.0, -1.0)
LOGITS, CLASSES = rand(5, 4), np.array([0, 3, 1, 1, 2])
W4 = np.array([0.5, 1.0, 2.0, 0.1])


def _w(lib, values):
    return lib.tensor(values.tolist(), dtype=lib.float64)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
# torch warns that KLDivLoss's 'mean' is not the mathematical KL mean; test_kl_div_mean_warns checks we do too.
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning")
@pytest.mark.parametrize("make, arrays, kinds", [
    (lambda lib, r: lib.nn.MSELoss(reduction=r), (X, Y), None),
    (lambda lib, r: lib.nn.L1Loss(reduction=r), (X, Y), None),
    (lambda lib, r: lib.nn.HuberLoss(reduction=r, delta=0.5), (X, Y), None),
    (lambda lib, r: lib.nn.SmoothL1Loss(reduction=r, beta=0.7), (X, Y), None),
    (lambda lib, r: lib.nn.BCELoss(reduction=r), (P, T01), None),
    (lambda lib, r: lib.nn.BCELoss(weight=_w(lib, rand(3, seed=5) ** 2), reduction=r), (P, T01), None),
    (lambda lib, r: lib.nn.BCEWithLogitsLoss(reduction=r), (X, T01), None),
    (lambda lib, r: lib.nn.BCEWithLogitsLoss(weight=_w(lib, rand(4, 1) ** 2), pos_weight=_w(lib, rand(3) ** 2),
                                             reduction=r), (X, T01), None),
    (lambda lib, r: lib.nn.CrossEntropyLoss(reduction=r), (LOGITS, CLASSES), "xi"),
    (lambda lib, r: lib.nn.CrossEntropyLoss(weight=_w(lib, W4), ignore_index=1, label_smoothing=0.1, reduction=r),
     (LOGITS, CLASSES), "xi"),
    (lambda lib, r: lib.nn.NLLLoss(weight=_w(lib, W4), reduction=r), (LOGITS, CLASSES), "xi"),
    (lambda lib, r: lib.nn.NLLLoss(ignore_index=3, reduction=r), (LOGITS, CLASSES), "xi"),
    (lambda lib, r: lib.nn.KLDivLoss(reduction=r), (np.log(P), 1 - P), None),
    (lambda lib, r: lib.nn.KLDivLoss(reduction=r, log_target=True), (np.log(P), np.log(1 - P)), None),
    (lambda lib, r: lib.nn.HingeEmbeddingLoss(margin=0.5, reduction=r), (X, SIGNS), None),
    (lambda lib, r: lib.nn.MarginRankingLoss(margin=0.1, reduction=r), (X[:, 0], Y[:, 0], SIGNS[:, 0]), None),
    (lambda lib, r: lib.nn.SoftMarginLoss(reduction=r), (X, SIGNS), "xt"),
])
def test_loss_modules_match_torch(make, arrays, kinds, reduction):
    _loss_case(lambda lib: make(lib, reduction), *arrays, kinds=kinds)


def test_loss_module_errors_match_torch():
    expect_same_error(lambda lib: lib.nn.SoftMarginLoss()(lib.zeros(3, requires_grad=True),
                                                           lib.ones(3, requires_grad=True)))
    for lib in (tapegrad, torch):
        with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss by both the batch size"):
            lib.nn.KLDivLoss()(lib.zeros(2, 2), lib.ones(2, 2))


def test_loss_module_state_repr_and_legacy_arguments():
    def describe(lib):
        nn = lib.nn
        losses = [nn.CrossEntropyLoss(weight=lib.ones(3)), nn.BCEWithLogitsLoss(pos_weight=lib.ones(2)),
                  nn.NLLLoss(), nn.HuberLoss(delta=2.0), nn.KLDivLoss(reduction="batchmean", log_target=True)]
        return [(repr(m), list(m.state_dict()), m.reduction) for m in losses]

    ours, theirs = describe(tapegrad), describe(torch)
    assert ours == theirs
    for size_average, reduce, expected in [(False, None, "sum"), (None, False, "none"), (True, True, "mean")]:
        for lib in (tapegrad, torch):
            with pytest.warns(UserWarning, match=f"please use reduction='{expected}' instead"):
                assert lib.nn.MSELoss(size_average=size_average, reduce=reduce).reduction == expected
    expect_same_error(lambda lib: lib.nn.HuberLoss(delta="1"))


# ---------------------------------------------------------------- reprs of every layer


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Linear(3, 4), lambda lib: lib.nn.Linear(3, 4, bias=False), lambda lib: lib.nn.Identity(),
    lambda lib: lib.nn.Embedding(5, 3), lambda lib: lib.nn.Embedding(5, 3, padding_idx=-2, norm_type=1.0),
    lambda lib: lib.nn.LayerNorm(4), lambda lib: lib.nn.LayerNorm((2, 3), eps=1e-3, bias=False),
    lambda lib: lib.nn.LayerNorm(4, elementwise_affine=False), lambda lib: lib.nn.BatchNorm1d(3),
    lambda lib: lib.nn.BatchNorm1d(3, momentum=None, affine=False, track_running_stats=False),
    lambda lib: lib.nn.Dropout(), lambda lib: lib.nn.Dropout(0.1, inplace=True), lambda lib: lib.nn.Flatten(0, 2),
    lambda lib: lib.nn.Unflatten(1, (2, 3)), lambda lib: lib.nn.ReLU(inplace=True), lambda lib: lib.nn.LeakyReLU(0.2),
    lambda lib: lib.nn.GELU("tanh"), lambda lib: lib.nn.SiLU(), lambda lib: lib.nn.ELU(0.5, inplace=True),
    lambda lib: lib.nn.Softplus(2, 10), lambda lib: lib.nn.Softmax(1), lambda lib: lib.nn.LogSoftmax(),
    lambda lib: lib.nn.Sigmoid(), lambda lib: lib.nn.Tanh(), lambda lib: lib.nn.MSELoss(),
])
def test_layer_repr_matches_torch(make):
    assert repr(make(tapegrad)) == repr(make(torch))


# ---------------------------------------------------------------- a whole network


@pytest.mark.parametrize("dtype", DTYPES)
def test_mlp_training_step_matches_torch(dtype):
    def make(lib):
        nn = lib.nn
        return nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.GELU(), nn.Dropout(0.3), nn.Linear(8, 8),
                             nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3), nn.LogSoftmax(dim=1))

    ours, theirs = pair(make, dtype, randomize=True)
    ours.eval()[5].train()  # dropout off (random streams differ), batch norm in training mode
    theirs.eval()[5].train()
    x, target = rand(10, 6), np.arange(10) % 3
    losses = []
    for lib, net in ((tapegrad, ours), (torch, theirs)):
        xs = lib.tensor(x.tolist(), dtype=getattr(lib, dtype))
        loss = lib.nn.NLLLoss()(net(xs), lib.tensor(target.tolist()))
        loss.backward()
        losses.append(loss)
    assert_tensor_equal(losses[0], losses[1], **TOL[dtype])
    for (name, po), (_, pt) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_tensor_equal(po.grad, pt.grad, what=f"grad of {name}", **TOL[dtype])
    for (name, bo), (_, bt) in zip(ours.named_buffers(), theirs.named_buffers()):
        assert_tensor_equal(bo, bt, what=name, **TOL[dtype])


# ---------------------------------------------------------------- default initialisation


def test_linear_default_init_bounds_and_spread():
    lin = tapegrad.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.99 * bound  # really U(-bound, bound), not something narrower
    assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.02 and abs(w.mean()) < 0.01 * bound
    assert abs(b.std() / (bound / math.sqrt(3)) - 1) < 0.15
    first, second = (tapegrad.nn.Linear(3, 3).weight.detach().numpy() for _ in range(2))
    assert not np.array_equal(first, second)  # every layer draws its own values


def test_embedding_default_init_is_standard_normal():
    w = tapegrad.nn.Embedding(1000, 100).weight.detach().numpy()
    assert abs(w.mean()) < 0.015 and abs(w.std() - 1) < 0.015
    assert abs((np.abs(w) < 1).mean() - 0.6827) < 0.01  # the normal's 1-sigma mass, not a uniform's
