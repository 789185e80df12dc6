#!/usr/bin/env python
# The scoreboard's command line: tapegrad vs torch, same process, alternating, medians, targets.
"""Side-by-side timings of tapegrad and torch.

    python bench/bench_vs_torch.py                 # full run (< 3 min on 2 cores)
    python bench/bench_vs_torch.py --quick         # smoke run (< 1 min)
    python bench/bench_vs_torch.py --cases seed    # only cases whose name contains "seed"
    python bench/bench_vs_torch.py --json out.json # results elsewhere than bench/results/latest.json

Files in bench/:
    harness.py            registry (@case, @custom_case), alternating timing, result rows
    bandwidth.py          the machine's copy bandwidth (np.copyto of 64 MiB), measured once per run
    report.py             machine info, the printed table, the JSON file
    cases_ops.py          scalar ops, seed graphs, matmul, sums over a dim, strided op
    cases_elementwise.py  big-vector copy, elementwise fwd+bwd, full sum/mean
    cases_training.py     whole training steps of small MLPs
    chain.py              the 1,000,000-op chain (times here, memory in fresh subprocesses)

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
largest acceptable tapegrad/torch ratio (None: info only). A case that moves
a known amount of memory passes bytes=... (reads + writes per call) and gets
GB/s and % of copy bandwidth columns; copy_target=N adds the check
time <= N x (bytes / copy bandwidth).

Cases that need a custom protocol (like the 1,000,000-op chain, which also
measures memory in fresh subprocesses) register a runner with @custom_case and
return rows themselves.
"""
import argparse
import sys
import time

# harness first: it sets OMP_WAIT_POLICY=PASSIVE, which must happen before torch loads.
import harness
import bandwidth
import report
import cases_ops  # noqa: F401  (the case modules register on import; their order is table order)
import cases_elementwise  # noqa: F401
import cases_training  # noqa: F401
import chain


def parse_args(argv):
    p = argparse.ArgumentParser(description="tapegrad vs torch, side by side.")
    p.add_argument("--quick", action="store_true", help="fewer rounds: a smoke run")
    p.add_argument("--json", default=str(harness.RESULTS_DIR / "latest.json"),
                   help="where to write the JSON results (default: bench/results/latest.json)")
    p.add_argument("--cases", default="",
                   help="comma-separated substrings; run only cases whose name contains one")
    p.add_argument("--strict", action="store_true", help="exit with status 1 if a target fails")
    p.add_argument("--_chain-memory", nargs=2, metavar=("LIB", "N"), help=argparse.SUPPRESS)
    opts = p.parse_args(argv)
    opts.rounds = 15 if opts.quick else 41
    opts.sample_ns = 1_000_000 if opts.quick else 3_000_000
    opts.warmup_ns = 30_000_000 if opts.quick else 100_000_000
    opts.chain_ops = chain.CHAIN_OPS
    opts.chain_rounds = 0 if opts.quick else 3
    return opts


def main(argv=None):
    opts = parse_args(argv)
    if opts._chain_memory:
        chain.chain_memory_child(opts._chain_memory[0], int(opts._chain_memory[1]))
        return 0
    wanted = [s.strip() for s in opts.cases.split(",") if s.strip()]
    selected = harness.select(wanted)
    if not selected:
        print(f"no case matches {opts.cases!r}; the cases are:")
        print("\n".join("  " + c["name"] for c in harness.CASES))
        return 2
    libs = {name: harness.import_lib(name) for name in harness.LIB_NAMES}
    info = report.machine_info(libs)
    copy_bw = bandwidth.measure_copy_bandwidth()
    opts.copy_gbps = copy_bw["gbps"]
    print(f"{info['cpu']}, {info['cores']} cores; python {info['python']}, torch "
          f"{info['torch']} ({info['torch_threads']} threads), tapegrad {info['tapegrad']}"
          + (" [quick]" if opts.quick else ""))
    print(f"copy bandwidth: {copy_bw['gbps']:.1f} GB/s (np.copyto of 2^24 float32, read + write, "
          f"median of {copy_bw['repeats']})")
    rows = [report.copy_row(copy_bw)]
    t0 = time.perf_counter()
    for c in selected:
        rows += harness.run_timed(c, libs, opts) if c["kind"] == "timed" else c["run"](libs, opts)
    print()
    report.print_table(rows, opts.copy_gbps)
    report.write_json(opts.json, info, opts, rows, copy_bw)
    print(f"\n{len(rows)} rows in {time.perf_counter() - t0:.1f} s; JSON: {opts.json}")
    return 1 if opts.strict and any(r["passed"] is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
