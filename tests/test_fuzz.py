# Differential fuzzing against torch (issue 12 item 4): this round's CI seeds, and self-tests of the harness.
#
# The fuzzer lives in tests/fuzz (see its __init__ for the command line and for FUZZ_ROUND, the
# counter that moves the CI seed range). Programs run in worker processes, so a crash in tapegrad
# fails test_fuzz_round with the program's seed and text instead of killing this test run.
import pytest

from fuzz import CI_PROGRAMS, FUZZ_ROUND, RATCHET_AGREEMENT, RATCHET_WRONG_RESULTS, REGRESSION_SEEDS, ci_seeds
from fuzz.__main__ import run_range
from fuzz.compare import CRASH, EXC_KIND, GRAD, HANG, REQGRAD, TG_RAISES, TORCH_RAISES, VALUE
from fuzz.gen import generate
from fuzz.minimize import minimize
from fuzz.program import raw_program
from fuzz.runner import Pool

# The library is picked by name inside a statement to fake a disagreement of each kind.
IS_TG = "T.__name__ == 'tapegrad'"


@pytest.fixture(scope="module")
def pool():
    with Pool(jobs=1, timeout=20) as p:
        yield p


def categories(outcome):
    return [(r["category"], r["sid"]) for r in outcome["records"] if r["category"] != "grad_fn name"]


def test_crash_is_reported_with_its_statement_and_the_pool_survives(pool):
    prog = raw_program(["x = T.ones(2)",
                        f"import os, signal; os.kill(os.getpid(), signal.SIGSEGV) if {IS_TG} else None",
                        "y = x + 1"])
    out = pool.run_program(prog)
    assert categories(out) == [(CRASH, 1)]
    rec = out["records"][0]
    assert rec["lib"] == "tapegrad"
    assert "SIGSEGV" in rec["detail"]
    # the worker was replaced: the next program runs normally
    assert categories(pool.run_program(raw_program(["x = T.ones(2) * 3"]))) == []


def test_hang_is_reported():
    with Pool(jobs=1, timeout=2) as p:
        out = p.run_program(raw_program(["x = T.ones(1)", f"while {IS_TG}: pass"]))
    assert categories(out) == [(HANG, 1)]


@pytest.mark.parametrize("line, category", [
    (f"x = T.tensor([1.0, 2.5] if {IS_TG} else [1.0, 2.0])", VALUE),
    (f"x = T.tensor([1.0, 2.0], dtype=T.float64 if {IS_TG} else T.float32)", "wrong dtype"),
    (f"x = T.tensor([1.0, 2.0], requires_grad=not {IS_TG})", REQGRAD),
    (f"x = T.tensor([float('nan')] if {IS_TG} else [float('inf')])", VALUE),
    (f"x = (1 if {IS_TG} else 1.0)", VALUE),
    (f"x = T.ones(2)[7] if {IS_TG} else 0", TG_RAISES),
    (f"x = 0 if {IS_TG} else T.ones(2)[7]", TORCH_RAISES),
    (f"x = T.ones(2)[7] if {IS_TG} else T.ones(2) + None", EXC_KIND),
])
def test_each_kind_of_disagreement_is_classified(pool, line, category):
    assert categories(pool.run_program(raw_program([line]))) == [(category, 0)]


def test_agreement_within_tolerance_and_same_exceptions_pass(pool):
    out = pool.run_program(raw_program([
        f"x = T.tensor([1.0, 2.0 + (1e-7 if {IS_TG} else 0.0), float('nan'), -float('inf')])",
        "y = x.sum()", "z = T.ones(2)[7]", "w = z + 1"]))
    assert categories(out) == []
    st = out["stats"]
    assert (st["stmts"], st["raise_any"], st["raise_agree"], st["skipped"]) == (3, 1, 1, 1)


def test_wrong_gradient_is_found_and_later_uses_are_skipped(pool):
    out = pool.run_program(raw_program([
        "x = T.tensor([1.0, 2.0], requires_grad=True)",
        f"h = x.register_hook((lambda g: g * 3) if {IS_TG} else (lambda g: g))",
        "(x * x).sum().backward()",
        "y = x.grad * 2",
    ]))
    assert categories(out) == [(GRAD, 2)]
    assert out["stats"]["skipped"] == 1  # y reads a gradient the two sides disagree about


def test_write_through_alias_is_compared(pool):
    # tapegrad's y would not see the write if it copied instead of viewing: the base is observed too
    out = pool.run_program(raw_program([
        "x = T.zeros(2, 3)",
        f"y = x[0].clone() if {IS_TG} else x[0]",
        "x[0, 1] = 5.0",
    ]))
    assert categories(out) == [(VALUE, 2)]
    assert "y:" in out["records"][0]["detail"]


def test_minimizer_keeps_only_what_the_failure_needs(pool):
    lines = ["a = T.ones(3)", "b = T.arange(4.0)", "c = a * 2", "d = b.sum()",
             f"e = c + (1 if {IS_TG} else 0)", "f = d * 3", "g = e.mean()"]
    prog = raw_program(lines)
    out = pool.run_program(prog)
    rec = next(r for r in out["records"] if r["category"] == VALUE)
    small, trials = minimize(pool, prog, rec, budget_s=60)
    assert [s.src for s in small.stmts] == [lines[0], lines[2], lines[4]]


def test_programs_are_a_function_of_the_seed():
    for seed in (0, 1, 12345):
        a, b = generate(seed), generate(seed)
        assert a.text() == b.text() and not a.gen_error
    assert generate(1).text() != generate(2).text()


def test_fuzz_round():
    """CI_PROGRAMS programs from this round's seed range: never a crash or hang, and wrong results
    and exception-kind agreement no worse than the ratchet in tests/fuzz/__init__.py. Issue 12's
    bar (no wrong result, >= 99.5% agreement) is rep.passed(); the summary says how far off it is."""
    seeds = list(ci_seeds()) + [s for s in REGRESSION_SEEDS if s not in ci_seeds()]
    rep = run_range(seeds, jobs=2, budget=60.0, per_group=10.0, progress=False)
    assert rep.stats["programs"] == len(seeds) >= CI_PROGRAMS
    assert rep.held_ratchet(RATCHET_WRONG_RESULTS, RATCHET_AGREEMENT), (
        f"FUZZ_ROUND={FUZZ_ROUND}; rerun one program with `python -m tests.fuzz --seed N --minimize`\n"
        + rep.summary(max_groups=80))


def test_batches_survive_crashes_and_hangs():
    """The seed-range path: a crash and a hang inside a batch cost only their own program."""
    progs = [raw_program(["x = T.ones(2) + 1"], label="a"),
             raw_program([f"import os, signal; os.kill(os.getpid(), signal.SIGABRT) if {IS_TG} else None"],
                         label="crash"),
             raw_program(["x = T.zeros(3)"], label="b"),
             raw_program([f"while {IS_TG}: pass"], label="hang"),
             raw_program(["x = T.arange(4).sum()"], label="c")]
    with Pool(jobs=2, timeout=3) as p:
        outs = {o["seed"]: o for o in p.run_seeds(progs, chunk=5)}
    assert sorted(outs) == ["a", "b", "c", "crash", "hang"]
    assert [r["category"] for r in outs["crash"]["records"]] == [CRASH]
    assert "SIGABRT" in outs["crash"]["records"][0]["detail"]
    assert [r["category"] for r in outs["hang"]["records"]] == [HANG]
    assert all(not outs[k]["records"] for k in "abc")
