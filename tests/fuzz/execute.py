# Runs one program in torch and tapegrad in lockstep (inside the worker) and classifies every statement.
import builtins
import re
import traceback
import warnings

from . import compare as C

_OBSERVE_CODE = {}  # expression -> code object ("v3", "v3.grad", ... recur in every program)

# Names every program may read besides its own variables.
_BUILTINS = {"__builtins__": builtins}


def _tensor(v):
    return C._is_tensor(v)


def _code(stmt, cache):
    code = cache.get(stmt.sid)
    if code is None:
        # The file name carries the statement id and the frame below it (run_in_torch or
        # run_in_tapegrad) the library: a crash's faulthandler dump names both.
        code = cache[stmt.sid] = compile(stmt.src, f"<stmt {stmt.sid}>", "exec")
    return code


def run_in_torch(code, ns):
    exec(code, ns)


def run_in_tapegrad(code, ns):
    exec(code, ns)


class Side:
    """One library's namespace."""

    def __init__(self, lib, label, codes):
        self.lib = lib
        self.label = label
        self.ns = dict(_BUILTINS, T=lib, F=lib.nn.functional)
        self.codes = codes
        self.runner = run_in_torch if label == "torch" else run_in_tapegrad

    def run(self, stmt):
        """"ok" or the type name of the exception one statement raised."""
        code = _code(stmt, self.codes)
        self.message = ""
        try:
            self.runner(code, self.ns)
            return "ok"
        except Exception as e:  # noqa: BLE001 - any exception is an outcome to compare
            self.message = str(e).strip().split("\n")[0][:240]
            return type(e).__name__

    def eval(self, expr):
        code = _OBSERVE_CODE.get(expr)
        if code is None:
            if len(_OBSERVE_CODE) > 20000:
                _OBSERVE_CODE.clear()
            code = _OBSERVE_CODE[expr] = compile(expr, "<observe>", "eval")
        return eval(code, self.ns)

    def versions(self, names):
        """name -> identity and version of the tensor (and of its .grad, under "name.grad")."""
        out = {}
        for n in names:
            v = self.ns.get(n)
            if isinstance(v, (tuple, list)):
                # the elements of split/unbind/max results are views of their input too
                for i, x in enumerate(v):
                    if _tensor(x):
                        out[f"{n}[{i}]"] = (id(x), _version(x))
            if not _tensor(v):
                continue
            try:
                out[n] = (id(v), _version(v))
                if v.is_leaf:  # (raises for some views; caught below)
                    g = v.grad
                    out[n + ".grad"] = None if g is None else (id(g), _version(g))
            except Exception:  # noqa: BLE001 - a broken attribute is found by the observations
                out[n] = ("broken",)
        return out

    def aliases(self, names, targets):
        """The names among `names` whose tensors share memory with a target's (views of it)."""
        def ptrs(v):
            out = set()
            for x in (v if isinstance(v, (tuple, list)) else [v]):
                try:
                    if _tensor(x) and x.numel():
                        out.add(x.untyped_storage().data_ptr())
                except Exception:  # noqa: BLE001 - inference tensors and friends: no alias info
                    pass
            return out - {0}

        hit = set()
        for t in targets:
            hit |= ptrs(self.ns.get(t))
        return {n for n in names if ptrs(self.ns.get(n)) & hit} if hit else set()

    def grad_names(self, names):
        """Expressions "name.grad" for the tensors whose .grad torch keeps (leaves needing grad, retained)."""
        out = []
        for n in names:
            v = self.ns.get(n)
            try:
                if _tensor(v) and v.requires_grad and (v.is_leaf or v.retains_grad):
                    out.append(n + ".grad")
            except Exception:  # noqa: BLE001 - torch refuses to look at some views: nothing to compare
                pass
        return out


def _version(t):
    try:
        return t._version
    except Exception:  # noqa: BLE001 - inference tensors have no version counter
        return None


def _changed(before, after):
    return {k for k in set(before) | set(after) if before.get(k) != after.get(k)}


def new_stats():
    return {"programs": 0, "stmts": 0, "skipped": 0, "ok_both": 0, "raise_any": 0, "raise_agree": 0}


