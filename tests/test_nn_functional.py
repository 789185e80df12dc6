# tapegrad.nn.functional vs torch.nn.functional: the errors (type and exact message), the three losses torch
# lacks against their closed forms, grad_fn names, and second order (gradcheck, gradgradcheck, double backward).
# Values and gradients of the losses: test_losses.py; activations and layers: test_activations.py.
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad
import tapegrad.nn  # noqa: F401
import torch
from conftest import FLOAT_DTYPES, double_backward_both, expect_same_error, make, run_both, to_numpy

TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-10, atol=1e-12)}


def F(lib):
    return lib.nn.functional


def T(lib, arr, dtype="float32", rg=False):
    return make(lib, arr, dtype, rg)


def L(lib, arr):
    return make(lib, arr, "int64")


def quiet(fn):
    """fn with warnings silenced (torch warns about broadcasting targets before it raises)."""
    def run(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(lib)
    return run


X3, X4, P3 = [0.3, -1.2, 0.8], [0.1, 0.2, -0.3, 0.4], [0.2, 0.5, 0.9]
X23 = [[0.1, 0.2, 0.3], [-0.4, 0.5, 0.6]]
X34 = [[0.1, 0.2, 0.3, 0.0], [-0.4, 0.5, 0.6, 1.0], [0.3, -0.2, 0.1, 0.7]]
X234 = [[[0.1 * (i + j + k) for k in range(4)] for j in range(3)] for i in range(2)]

ALL_LOSSES = {
    "mse_loss": lambda lib, **kw: F(lib).mse_loss(T(lib, X3), T(lib, P3), **kw),
    "l1_loss": lambda lib, **kw: F(lib).l1_loss(T(lib, X3), T(lib, P3), **kw),
    "huber_loss": lambda lib, **kw: F(lib).huber_loss(T(lib, X3), T(lib, P3), **kw),
    "smooth_l1_loss": lambda lib, **kw: F(lib).smooth_l1_loss(T(lib, X3), T(lib, P3), **kw),
    "binary_cross_entropy": lambda lib, **kw: F(lib).binary_cross_entropy(T(lib, P3), T(lib, P3), **kw),
    "bce_with_logits": lambda lib, **kw: F(lib).binary_cross_entropy_with_logits(T(lib, X3), T(lib, P3), **kw),
    "cross_entropy": lambda lib, **kw: F(lib).cross_entropy(T(lib, X23), L(lib, [0, 2]), **kw),
    "cross_entropy_prob": lambda lib, **kw: F(lib).cross_entropy(T(lib, X23), T(lib, X23), **kw),
    "nll_loss": lambda lib, **kw: F(lib).nll_loss(T(lib, X23), L(lib, [0, 2]), **kw),
    "kl_div": lambda lib, **kw: F(lib).kl_div(T(lib, X3), T(lib, P3), **kw),
    "hinge_embedding_loss": lambda lib, **kw: F(lib).hinge_embedding_loss(T(lib, X3), T(lib, [1.0, -1.0, 1.0]), **kw),
    "margin_ranking_loss": lambda lib, **kw: F(lib).margin_ranking_loss(T(lib, X3), T(lib, P3), T(lib, [1.0] * 3),
                                                                        **kw),
    "soft_margin_loss": lambda lib, **kw: F(lib).soft_margin_loss(T(lib, X3), T(lib, [1.0, -1.0, 1.0]), **kw),
}

ERRORS = {
    # shape mismatches (torch warns about the target size first; the error is what is compared)
    "mse_shape": quiet(lambda lib: F(lib).mse_loss(T(lib, X3), T(lib, X4))),
    "l1_shape": quiet(lambda lib: F(lib).l1_loss(T(lib, X3), T(lib, X4))),
    "huber_shape": quiet(lambda lib: F(lib).huber_loss(T(lib, X3), T(lib, X4))),
    "smooth_l1_shape": quiet(lambda lib: F(lib).smooth_l1_loss(T(lib, X3), T(lib, X4))),
    "soft_margin_shape": lambda lib: F(lib).soft_margin_loss(T(lib, X3), T(lib, X4)),
    "kl_div_shape": lambda lib: F(lib).kl_div(T(lib, X3), T(lib, X4), reduction="sum"),
    "hinge_shape": lambda lib: F(lib).hinge_embedding_loss(T(lib, X3), T(lib, X4)),
    "margin_ranking_dims": lambda lib: F(lib).margin_ranking_loss(T(lib, X3), T(lib, X3), T(lib, [X3])),
    "bce_size": lambda lib: F(lib).binary_cross_entropy(T(lib, P3), T(lib, [0.1, 0.2, 0.3, 0.4])),
    "bce_size_broadcastable": lambda lib: F(lib).binary_cross_entropy(T(lib, [P3, P3]), T(lib, P3)),
    "bce_logits_size": lambda lib: F(lib).binary_cross_entropy_with_logits(T(lib, X3), T(lib, X4)),
    "ce_3d_target_shape": lambda lib: F(lib).cross_entropy(T(lib, X234), L(lib, [[0, 1, 2], [0, 0, 0]])),
    "nll_2d_target_for_2d_input": lambda lib: F(lib).nll_loss(T(lib, X23), L(lib, [[0], [1]])),
    "nll_0d_input": lambda lib: F(lib).nll_loss(T(lib, 0.5), L(lib, 0)),
    # target dtypes
    "nll_float_target": lambda lib: F(lib).nll_loss(T(lib, X23), T(lib, [0.0, 1.0])),
    "nll_int32_target": lambda lib: F(lib).nll_loss(T(lib, X23), make(lib, [0, 1], "int32")),
    "ce_float_target_wrong_shape": lambda lib: F(lib).cross_entropy(T(lib, X23), T(lib, [0.0, 1.0])),
    "bce_int_target": lambda lib: F(lib).binary_cross_entropy(T(lib, P3, rg=True), L(lib, [1, 0, 1])),
    "bce_logits_int_target": lambda lib: F(lib).binary_cross_entropy_with_logits(T(lib, X3, rg=True),
                                                                                 L(lib, [1, 0, 1])),
    "huber_int_target_backward": lambda lib: F(lib).huber_loss(T(lib, X3, rg=True), L(lib, [1, -1, 0])).backward(),
    "kl_div_int_target": lambda lib: F(lib).kl_div(T(lib, X3, rg=True), L(lib, [1, 0, 1]), reduction="sum"),
    # class indices out of range
    "ce_target_5": lambda lib: F(lib).cross_entropy(T(lib, X23), L(lib, [0, 5])),
    "ce_target_minus_1": lambda lib: F(lib).cross_entropy(T(lib, X23), L(lib, [0, -1])),
    "ce_1d_target_3": lambda lib: F(lib).cross_entropy(T(lib, X3), L(lib, 3)),
    "nll_3d_target_7": lambda lib: F(lib).nll_loss(T(lib, X234), L(lib, [[0, 1, 2, 7], [0, 0, 0, 0]])),
    "nll_target_5": lambda lib: F(lib).nll_loss(T(lib, X23), L(lib, [5, 0])),
    # batch sizes
    "nll_batch": lambda lib: F(lib).nll_loss(T(lib, X34), L(lib, [0, 1])),
    "ce_batch": lambda lib: F(lib).cross_entropy(T(lib, X34), L(lib, [0, 1])),
    # weights
    "nll_weight_size": lambda lib: F(lib).nll_loss(T(lib, X23), L(lib, [0, 1]), weight=T(lib, X4)),
    "ce_weight_size": lambda lib: F(lib).cross_entropy(T(lib, X23), L(lib, [0, 1]), weight=T(lib, X4)),
    "ce_prob_weight_size": lambda lib: F(lib).cross_entropy(T(lib, X23), T(lib, X23), weight=T(lib, X4)),
    # arguments
    "ce_label_smoothing_1.5": lambda lib: F(lib).cross_entropy(T(lib, X23), L(lib, [0, 1]), label_smoothing=1.5),
    "ce_prob_label_smoothing_1.5": lambda lib: F(lib).cross_entropy(T(lib, X23), T(lib, X23), label_smoothing=1.5),
    "huber_delta_0": lambda lib: F(lib).huber_loss(T(lib, X3), T(lib, P3), delta=0.0),
    "huber_delta_negative": lambda lib: F(lib).huber_loss(T(lib, X3), T(lib, P3), delta=-1.0),
    "smooth_l1_beta_negative": lambda lib: F(lib).smooth_l1_loss(T(lib, X3), T(lib, P3), beta=-1.0),
    "bce_input_above_1": lambda lib: F(lib).binary_cross_entropy(T(lib, [0.5, 1.5]), T(lib, [0.0, 1.0])),
    "bce_input_below_0": lambda lib: F(lib).binary_cross_entropy(T(lib, [-0.5, 0.5]), T(lib, [0.0, 1.0])),
    # inputs torch does not differentiate
    "soft_margin_target_requires_grad": lambda lib: F(lib).soft_margin_loss(T(lib, X3, rg=True), T(lib, P3, rg=True)),
    "bce_weight_requires_grad": lambda lib: F(lib).binary_cross_entropy(T(lib, P3, rg=True), T(lib, P3),
                                                                        weight=T(lib, P3, rg=True)),
    "bce_logits_weight_requires_grad": lambda lib: F(lib).binary_cross_entropy_with_logits(
        T(lib, X3, rg=True), T(lib, P3), weight=T(lib, P3, rg=True)),
    "bce_logits_pos_weight_requires_grad": lambda lib: F(lib).binary_cross_entropy_with_logits(
        T(lib, X3, rg=True), T(lib, P3), pos_weight=T(lib, P3, rg=True)),
    "nll_weight_requires_grad": lambda lib: F(lib).nll_loss(T(lib, X23, rg=True), L(lib, [0, 1]),
                                                            weight=T(lib, P3, rg=True)),
    # activations and layers
    "gelu_approximate": lambda lib: F(lib).gelu(T(lib, X3), approximate="foo"),
    "dropout_p": lambda lib: F(lib).dropout(T(lib, X3), p=1.5),
    "dropout_p_negative": lambda lib: F(lib).dropout(T(lib, X3), p=-0.1),
    "relu_inplace_on_leaf": lambda lib: F(lib).relu(T(lib, X3, rg=True), inplace=True),
    "elu_inplace_on_leaf": lambda lib: F(lib).elu(T(lib, X3, rg=True), inplace=True),
    "embedding_index_5": lambda lib: F(lib).embedding(L(lib, [0, 5]), T(lib, X34 + [X4])),
    "embedding_index_negative": lambda lib: F(lib).embedding(L(lib, [0, -1]), T(lib, X34 + [X4])),
    "embedding_padding_idx": lambda lib: F(lib).embedding(L(lib, [0, 1]), T(lib, X34), padding_idx=3),
    "layer_norm_shape": lambda lib: F(lib).layer_norm(T(lib, X23), (4,)),
    "batch_norm_one_value_per_channel": lambda lib: F(lib).batch_norm(T(lib, [X3]), T(lib, [0.0] * 3),
                                                                      T(lib, [1.0] * 3), training=True),
    "linear_shape": lambda lib: F(lib).linear(T(lib, X23), T(lib, [X4, X4])),
}
ERRORS.update({f"{name}_reduction_avg": (lambda f: lambda lib: f(lib, reduction="avg"))(f)
               for name, f in ALL_LOSSES.items()})


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_match_torch(case):
    expect_same_error(ERRORS[case])


@pytest.mark.parametrize("name", sorted(ALL_LOSSES))
def test_batchmean_is_rejected_by_every_loss_but_kl_div(name):
    fn = ALL_LOSSES[name]
    if name == "kl_div":
        run_both(lambda lib, x, y: F(lib).kl_div(x, y, reduction="batchmean"), X3, P3, check_grad_fn=False)
    else:
        expect_same_error(lambda lib: fn(lib, reduction="batchmean"))


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
def test_broadcast_target_warns_like_torch(loss):
    msgs, ins, outs = {}, {}, {}
    for lib in (tapegrad, torch):
        x, y = T(lib, X3, "float64", True), T(lib, [P3, X3], "float64", True)
        with pytest.warns(UserWarning) as rec:
            outs[lib.__name__] = getattr(F(lib), loss)(x, y, reduction="sum")
        msgs[lib.__name__] = [str(w.message) for w in rec]
        outs[lib.__name__].backward()
        ins[lib.__name__] = (x, y)
    assert msgs["tapegrad"] == msgs["torch"]
    np.testing.assert_allclose(to_numpy(outs["tapegrad"]), to_numpy(outs["torch"]), **TOL["float64"])
    for o, t in zip(ins["tapegrad"], ins["torch"]):  # the input's gradient is summed over the broadcast
        np.testing.assert_allclose(to_numpy(o.grad), to_numpy(t.grad), **TOL["float64"])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "soft_margin_loss"])
