"""Index ops on edge inputs: 0-d tensors, empty indices, bad indices, wrong dtypes and shapes.

Each case once crashed the process (SIGSEGV) or disagreed with torch. Every case must give torch's
values, or torch's exception type and message. The cases run in a child process, so that a crash
reappearing fails one test instead of killing the run.
"""
import subprocess
import sys
import textwrap

import pytest
import torch

import tapegrad
from conftest import assert_tensor_equal, capture, dname, package_root

# Each case: a Python expression in T (the library), with b = T.tensor and e = an empty int64 index.
CASES = [
    # gather / take_along_dim on 0-d inputs and indices
    "T.gather(T.tensor(5.), 0, T.tensor(0))",
    "T.gather(T.tensor(5.), 0, T.tensor([0, 0, 0]))",
    "T.gather(T.tensor(5.), -1, T.tensor([0, 0]))",
    "T.gather(T.tensor(5.), 0, T.tensor(1))",
    "T.gather(T.tensor(5.), 0, T.tensor(-1))",
    "T.gather(T.tensor(5.), 1, T.tensor(0))",
    "T.tensor([1., 2.]).gather(0, T.tensor(1))",
    "T.tensor(3).gather(0, T.tensor([0]))",
    # gather with empty indices: no shape or dtype checks, the index's shape
    "T.arange(6.).reshape(2, 3).gather(1, e)",
    "T.arange(6.).reshape(2, 3).gather(0, T.zeros(0, 5, dtype=T.int64))",
    "T.arange(6.).reshape(2, 3).gather(1, T.zeros(3, 0, dtype=T.int32))",
    "T.arange(6.).reshape(2, 3).gather(1, T.zeros(0, 1, 1, dtype=T.int64))",
    "T.tensor(1.).gather(0, e)",
    "T.ones(2, 0).gather(0, T.zeros(1, 0, dtype=T.int64))",
    "T.ones(2, 0).gather(1, T.zeros(2, 1, dtype=T.int64))",
    # gather: bad indices
    "T.arange(6.).reshape(2, 3).gather(1, T.zeros(3, dtype=T.int64))",
    "T.arange(6.).reshape(2, 3).gather(1, T.tensor(0))",
    "T.arange(6.).reshape(2, 3).gather(1, T.zeros(3, 1, dtype=T.int64))",
    "T.arange(6.).reshape(2, 3).gather(1, T.zeros(2, 1))",
    "T.arange(6.).reshape(2, 3).gather(1, T.zeros(2, 1, dtype=T.bool))",
    "T.arange(6.).reshape(2, 3).gather(1, T.tensor([[-1], [0]]))",
    "T.arange(6.).reshape(2, 3).gather(1, T.tensor([[3], [0]]))",
    "T.arange(6.).reshape(2, 3).gather(2, T.tensor([[0], [0]]))",
    "T.arange(6.).reshape(2, 3).gather(1, T.tensor([[2], [0]], dtype=T.int32))",
    # scatter with a tensor src
    "T.tensor(1.).scatter(0, T.tensor(0), T.tensor(3.))",
    "T.tensor(1.).scatter(0, T.tensor([0]), T.tensor([3.]))",
    "T.tensor(1.).scatter(0, T.tensor([0]), T.tensor(3.))",
    "T.tensor(1.).scatter(0, T.tensor(0), T.tensor([3., 4.]))",
    "T.tensor(1.).scatter(0, T.tensor(0), T.ones(0))",
    "T.tensor(1.).scatter(0, T.tensor(1), T.tensor(3.))",
    "T.tensor(1.).scatter(0, e, T.ones(0))",
    "T.tensor([1., 2.]).scatter(0, T.tensor(0), T.tensor(5.))",
    "T.tensor([1., 2.]).scatter(0, T.tensor([1, 0]), T.tensor([5.]))",
    "T.arange(6.).reshape(2, 3).scatter(1, e, T.ones(0))",
    "T.arange(6.).reshape(2, 3).scatter(1, T.zeros(0, 5, dtype=T.int64), T.ones(0, 0))",
    "T.arange(6.).reshape(2, 3).scatter(1, T.zeros(5, 0, dtype=T.int64), T.ones(0, 0))",
    "T.arange(6.).reshape(2, 3).scatter(1, T.zeros(1, 5, dtype=T.int64), T.ones(1, 5))",
    "T.arange(6.).reshape(2, 3).scatter(1, T.zeros(3, 1, dtype=T.int64), T.ones(3, 1))",
    "T.arange(6.).reshape(2, 3).scatter(1, T.tensor([[1, 0]]), T.tensor([5.]))",
    "T.arange(6.).reshape(2, 3).scatter(1, T.tensor([[1, 0]]), T.ones(1, 1))",
    "T.arange(6.).reshape(2, 3).scatter(1, T.tensor([[1, 0]]), T.ones(1, 2, dtype=T.float64))",
    "T.arange(6.).reshape(2, 3).scatter(1, e, T.ones(1, 2, dtype=T.float64))",
    "T.arange(6.).reshape(2, 3).scatter(0, T.tensor([[0, 1]]), T.tensor(5.))",
    "T.zeros(3).scatter(0, T.tensor([0, 1]), T.tensor([[1., 2.], [3., 4.]]))",
    "T.zeros(2, 2).scatter(0, T.tensor([0, 1]), T.ones(2, 2))",
    "T.zeros(2, 2).scatter(0, T.tensor([[0, 1]]).float(), T.ones(2, 2))",
    "T.zeros(2, 2).scatter(0, T.zeros(0), T.ones(2, 2))",
    "T.zeros(2, 2).scatter(2, e, T.ones(2, 2))",
    "T.zeros(2, 2).scatter(0, T.tensor([[0, -1]]), T.ones(2, 2))",
    "T.zeros(2, 2).scatter(0, T.tensor([[0, 2]]), T.ones(2, 2))",
    # scatter with a number
    "T.tensor(1.).scatter(0, T.tensor(0), 7.)",
    "T.tensor(1.).scatter(0, T.tensor(0), value=7.)",
    "T.tensor(1.).scatter(0, e, 3.)",
    "T.tensor(1.).scatter(0, T.tensor([0, 0]), 3.)",
    "T.tensor(1.).scatter(0, T.tensor(2), 3.)",
    "T.arange(6.).reshape(2, 3).scatter(0, e, 2.0)",
    "T.arange(6.).reshape(2, 3).scatter(1, T.tensor([[1, 0]]), 2)",
    "T.zeros(2, 2).scatter(0, T.tensor([[0, 1, 1]]), 1.)",
    "T.zeros(2, 2).scatter(0, T.tensor([0, 1]), 1.)",
    "T.zeros(2, 2).scatter(0, T.tensor([[0, -1]]), 1.)",
    "T.zeros(2, 2, dtype=T.int64).scatter(0, T.tensor([[0, 1]]), 2.7)",
    "T.zeros(2, 2, dtype=T.bool).scatter(0, T.tensor([[0, 1]]), 2.7)",
    "T.zeros(2, 2).scatter(0, T.tensor([[0, 1]]), value=T.tensor(2.))",
    # scatter_add
    "T.tensor(5.).scatter_add(0, T.tensor(0), T.tensor(3.))",
    "T.tensor(5.).scatter_add(0, T.tensor([0, 0]), T.tensor([3., 4.]))",
    "T.tensor(5.).scatter_add(0, T.tensor(1), T.tensor(3.))",
    "T.tensor(1.).scatter_add(0, e, T.ones(0))",
    "T.arange(6.).reshape(2, 3).scatter_add(0, e, T.ones(0))",
    "T.zeros(2, 2).scatter_add(0, T.tensor([[0, 1]]).float(), T.ones(2, 2))",
    "T.zeros(2, 2).scatter_add(0, T.tensor([[0, 2]]), T.ones(2, 2))",
    "T.zeros(2, 2).scatter_add(0, T.tensor([[0, 1]]), T.ones(2, 2, dtype=T.float64))",
    "T.zeros(3).scatter_add(0, T.tensor([0, 1]), T.tensor([[1., 2.], [3., 4.]]))",
    "T.zeros(3, dtype=T.int64).scatter_add(0, T.tensor([0, 0, 2]), T.tensor([1, 2, 3]))",
    # index_add
    "T.tensor(5.).index_add(0, T.tensor([0]), T.tensor(3.))",
    "T.tensor(5.).index_add(0, T.tensor(0), T.tensor(3.))",
    "T.tensor(5.).index_add(-1, T.tensor([0]), T.tensor(3.), alpha=2)",
    "T.tensor(5.).index_add(0, T.tensor([1]), T.tensor(3.))",
    "T.tensor(5.).index_add(0, T.tensor([0, 0]), T.tensor([3., 3.]))",
    "T.tensor(5.).index_add(0, e, T.ones(0))",
    "T.tensor(5.).index_add(0, T.tensor([0]), T.ones(1))",
    "T.ones(1).index_add(0, T.tensor([0]), T.tensor(3.))",
    "T.ones(3).index_add(0, e, T.ones(0))",
    "T.ones(3, 2).index_add(0, e, T.ones(0, 2))",
    "T.ones(3, 2).index_add(1, T.tensor([1]), T.ones(3))",
    "T.ones(3, 2).index_add(2, T.tensor([1]), T.ones(3))",
    "T.zeros(3).index_add(0, T.tensor([0, 1]), T.ones(2, 2))",
    "T.zeros(3).index_add(0, T.tensor([[0, 1]]), T.ones(2))",
    "T.zeros(3).index_add(0, T.tensor([0, 1]).float(), T.ones(2))",
    "T.zeros(3).index_add(0, T.tensor([0, 1]), T.ones(2, dtype=T.float64))",
    "T.zeros(3).index_add(0, T.tensor([0, 3]), T.ones(2))",
    "T.zeros(3).index_add(0, T.tensor([0, -1]), T.ones(2))",
    "T.zeros(3).index_add(0, T.tensor([0, 1]), T.ones(3))",
    "T.zeros(3).index_add(0, T.tensor([0, 1]), T.ones(()))",
    "T.zeros(3).index_add(0, T.tensor(1), T.ones(()))",
    "T.zeros(3, 2).index_add(0, T.tensor([1]), T.ones(1, 3))",
    "T.zeros(3, 2).index_add(1, T.tensor([1]), T.ones(3, 1), alpha=2)",
    "T.zeros(3, 2, dtype=T.int64).index_add(1, T.tensor([1]), T.ones(3, 1, dtype=T.int64), alpha=2)",
    "T.zeros(2, 0).index_add(0, T.tensor([1]), T.ones(1, 0))",
    "T.zeros(3, 4).index_add(0, T.tensor([4]), T.ones(1, 4))",
    "T.zeros(3, 4).index_add(1, T.tensor([1, -5, 7]), T.ones(3, 3))",
    "T.zeros(3, 4, 2).index_add(0, T.tensor([0, 3]), T.ones(2, 4, 2))",
    "T.zeros(3, 4, dtype=T.int64).index_add(0, T.tensor([-1]), T.ones(1, 4, dtype=T.int64))",
    "T.zeros(2, 3).index_add(1, e, T.ones(0))",
    "T.eye(0).index_add(0, T.tensor([0, 0, 0]), T.zeros(3, 0), alpha=-1)",
    "T.zeros(0, 2).index_add(0, T.tensor([0]), T.ones(1, 2))",
    "T.zeros(3, 0).index_add(1, T.tensor([5]), T.ones(3, 1))",
    "T.zeros(0).index_add(0, T.tensor([5]), T.ones(1))",
    # an in-place op on a leaf that requires grad is refused before its arguments are checked
    "T.ones(3, requires_grad=True).index_add_(0, T.tensor([5]), T.ones(1))",
    "T.tensor(1., requires_grad=True).index_add_(-1, T.tensor([0, 0]), T.tensor(2.))",
    "T.ones(3, requires_grad=True).masked_fill_(T.tensor([True] * 4), 1.)",
    "T.ones(3, requires_grad=True).index_put_((T.tensor([9]),), T.tensor(1.))",
    "T.ones(3, requires_grad=True).scatter_(0, T.tensor([9]), 1.)",
    "T.ones(3, requires_grad=True).scatter_add_(0, T.tensor([9]), T.ones(1))",
    "T.ones(3, requires_grad=True)[:2].scatter_add_(0, T.tensor([9]), T.ones(1))",
    "T.zeros(2, 3).index_add(0, e, T.ones(0))",
    # index_select
    "T.tensor(5.).index_select(0, T.tensor([0, 0]))",
    "T.tensor(5.).index_select(0, T.tensor(0))",
    "T.tensor(5.).index_select(0, e)",
    "T.ones(3, 2).index_select(1, e)",
    "T.ones(3, 2).index_select(1, T.tensor([2]))",
    "T.ones(3, 2).index_select(1, T.tensor([-1]))",
    "T.ones(3, 2).index_select(0, T.tensor([1, 5, -7]))",
    "T.ones(3, 2, 2).index_select(1, T.tensor([1, 5, 7]))",
    "T.ones(3, 2, 2).index_select(2, T.tensor([2]))",
    "T.ones(3, 0).index_select(1, T.tensor([0]))",
    "T.ones(3, 0).index_select(0, T.tensor([5]))",
    "T.ones(0, 2).index_select(0, T.tensor([0, 0]))",
    "T.tensor(1.).index_select(0, T.tensor([1]))",
    # masked_fill broadcasts out of place, not in place
    "T.zeros(3).masked_fill(T.tensor([[True, False, True], [False, False, True]]), 1.)",
    "T.zeros(3).masked_fill_(T.tensor([[True, False, True], [False, False, True]]), 1.)",
    "T.zeros(3).masked_fill(T.tensor([True, False]), 1.)",
    "T.zeros(3).masked_fill_(T.tensor([True, False]), 1.)",
    "T.zeros(()).masked_fill(T.tensor([True, False]), 1.)",
    "T.zeros(()).masked_fill_(T.tensor([True, False]), 1.)",
    "T.zeros(2, 3).masked_fill_(T.tensor([True, False, True]), 1.)",
    "T.zeros(3).masked_fill_(T.tensor(True), 1.)",
    "T.zeros(3).masked_fill(T.tensor([1, 0, 1]), 1.)",
    "T.zeros(2, 2, 0).masked_fill(T.tensor([1, 0, 1]), 1.)",
    "T.zeros(()).masked_fill_(T.zeros(0, 3, dtype=T.int32), 1.)",
    "T.tensor(1.).index_select(2, T.zeros(2, 3))",
    "T.zeros(1, 0).index_put((T.tensor([3]),), T.tensor([1.]))",
    "T.zeros(3, 0)[T.tensor([[-4, 1, 5]])]",
    "setitem(T.zeros(2, 0, 0), T.tensor([5]), T.tensor(1.))",
    "T.zeros(3).masked_fill(T.tensor([True, False, True]), T.tensor([1.]))",
    "T.zeros(2).masked_fill(T.tensor([True, False]), 1j)",
    "T.zeros(2, dtype=T.float64).masked_fill_(T.tensor([True, False]), 1j)",
    "T.zeros(2, dtype=T.int32).masked_fill(T.tensor([True, False]), 1j)",
    "T.zeros(2, dtype=T.int64).masked_fill(T.tensor([True, False]), 2 + 0j)",
    "T.zeros(2, dtype=T.bool).masked_fill(T.tensor([True, False]), 1j)",
    "T.zeros(2).scatter(0, T.tensor([0]), 1j)",
    "T.zeros(2, dtype=T.int64).scatter(0, T.tensor([0]), value=1j)",
    "T.zeros(2).scatter(0, T.tensor([0]), value=2 + 0j)",
    # index_put
    "T.zeros(3).index_put((T.tensor([0, 0]),), T.tensor([2., 3.]), accumulate=True)",
    "T.zeros(3).index_put((T.tensor([0, 0]),), T.tensor([2., 3.]), True)",
    "T.zeros(3).index_put([T.tensor([0, 2])], T.tensor([2., 3.]))",
    "T.zeros(3).index_put((T.tensor([True, False, True]),), T.tensor(1.))",
    "T.zeros(3).index_put((T.tensor([True, False]),), T.tensor(1.))",
    "T.zeros(3, 2).index_put((T.tensor([1]), T.tensor([0])), T.tensor(1.))",
    "T.zeros(3, 2).index_put((T.tensor([1]),) * 3, T.tensor(1.))",
    "T.zeros(3, 2).index_put((T.tensor([3]),), T.tensor(1.))",
    "T.zeros(3, 2).index_put((T.tensor([-3]),), T.tensor(1.))",
    "T.zeros(3, 2).index_put((T.tensor([1.]),), T.tensor(1.))",
    "T.zeros(3, 2).index_put((T.tensor([1]),), T.ones(3))",
    "T.zeros(3, 2).index_put((T.tensor(1),), T.tensor(1.))",
    "T.zeros(()).index_put((T.tensor(0),), T.tensor(1.))",
    "T.zeros(3, 2).index_put((T.tensor([0, 1]), T.tensor([0, 1, 1])), T.tensor(1.))",
    "T.zeros(3, 2).index_put((e,), T.tensor(1.))",
    "T.zeros(3, 2).index_put((T.tensor([1, 1]),), T.ones(2, 1, 2), accumulate=True)",
    "T.zeros(3, 2).index_put((T.tensor([1, 1], dtype=T.int32),), T.ones(2, 2), accumulate=True)",
    "T.zeros(3, dtype=T.int64).index_put_((T.tensor([0]),), T.tensor(2.5))",
    "T.zeros(3).index_put_((T.tensor([0]),), T.tensor(2))",
    "T.zeros(3).index_put_((T.tensor([0]),), T.tensor([2]))",
    "T.zeros(3, dtype=T.bool).index_put_((T.tensor([0]),), T.tensor(True))",
    # setitem drops a value's leading size-1 dims
    "setitem(T.zeros(3, 2), slice(0, 2), T.ones(1, 1, 2))",
    "setitem(T.zeros(3, 2), slice(0, 2), T.ones(1, 2, 2))",
    "setitem(T.zeros(3, 2), T.tensor([0, 2]), T.ones(1, 1, 2))",
    "setitem(T.zeros(3, 2), slice(0, 2), T.ones(2, 1, 2))",
    # nll_loss: bad targets and weights
    "F.nll_loss(T.zeros(3, 4), T.tensor(1))",
    "F.nll_loss(T.zeros(3, 4), T.tensor([1]))",
    "F.nll_loss(T.zeros(3, 4), T.tensor([[1, 2, 3]]))",
    "F.nll_loss(T.zeros(3, 4), T.tensor([[1], [2], [3]]))",
    "F.nll_loss(T.zeros(3, 4), T.tensor([1, 2]).int())",
    "F.nll_loss(T.zeros(3, 4), T.tensor([1, 2, 3]).int())",
    "F.nll_loss(T.zeros(3, 4), T.tensor([1., 2, 3]))",
    "F.nll_loss(T.zeros(3, 4), T.tensor([1, 2, 3]), weight=T.ones(3))",
    "F.nll_loss(T.zeros(3, 4), T.tensor([1, 2, 3]), weight=T.ones(1, 4))",
    "F.nll_loss(T.zeros(3, 4), T.tensor([1, 2, 3]), weight=T.ones(()))",
    "F.nll_loss(T.zeros(3, 4), T.tensor([1, 2, 3]), weight=T.ones(4, dtype=T.float64))",
    "F.nll_loss(T.zeros(3, 4), T.tensor([1, 2, 4]))",
    "F.nll_loss(T.zeros(3, 4), T.tensor([1, 2, -1]))",
    "F.nll_loss(T.zeros(3, 4), T.tensor([1, 2, -1]), ignore_index=-1)",
    "F.nll_loss(T.zeros(3, 4, dtype=T.int64), T.tensor([1, 2, 3]))",
    "F.nll_loss(T.zeros(4), T.tensor(1))",
    "F.nll_loss(T.zeros(4), T.tensor([1]))",
    "F.nll_loss(T.zeros(4), T.tensor([1, 2]))",
    "F.nll_loss(T.zeros(4), e)",
    "F.nll_loss(T.zeros(4), T.tensor([[1]]))",
    "F.nll_loss(T.zeros(4), T.tensor(9))",
    "F.nll_loss(T.zeros(4), T.tensor(1), reduction='none')",
    "F.nll_loss(T.zeros(0, 4), e, reduction='sum')",
    "F.nll_loss(T.zeros(2, 0), T.zeros(2, dtype=T.int64))",
    "F.nll_loss(T.tensor(1.), T.tensor(1))",
    "F.nll_loss(T.zeros(3, 4), None)",
]

