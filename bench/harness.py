# The benchmark harness: library loading, the case registry, alternating timing and result rows.
"""Shared machinery for the scoreboard; the case files only describe what to time.

A timed case is a function taking the library module (tapegrad or torch) and
returning either the zero-argument callable to time, or (statement, namespace)
to time a bare statement with no function-call overhead. It is registered with
@case; `target` is the largest acceptable tapegrad/torch ratio, `bytes` (optional)
the memory traffic one call must at least cause (reads + writes), from which the
table derives GB/s and the share of the machine's copy bandwidth, and
`copy_target` (optional, needs `bytes`) the largest acceptable
time / (bytes / copy bandwidth).

Cases with their own protocol register a runner with @custom_case that returns
rows (see row()).
"""
import gc
import importlib.machinery
import os
import pathlib
import statistics
import sys
import time

# torch's OpenMP workers otherwise spin for a while after each parallel region, on the same two
# cores tapegrad's threads are about to use: alternating runs would charge torch's spinning to
# tapegrad. Passive waiting is a documented OpenMP setting; it must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

BENCH_DIR = pathlib.Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
LIB_NAMES = ("tapegrad", "torch")


def _use_dev_tree():
    """Dev layout: import tapegrad from <repo>/python when a built _C sits there; else the installed one."""
    pkg = REPO / "python" / "tapegrad"
    if any((pkg / ("_C" + s)).exists() for s in importlib.machinery.EXTENSION_SUFFIXES):
        sys.path.insert(0, str(REPO / "python"))


def cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def import_lib(name):
    """Imports 'tapegrad' or 'torch' and gives both the same thread count."""
    if name == "tapegrad":
        _use_dev_tree()
    lib = __import__(name)
    if hasattr(lib, "set_num_threads"):
        lib.set_num_threads(cores())
    return lib


# ---------------------------------------------------------------------------
# Registry

CASES = []  # dicts: name, size, kind ("timed" | "custom"), setup/run, target, bytes, copy_target


def case(name, *, size, target, bytes=None, copy_target=None):
    """Registers a timed case: setup(lib) -> callable, or -> (statement, namespace)."""
    if copy_target is not None and bytes is None:
        raise ValueError(f"{name}: copy_target needs bytes")

    def register(setup):
        CASES.append(dict(name=name, size=size, kind="timed", setup=setup, target=target,
                          bytes=bytes, copy_target=copy_target))
        return setup

    return register


def custom_case(name):
    """Registers a runner(libs, opts) -> list of result rows (see row())."""

    def register(run):
        CASES.append(dict(name=name, kind="custom", run=run))
        return run

    return register


def select(patterns):
    """The registered cases whose name contains one of `patterns` (all when empty)."""
    return [c for c in CASES if not patterns or any(s in c["name"] for s in patterns)]


# ---------------------------------------------------------------------------
# Timing

def _compile_loop(stmt, namespace):
    """A function timing `n` runs of stmt in a bare for loop (as timeit does), in ns."""
    src = (
        "def _loop(_n, _clock):\n"
        "    _t0 = _clock()\n"
        "    for _ in range(_n):\n"
        f"        {stmt}\n"
        "    return _clock() - _t0\n"
    )
    ns = dict(namespace)
    exec(compile(src, "<bench loop>", "exec"), ns)
    return ns["_loop"]


def _loop_for(setup, lib):
    made = setup(lib)
    if callable(made):
        return _compile_loop("_fn()", {"_fn": made})
    stmt, namespace = made
    return _compile_loop(stmt, namespace)


def stats(samples):
    qs = statistics.quantiles(samples, n=4) if len(samples) > 1 else [samples[0]] * 3
    return dict(median=statistics.median(samples), min=min(samples), p25=qs[0], p75=qs[2],
                n=len(samples))


def time_alternating(loops, *, rounds, sample_ns, warmup_ns):
    """Per-call ns samples for each loop in `loops` (name -> loop), interleaved round by round."""
    clock = time.perf_counter_ns
    names = list(loops)
    inner = {}
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for name in names:  # warm up, then size the inner loop to ~sample_ns per sample
            loop, n, spent = loops[name], 1, 0
            while spent < warmup_ns:
                spent += loop(n, clock)
                n *= 2
            per_call = max(loop(max(n // 4, 1), clock) / max(n // 4, 1), 1.0)
            inner[name] = max(1, int(sample_ns / per_call))
        samples = {name: [] for name in names}
        for r in range(rounds):
            for name in names if r % 2 == 0 else reversed(names):
                samples[name].append(loops[name](inner[name], clock) / inner[name])
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: dict(stats(samples[name]), calls_per_sample=inner[name]) for name in names}


# ---------------------------------------------------------------------------
# Rows

_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def row(name, size, unit, ours, theirs, *, target=None, target_kind="ratio", extra=None,
        bytes=None, copy_gbps=None, copy_target=None):
    """One result row.

    target_kind: 'ratio' (tapegrad/torch <= target) or 'abs' (tapegrad <= target). With `bytes`
    (traffic per call) and the machine's copy bandwidth, the row also gets tapegrad's and torch's
    GB/s, tapegrad's % of copy bandwidth and copy_x = time / (time a copy of `bytes` takes),
    which `copy_target` bounds. `passed` is None without any target, else whether all hold."""
    ratio = ours / theirs if theirs else float("nan")
    checks = []
    if target is not None:
        value = ratio if target_kind == "ratio" else ours
        checks.append(dict(kind=target_kind, target=target, value=value, passed=value <= target))
    r = dict(name=name, size=size, unit=unit, tapegrad=ours, torch=theirs, ratio=ratio,
             target=target, target_kind=target_kind, bytes=bytes, tapegrad_gbps=None,
             torch_gbps=None, pct_copy=None, copy_x=None, copy_target=copy_target)
    if bytes is not None and unit in _SECONDS:
        r["tapegrad_gbps"] = bytes / (ours * _SECONDS[unit]) / 1e9
        r["torch_gbps"] = bytes / (theirs * _SECONDS[unit]) / 1e9
        if copy_gbps:
            r["pct_copy"] = 100.0 * r["tapegrad_gbps"] / copy_gbps
            r["copy_x"] = copy_gbps / r["tapegrad_gbps"]
    if copy_target is not None:
        value = r["copy_x"]
        checks.append(dict(kind="copy", target=copy_target, value=value,
                           passed=value is not None and value <= copy_target))
    r["checks"] = checks
    r["passed"] = all(c["passed"] for c in checks) if checks else None
    r["extra"] = extra or {}
    return r


def run_timed(c, libs, opts):
    """Times one registered case with both libraries; returns its row in a list."""
    loops = {name: _loop_for(c["setup"], lib) for name, lib in libs.items()}
    res = time_alternating(loops, rounds=opts.rounds, sample_ns=opts.sample_ns,
                           warmup_ns=opts.warmup_ns)
    del loops  # frees the cases' tensors before the next case allocates its own
    us = {name: res[name]["median"] / 1e3 for name in libs}
    return [row(c["name"], c["size"], "us", us["tapegrad"], us["torch"], target=c["target"],
                extra={name: {"ns_per_call": res[name]} for name in libs}, bytes=c["bytes"],
                copy_gbps=opts.copy_gbps, copy_target=c["copy_target"])]