def test_integer_targets_torch_accepts(loss, dtype):
    # torch promotes an integer target in these losses' forward (huber's backward then raises: see ERRORS)
    t = TOL[dtype]
    run_both(lambda lib, x, y: getattr(F(lib), loss)(x, y), X3, [1, -1, 0], dtype=[dtype, "int64"],
             upstream=None if loss == "huber_loss" else "random", check_grad_fn=False, rtol=t["rtol"],
             atol=t["atol"], grad_rtol=t["rtol"], grad_atol=t["atol"])


# ---- the three losses torch lacks ---------------------------------------------------------------------------

def reference(name, x, y):
    """The closed form with torch ops, in float64 (logaddexp(d, -d) - log 2 is log cosh d without overflow)."""
    d = x - y
    if name == "mean_bias_error":
        return (y - x).mean()
    if name == "rmse":
        return (d * d).mean().sqrt()
    return (torch.logaddexp(d, -d) - math.log(2.0)).mean()


def check_extra(name, xa, ya, dtype):
    ours = [make(tapegrad, a, dtype, True) for a in (xa, ya)]
    out = getattr(F(tapegrad), name)(*ours)
    # the reference sees exactly the values tapegrad saw (rounded to dtype), computed in float64
    ref_in = [torch.tensor(np.asarray(to_numpy(o), dtype=np.float64), requires_grad=True) for o in ours]
    ref = reference(name, *ref_in)
    assert tuple(out.shape) == () and str(out.dtype).endswith(dtype)
    assert np.isfinite(to_numpy(out)).all()
    np.testing.assert_allclose(to_numpy(out), ref.detach().numpy(), **TOL[dtype])
    out.backward()
    ref.backward()
    for o, r in zip(ours, ref_in):
        np.testing.assert_allclose(to_numpy(o.grad), r.grad.numpy(), **TOL[dtype])


