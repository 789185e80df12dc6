#!/usr/bin/env python
# The scoreboard: tapegrad vs torch, same process, alternating, medians and ratios to targets.
"""Side-by-side timings of tapegrad and torch.

    python bench/bench_vs_torch.py                 # full run (~1-2 min)
    python bench/bench_vs_torch.py --quick         # smoke run (<30 s)
    python bench/bench_vs_torch.py --cases seed    # only cases whose name contains "seed"
    python bench/bench_vs_torch.py --json out.json # results elsewhere than bench/results/latest.json

Adding a case
-------------
A timed case is a function taking the library module (tapegrad or torch) and
returning the zero-argument callable to time, decorated with @case:

    @case("seed: tanh(x) fwd+bwd", size="scalar", target=0.25)
    def seed_tanh(lib):
        def run():
            x = lib.tensor(3.0, requires_grad=True)
            lib.tanh(x).backward()
        return run

The setup function may instead return (statement, namespace) to time a bare
statement with no function-call overhead, as the single-op cases do. Both
libraries are warmed up, then timed alternately (the order swapped every
round) with gc disabled; the table shows per-call medians. `target` is the
largest acceptable tapegrad/torch ratio.

Cases that need a custom protocol (like the 1,000,000-op chain, which also
measures memory in fresh subprocesses) register a runner with @custom_case and
return rows themselves.
"""
import argparse
import datetime
import gc
import importlib.machinery
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

# torch's OpenMP workers otherwise spin for a while after each parallel region, on the same two
# cores tapegrad's threads are about to use: alternating runs would charge torch's spinning to
# tapegrad. Passive waiting is a documented OpenMP setting; it must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

REPO = pathlib.Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "bench" / "results"


def _use_dev_tree():
    """Dev layout: import tapegrad from <repo>/python when a built _C sits there; else the installed one."""
    pkg = REPO / "python" / "tapegrad"
    if any((pkg / ("_C" + s)).exists() for s in importlib.machinery.EXTENSION_SUFFIXES):
        sys.path.insert(0, str(REPO / "python"))


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _import(name):
    """Imports 'tapegrad' or 'torch' and gives both the same thread count."""
    if name == "tapegrad":
        _use_dev_tree()
    lib = __import__(name)
    if hasattr(lib, "set_num_threads"):
        lib.set_num_threads(_cores())
    return lib


# ---------------------------------------------------------------------------
# Registry

CASES = []  # dicts: name, size, kind ("timed" | "custom"), setup/run, target


def case(name, *, size, target):
    """Registers a timed case: setup(lib) -> callable, or -> (statement, namespace)."""

    def register(setup):
        CASES.append(dict(name=name, size=size, kind="timed", setup=setup, target=target))
        return setup

    return register


def custom_case(name):
    """Registers a runner(libs, opts) -> list of result rows (see row())."""

    def register(run):
        CASES.append(dict(name=name, kind="custom", run=run))
        return run

    return register


# ---------------------------------------------------------------------------
# Cases

# op name -> the timed statement (the case is named after it).
SCALAR_OPS = {"add": "add(x, x)", "mul": "mul(x, x)", "sin": "sin(x)", "sigmoid": "sigmoid(x)"}


def _scalar_op_setup(op_name):
    def setup(lib):
        # x is created once; only the op (and freeing its result) is timed.
        ns = {op_name: getattr(lib, op_name), "x": lib.tensor(3.0, requires_grad=True)}
        return SCALAR_OPS[op_name], ns

    return setup


for _op, _stmt in SCALAR_OPS.items():
    case(f"op: {_stmt}, x requires grad", size="scalar", target=1.0)(_scalar_op_setup(_op))


@case("seed: z = sin(x**2) fwd+bwd", size="scalar", target=0.25)
def seed_sin(lib):
    tensor, sin = lib.tensor, lib.sin

    def run():
        x = tensor(3.0, requires_grad=True)
        z = sin(x**2)
        z.backward()
        return x.grad

    return run


@case("seed: placement neuron fwd+bwd", size="scalar", target=0.25)
def seed_neuron(lib):
    tensor, sigmoid, clamp, log = lib.tensor, lib.sigmoid, lib.clamp, lib.log

    def run():
        x = tensor(6.7)
        y = tensor(0.0)
        w = tensor(1.0, requires_grad=True)
        b = tensor(0.0, requires_grad=True)
        z = w * x + b
        y_pred = sigmoid(z)
        p = clamp(y_pred, 1e-8, 1 - 1e-8)
        loss = -(y * log(p) + (1 - y) * log(1 - p))
        loss.backward()
        return w.grad, b.grad

    return run



