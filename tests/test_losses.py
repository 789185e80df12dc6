# tapegrad.nn.functional losses and the tapegrad.nn loss modules vs torch: values and the gradient of every
# input torch lets require grad, for every reduction, float32 and float64, several shapes and edge values.
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad
import tapegrad.nn  # noqa: F401  (make sure the subpackage is loaded)
import torch
from conftest import FLOAT_DTYPES, assert_tensor_equal, make, run_both

REDUCTIONS = ("none", "mean", "sum")
# The tolerances the parity contract asks for: rtol 1e-5 (float32) / 1e-10 (float64).
TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-10, atol=1e-12)}


def tol(dtype):
    t = TOL[dtype]
    return dict(rtol=t["rtol"], atol=t["atol"], grad_rtol=t["rtol"], grad_atol=t["atol"])


def F(lib):
    return lib.nn.functional


# ---- value generators: rng, shape -> float64 array -------------------------------------------------------

def normal(rng, shape):
    return rng.standard_normal(shape)


def wide(rng, shape):
    return rng.standard_normal(shape) * 3.0


def prob(rng, shape):
    return 1.0 / (1.0 + np.exp(-2.0 * rng.standard_normal(shape)))


def sign(rng, shape):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0)


def positive(rng, shape):
    return rng.random(shape) + 0.25


def last_dim(gen):
    """A generator for a tensor broadcast over the input's last dimension (pos_weight, weight)."""
    return lambda rng, shape: gen(rng, tuple(shape[-1:]))


# name -> (fn(F, *tensors, reduction), generators, requires_grad per input)
POINTWISE = {
    "mse_loss": (lambda f, x, y, r: f.mse_loss(x, y, reduction=r), [normal, normal], [True, True]),
    "l1_loss": (lambda f, x, y, r: f.l1_loss(x, y, reduction=r), [normal, normal], [True, True]),
    "huber_delta_1": (lambda f, x, y, r: f.huber_loss(x, y, reduction=r), [wide, normal], [True, True]),
    "huber_delta_0.4": (lambda f, x, y, r: f.huber_loss(x, y, reduction=r, delta=0.4), [normal, normal], [True, True]),
    "huber_delta_2.5": (lambda f, x, y, r: f.huber_loss(x, y, reduction=r, delta=2.5), [wide, normal], [True, True]),
    "smooth_l1_beta_1": (lambda f, x, y, r: f.smooth_l1_loss(x, y, reduction=r), [wide, normal], [True, True]),
    "smooth_l1_beta_0.3": (lambda f, x, y, r: f.smooth_l1_loss(x, y, reduction=r, beta=0.3), [normal, normal],
                           [True, True]),
    "smooth_l1_beta_0": (lambda f, x, y, r: f.smooth_l1_loss(x, y, reduction=r, beta=0.0), [normal, normal],
                         [True, True]),
    "bce": (lambda f, x, y, r: f.binary_cross_entropy(x, y, reduction=r), [prob, prob], [True, True]),
    "bce_weight": (lambda f, x, y, w, r: f.binary_cross_entropy(x, y, weight=w, reduction=r), [prob, prob, positive],
                   [True, True, False]),
    "bce_weight_broadcast": (lambda f, x, y, w, r: f.binary_cross_entropy(x, y, weight=w, reduction=r),
                             [prob, prob, last_dim(positive)], [True, True, False]),
    "bce_logits": (lambda f, x, y, r: f.binary_cross_entropy_with_logits(x, y, reduction=r), [wide, prob],
                   [True, True]),
    "bce_logits_weight": (lambda f, x, y, w, r: f.binary_cross_entropy_with_logits(x, y, weight=w, reduction=r),
                          [wide, prob, positive], [True, True, False]),
    "bce_logits_pos_weight": (
        lambda f, x, y, p, r: f.binary_cross_entropy_with_logits(x, y, pos_weight=p, reduction=r),
        [wide, prob, last_dim(positive)], [True, True, False]),
    "bce_logits_weight_pos_weight": (
        lambda f, x, y, w, p, r: f.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=p, reduction=r),
        [wide, prob, last_dim(positive), last_dim(positive)], [True, True, False, False]),
    "soft_margin": (lambda f, x, y, r: f.soft_margin_loss(x, y, reduction=r), [wide, sign], [True, False]),
    "hinge_margin_1": (lambda f, x, y, r: f.hinge_embedding_loss(x, y, reduction=r), [wide, sign], [True, True]),
    "hinge_margin_0.5": (lambda f, x, y, r: f.hinge_embedding_loss(x, y, margin=0.5, reduction=r), [wide, sign],
                         [True, True]),
    "margin_ranking_0": (lambda f, a, b, y, r: f.margin_ranking_loss(a, b, y, reduction=r), [normal, normal, sign],
                         [True, True, True]),
    "margin_ranking_0.7": (lambda f, a, b, y, r: f.margin_ranking_loss(a, b, y, margin=0.7, reduction=r),
                           [normal, normal, sign], [True, True, True]),
    "kl_div": (lambda f, x, y, r: f.kl_div(x, y, reduction=r), [normal, prob], [True, True]),
    "kl_div_log_target": (lambda f, x, y, r: f.kl_div(x, y, reduction=r, log_target=True), [normal, normal],
                          [True, True]),
}


