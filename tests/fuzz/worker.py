# The child side: a process that imports torch and tapegrad once and runs programs sent over a pipe.
import faulthandler
import os
import resource
import time
import traceback

from .compare import FAILING
from .program import Program


def _limit_memory(extra_bytes):
    """Caps the address space so a runaway allocation in either library fails instead of eating RAM."""
    with open("/proc/self/status") as f:
        vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize"))
    limit = vm + extra_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _pack(prog, run_, with_program):
    failing = any(r["category"] in FAILING for r in run_.records)
    return dict(seed=prog.seed, records=run_.records, stats=run_.stats, gen_error=prog.gen_error,
                n_stmts=len(prog.stmts), program=prog if (failing or with_program) else None, crash=None,
                trace=getattr(run_, "trace", None))


def serve(conn, fault_path, timeout, mem_bytes, progress=None):
    """Answers requests until told to stop. Requests:

    ("seeds", [seed, ...])  -> one ("result", dict) per seed, in order
    ("program", Program[, timeout]) -> one ("result", dict)
    ("generate", seed)      -> ("program", Program)
    ("stop",)
    """
    fault = open(fault_path, "w")
    # all threads: a crash inside a kernel thread pool has no Python frames of its own
    faulthandler.enable(file=fault, all_threads=True)
    if mem_bytes:
        _limit_memory(mem_bytes)
    import torch

    import tapegrad

    from .execute import run_program
    from .gen import generate

    torch.set_num_threads(1)  # two workers share two cores with other people's work
    if hasattr(tapegrad, "set_num_threads"):
        tapegrad.set_num_threads(1)
    conn.send(("ready", os.getpid(), tapegrad.__file__))

    gen_s = [0.0]  # CPU seconds (not wall: the machine is shared, contention is not our cost)

    def one(prog, with_program=False, limit=None):
        t0 = time.process_time()
        # a watchdog dumps the stack of a statement that hangs, before the parent kills us
        faulthandler.dump_traceback_later(limit or timeout, exit=False, file=fault)
        try:
            if prog.gen_error:
                from .execute import ProgramRun

                res = _pack(prog, ProgramRun(prog.seed), True)
            else:
                res = _pack(prog, run_program(prog, torch, tapegrad, trace=with_program, progress=progress),
                            with_program)
        finally:
            faulthandler.cancel_dump_traceback_later()
        res["stats"]["gen_cpu_s"] = gen_s[0]
        res["stats"]["run_cpu_s"] = time.process_time() - t0
        gen_s[0] = 0.0
        conn.send(("result", res))

    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        try:
            if msg[0] == "seeds":
                for i, seed in enumerate(msg[1]):
                    fault.seek(0)
                    fault.truncate()
                    # announce the item first: if this program kills us, the parent knows which it was
                    conn.send(("start", i))
                    t0 = time.process_time()
                    prog = seed if isinstance(seed, Program) else generate(seed)
                    gen_s[0] = time.process_time() - t0
                    one(prog)
            elif msg[0] == "program":
                fault.seek(0)
                fault.truncate()
                conn.send(("start", 0))
                one(msg[1], with_program=True, limit=msg[2] if len(msg) > 2 else None)
            elif msg[0] == "generate":
                conn.send(("program", generate(msg[1])))
            elif msg[0] == "stop":
                return
        except Exception:  # noqa: BLE001 - report harness bugs instead of dying silently
            conn.send(("error", traceback.format_exc()))