_PRELUDE = """
import sys
sys.path.insert(0, {root!r})
import tapegrad as T
F = T.nn.functional
b = T.tensor
e = T.tensor([], dtype=T.int64)
def setitem(x, k, v):
    x[k] = v
    return x
"""


def _torch_env():
    env = {"T": torch, "F": torch.nn.functional, "b": torch.tensor, "e": torch.tensor([], dtype=torch.int64)}

    def setitem(x, k, v):
        x[k] = v
        return x
    env["setitem"] = setitem
    return env


def _tapegrad_env():
    env = {"T": tapegrad, "F": tapegrad.nn.functional, "b": tapegrad.tensor,
           "e": tapegrad.tensor([], dtype=tapegrad.int64)}

    def setitem(x, k, v):
        x[k] = v
        return x
    env["setitem"] = setitem
    return env


def test_no_case_crashes_the_process():
    """All cases in one child process: a crash is a failure naming the last case reached."""
    script = _PRELUDE.format(root=package_root()) + textwrap.dedent("""
        import warnings
        warnings.simplefilter("ignore")
        for src in CASES:
            print(src, flush=True)
            try:
                eval(src)
            except Exception:
                pass
        print("done", flush=True)
    """).replace("CASES", repr(CASES))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0 and lines[-1:] == ["done"], \
        f"crashed (rc {proc.returncode}) at: {lines[-1] if lines else '?'}\n{proc.stderr[-2000:]}"