def run_case(name, shape, seed, dtype, reduction):
    fn, gens, rgs = POINTWISE[name]
    rng = np.random.default_rng(seed)
    arrays = [g(rng, shape) for g in gens]
    run_both(lambda lib, *ts: fn(F(lib), *ts, reduction), *arrays, dtype=dtype, requires_grad=rgs,
             check_grad_fn=False, seed=seed, **tol(dtype))


def reductions_for(name):
    return REDUCTIONS + ("batchmean",) if name.startswith("kl_div") else REDUCTIONS


@pytest.mark.parametrize("name", sorted(POINTWISE))
@settings(deadline=None, max_examples=12)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4), seed=st.integers(0, 2**16),
       dtype=st.sampled_from(FLOAT_DTYPES), data=st.data())
def test_pointwise_losses_hypothesis(name, shape, seed, dtype, data):
    reduction = data.draw(st.sampled_from([r for r in reductions_for(name) if r != "mean" or "kl" not in name]))
    run_case(name, shape, seed, dtype, reduction)


@pytest.mark.parametrize("name", sorted(POINTWISE))
@pytest.mark.parametrize("reduction", REDUCTIONS + ("batchmean",))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", [(), (7,), (3, 5), (2, 3, 4)])
def test_pointwise_losses_every_reduction(name, reduction, dtype, shape):
    if reduction == "batchmean" and not name.startswith("kl_div"):
        return  # batchmean is kl_div's alone (other losses reject it: see test_nn_functional errors)
    if name.startswith("kl_div") and reduction == "mean":
        with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
            run_case(name, shape, 3, dtype, reduction)
        return
    run_case(name, shape, 3, dtype, reduction)


