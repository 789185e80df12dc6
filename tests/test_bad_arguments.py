"""The bad-argument sweep: every public function and Tensor method, called with one argument replaced by
None, a string, a float for an int, a tensor of the wrong dtype, an out-of-range dim or index, or a huge
size. No call may crash the process, and each must do what torch does: raise the same exception type,
or succeed with a result of the same structure, shapes and dtypes.

The calls come from bad_argument_cases (the baselines) and bad_argument_sweep (how they are broken,
and the child process that runs them).
"""
import pytest
import torch

import tapegrad
from bad_argument_cases import BASELINES, NOT_SWEPT
from bad_argument_sweep import name_of, plain, public_names, run_calls, run_in_torch, sweep
from conftest import package_root

# Calls where tapegrad knowingly does not do what torch does: call -> why. The test fails when one of
# these starts to agree, so that the table only ever shrinks. (Empty: every call agrees with torch.)
KNOWN_DIFFERENCES = {}


@pytest.fixture(scope="module")
def swept():
    return sweep(tapegrad, torch, package_root())


def _differs(res):
    """How tapegrad's outcome differs from torch's, or None."""
    ours, theirs = res["tapegrad"], res["torch"]
    if theirs[0] == "raise":
        if ours[0] != "raise":
            return f"torch raised {theirs[1]}: {theirs[2]}; tapegrad returned {ours[1]}"
        if ours[1] != theirs[1]:
            return f"tapegrad raised {ours[1]}: {ours[2]}; torch raised {theirs[1]}: {theirs[2]}"
        return None
    if ours[0] == "raise":
        return f"tapegrad raised {ours[1]}: {ours[2]}; torch returned {theirs[1]}"
    if ours[1] != theirs[1]:
        return f"tapegrad returned {ours[1]}; torch returned {theirs[1]}"
    return None


def test_every_public_name_is_swept(swept):
    found, _, _ = swept
    names = public_names(tapegrad, torch)
    assert not set(NOT_SWEPT) - names, "NOT_SWEPT names a function tapegrad or torch no longer has"
    gone = sorted({name_of(src) for src in BASELINES} - names)
    assert not gone, f"BASELINES call functions tapegrad or torch no longer has: {gone}"
    missing = sorted(names - set(found) - set(NOT_SWEPT))
    assert not missing, f"no baseline torch accepts for {missing}: add one to bad_argument_cases.BASELINES"


@pytest.mark.parametrize("src", BASELINES)
def test_baseline_runs_in_torch(src):
    """A baseline torch refuses would make every call built from it meaningless."""
    run_in_torch(torch, plain(src))


def test_no_call_crashes(swept):
    _, calls, results = swept
    assert len(results) == len(calls)
    crashes = [f"{c}: {r['crash']} in {r['lib']}\n{r['stderr'][-1500:]}" for c, r in results.items() if "crash" in r]
    assert not crashes, f"{len(crashes)} calls crashed or hung:\n" + "\n".join(crashes)


def test_same_outcome_as_torch(swept):
    _, _, results = swept
    differ = {c: _differs(r) for c, r in results.items() if "crash" not in r}
    differ = {c: why for c, why in differ.items() if why}
    unexpected = {c: why for c, why in differ.items() if c not in KNOWN_DIFFERENCES}
    assert not unexpected, f"{len(unexpected)} calls differ from torch:\n" + \
        "\n".join(f"{c}\n    {why}" for c, why in sorted(unexpected.items()))
    now_agree = sorted(set(KNOWN_DIFFERENCES) - set(differ))
    assert not now_agree, f"these now do what torch does: remove them from KNOWN_DIFFERENCES: {now_agree}"


def test_a_crash_is_reported_and_the_sweep_goes_on():
    """The harness itself: a call that kills the child is named, and the calls after it still run."""
    crash = "__import__('ctypes').string_at(0)"  # reads address 0: SIGSEGV
    results = run_calls(["T.ones(2)", crash, "T.zeros(3)"], package_root())
    assert results[crash]["crash"] == "child died (exit code -11)" and results[crash]["lib"] == "torch"
    assert "string_at" in results[crash]["stderr"]
    after = results["T.zeros(3)"]
    assert after["torch"][0] == "ok" and after["tapegrad"] == after["torch"]
