# Aggregates program outcomes into counts, agreement statistics and deduplicated groups with reproducers.
import re
import time
from collections import Counter

from .compare import AGREEMENT_TARGET, CATEGORIES, CRASH, FAILING, HANG, HARD, HARNESS
from .minimize import minimize

_WRAP = re.compile(r" \[[a-z_]+\((False)?\)\]")


def group_key(rec):
    """Failures that share a category, op family and the two outcomes are probably one bug."""
    op = _WRAP.sub("", rec.get("op") or "?")
    return (rec["category"], op, rec.get("torch", ""), rec.get("tapegrad", ""))


class Group:
    def __init__(self, key):
        self.key = key
        self.count = 0  # statements
        self.seeds = set()
        self.best = None  # (n_stmts, seed, record, program) of the smallest program showing it
        self.minimized = None
        self.trials = 0

    def add(self, rec, n_stmts, program):
        self.count += 1
        self.seeds.add(rec["seed"])
        if self.best is None or (n_stmts, str(rec["seed"])) < (self.best[0], str(self.best[1])):
            self.best = (n_stmts, rec["seed"], rec, program)


class Report:
    def __init__(self):
        self.stats = Counter()
        self.groups = {}
        self.failing = {}  # seed -> first failing record
        self.harness = []
        self.deaths = []  # crash/hang records waiting for their program (regenerated in a worker)
        self.elapsed = 0.0
        self.seeds = None
        self.tapegrad_file = None

    def add(self, out):
        for k, v in out["stats"].items():
            self.stats[k] += v
        if out.get("gen_error"):
            self.stats[HARNESS] += 1
            self.harness.append((out["seed"], out["gen_error"]))
        for rec in out["records"]:
            if rec["category"] == HARNESS:
                self.harness.append((out["seed"], rec["detail"]))
            if rec["category"] in (CRASH, HANG):
                self.failing.setdefault(out["seed"], rec)
                if out.get("program") is None:
                    self.deaths.append(rec)
                    continue
            key = group_key(rec)
            grp = self.groups.get(key)
            if grp is None:
                grp = self.groups[key] = Group(key)
            grp.add(rec, out.get("n_stmts") or 10**6, out.get("program"))
            if rec["category"] in FAILING and out["seed"] not in self.failing:
                self.failing[out["seed"]] = rec

    # ---- derived numbers --------------------------------------------------------------------

    def agreement(self):
        """(agreeing, statements where either side raised, ratio) of exception kinds."""
        agree, total = self.stats["raise_agree"], self.stats["raise_any"]
        return agree, total, (agree / total if total else 1.0)

    def hard_count(self):
        return sum(self.stats[c] for c in HARD)

    def passed(self):
        """Issue 12's bar: no crash, hang or wrong result; exception kinds agree often enough."""
        return self.hard_count() == 0 and self.agreement()[2] >= AGREEMENT_TARGET

    def crash_count(self):
        return sum(self.stats[c] for c in (CRASH, HANG, HARNESS))

    def held_ratchet(self, max_wrong, min_agreement):
        """Never a crash or hang; wrong results and agreement no worse than where the project stands."""
        wrong = self.hard_count() - self.crash_count()
        return self.crash_count() == 0 and wrong <= max_wrong and self.agreement()[2] >= min_agreement

    def failing_groups(self):
        order = {c: i for i, c in enumerate(CATEGORIES)}
        gs = [g for g in self.groups.values() if g.key[0] in FAILING]
        return sorted(gs, key=lambda g: (order[g.key[0]], -g.count, g.key))

    def soft_groups(self):
        return sorted((g for g in self.groups.values() if g.key[0] not in FAILING), key=lambda g: -g.count)

    # ---- reproducers --------------------------------------------------------------------------

    def resolve_deaths(self, pool, limit=5000):
        """Regenerates the programs that killed a worker, to name and group the statement."""
        for i, rec in enumerate(self.deaths):
            prog = None
            if i < limit:
                try:
                    prog = pool.generate(rec["seed"])
                except RuntimeError:
                    prog = None
            again = None
            if prog is not None and rec["category"] == CRASH:
                again = pool.run_program(prog)  # alone, in a fresh worker
            if again is not None and rec["sid"] in (None, -1):
                # the dump named no statement (it can be cut short): the lone run may
                same = [r for r in again["records"] if r["category"] == rec["category"]]
                if same and same[0]["sid"] not in (None, -1):
                    rec.update(sid=same[0]["sid"], detail=same[0]["detail"], lib=same[0].get("lib"))
            if prog is not None:
                stmt = next((s for s in prog.stmts if s.sid == rec["sid"]), None)
                if stmt is not None:
                    rec.update(op=stmt.op, src=stmt.src)
            if again is not None and not any(r["category"] == CRASH for r in again["records"]):
                # it needs the worker's earlier programs: memory corruption that surfaced late
                rec["op"] = "not reproducible alone (" + (rec["op"] or "?") + ")"
                rec["detail"] += "; the program alone does not crash: " + self._replay(pool, rec)
            key = group_key(rec)
            grp = self.groups.get(key)
            if grp is None:
                grp = self.groups[key] = Group(key)
            grp.add(rec, len(prog.stmts) if prog else 10**6, prog)
        self.deaths = []

    @staticmethod
    def _replay(pool, rec):
        """Reruns the programs the crashed worker ran before, then the crashed one, in one process."""
        history = list(rec.get("history") or [])
        if not history:
            return "nothing ran before it in that worker"
        outs = list(pool.run_seeds(history + [rec["seed"]], chunk=len(history) + 1))
        dead = [o["seed"] for o in outs if any(r["category"] == CRASH for r in o["records"])]
        if dead:
            return (f"rerunning seeds {history} then {rec['seed']} in one process crashes at seed {dead[0]}: "
                    "an earlier program corrupted memory")
        return f"it ran after seeds {history[-12:]} in that worker; replaying them did not crash"

    def fill_and_minimize(self, pool, budget_s=120.0, per_group_s=30.0, groups=None):
        """Names the statements that crashed or hung, and minimizes one example per group."""
        self.resolve_deaths(pool)
        deadline = time.monotonic() + budget_s
        for g in groups or self.failing_groups():
            n, seed, rec, prog = g.best
            if prog is None:
                try:
                    prog = pool.generate(seed)
                except RuntimeError:
                    continue
                g.best = (n, seed, rec, prog)
                stmt = next((s for s in prog.stmts if s.sid == rec["sid"]), None)
                if stmt is not None:
                    rec.update(op=stmt.op, src=stmt.src)
            left = deadline - time.monotonic()
            if left <= 1:
                continue
            if g.key[0] == HANG and left < 30:
                continue
            if g.key[1].startswith("not reproducible alone"):
                continue
            try:
                g.minimized, g.trials = minimize(pool, prog, rec, budget_s=min(per_group_s, left))
            except RuntimeError as e:  # a harness failure while minimizing: keep the full program
                g.minimized = None
                self.harness.append((seed, f"minimizing: {e}"))

    # ---- text ---------------------------------------------------------------------------------

    def summary(self, reproducers=True, max_groups=None):
        st = self.stats
        agree, total, ratio = self.agreement()
        nfail = len(self.failing)
        lines = []
        rng = self.seeds or "programs"
        lines.append(f"tapegrad differential fuzz: {rng}: {st['programs']} programs, {st['stmts']} statements "
                     f"run in both libraries ({st['skipped']} skipped after a divergence), {self.elapsed:.1f}s")
        if self.tapegrad_file:
            lines.append(f"tapegrad under test: {self.tapegrad_file}")
        lines.append(f"programs with a failure: {nfail}; crashes: {st[CRASH]}; hangs: {st[HANG]}")
        lines.append(f"exception kind agreement: {agree}/{total} statements where either side raised "
                     f"= {100 * ratio:.2f}% (target >= {100 * AGREEMENT_TARGET:.1f}%)")
        lines.append(f"verdict: {'PASS' if self.passed() else 'FAIL'} ({self.hard_count()} crash/hang/wrong-result "
                     f"statements; must be 0)")
        cats = [f"{c}: {st[c]}" for c in FAILING if st[c]]
        soft = sum(g.count for g in self.soft_groups())
        lines.append("failing statements by category: " + (", ".join(cats) if cats else "none")
                     + (f"  (not failing: grad_fn name differs {soft})" if soft else ""))
        groups = self.failing_groups()
        if groups:
            lines.append("")
            lines.append(f"{len(groups)} groups (category | op | torch -> tapegrad | statements | programs | seeds):")
            for g in groups:
                cat, op, t, o = g.key
                seeds = sorted(g.seeds, key=lambda s: (str(type(s)), s))
                shown = ", ".join(map(str, seeds[:6])) + (f", ... (+{len(seeds) - 6})" if len(seeds) > 6 else "")
                lines.append(f"  {cat:<20} | {op:<40} | {t or '-'} -> {o or '-'} | {g.count} | {len(g.seeds)} | {shown}")
        if reproducers:
            for i, g in enumerate(groups[:max_groups]):
                lines.append("")
                lines.append(self.describe(g, i + 1))
        for seed, text in self.harness[:5]:
            lines.append(f"\nHARNESS ERROR (seed {seed}):\n{text}")
        return "\n".join(lines)

    def describe(self, g, number=None):
        n, seed, rec, prog = g.best
        cat, op, t, o = g.key
        head = f"[{number}] " if number else ""
        outcome = (f"{rec.get('lib') or 'a library'} died" if cat in (CRASH, HANG)
                   else f"torch {t or 'ok'}, tapegrad {o or 'ok'}")
        out = [f"{head}{cat}: {op}  ({outcome}; {g.count} statements in "
               f"{len(g.seeds)} programs; example seed {seed}, statement {rec['sid']})"]
        out.append(f"    {rec['detail']}")
        if rec.get("torch_msg"):
            out.append(f"    torch: {rec['torch_msg']}")
        if rec.get("tapegrad_msg"):
            out.append(f"    tapegrad: {rec['tapegrad_msg']}")
        shown = g.minimized or prog
        if shown is not None:
            label = "minimized" if g.minimized is not None else "program (not minimized)"
            out.append(f"    {label} (python -m tests.fuzz --seed {seed} --minimize):")
            out.extend("      " + line for line in shown.text(header=False).splitlines())
        elif rec.get("src"):
            out.append(f"      {rec['src']}")
        return "\n".join(out)

    def to_json(self):
        groups = []
        for g in self.failing_groups() + self.soft_groups():
            n, seed, rec, prog = g.best
            shown = g.minimized or prog
            groups.append(dict(category=g.key[0], op=g.key[1], torch=g.key[2], tapegrad=g.key[3],
                               statements=g.count, programs=len(g.seeds), seed=seed, sid=rec["sid"],
                               detail=rec["detail"], torch_msg=rec.get("torch_msg", ""),
                               tapegrad_msg=rec.get("tapegrad_msg", ""),
                               program=shown.text(header=False) if shown else rec.get("src", ""),
                               minimized=g.minimized is not None, seeds=sorted(map(str, g.seeds))[:50]))
        agree, total, ratio = self.agreement()
        return dict(seeds=self.seeds, stats=dict(self.stats), agreement=ratio, elapsed=self.elapsed,
                    failing_programs=len(self.failing), groups=groups)