# ---- edge values ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", ["l1", "huber", "smooth_l1", "mse"])
def test_kinks_exactly_at_zero_and_at_delta_or_beta(loss, reduction, dtype):
    # differences 0, exactly +-1.5 (delta/beta), just inside and outside.
    x = np.array([0.0, 1.5, -1.5, 2.0, 0.25, 3.0, -0.5, 1.0])
    y = np.array([0.0, 0.0, 0.0, 0.5, 1.75, 1.5, 1.0, 1.0])
    fns = {"l1": lambda f, a, b: f.l1_loss(a, b, reduction=reduction),
           "huber": lambda f, a, b: f.huber_loss(a, b, reduction=reduction, delta=1.5),
           "smooth_l1": lambda f, a, b: f.smooth_l1_loss(a, b, reduction=reduction, beta=1.5),
           "mse": lambda f, a, b: f.mse_loss(a, b, reduction=reduction)}
    run_both(lambda lib, a, b: fns[loss](F(lib), a, b), x, y, dtype=dtype, check_grad_fn=False, **tol(dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_probabilities_exactly_zero_and_one(weighted, reduction, dtype):
    # torch clamps each log at -100: log(0) contributes 100 (times the weight), not inf.
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 0.0, 1.0, 0.3])
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.3, 0.6, 1.0])
    w = np.array([1.0, 2.0, 0.5, 1.5, 1.0, 3.0, 0.25, 1.0])
    if weighted:
        fn = lambda lib, a, b, c: F(lib).binary_cross_entropy(a, b, weight=c, reduction=reduction)  # noqa: E731
        run_both(fn, x, y, w, dtype=dtype, requires_grad=[True, True, False], check_grad_fn=False, **tol(dtype))
    else:
        fn = lambda lib, a, b: F(lib).binary_cross_entropy(a, b, reduction=reduction)  # noqa: E731
        run_both(fn, x, y, dtype=dtype, check_grad_fn=False, **tol(dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("extra", ["plain", "weight", "pos_weight", "both"])
def test_bce_with_logits_large_logits_are_stable(extra, reduction, dtype):
    x = np.array([[100.0, -100.0, 100.0, -100.0], [1000.0, -1000.0, 40.0, -40.0], [0.0, 88.0, -88.0, 17.0]])
    y = np.array([[1.0, 0.0, 0.0, 1.0], [0.5, 0.5, 1.0, 0.0], [0.25, 1.0, 1.0, 0.0]])
    w = np.array([[0.5, 1.0, 2.0, 1.5]] * 3)
    pw = np.array([3.0, 0.5, 1.0, 2.0])
    kw = {"plain": {}, "weight": {"weight": 0}, "pos_weight": {"pos_weight": 1}, "both": {"weight": 0, "pos_weight": 1}}
    extra_arrays = [w, pw]
    names = kw[extra]

    def fn(lib, a, b, *rest):
        return F(lib).binary_cross_entropy_with_logits(a, b, reduction=reduction,
                                                       **{k: rest[i] for i, k in enumerate(names)})

    arrays = [x, y] + [extra_arrays[v] for v in names.values()]
    out, _, _, _ = run_both(fn, *arrays, dtype=dtype, requires_grad=[True, True] + [False] * len(names),
                            check_grad_fn=False, **tol(dtype))
    assert np.isfinite(out.detach().numpy()).all()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("reduction", ["none", "sum", "batchmean"])
def test_kl_div_target_with_exact_zeros(reduction, dtype):
    x = np.log(np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]))
    y = np.array([[0.0, 0.4, 0.6], [0.5, 0.0, 0.5]])
    # the value at target 0 is 0 (xlogy); the target's gradient there is nan in torch (xlogy's d/dy = x / y).
    run_both(lambda lib, a, b: F(lib).kl_div(a, b, reduction=reduction), x, y, dtype=dtype,
             check_grad_fn=False, **tol(dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_mean_warns_like_torch_and_matches(log_target, dtype):
    rng = np.random.default_rng(5)
    x, y = normal(rng, (3, 4)), prob(rng, (3, 4))
    msgs = {}
    outs = {}
    for lib in (tapegrad, torch):
        with pytest.warns(UserWarning) as rec:
            outs[lib.__name__] = F(lib).kl_div(make(lib, x, dtype), make(lib, y, dtype), reduction="mean",
                                              log_target=log_target)
        msgs[lib.__name__] = [str(w.message) for w in rec]
    assert msgs["tapegrad"] == msgs["torch"]
    assert_tensor_equal(outs["tapegrad"], outs["torch"], **TOL[dtype])


# ---- cross_entropy / nll_loss -----------------------------------------------------------------------------

C = 4
CLASS_SHAPES = {"1d": ((C,), ()), "2d": ((5, C), (5,)), "3d": ((3, C, 4), (3, 4)), "4d": ((2, C, 3, 2), (2, 3, 2))}
CE_OPTIONS = {
    "plain": {},
    "weight": {"weight": True},
    "ignore_default": {"ignore": -100},
    "ignore_custom": {"ignore": 1},
    "smoothing": {"label_smoothing": 0.2},
    "smoothing_weight_ignore": {"weight": True, "ignore": 2, "label_smoothing": 0.3},
    "smoothing_one": {"label_smoothing": 1.0},
}


def class_targets(rng, tshape, ignore):
    t = rng.integers(0, C, size=tshape)
    if ignore is not None:
        t = np.where(rng.random(tshape) < 0.35, ignore, t)
    return t


def class_case(loss, shape_key, option, reduction, dtype, seed=0):
    ishape, tshape = CLASS_SHAPES[shape_key]
    opts = CE_OPTIONS[option]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(ishape) * 2
    t = class_targets(rng, tshape, opts.get("ignore"))
    w = rng.random(C) + 0.5

    def fn(lib, a, b, c):
        kw = dict(reduction=reduction)
        if opts.get("weight"):
            kw["weight"] = c
        if "ignore" in opts:
            kw["ignore_index"] = opts["ignore"]
        if loss == "cross_entropy":
            return F(lib).cross_entropy(a, b, label_smoothing=opts.get("label_smoothing", 0.0), **kw)
        return F(lib).nll_loss(a, b, **kw)

    run_both(fn, x, t, w, dtype=[dtype, "int64", dtype], requires_grad=[True, False, False],
             check_grad_fn=False, seed=seed, **tol(dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("option", list(CE_OPTIONS))
@pytest.mark.parametrize("shape_key", list(CLASS_SHAPES))
def test_cross_entropy_class_indices(shape_key, option, reduction, dtype):
    class_case("cross_entropy", shape_key, option, reduction, dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("option", ["plain", "weight", "ignore_default", "ignore_custom"])
@pytest.mark.parametrize("shape_key", list(CLASS_SHAPES))
def test_nll_loss(shape_key, option, reduction, dtype):
    class_case("nll_loss", shape_key, option, reduction, dtype)


@settings(deadline=None, max_examples=25)
@given(shape_key=st.sampled_from(list(CLASS_SHAPES)), option=st.sampled_from(list(CE_OPTIONS)),
       reduction=st.sampled_from(REDUCTIONS), dtype=st.sampled_from(FLOAT_DTYPES), seed=st.integers(0, 2**16),
       loss=st.sampled_from(["cross_entropy", "nll_loss"]))
def test_class_index_losses_hypothesis(shape_key, option, reduction, dtype, seed, loss):
    if loss == "nll_loss" and "smoothing" in option:
        option = "plain"
    class_case(loss, shape_key, option, reduction, dtype, seed)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_every_target_ignored(loss, reduction, dtype):
    x = np.random.default_rng(1).standard_normal((3, C))
    t = np.array([-100, -100, -100])
    run_both(lambda lib, a, b: getattr(F(lib), loss)(a, b, reduction=reduction), x, t, dtype=[dtype, "int64"],
             check_grad_fn=False, **tol(dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("option", ["plain", "smoothing", "weight", "weight_smoothing"])
@pytest.mark.parametrize("shape_key", list(CLASS_SHAPES))
def test_cross_entropy_probability_targets(shape_key, option, reduction, dtype):
    ishape, _ = CLASS_SHAPES[shape_key]
    rng = np.random.default_rng(2)
    x = rng.standard_normal(ishape) * 2
    logits = rng.standard_normal(ishape)
    cdim = 0 if len(ishape) == 1 else 1
    t = np.exp(logits) / np.exp(logits).sum(axis=cdim, keepdims=True)
    w = rng.random(C) + 0.5
    smoothing = 0.25 if "smoothing" in option else 0.0

    def fn(lib, a, b, c):
        weight = c if "weight" in option else None
        return F(lib).cross_entropy(a, b, weight=weight, reduction=reduction, label_smoothing=smoothing)

    # torch lets the input, the probability target and (here, composite) the weight require grad.
    run_both(fn, x, t, w, dtype=dtype, requires_grad=[True, True, "weight" in option], check_grad_fn=False,
             **tol(dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_negative_label_smoothing_is_ignored_like_torch(dtype):
    # torch only smooths when label_smoothing > 0 and only rejects values above 1.
    rng = np.random.default_rng(4)
    x, t = rng.standard_normal((3, C)), np.array([0, 3, 1])
    run_both(lambda lib, a, b: F(lib).cross_entropy(a, b, label_smoothing=-0.1), x, t, dtype=[dtype, "int64"],
             check_grad_fn=False, **tol(dtype))


# ---- loss modules -----------------------------------------------------------------------------------------

def w4(lib, dtype):
    return make(lib, [0.5, 1.0, 2.0, 1.5], dtype)


def pw4(lib, dtype):
    return make(lib, [2.0, 0.5, 1.0, 3.0], dtype)


# class name -> (constructor kwargs(lib, dtype), input generators, target kind)
MODULES = [
    ("MSELoss", lambda lib, d: dict(reduction="sum"), "regression"),
    ("MSELoss", lambda lib, d: dict(), "regression"),
    ("L1Loss", lambda lib, d: dict(reduction="none"), "regression"),
    ("HuberLoss", lambda lib, d: dict(delta=0.5, reduction="sum"), "regression"),
    ("SmoothL1Loss", lambda lib, d: dict(beta=0.5), "regression"),
    ("SmoothL1Loss", lambda lib, d: dict(beta=0.0, reduction="none"), "regression"),
    ("BCELoss", lambda lib, d: dict(weight=w4(lib, d)), "probability"),
    ("BCEWithLogitsLoss", lambda lib, d: dict(pos_weight=pw4(lib, d)), "logits"),
    ("BCEWithLogitsLoss", lambda lib, d: dict(weight=w4(lib, d), pos_weight=pw4(lib, d), reduction="none"),
     "logits"),
    ("CrossEntropyLoss", lambda lib, d: dict(weight=w4(lib, d), ignore_index=2, label_smoothing=0.1), "class"),
    ("CrossEntropyLoss", lambda lib, d: dict(reduction="sum"), "class"),
    ("CrossEntropyLoss", lambda lib, d: dict(label_smoothing=0.2), "class_probability"),
    ("NLLLoss", lambda lib, d: dict(weight=w4(lib, d), ignore_index=0), "class"),
    ("KLDivLoss", lambda lib, d: dict(reduction="batchmean", log_target=True), "log_target"),
    ("KLDivLoss", lambda lib, d: dict(reduction="sum"), "kl"),
    ("HingeEmbeddingLoss", lambda lib, d: dict(margin=0.5), "sign"),
    ("SoftMarginLoss", lambda lib, d: dict(reduction="sum"), "sign"),
    ("MarginRankingLoss", lambda lib, d: dict(margin=0.3), "ranking"),
]


def module_inputs(kind, rng):
    x = rng.standard_normal((3, 4))
    targets = {
        "regression": [rng.standard_normal((3, 4))], "logits": [prob(rng, (3, 4))], "sign": [sign(rng, (3, 4))],
        "class": [np.array([0, 2, 3])], "class_probability": [prob(rng, (3, 4))], "kl": [prob(rng, (3, 4))],
        "log_target": [rng.standard_normal((3, 4))], "probability": [prob(rng, (3, 4))],
        "ranking": [rng.standard_normal((3, 4)), sign(rng, (3, 4))],
    }[kind]
    if kind == "probability":
        x = prob(rng, (3, 4))
    if kind == "class_probability":
        targets = [targets[0] / targets[0].sum(axis=1, keepdims=True)]
    return [x] + targets


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name,kwargs,kind", MODULES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MODULES)])
def test_loss_modules_match_torch(name, kwargs, kind, dtype):
    arrays = module_inputs(kind, np.random.default_rng(6))
    dtypes = [dtype] + ["int64" if kind == "class" else dtype] * (len(arrays) - 1)
    mods = {}

    def fn(lib, *ts):
        mods[lib.__name__] = getattr(lib.nn, name)(**kwargs(lib, dtype))
        return mods[lib.__name__](*ts)

    run_both(fn, *arrays, dtype=dtypes, requires_grad=[True] + [kind != "sign"] * (len(arrays) - 1),
             check_grad_fn=False, **tol(dtype))
    ours, theirs = mods["tapegrad"], mods["torch"]
    assert repr(ours) == repr(theirs)
    for attr in ("reduction", "ignore_index", "label_smoothing", "delta", "beta", "margin", "log_target"):
        assert getattr(ours, attr, None) == getattr(theirs, attr, None), attr
    for buf in ("weight", "pos_weight"):
        if getattr(theirs, buf, None) is None:
            assert getattr(ours, buf, None) is None
        else:
            assert_tensor_equal(getattr(ours, buf), getattr(theirs, buf))


@pytest.mark.parametrize("legacy,expected", [(dict(size_average=False), "sum"), (dict(reduce=False), "none"),
                                             (dict(size_average=True, reduce=True), "mean")])
def test_loss_module_legacy_flags_warn_like_torch(legacy, expected):
    msgs = {}
    for lib in (tapegrad, torch):
        with pytest.warns(UserWarning) as rec:
            mod = lib.nn.MSELoss(**legacy)
        assert mod.reduction == expected
        msgs[lib.__name__] = [str(w.message) for w in rec]
    assert msgs["tapegrad"] == msgs["torch"]
