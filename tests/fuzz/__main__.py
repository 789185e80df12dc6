# Command line: run a seed range and report, or show / run / minimize one program.
import argparse
import json
import sys
import time

from . import CI_PROGRAMS, FUZZ_ROUND, ci_seeds
from .compare import FAILING
from .minimize import minimize
from .report import Report
from .runner import DEFAULT_TIMEOUT, Pool, tapegrad_location


def run_range(seeds, jobs=2, timeout=DEFAULT_TIMEOUT, budget=120.0, per_group=30.0, progress=True,
              pool=None):
    """Runs the seeds and returns a Report with minimized reproducers (within `budget` seconds)."""
    rep = Report()
    if isinstance(seeds, range):
        rep.seeds = f"seeds [{seeds.start}, {seeds.stop})"
    elif seeds and all(isinstance(s, int) for s in seeds):
        rep.seeds = f"{len(seeds)} seeds from {min(seeds)} to {max(seeds)}"
    own = pool is None
    pool = pool or Pool(jobs=jobs, timeout=timeout)
    try:
        rep.tapegrad_file = pool.tapegrad_file
        t0 = time.monotonic()
        for i, out in enumerate(pool.run_seeds(seeds), 1):
            rep.add(out)
            if progress and i % 1000 == 0:
                print(f"  {i} programs, {time.monotonic() - t0:.0f}s, {len(rep.failing)} failing",
                      file=sys.stderr, flush=True)
        rep.elapsed = time.monotonic() - t0
        if budget > 0:
            rep.fill_and_minimize(pool, budget_s=budget, per_group_s=per_group)
        else:
            rep.fill_and_minimize(pool, budget_s=0)
    finally:
        if own:
            pool.close()
    return rep


def _show_run(pool, prog):
    out = pool.run_program(prog)
    marks = {r["sid"]: r for r in out["records"]}
    trace = {t[0]: t for t in out.get("trace") or []}
    for s in prog.stmts:
        t = trace.get(s.sid)
        outcome = ("skipped" if out["crash"] is None else "not reached") if t is None else (t[1] if t[1] == t[2] else f"torch {t[1]} / tapegrad {t[2]}")
        flag = ""
        if s.sid in marks:
            flag = f"   <-- {marks[s.sid]['category']}: {marks[s.sid]['detail']}"
        print(f"[{s.sid:>2}] {s.src:<72} {outcome}{flag}")
    if -1 in marks:
        print(f"[end] {marks[-1]['category']}: {marks[-1]['detail']}")
    return out


def main(argv=None):
    from . import __doc__ as doc

    ap = argparse.ArgumentParser(prog="python -m tests.fuzz", description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--start", type=int, help="first seed (default: this round's CI range)")
    ap.add_argument("--count", type=int, default=CI_PROGRAMS, help="number of programs")
    ap.add_argument("--round", type=int, help=f"CI round whose seeds to run (default FUZZ_ROUND={FUZZ_ROUND})")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per program before a hang")
    ap.add_argument("--seed", type=int, help="one program: run it (or --show / --minimize)")
    ap.add_argument("--show", action="store_true", help="print the program for --seed")
    ap.add_argument("--minimize", action="store_true", help="shrink each failure of --seed")
    ap.add_argument("--budget", type=float, default=300.0, help="seconds for minimizing reproducers")
    ap.add_argument("--per-group", type=float, default=30.0, help="seconds to minimize one group")
    ap.add_argument("--max-groups", type=int, help="print at most this many reproducers")
    ap.add_argument("--json", help="also write the report as JSON here")
    ap.add_argument("--tags", action="store_true", help="show op tags next to statements")
    args = ap.parse_args(argv)

    if args.seed is not None and args.show and not args.minimize:
        from .gen import generate

        prog = generate(args.seed)
        print(prog.text(tags=args.tags), end="")
        if prog.gen_error:
            print("# GENERATOR ERROR:\n" + prog.gen_error)
        return 0
    if tapegrad_location() is None:
        print("tapegrad is not importable: set PYTHONPATH to the directory holding the package", file=sys.stderr)
        return 2
    if args.seed is not None:
        with Pool(jobs=1, timeout=args.timeout) as pool:
            prog = pool.generate(args.seed)
            print(prog.text(tags=args.tags), end="")
            print("# --- outcomes (torch vs tapegrad) ---")
            out = _show_run(pool, prog)
            if args.minimize:
                for rec in out["records"]:
                    if rec["category"] not in FAILING:
                        continue
                    small, trials = minimize(pool, prog, rec, budget_s=args.per_group * 2)
                    print(f"\n# {rec['category']} at statement {rec['sid']}: {rec['detail']}")
                    print(f"# minimized in {trials} runs:")
                    print(small.text(header=False), end="")
            return 1 if any(r["category"] in FAILING for r in out["records"]) else 0

    if args.start is not None:
        seeds = range(args.start, args.start + args.count)
    else:
        seeds = ci_seeds(args.round)
    rep = run_range(seeds, jobs=args.jobs, timeout=args.timeout, budget=args.budget, per_group=args.per_group)
    print(rep.summary(max_groups=args.max_groups))
    n = rep.stats["programs"]
    if n:
        cpu = rep.stats["gen_cpu_s"] + rep.stats["run_cpu_s"]
        print(f"\nper 1,000 programs: {1000 * rep.elapsed / n:.1f}s wall with {args.jobs} workers; "
              f"{1000 * cpu / n:.1f} CPU-seconds in the workers (generation {1000 * rep.stats['gen_cpu_s'] / n:.1f})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rep.to_json(), f, indent=1, default=str)
    return 0 if rep.passed() else 1


if __name__ == "__main__":
    sys.exit(main())
