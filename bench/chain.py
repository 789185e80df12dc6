# The 1,000,000-op chain: engine cost per op and per node, and the memory a live graph holds.
"""Timings alternate both libraries in this process; memory is measured in one fresh
subprocess per library (bench_vs_torch.py --_chain-memory LIB N runs chain_memory_child)."""
import gc
import json
import statistics
import subprocess
import sys
import time

from harness import BENCH_DIR, custom_case, import_lib, row

CLI = BENCH_DIR / "bench_vs_torch.py"

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
    lib = import_lib(lib_name)
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
        [sys.executable, str(CLI), "--_chain-memory", lib_name, str(n_ops)],
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
            mem["torch"]["peak_mb"], target=0.3, extra=mem),
    ]
