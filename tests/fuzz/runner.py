# The parent side: a pool of worker processes with per-program timeouts, crash detection and restarts.
import importlib.util
import multiprocessing
import os
import re
import signal
import tempfile
import time
from multiprocessing.connection import wait

from . import worker as worker_mod
from .compare import CRASH, HANG

DEFAULT_TIMEOUT = 30.0  # seconds per program; programs take milliseconds, the machine may be busy
DEFAULT_MEM = 3 << 30  # address space each worker may add beyond what torch and tapegrad map at import
_CTX = None
EOF = ("eof",)


def _context():
    """A forkserver context that imports torch and tapegrad once: a restart after a crash is a fork."""
    global _CTX
    if _CTX is None:
        # On an AVX-512 machine torch's float32 gelu runs oneDNN's AVX-512 approximation, whose tail
        # is off by up to 20% (and gelu(inf) is nan); pin oneDNN to its AVX2 code, the reference
        # tapegrad follows, before the server (and so torch) starts. Set it yourself to see the other.
        os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX2")
        ctx = multiprocessing.get_context("forkserver")
        # torch imports sympy (autograd.grad) and dynamo (optimizers) lazily, a second of CPU per
        # process: do it once, before forking, or every restart after a crash pays again
        ctx.set_forkserver_preload(["torch", "torch.fx.experimental.symbolic_shapes", "torch._dynamo",
                                    "torch.optim", "tapegrad", worker_mod.__name__])
        _CTX = ctx
    return _CTX


def tapegrad_location():
    """Where a plain `import tapegrad` finds the package (what the workers will test)."""
    spec = importlib.util.find_spec("tapegrad")
    return None if spec is None else spec.origin


_FRAME = re.compile(r'File "<stmt (\d+)>", line \d+ in <module>\s+File "[^"]*", line \d+ in run_in_(torch|tapegrad)')


def culprit(dump):
    """(library, statement id) of the innermost statement frame in a faulthandler dump."""
    m = _FRAME.search(dump or "")
    return (m.group(2), int(m.group(1))) if m else (None, None)


class Worker:
    def __init__(self, idx, timeout, mem_bytes):
        self.idx = idx
        self.timeout = timeout
        self.mem = mem_bytes
        fd, self.fault_path = tempfile.mkstemp(prefix=f"tapegrad-fuzz-{idx}-", suffix=".txt")
        os.close(fd)
        self.proc = None
        self.start()

    def start(self):
        ctx = _context()
        self.conn, child = ctx.Pipe()
        # statement id, library (0 torch, 1 tapegrad), running flag: survives the worker's death
        self.progress = ctx.Array("i", 3, lock=False)
        self.proc = ctx.Process(target=worker_mod.serve,
                                args=(child, self.fault_path, self.timeout, self.mem, self.progress),
                                daemon=True, name=f"tapegrad-fuzz-{self.idx}")
        self.proc.start()
        child.close()
        msg = self._recv(self.timeout + 60)
        if msg is None or msg is EOF or msg[0] != "ready":
            raise RuntimeError(f"fuzz worker failed to start: {msg!r}; {self.fault_text()}")
        self.pid, self.tapegrad_file = msg[1], msg[2]
        self.since = time.monotonic()
        self.history = []  # seeds this process has run, oldest first (a crash may be a late symptom)

    def _recv(self, timeout):
        """The next message; None on timeout; EOF when the worker is gone."""
        try:
            if self.conn.poll(timeout):
                return self.conn.recv()
        except (EOFError, ConnectionResetError, OSError):
            return EOF
        return None

    def fault_text(self):
        try:
            with open(self.fault_path) as f:
                return f.read()[-6000:]
        except OSError:
            return ""

    def kill(self):
        if self.proc is not None and self.proc.is_alive():
            os.kill(self.proc.pid, signal.SIGKILL)  # our own child, by its pid
        if self.proc is not None:
            self.proc.join(5)
        self.conn.close()

    def restart(self):
        self.kill()
        self.start()

    def close(self):
        try:
            if self.proc.is_alive():
                self.conn.send(("stop",))
                self.proc.join(5)
        except (OSError, BrokenPipeError):
            pass
        self.kill()
        try:
            os.unlink(self.fault_path)
        except OSError:
            pass

    def death(self, seed, kind, limit=None):
        """The outcome record of a program that crashed or hung the worker."""
        time.sleep(0.05)  # let faulthandler finish writing
        dump = self.fault_text()
        lib, sid = culprit(dump)
        if sid is None and self.progress[2]:
            sid, lib = self.progress[0], ("torch", "tapegrad")[self.progress[1]]
        code = self.proc.exitcode if kind == CRASH else None
        if kind == CRASH:
            how = f"killed by signal {-code} ({signal.Signals(-code).name})" if code and code < 0 else f"exit code {code}"
        else:
            how = f"no result within {limit or self.timeout:.0f}s"
        rec = dict(seed=seed, sid=sid if sid is not None else -1, op="", bad=False, src="", torch="", tapegrad="",
                   category=kind, detail=f"{how} in {lib or 'an unknown library'}'s run of statement {sid}",
                   torch_msg="", tapegrad_msg="", lib=lib, dump=dump,
                   history=[s for s in self.history if s != seed][-30:])
        return dict(seed=seed, records=[rec], stats={"programs": 1, kind: 1}, gen_error="", n_stmts=0,
                    program=None, crash=rec)