EXTRAS = ["mean_bias_error", "rmse", "log_cosh_loss"]


@pytest.mark.parametrize("name", EXTRAS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@settings(deadline=None, max_examples=20)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=5), seed=st.integers(0, 2**16))
def test_extra_losses_closed_form_hypothesis(name, dtype, shape, seed):
    rng = np.random.default_rng(seed)
    check_extra(name, rng.standard_normal(shape) * 2, rng.standard_normal(shape), dtype)


@pytest.mark.parametrize("name", EXTRAS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_extra_losses_large_errors(name, dtype):
    # |d| = 100: cosh overflows float32 (and |d| = 1000 float64 too).
    x = np.array([100.0, -100.0, 0.5, 1000.0, -1000.0, 3.0])
    y = np.array([0.0, 0.0, 0.25, 0.0, 0.0, -97.0])
    check_extra(name, x, y, dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("name", ["mean_bias_error", "log_cosh_loss"])
def test_extra_losses_reductions(name, reduction, dtype):
    x, y = np.array([[1.0, -2.0, 100.0], [0.5, 0.0, -3.0]]), np.array([[0.0, 1.0, -1.0], [0.5, 2.0, 3.0]])
    out = getattr(F(tapegrad), name)(make(tapegrad, x, dtype), make(tapegrad, y, dtype), reduction=reduction)
    d = torch.tensor(x) - torch.tensor(y)
    elem = -d if name == "mean_bias_error" else torch.logaddexp(d, -d) - math.log(2.0)
    ref = {"none": elem, "sum": elem.sum(), "mean": elem.mean()}[reduction]
    assert tuple(out.shape) == tuple(ref.shape)
    np.testing.assert_allclose(to_numpy(out), ref.numpy(), **TOL[dtype])


# ---- grad_fn names -----------------------------------------------------------------------------------------

def _rg(lib, arr):
    return T(lib, arr, "float32", True)


GRAD_FN = [
    ("mse_loss", "MseLossBackward0", lambda lib, r: F(lib).mse_loss(_rg(lib, X3), T(lib, P3), reduction=r)),
    ("huber_loss", "HuberLossBackward0", lambda lib, r: F(lib).huber_loss(_rg(lib, X3), T(lib, P3), reduction=r)),
    ("smooth_l1_loss", "SmoothL1LossBackward0",
     lambda lib, r: F(lib).smooth_l1_loss(_rg(lib, X3), T(lib, P3), reduction=r)),
    ("binary_cross_entropy", "BinaryCrossEntropyBackward0",
     lambda lib, r: F(lib).binary_cross_entropy(_rg(lib, P3), T(lib, P3), reduction=r)),
    ("bce_with_logits", "BinaryCrossEntropyWithLogitsBackward0",
     lambda lib, r: F(lib).binary_cross_entropy_with_logits(_rg(lib, X3), T(lib, P3), reduction=r)),
    ("cross_entropy", "NllLossBackward0",
     lambda lib, r: F(lib).cross_entropy(_rg(lib, X23), L(lib, [0, 2]), reduction=r)),
    ("nll_loss", "NllLossBackward0", lambda lib, r: F(lib).nll_loss(_rg(lib, X23), L(lib, [0, 2]), reduction=r)),
    ("soft_margin_loss", "SoftMarginLossBackward0",
     lambda lib, r: F(lib).soft_margin_loss(_rg(lib, X3), T(lib, [1.0, -1.0, 1.0]), reduction=r)),
]
GRAD_FN_LAYERS = [
    ("gelu", "GeluBackward0", lambda lib: F(lib).gelu(_rg(lib, X3))),
    ("gelu_tanh", "GeluBackward0", lambda lib: F(lib).gelu(_rg(lib, X3), approximate="tanh")),
    ("silu", "SiluBackward0", lambda lib: F(lib).silu(_rg(lib, X3))),
    ("elu", "EluBackward0", lambda lib: F(lib).elu(_rg(lib, X3))),
    ("softplus", "SoftplusBackward0", lambda lib: F(lib).softplus(_rg(lib, X3))),
    ("leaky_relu", "LeakyReluBackward0", lambda lib: F(lib).leaky_relu(_rg(lib, X3))),
    ("relu", "ReluBackward0", lambda lib: F(lib).relu(_rg(lib, X3))),
    ("sigmoid", "SigmoidBackward0", lambda lib: F(lib).sigmoid(_rg(lib, X3))),
    ("tanh", "TanhBackward0", lambda lib: F(lib).tanh(_rg(lib, X3))),
    ("softmax", "SoftmaxBackward0", lambda lib: F(lib).softmax(_rg(lib, X23), dim=1)),
    ("log_softmax", "LogSoftmaxBackward0", lambda lib: F(lib).log_softmax(_rg(lib, X23), dim=0)),
    ("layer_norm", "NativeLayerNormBackward0", lambda lib: F(lib).layer_norm(_rg(lib, X23), (3,))),
    ("batch_norm_train", "NativeBatchNormBackward0",
     lambda lib: F(lib).batch_norm(_rg(lib, X23), None, None, training=True)),
    ("batch_norm_eval", "NativeBatchNormBackward0",
     lambda lib: F(lib).batch_norm(_rg(lib, X23), T(lib, P3), T(lib, P3), _rg(lib, P3), _rg(lib, X3))),
    ("embedding", "EmbeddingBackward0", lambda lib: F(lib).embedding(L(lib, [[0, 2], [1, 1]]), _rg(lib, X34))),
    ("linear_2d", "AddmmBackward0", lambda lib: F(lib).linear(_rg(lib, X23), _rg(lib, [P3, X3]), _rg(lib, [0.1, 0.2]))),
]


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name,expected,fn", GRAD_FN, ids=[g[0] for g in GRAD_FN])
def test_loss_grad_fn_names(name, expected, fn, reduction):
    assert fn(torch, reduction).grad_fn.name() == expected  # the oracle
    assert fn(tapegrad, reduction).grad_fn.name() == expected


@pytest.mark.parametrize("name,expected,fn", GRAD_FN_LAYERS, ids=[g[0] for g in GRAD_FN_LAYERS])
def test_layer_grad_fn_names(name, expected, fn):
    assert fn(torch).grad_fn.name() == expected
    assert fn(tapegrad).grad_fn.name() == expected


# ---- second order ------------------------------------------------------------------------------------------

RNG = np.random.default_rng(11)
A = RNG.standard_normal((3, 4)) * 1.5
A = np.where(np.abs(A) < 0.05, 0.3, A)  # keep away from the kinks at 0
B = RNG.standard_normal((3, 4))
PROB = RNG.random((3, 4)) * 0.8 + 0.1
SIGNS = np.where(RNG.random((3, 4)) < 0.5, -1.0, 1.0)
CLS = [0, 3, 2]


def g(lib, arr):
    return make(lib, arr, "float64")


SECOND_ORDER = {
    "relu": (lambda lib, x: F(lib).relu(x), [A]),
    "leaky_relu": (lambda lib, x: F(lib).leaky_relu(x, 0.2), [A]),
    "gelu": (lambda lib, x: F(lib).gelu(x), [A]),
    "gelu_tanh": (lambda lib, x: F(lib).gelu(x, approximate="tanh"), [A]),
    "silu": (lambda lib, x: F(lib).silu(x), [A]),
    "elu": (lambda lib, x: F(lib).elu(x, 1.3), [A]),
    "softplus": (lambda lib, x: F(lib).softplus(x), [A]),
    "softplus_beta_threshold": (lambda lib, x: F(lib).softplus(x, beta=2.0, threshold=1.5), [A]),
    "sigmoid": (lambda lib, x: F(lib).sigmoid(x), [A]),
    "tanh": (lambda lib, x: F(lib).tanh(x), [A]),
    "softmax": (lambda lib, x: F(lib).softmax(x, dim=1), [A]),
    "log_softmax": (lambda lib, x: F(lib).log_softmax(x, dim=0), [A]),
    "layer_norm": (lambda lib, x, w, b: F(lib).layer_norm(x, (4,), w, b), [A, B[0], B[1]]),
    "layer_norm_2d_shape": (lambda lib, x: F(lib).layer_norm(x, (3, 4)), [A]),
    "batch_norm_train": (lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, training=True),
                         [A, B[0], B[1]]),
    "mse_loss": (lambda lib, x, y: F(lib).mse_loss(x, y), [A, B]),
    "huber_loss": (lambda lib, x, y: F(lib).huber_loss(x, y, delta=0.7), [A, B]),
    "smooth_l1_loss": (lambda lib, x, y: F(lib).smooth_l1_loss(x, y, beta=0.7, reduction="sum"), [A, B]),
    "binary_cross_entropy": (lambda lib, x, y: F(lib).binary_cross_entropy(x, y), [PROB, PROB[::-1].copy()]),
    "bce_with_logits": (lambda lib, x, y: F(lib).binary_cross_entropy_with_logits(
        x, y, weight=g(lib, PROB), pos_weight=g(lib, PROB[0])), [A, PROB]),
    "soft_margin_loss": (lambda lib, x: F(lib).soft_margin_loss(x, g(lib, SIGNS)), [A]),
    "nll_loss": (lambda lib, x: F(lib).nll_loss(x, L(lib, CLS), weight=g(lib, PROB[0])), [A]),
    "cross_entropy": (lambda lib, x: F(lib).cross_entropy(x, L(lib, CLS)), [A]),
    "cross_entropy_smoothing": (lambda lib, x: F(lib).cross_entropy(x, L(lib, CLS), label_smoothing=0.2), [A]),
}


def _differentiable(entry):
    fn, arrays = entry
    inputs = tuple(make(tapegrad, a, "float64", True) for a in arrays)
    return (lambda *xs: fn(tapegrad, *xs)), inputs


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_gradcheck(name):
    fn, inputs = _differentiable(SECOND_ORDER[name])
    assert tapegrad.autograd.gradcheck(fn, inputs)


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_gradgradcheck(name):
    fn, inputs = _differentiable(SECOND_ORDER[name])
    assert tapegrad.autograd.gradgradcheck(fn, inputs)


DOUBLE_BACKWARD = ["gelu", "gelu_tanh", "silu", "elu", "softplus", "softplus_beta_threshold", "sigmoid", "tanh",
                   "log_softmax", "softmax", "layer_norm", "batch_norm_train", "mse_loss", "huber_loss",
                   "smooth_l1_loss", "binary_cross_entropy", "bce_with_logits", "soft_margin_loss", "cross_entropy",
                   "cross_entropy_smoothing"]


@pytest.mark.parametrize("name", DOUBLE_BACKWARD)
def test_double_backward_matches_torch(name):
    fn, arrays = SECOND_ORDER[name]
    double_backward_both(fn, *arrays)


@pytest.mark.parametrize("name", ["gelu", "mse_loss"])
def test_derivative_of_sum_of_gradient(name):
    # d/dx sum(d out / dx) with out = gelu(x).sum() or mse(x, y): one explicit double-backward value.
    results = {}
    for lib in (tapegrad, torch):
        x = make(lib, A, "float64", True)
        out = F(lib).gelu(x).sum() if name == "gelu" else F(lib).mse_loss(x, g(lib, B))
        (gx,) = lib.autograd.grad(out, x, create_graph=True)
        (ggx,) = lib.autograd.grad(gx.sum(), x)
        results[lib.__name__] = to_numpy(ggx)
    np.testing.assert_allclose(results["tapegrad"], results["torch"], rtol=1e-10, atol=1e-12)
    if name == "mse_loss":
        np.testing.assert_allclose(results["tapegrad"], np.full(A.shape, 2.0 / A.size), rtol=1e-12)
