# Differential fuzzer: random torch programs run in torch and tapegrad, every outcome compared.
#
# The CI range moves with FUZZ_ROUND, a counter kept here (no dates): bump it by one each working
# session so CI sees fresh programs, and keep a failing seed as a regression test before bumping.
#
#   python -m tests.fuzz                                # this round's CI range, summary + reproducers
#   python -m tests.fuzz --start 0 --count 100000 --jobs 2 --json fuzz.json   # the local 100,000 run
#   python -m tests.fuzz --seed 123 --show              # print program 123
#   python -m tests.fuzz --seed 123                     # run it, print each statement's outcome
#   python -m tests.fuzz --seed 123 --minimize          # shrink its failures to reproducers
FUZZ_ROUND = 0
CI_PROGRAMS = 2000


def ci_seeds(round_=None):
    """The seeds CI runs this round: [round * CI_PROGRAMS, (round + 1) * CI_PROGRAMS)."""
    r = FUZZ_ROUND if round_ is None else round_
    return range(r * CI_PROGRAMS, (r + 1) * CI_PROGRAMS)