class ProgramRun:
    """The outcome of one program: per-statement mismatch records and agreement counters."""

    def __init__(self, seed):
        self.seed = seed
        self.records = []  # dicts: sid, op, bad, src, torch, tapegrad, category, detail
        self.stats = new_stats()
        self.stats["programs"] = 1

    def add(self, stmt, t_out, g_out, category, detail, t_msg="", g_msg=""):
        self.records.append(dict(seed=self.seed, sid=stmt.sid, op=stmt.op, bad=stmt.bad, src=stmt.src,
                                 torch=t_out, tapegrad=g_out, category=category, detail=detail,
                                 torch_msg=t_msg, tapegrad_msg=g_msg))


class _PoisonedGrads:
    """Variables whose .grad the two sides disagree about, by name and by torch tensor identity
    (a later `w = v.contiguous()` is v itself, and w.grad is v.grad)."""

    def __init__(self, ns):
        self.ns, self.names, self.ids = ns, set(), set()

    def update(self, names):
        for n in names:
            self.names.add(n)
            v = self.ns.get(n)
            if v is not None:
                self.ids.add(id(v))

    def __contains__(self, name):
        v = self.ns.get(name)
        return name in self.names or (v is not None and id(v) in self.ids)


_LEAD = re.compile(r"[A-Za-z_]\w*")


def _base(expr):
    return _LEAD.match(expr).group()


def _observable(exprs, names, poisoned_grads):
    """The distinct expressions whose variable is still comparable."""
    out = []
    for e in dict.fromkeys(exprs):
        base = _LEAD.match(e)
        if base is None or base.group() not in names:
            continue
        if e.endswith(".grad") and e[:-5] in poisoned_grads:
            continue
        out.append(e)
    return out


def _observe(sides, exprs, run_, stmt, soft_seen, loose):
    """Compares the expressions on both sides; returns the first hard mismatch (category, detail)."""
    t_side, g_side = sides
    for expr in exprs:
        grad = expr.endswith(".grad") or stmt.op.startswith("autograd.grad")
        # gradients flow through every dtype in the graph: once float32 rounding is somewhere in
        # the program, a float64 gradient is only float32-accurate
        approx = bool(loose) if grad else _base(expr) in loose
        try:
            ts = C.summarize(t_side.eval(expr))
        except Exception:  # noqa: BLE001 - torch cannot describe it either: nothing to compare
            continue
        try:
            gs = C.summarize(g_side.eval(expr))
        except Exception as e:  # noqa: BLE001
            return (C.GRAD if grad else C.VALUE,
                    f"{expr}: reading it in tapegrad raised {type(e).__name__}: {str(e)[:200]}")
        diff = C.compare(gs, ts, expr, grad, approx)
        if diff is None:
            continue
        category, detail = diff
        if category == C.GRAD_FN:
            if (stmt.sid, expr) not in soft_seen:
                soft_seen.add((stmt.sid, expr))
                run_.add(stmt, "ok", "ok", category, detail)
            continue
        return category, detail
    return None


