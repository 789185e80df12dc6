# Shrinks a failing program to the statements its failure needs: a dependency slice, then delta debugging.
import time

from .compare import HANG


def signature(record):
    """What must stay the same for a smaller program to count as the same failure."""
    return (record["category"], record["sid"])


def reproduces(outcome, sig):
    for r in outcome["records"]:
        if (r["category"], r["sid"]) == sig:
            return True
    return False


def _slice(prog, target_sid):
    """The statements the target can depend on through names (defines, writes, gradients)."""
    stmts = [s for s in prog.stmts if s.sid <= target_sid] if target_sid >= 0 else list(prog.stmts)
    if not stmts or target_sid < 0 or stmts[-1].sid != target_sid:
        return {s.sid for s in stmts}
    target = stmts[-1]
    need = set(target.uses) | set(target.reads_grad)
    grads = target.autograd or bool(target.reads_grad)
    keep = {target.sid}
    for s in reversed(stmts[:-1]):
        touched = set(s.defines) | {w.split(".")[0] for w in s.writes}
        if touched & need or (grads and s.autograd):
            keep.add(s.sid)
            need |= set(s.uses) | set(s.reads_grad)
            grads = grads or s.autograd
    return keep


def ddmin(items, test, deadline):
    """Zeller's delta debugging: a 1-minimal sublist of items for which test() holds (within time)."""
    n = 2
    while len(items) >= 2 and time.monotonic() < deadline:
        size = -(-len(items) // n)
        chunks = [items[i:i + size] for i in range(0, len(items), size)]
        for i, chunk in enumerate(chunks):
            rest = [x for c in chunks[:i] + chunks[i + 1:] for x in c]
            if test(rest):
                items = rest
                n = max(n - 1, 2)
                break
        else:
            if n >= len(items):
                break
            n = min(len(items), n * 2)
    return items


def minimize(pool, prog, record, budget_s=60.0, max_trials=400):
    """The smallest program (found within the budget) that still shows `record`'s failure."""
    sig = signature(record)
    deadline = time.monotonic() + budget_s
    trials = [0]
    timeout = 10.0 if record["category"] == HANG else None

    def test(sids):
        if trials[0] >= max_trials or time.monotonic() > deadline:
            return False
        trials[0] += 1
        keep = set(sids) | ({sig[1]} if sig[1] >= 0 else set())
        return reproduces(pool.run_program(prog.keep(keep), timeout=timeout), sig)

    target = sig[1]
    # a final-state difference (sid -1) has no single statement; the others happen at their own
    # line, so what follows it cannot matter
    if target >= 0:
        prefix = [s.sid for s in prog.stmts if s.sid < target]
    else:
        prefix = [s.sid for s in prog.stmts if s.sid != target]
    sliced = sorted(_slice(prog, target) - {target})
    start = sliced if len(sliced) < len(prefix) and test(sliced) else prefix
    if start is prefix and not test(prefix):
        return prog, trials[0]  # flaky or needs later statements: keep the original
    best = ddmin(start, test, deadline)
    keep = set(best) | ({target} if target >= 0 else set())
    return prog.keep(keep), trials[0]
