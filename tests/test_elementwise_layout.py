"""The memory layout of elementwise results against torch's TensorIterator: permuted, strided and
broadcast operands, unary, binary and three-operand ops (strides, then what a flatten makes of them)."""
import random

import pytest
import torch

import tapegrad


def _operand(L, raw_shape, perm, step, narrowed, dropped):
    base = L.zeros([s * (2 if i == step else 1) for i, s in enumerate(raw_shape)])
    if step is not None:
        base = base[tuple(slice(None, None, 2) if i == step else slice(None) for i in range(len(raw_shape)))]
    t = base.permute(perm)
    for d in narrowed:
        t = t.narrow(d, 0, 1)
    return t[(0,) * dropped] if dropped else t


def _case(seed):
    rng = random.Random(seed)
    nd = rng.randint(2, 4)
    shape = [rng.choice([1, 2, 3]) for _ in range(nd)]
    operands = []
    for _ in range(rng.randint(1, 3)):
        perm = list(range(nd))
        rng.shuffle(perm)
        raw = [0] * nd
        for i, p in enumerate(perm):
            raw[p] = shape[i]
        operands.append((raw, perm, rng.choice([None] + list(range(nd))),
                         [d for d in range(nd) if rng.random() < 0.25], rng.randint(0, 1) if nd > 2 else 0))
    return operands


def _result(L, operands):
    ts = [_operand(L, *op) for op in operands]
    if len(ts) == 1:
        out = ts[0].exp()
    elif len(ts) == 2:
        out = ts[0] + ts[1]
    else:
        out = L.where(ts[0] > 0, ts[1], ts[2])
    return tuple(out.shape), out.stride(), out.is_contiguous()


@pytest.mark.parametrize("block", range(8))
def test_random_operands_give_torchs_result_strides(block):
    for seed in range(block * 100, block * 100 + 100):
        operands = _case(seed)
        try:
            theirs = _result(torch, operands)
        except RuntimeError:
            continue  # shapes that do not broadcast
        assert _result(tapegrad, operands) == theirs, f"seed {seed}: {operands}"


@pytest.mark.parametrize("source", ["e * v", "v * e", "e + v", "v * v", "e * e", "T.where(e > 0, v, e)", "v > e",
                                    "x + 2", "x.exp()", "x + x", "c + c", "c + 1", "T.zeros(0, 3) + T.zeros(3)"])
def test_named_layouts(source):
    """A broadcast first operand tells nothing: the next one decides (as in a product's gradient)."""
    def strides(T):
        ns = {"T": T, "v": T.zeros(3, 4, 2).permute((1, 0, 2)), "e": T.ones(()).expand(4, 3, 2),
              "x": T.zeros(4, 1, 3).permute(2, 1, 0), "c": T.zeros(2, 3, 4, 5).permute(0, 2, 3, 1)}
        return eval(source, ns).stride()
    assert strides(tapegrad) == strides(torch)


def test_gradient_of_a_permuted_product_is_laid_out_as_torchs():
    """The fuzzer's program: the gradient of (v * v).sum() for a permuted v comes back contiguous."""
    def grad(T):
        v1 = T.zeros(3, 4, 2, dtype=T.float64, requires_grad=True)
        v3 = v1.permute((1, 0, 2))
        g, = T.autograd.grad((v3 * v3).sum(), v1)
        return g.stride()
    assert grad(tapegrad) == grad(torch)