# Tensors issue: matmul forward+backward, reductions over a dim, a strided elementwise op.
def _matmul_fwd_bwd(n):
    def setup(lib):
        lib.manual_seed(0)
        a = lib.randn(n, n, requires_grad=True)
        b = lib.randn(n, n, requires_grad=True)
        g = lib.ones(n, n)

        def run():
            a.grad = None
            b.grad = None
            (a @ b).backward(g)

        return run

    return setup


for _n in (64, 256, 1024):
    case(f"matmul fwd+bwd float32", size=f"{_n}x{_n}", target=1.1)(_matmul_fwd_bwd(_n))


def _reduce_dim(op, dim):
    def setup(lib):
        lib.manual_seed(0)
        x = lib.rand(4096, 4096)
        return f"x.{op}({dim})", {"x": x}

    return setup


for _op, _dim in (("sum", 0), ("sum", 1), ("mean", 0), ("mean", 1)):
    case(f"{_op}(dim={_dim}) float32", size="4096x4096", target=1.0)(_reduce_dim(_op, _dim))


@case("strided elementwise: xt * yt (transposed)", size="4096x4096", target=1.5)
def strided_mul(lib):
    lib.manual_seed(0)
    xt = lib.rand(4096, 4096).t()
    yt = lib.rand(4096, 4096).t()
    return "xt * yt", {"xt": xt, "yt": yt}

# ---------------------------------------------------------------------------
# Timing of small cases

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


def _stats(samples):
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
    return {name: dict(_stats(samples[name]), calls_per_sample=inner[name]) for name in names}


def row(name, size, unit, ours, theirs, *, target=None, target_kind="ratio", extra=None):
    """One result row. target_kind: 'ratio' (tapegrad/torch <= target) or 'abs' (tapegrad <= target)."""
    ratio = ours / theirs if theirs else float("nan")
    if target is None:
        passed = None
    elif target_kind == "ratio":
        passed = ratio <= target
    else:
        passed = ours <= target
    return dict(name=name, size=size, unit=unit, tapegrad=ours, torch=theirs, ratio=ratio,
                target=target, target_kind=target_kind, passed=passed, extra=extra or {})


def run_timed(c, libs, opts):
    loops = {name: _loop_for(c["setup"], lib) for name, lib in libs.items()}
    res = time_alternating(loops, rounds=opts.rounds, sample_ns=opts.sample_ns,
                           warmup_ns=opts.warmup_ns)
    us = {name: res[name]["median"] / 1e3 for name in libs}
    return [row(c["name"], c["size"], "us", us["tapegrad"], us["torch"], target=c["target"],
                extra={name: {"ns_per_call": res[name]} for name in libs})]


# ---------------------------------------------------------------------------
# The 1,000,000-op chain

CHAIN_OPS = 1_000_000
# Alternating y = y * C and y = sin(y): y settles near the fixed point of
# y = sin(C * y) (about 0.011) and x.grad near 2e-15, both normal float32
# numbers. A larger C drives the gradient into denormals, which would time the
# FPU rather than the engine.
CHAIN_C = 1.00002


