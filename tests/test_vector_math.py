"""The vectorised transcendentals (libmvec in the CPU kernels) stay within 4 ULP of the correctly
rounded result over a sweep of each function's range, and get the special values right."""
import numpy as np
import pytest
import tapegrad

SWEEP = 1 << 20
RANGES = {
    "exp": (-87.0, 88.0),
    "log": None,  # log-uniform over the positive floats
    "sin": (-1e4, 1e4),
    "cos": (-1e4, 1e4),
    "tanh": (-20.0, 20.0),
    "sigmoid": (-80.0, 80.0),
}


def _reference(name, x):
    """The function in higher precision (float64 for float32, long double for float64)."""
    funcs = {"exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
             "sigmoid": lambda v: 1 / (1 + np.exp(-v))}
    wide = np.float64 if x.dtype == np.float32 else np.longdouble
    with np.errstate(all="ignore"):  # log(-1), sin(inf): NaN is the expected answer
        return funcs[name](x.astype(wide)).astype(x.dtype)


def _ulp_distance(a, b):
    """How many representable numbers lie between a and b (same sign handling for +-0)."""
    # Python ints for float64 bit patterns: their differences overflow int64.
    bits, wide = (np.int32, np.int64) if a.dtype == np.float32 else (np.int64, object)
    ia, ib = a.view(bits).astype(wide), b.view(bits).astype(wide)
    top = -(2 ** (8 * a.itemsize - 1))
    ia = np.where(ia < 0, top - ia, ia)
    ib = np.where(ib < 0, top - ib, ib)
    return np.abs((ia - ib).astype(np.float64))


def _sweep(name, dtype, n):
    rng = np.random.default_rng(sum(map(ord, name)))
    if RANGES[name] is None:
        lo, hi = (-100.0, 88.0) if dtype == np.float32 else (-700.0, 700.0)
        return np.exp(rng.uniform(lo, hi, n)).astype(dtype)
    lo, hi = RANGES[name]
    return rng.uniform(lo, hi, n).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(RANGES))
def test_within_four_ulp_of_correctly_rounded(name, dtype):
    x = _sweep(name, dtype, SWEEP if dtype == np.float32 else SWEEP // 8)
    got = getattr(tapegrad.from_numpy(x), name)().numpy()
    want = _reference(name, x)
    finite = np.isfinite(want)
    assert np.array_equal(np.isfinite(got), finite)
    assert _ulp_distance(got[finite], want[finite]).max() <= 4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(RANGES))
def test_special_values(name, dtype):
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40 if dtype == np.float32 else 1e-310, -1.0, 1.0],
                 dtype=dtype)
    got = getattr(tapegrad.from_numpy(x), name)().numpy()
    want = _reference(name, x)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=4 * np.finfo(dtype).eps, atol=0)
    assert np.array_equal(np.signbit(got[ok & (want == 0)]), np.signbit(want[ok & (want == 0)]))


@pytest.mark.parametrize("name", ["sigmoid", "silu"])
@pytest.mark.parametrize("n", [17, 33, 1000, 100_003, 1 << 20])
def test_float32_sigmoid_and_silu_match_torch_bit_for_bit(name, n):
    """torch's SIMD body takes e^-x with its vectorized exp (SLEEF's algorithm, reproduced in
    torch_vec_expf), its scalar tail with glibc's: both, split where torch splits, give its bits,
    gradient included (silu's, whose 1 + x * (1 - s) torch's build fuses)."""
    import torch
    rng = np.random.default_rng(n)
    x = np.concatenate([rng.uniform(-120, 120, n // 2), rng.normal(size=n - n // 2) * 4]).astype(np.float32)
    x[: min(n, 14)] = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 88.7, 88.8, 100.0, 100.5, -87.4, -103.9,
                                -104.0, -104.1, -150], np.float32)[: min(n, 14)]
    theirs = getattr(torch.nn.functional, name)(torch.tensor(x)).numpy()
    ours = getattr(tapegrad.nn.functional, name)(tapegrad.tensor(x)).numpy()
    np.testing.assert_array_equal(ours, theirs)
    if name == "silu":
        tx, gx = torch.tensor(x, requires_grad=True), tapegrad.tensor(x, requires_grad=True)
        torch.nn.functional.silu(tx).backward(torch.ones(n))
        tapegrad.nn.functional.silu(gx).backward(tapegrad.ones(n))
        np.testing.assert_array_equal(gx.grad.numpy(), tx.grad.numpy())


def test_float32_gelu_matches_onednn_avx2_bit_for_bit():
    """torch hands contiguous float32 gelu to oneDNN; under its AVX2 code (what tests/fuzz pins with
    ONEDNN_MAX_CPU_ISA) tapegrad reproduces its arithmetic: erf by Abramowitz & Stegun with oneDNN's
    exp, and the last step fused, which keeps the far negative tail (x/2 * (1 + erf) is all rounding
    there) equal too. Run in a child with the ISA pinned, since oneDNN reads it once per process."""
    import subprocess
    import sys
    import os
    code = """
import sys, numpy as np, torch
sys.path.insert(0, sys.argv[1])
import tapegrad
rng = np.random.default_rng(0)
x = np.concatenate([np.linspace(-12, 12, 200001), rng.normal(size=100000) * 3,
                    [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 3e38, -3e38]]).astype(np.float32)
theirs = torch.nn.functional.gelu(torch.tensor(x)).numpy()
ours = tapegrad.nn.functional.gelu(tapegrad.tensor(x)).numpy()
bad = ~((theirs == ours) & (np.signbit(theirs) == np.signbit(ours)) | (np.isnan(theirs) & np.isnan(ours)))
print(int(bad.sum()), x[bad][:5], theirs[bad][:5], ours[bad][:5])
"""
    package = os.path.dirname(os.path.dirname(tapegrad.__file__))
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2")
    out = subprocess.run([sys.executable, "-c", code, package], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "0", out.stdout