def run_program(prog, torch_lib, tg_lib, trace=False, progress=None):
    """Executes `prog` statement by statement in both libraries and returns a ProgramRun.

    With `trace`, run_.trace lists (sid, torch outcome, tapegrad outcome) for every statement run.
    `progress` (shared memory, 3 ints) records the statement and library running, so the parent
    can name the culprit of a crash that leaves no usable stack dump (a smashed stack).
    """
    if progress is None:
        progress = [0, 0, 0]
    run_ = ProgramRun(prog.seed)
    run_.trace = [] if trace else None
    codes = {}
    sides = (Side(torch_lib, "torch", codes), Side(tg_lib, "tapegrad", codes))
    t_side, g_side = sides
    alive = []  # names bound on both sides and still comparable, in definition order
    poisoned_grads = _PoisonedGrads(t_side.ns)
    loose = set()  # float64 variables known only to float32 precision (see Stmt.loose)
    graph_poisoned = False
    soft_seen = set()
    st = run_.stats
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for stmt in prog.stmts:
                alive_set = set(alive)
                if (any(u not in alive_set for u in stmt.uses)
                        or any(n in poisoned_grads for n in stmt.reads_grad)
                        or (stmt.autograd and graph_poisoned)):
                    st["skipped"] += 1
                    continue
                before = [s.versions(alive) for s in sides]
                progress[0], progress[1], progress[2] = stmt.sid, 0, 1
                t_out = t_side.run(stmt)
                progress[1] = 1
                g_out = g_side.run(stmt)  # (observing the results below counts as this statement)
                if stmt.unchecked:
                    # torch's own result is undefined (see Stmt.unchecked): run it to keep the two
                    # sides' states alike, compare nothing, and forget what it touched
                    st["skipped"] += 1
                    touched = set(stmt.defines) | {_base(w) for w in set(stmt.writes) | set(stmt.mutates)}
                    alive = [n for n in alive if n not in touched]
                    continue
                st["stmts"] += 1
                if trace:
                    run_.trace.append((stmt.sid, t_out, g_out))
                loose |= set(stmt.loose)
                writes = set(stmt.writes) | set(stmt.mutates)
                for s, b in zip(sides, before):
                    writes |= _changed(b, s.versions(alive))
                mismatch = None
                if t_out == "ok" and g_out == "ok":
                    st["ok_both"] += 1
                    exprs = list(stmt.observe) + list(stmt.defines) + sorted(writes)
                    if stmt.autograd:
                        exprs += t_side.grad_names(alive)
                    exprs = _observable(exprs, alive_set | set(stmt.defines), poisoned_grads)
                    mismatch = _observe(sides, exprs, run_, stmt, soft_seen, loose)
                else:
                    st["raise_any"] += 1
                    if C.same_exception(t_out, g_out, t_side.message, g_side.message):
                        st["raise_agree"] += 1
                    elif t_out == "ok":
                        mismatch = (C.TG_RAISES, f"torch ok, tapegrad raised {g_out}")
                    elif g_out == "ok":
                        mismatch = (C.TORCH_RAISES, f"torch raised {t_out}, tapegrad ok")
                    else:
                        mismatch = (C.EXC_KIND, f"torch raised {t_out}, tapegrad raised {g_out}")
                if mismatch:
                    run_.add(stmt, t_out, g_out, *mismatch, t_side.message, g_side.message)
                    # Drop what the two sides now disagree about, so one bug is reported once.
                    dropped = set(stmt.defines) | {_base(w) for w in writes if not w.endswith(".grad")}
                    dropped |= t_side.aliases(alive, {_base(m) for m in stmt.mutates if not m.endswith(".grad")})
                    alive = [n for n in alive if n not in dropped]
                    if stmt.autograd or mismatch[0] == C.GRAD or any(w.endswith(".grad") for w in writes):
                        graph_poisoned = stmt.autograd or graph_poisoned
                        poisoned_grads.update(n for n in alive)
                    continue
                if t_out != "ok":
                    # both raised: what the statement was writing (and every view of it) may be
                    # half written on each side
                    dropped = {_base(w) for w in writes if not w.endswith(".grad")}
                    dropped |= t_side.aliases(alive, dropped)
                    alive = [n for n in alive if n not in dropped]
                    continue
                if t_out == "ok":
                    for d in stmt.defines:
                        if d not in alive:
                            alive.append(d)
            # The final state: every variable and every gradient torch keeps.
            progress[0], progress[1], progress[2] = -1, 1, 1
            final = list(prog.final_observe) + alive + t_side.grad_names(alive)
            final = _observable(final, set(alive), poisoned_grads)
            end = _FinalStmt()
            mismatch = _observe(sides, final, run_, end, soft_seen, loose)
            if mismatch:
                run_.add(end, "ok", "ok", *mismatch)
    except Exception:  # noqa: BLE001 - a bug in the harness, not in a library: report it as such
        run_.records.append(dict(seed=prog.seed, sid=-2, op="harness", bad=False, src="",
                                 torch="", tapegrad="", category=C.HARNESS,
                                 detail=traceback.format_exc(limit=6)))
    finally:
        progress[2] = 0
        for s in sides:
            try:
                s.lib.set_grad_enabled(True)
                s.lib.set_default_dtype(s.lib.float32)
            except Exception:  # noqa: BLE001
                pass
    for r in run_.records:
        if r["category"] != C.GRAD_FN:
            st[r["category"]] = st.get(r["category"], 0) + 1
    return run_


class _FinalStmt:
    """Stands in for a statement when the final-state comparison finds a difference."""

    op = "final state"
    bad = False
    src = "# (final state of all variables and gradients)"

    sid = -1