def build_chain(lib, x, n_ops):
    sin, c = lib.sin, CHAIN_C
    y = x
    for _ in range(n_ops // 2):
        y = y * c
        y = sin(y)
    return y


def _settle_allocator():
    """Lets glibc consolidate what a freed graph left in its free lists, outside any timing.

    Freeing a million small blocks leaves them in malloc's fast bins; the next large malloc in
    the process (whichever library makes it) first consolidates them all, which costs up to a
    second. Without this, each library would be charged for the other's garbage."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def chain_memory_child(lib_name, n_ops):
    """Runs in a fresh process: RSS growth while a chain of n_ops is alive (and the times of
    its forward and backward passes), printed as JSON."""
    lib = _import(lib_name)
    x = lib.tensor(1.0, requires_grad=True)
    warm = build_chain(lib, x, 10_000)  # first-use allocations belong to the baseline
    warm.backward()
    del warm
    x.grad = None
    gc.collect()
    gc.disable()
    base_kb = _status_kb("VmRSS")
    try:  # reset the high-water mark to the current RSS (Linux >= 4.0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        hwm_reset = True
    except OSError:
        hwm_reset = False
    clock = time.perf_counter_ns
    t0 = clock()
    y = build_chain(lib, x, n_ops)
    t1 = clock()
    after_forward_kb = _status_kb("VmRSS")
    t2 = clock()
    y.backward()
    t3 = clock()
    after_backward_kb = _status_kb("VmRSS")
    peak_kb = _status_kb("VmHWM")  # the graph is still alive here
    del y
    after_free_kb = _status_kb("VmRSS")
    print(json.dumps(dict(
        base_mb=base_kb / 1024,
        forward_mb=(after_forward_kb - base_kb) / 1024,
        backward_mb=(after_backward_kb - base_kb) / 1024,
        peak_mb=(peak_kb - base_kb) / 1024,
        after_free_mb=(after_free_kb - base_kb) / 1024,
        hwm_reset=hwm_reset,
        forward_us_per_op=(t1 - t0) / n_ops / 1e3,
        backward_us_per_node=(t3 - t2) / n_ops / 1e3,
        x_grad=float(x.grad.item()),
    )))


def _chain_memory(lib_name, n_ops):
    proc = subprocess.run(
        [sys.executable, str(pathlib.Path(__file__).resolve()), "--_chain-memory", lib_name,
         str(n_ops)],
        capture_output=True, text=True, timeout=300,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory subprocess for {lib_name} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


@custom_case("chain: 1M ops of y = sin(y * 1.00002)")
def chain_case(libs, opts):
    """Forward us/op and backward us/node of a 1M-op chain, and the RSS the graph costs.

    Timings: opts.chain_rounds rounds in this process, libraries alternating (the
    order swapped every round), gc off. Memory: one fresh subprocess per library,
    so neither library's allocator caches or import footprint affect the other.
    With chain_rounds == 0 (--quick) the timings come from those subprocesses.
    """
    n = opts.chain_ops
    size = f"{n:,} ops"
    names = list(libs)
    samples = {name: dict(forward_us_per_op=[], backward_us_per_node=[], free_us_per_node=[])
               for name in names}
    if opts.chain_rounds:
        for lib in libs.values():  # warm up both engines and allocators
            build_chain(lib, lib.tensor(1.0, requires_grad=True), 20_000).backward()
        _settle_allocator()
        clock = time.perf_counter_ns
        gc_was_enabled = gc.isenabled()
        gc.collect()
        gc.disable()
        try:
            for r in range(opts.chain_rounds):
                for name in names if r % 2 == 0 else reversed(names):
                    lib = libs[name]
                    x = lib.tensor(1.0, requires_grad=True)
                    t0 = clock()
                    y = build_chain(lib, x, n)
                    t1 = clock()
                    y.backward()
                    t2 = clock()
                    del y  # the graph is freed here
                    t3 = clock()
                    _settle_allocator()
                    for key, dt in zip(samples[name], (t1 - t0, t2 - t1, t3 - t2)):
                        samples[name][key].append(dt / n / 1e3)
                    samples[name]["x_grad"] = float(x.grad.item())
                    del x
        finally:
            if gc_was_enabled:
                gc.enable()
    mem = {name: _chain_memory(name, n) for name in names}
    if not opts.chain_rounds:
        for name in names:
            for key in ("forward_us_per_op", "backward_us_per_node"):
                samples[name][key].append(mem[name][key])
            samples[name]["x_grad"] = mem[name]["x_grad"]
    for name in names:
        samples[name]["timed_in"] = "this process" if opts.chain_rounds else "fresh subprocess"

    def med(name, key):
        return statistics.median(samples[name][key])

    return [
        row("chain: forward per op", size, "us", med("tapegrad", "forward_us_per_op"),
            med("torch", "forward_us_per_op"), target=1.0, target_kind="abs", extra=samples),
        row("chain: backward per node", size, "us", med("tapegrad", "backward_us_per_node"),
            med("torch", "backward_us_per_node"), target=0.5, target_kind="abs"),
        row("chain: peak RSS growth, graph alive", size, "MB", mem["tapegrad"]["peak_mb"],
            mem["torch"]["peak_mb"], extra=mem),
    ]


# ---------------------------------------------------------------------------
# Reporting

def machine_info(libs):
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = dict(
        cpu=cpu,
        cores=_cores(),
        logical_cpus=os.cpu_count(),
        torch_threads=libs["torch"].get_num_threads(),
        platform=platform.platform(),
        python=platform.python_version(),
        torch=libs["torch"].__version__,
        tapegrad=getattr(libs["tapegrad"], "__version__", "?"),
        tapegrad_path=str(pathlib.Path(libs["tapegrad"].__file__).parent),
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        commit=_git_head(),
    )
    return info


def _git_head():
    """The checked-out commit, read from .git without running git (None outside a checkout)."""
    git = REPO / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        if (git / ref).exists():
            return (git / ref).read_text().strip()
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0]
    except OSError:
        pass
    return None


def _fmt(value, unit):
    if value is None or value != value:
        return "-"
    if unit == "MB":
        return f"{value:.1f} MB"
    return f"{value:.3f} us" if value < 100 else f"{value:.1f} us"


def _fmt_target(r):
    if r["target"] is None:
        return "-"
    if r["target_kind"] == "ratio":
        return f"ratio <= {r['target']:g}"
    return f"<= {r['target']:g} {r['unit']}"


def print_table(rows):
    header = ("case", "size", "tapegrad", "torch", "ratio", "target", "result")
    body = [(r["name"], r["size"], _fmt(r["tapegrad"], r["unit"]), _fmt(r["torch"], r["unit"]),
             f"{r['ratio']:.3f}", _fmt_target(r),
             {True: "PASS", False: "FAIL", None: "info"}[r["passed"]]) for r in rows]
    widths = [max(len(str(line[i])) for line in [header] + body) for i in range(len(header))]
    right = {2, 3, 4}

    def fmt_line(cells):
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    print(fmt_line(header))
    print("  ".join("-" * w for w in widths))
    for line in body:
        print(fmt_line(line))


def write_json(path, info, opts, rows):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = dict(machine=info, options=dict(quick=opts.quick, cases=opts.cases, rounds=opts.rounds,
                                          chain_ops=opts.chain_ops, chain_rounds=opts.chain_rounds),
               results=rows)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(description="tapegrad vs torch, side by side.")
    p.add_argument("--quick", action="store_true", help="fewer rounds: a smoke run under 30 s")
    p.add_argument("--json", default=str(RESULTS_DIR / "latest.json"),
                   help="where to write the JSON results (default: bench/results/latest.json)")
    p.add_argument("--cases", default="",
                   help="comma-separated substrings; run only cases whose name contains one")
    p.add_argument("--strict", action="store_true", help="exit with status 1 if a target fails")
    p.add_argument("--_chain-memory", nargs=2, metavar=("LIB", "N"), help=argparse.SUPPRESS)
    opts = p.parse_args(argv)
    opts.rounds = 15 if opts.quick else 41
    opts.sample_ns = 1_000_000 if opts.quick else 3_000_000
    opts.warmup_ns = 30_000_000 if opts.quick else 100_000_000
    opts.chain_ops = CHAIN_OPS
    opts.chain_rounds = 0 if opts.quick else 3
    return opts


def main(argv=None):
    opts = parse_args(argv)
    if opts._chain_memory:
        chain_memory_child(opts._chain_memory[0], int(opts._chain_memory[1]))
        return 0
    wanted = [s.strip() for s in opts.cases.split(",") if s.strip()]
    selected = [c for c in CASES if not wanted or any(s in c["name"] for s in wanted)]
    if not selected:
        print(f"no case matches {opts.cases!r}; the cases are:")
        print("\n".join("  " + c["name"] for c in CASES))
        return 2
    libs = {"tapegrad": _import("tapegrad"), "torch": _import("torch")}
    info = machine_info(libs)
    print(f"{info['cpu']}, {info['cores']} cores; python {info['python']}, torch "
          f"{info['torch']} ({info['torch_threads']} threads), tapegrad {info['tapegrad']}"
          + (" [quick]" if opts.quick else ""))
    rows = []
    t0 = time.perf_counter()
    for c in selected:
        rows += run_timed(c, libs, opts) if c["kind"] == "timed" else c["run"](libs, opts)
    print()
    print_table(rows)
    write_json(opts.json, info, opts, rows)
    print(f"\n{len(rows)} rows in {time.perf_counter() - t0:.1f} s; JSON: {opts.json}")
    return 1 if opts.strict and any(r["passed"] is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