class Pool:
    """Runs programs on `jobs` workers; every program yields exactly one outcome dict."""

    def __init__(self, jobs=2, timeout=DEFAULT_TIMEOUT, mem_bytes=DEFAULT_MEM):
        self.timeout = timeout
        self.workers = [Worker(i, timeout, mem_bytes) for i in range(max(1, jobs))]

    @property
    def tapegrad_file(self):
        return self.workers[0].tapegrad_file

    def close(self):
        for w in self.workers:
            w.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def run_seeds(self, seeds, chunk=20):
        """Yields one outcome per seed (in completion order). An item may also be a Program."""
        queue = list(seeds)
        queue.reverse()
        pending = {}  # worker -> [batch of items, index of the item running, results received]
        idle = list(self.workers)
        while queue or pending:
            while idle and queue:
                w = idle.pop()
                batch = [queue.pop() for _ in range(min(chunk, len(queue)))]
                w.conn.send(("seeds", batch))
                w.since = time.monotonic()
                pending[w] = [batch, 0, 0]
            ready = wait([w.conn for w in pending], timeout=1.0)
            now = time.monotonic()
            for w in list(pending):
                batch, current, done = pending[w]
                died = None
                if w.conn in ready:
                    try:
                        msg = w.conn.recv()
                    except (EOFError, ConnectionResetError, OSError):
                        msg = None
                    if msg is None:  # the worker died under a program
                        w.proc.join(5)
                        died = CRASH
                    else:
                        w.since = now
                        if msg[0] == "start":
                            pending[w][1] = msg[1]
                            item = batch[msg[1]]
                            w.history.append(getattr(item, "seed", item))
                        elif msg[0] == "result":
                            yield msg[1]
                            pending[w][2] = done = done + 1
                            if done == len(batch):
                                del pending[w]
                                idle.append(w)
                        elif msg[0] == "error":
                            raise RuntimeError("fuzz worker harness error:\n" + msg[1])
                elif now - w.since > self.timeout + 5:
                    w.kill()
                    died = HANG
                if died:
                    item = batch[current]
                    yield w.death(getattr(item, "seed", item), died)
                    queue.extend(reversed(batch[current + 1:]))
                    del pending[w]
                    if died == CRASH:
                        w.restart()
                    else:
                        w.start()
                    idle.append(w)

    def run_program(self, prog, timeout=None):
        """The outcome of one Program object (minimisation, re-runs), on the first worker."""
        w = self.workers[0]
        limit = timeout or self.timeout
        w.conn.send(("program", prog, limit))
        deadline = time.monotonic() + limit + 5
        while True:
            msg = w._recv(max(0.0, deadline - time.monotonic()))
            if msg is EOF:
                w.proc.join(10)
                out = w.death(prog.seed, CRASH)
                w.restart()
                return out
            if msg is None:
                w.kill()
                out = w.death(prog.seed, HANG, limit)
                w.start()
                return out
            if msg[0] == "result":
                return msg[1]
            if msg[0] == "error":
                raise RuntimeError("fuzz worker harness error:\n" + msg[1])

    def generate(self, seed):
        """The program for seed, generated in a worker (the parent need not import torch)."""
        w = self.workers[0]
        w.conn.send(("generate", seed))
        msg = w._recv(self.timeout + 60)
        if msg is None or msg is EOF or msg[0] != "program":
            raise RuntimeError(f"could not generate seed {seed}: {msg!r}")
        return msg[1]