@pytest.mark.parametrize("src", CASES)
def test_matches_torch(src, recwarn):
    theirs, terr = capture(lambda _: eval(src, _torch_env()), torch)
    ours, oerr = capture(lambda _: eval(src, _tapegrad_env()), tapegrad)
    if terr is not None:
        assert oerr is not None, f"torch raised {type(terr).__name__}: {terr}; tapegrad returned {ours}"
        assert type(oerr) is type(terr), f"{type(oerr).__name__}: {oerr} vs torch {type(terr).__name__}: {terr}"
        if not isinstance(terr, TypeError):  # torch's TypeError texts list overloads we do not mimic
            assert str(oerr) == str(terr).split("\n")[0]
        return
    assert oerr is None, f"tapegrad raised {type(oerr).__name__}: {oerr}"
    assert dname(ours.dtype) == dname(theirs.dtype)
    assert_tensor_equal(ours, theirs)


GRAD_CASES = [
    ("gather_0d", lambda T, x: T.gather(x.sum(), 0, T.tensor([0, 0, 0]))),
    ("gather_0d_index", lambda T, x: x.gather(0, T.tensor(2))),
    ("gather_empty", lambda T, x: x.gather(0, T.tensor([], dtype=T.int64))),
    ("scatter_0d", lambda T, x: T.scatter(x.sum(), 0, T.tensor(0), x[1])),
    ("scatter_empty", lambda T, x: x.scatter(0, T.tensor([], dtype=T.int64), x[:0])),
    ("scatter_value_0d", lambda T, x: T.scatter(x.sum(), 0, T.tensor([0]), 2.0)),
    ("scatter_add_0d", lambda T, x: T.scatter_add(x.sum(), 0, T.tensor([0, 0]), x[:2] * 3)),
    ("scatter_add_empty", lambda T, x: x.scatter_add(0, T.tensor([], dtype=T.int64), x[:0])),
    ("index_add_0d", lambda T, x: x.sum().index_add(0, T.tensor([0]), x[2], alpha=2)),
    ("index_add_empty", lambda T, x: x.index_add(0, T.tensor([], dtype=T.int64), x[:0])),
    ("index_put_accumulate", lambda T, x: T.zeros(3).index_put((T.tensor([0, 0]),), x[:2] * x[1:], accumulate=True)),
    ("index_put_mask", lambda T, x: x.index_put((x > 1,), T.tensor(0.5))),
    ("masked_fill_broadcast", lambda T, x: x.masked_fill(T.tensor([[True, False, True], [False, True, True]]), 2.0)),
    ("masked_fill_inplace", lambda T, x: (x * 1).masked_fill_(x > 1, 0.0)),
    ("index_add_inplace", lambda T, x: (x * 1).index_add_(0, T.tensor([2, 2]), x[:2] * x[1:], alpha=-1)),
    ("scatter_add_inplace", lambda T, x: (x * 1).scatter_add_(0, T.tensor([0, 0]), x[1:] * 2)),
    ("index_put_inplace", lambda T, x: (x * 1).index_put_((T.tensor([1]),), x[0:1] * 5)),
]


@pytest.mark.parametrize("name,fn", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_match_torch(name, fn):
    results = []
    for T in (tapegrad, torch):
        x = T.tensor([1.5, -0.5, 2.0], requires_grad=True)
        out = fn(T, x)
        w = T.arange(float(out.numel())).reshape(out.shape) + 1
        (out * w).sum().backward()
        name_of = None if out.grad_fn is None else out.grad_fn.name()
        results.append((out, x.grad, name_of))
    (o, og, on), (t, tg, tn) = results
    assert on == tn
    assert_tensor_equal(o, t)
    assert_tensor_equal(og, tg, what="x.grad")
