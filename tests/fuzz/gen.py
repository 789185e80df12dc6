# The program generator: a seeded random walk over the API that asks torch (the oracle) what each step did.
#
# Generation executes every statement in torch as it is written, so the generator knows the real
# shape, dtype, requires_grad, aliasing and values of every variable and can pick valid (or
# deliberately invalid) arguments for the next statement. A program is therefore a deterministic
# function of its seed and the torch version. The statement text is written against `T`/`F`, so
# the same text runs in both libraries.
import ast
import builtins
import math
import random
import warnings

from .program import Program, Stmt, analyze

FLOATS = ("float32", "float64")
INTS = ("int64", "int32")
DTYPES = FLOATS + INTS + ("bool",)
# Variables with more elements are not offered as inputs (they stay observable): bad arguments
# can create 2**40-element expanded views, and repeated growth would slow every later op.
MAX_INPUT_NUMEL = 256
# Fraction of statements that deliberately pass a bad argument.
BAD_RATE = 0.10


def is_tensor(v):
    # asks the class: reading grad_fn of some views raises (torch refuses views of modified multi-output bases)
    t = type(v)
    return hasattr(t, "requires_grad") and hasattr(t, "grad_fn") and hasattr(t, "detach")


def _base(expr):
    """The variable an observed expression belongs to: v3 for v3, v3[1] and v3.grad."""
    return expr.split(".")[0].split("[")[0]


def _version(t):
    try:
        return t._version
    except RuntimeError:  # inference tensors have no version counter
        return None


def _usable(t):
    """False for a view torch no longer lets anyone use (its multi-output base was modified)."""
    try:
        t.grad_fn
        return True
    except RuntimeError:
        return False


def dname(dtype):
    return str(dtype).replace("torch.", "")


def _oversized(v):
    """Too big to feed to later statements: many elements, or an empty tensor with a huge dim (the
    generators size their literals from its dims, and one of 2**62 rows would never be written)."""
    return is_tensor(v) and (v.numel() > MAX_INPUT_NUMEL or any(s > MAX_INPUT_NUMEL for s in v.shape))


def is_float(t):
    return dname(t.dtype) in FLOATS


def on_grid(t):
    """True when every finite value is a multiple of 1/16 no larger than 2**12 in magnitude.

    Sums, products of few factors and matmuls of such values are exact in float32, so their
    result does not depend on the order of summation and both libraries must agree bitwise.
    """
    import torch

    if not is_tensor(t):
        return False
    if not is_float(t):
        return True
    with torch.no_grad():
        v = t.detach()
        v = v[torch.isfinite(v)] if v.numel() else v
        if v.numel() == 0:
            return True
        s = v * 16
        return bool((s == s.round()).all()) and bool((v.abs() <= 4096).all())


def fmt_num(x):
    """Python source for a number (nan and infinities included)."""
    if isinstance(x, bool):
        return repr(x)
    if isinstance(x, float):
        if math.isnan(x):
            return "float('nan')"
        if math.isinf(x):
            return "float('inf')" if x > 0 else "-float('inf')"
        return repr(x)
    return repr(x)


class Ref:
    """A tensor the next statement can use: a variable, an element of a sequence, or a .grad."""

    __slots__ = ("text", "value", "exact", "name")

    def __init__(self, text, value, exact, name):
        self.text, self.value, self.exact, self.name = text, value, exact, name

    @property
    def shape(self):
        return tuple(self.value.shape)

    @property
    def ndim(self):
        return self.value.dim()

    @property
    def dtype(self):
        return dname(self.value.dtype)

    @property
    def numel(self):
        return self.value.numel()

    @property
    def floating(self):
        return self.dtype in FLOATS

    @property
    def rg(self):
        return bool(self.value.requires_grad)

    @property
    def named(self):
        return self.text == self.name


class Arg:
    """One argument of a call: its source, its kind (which bad values fit it) and keyword if any."""

    __slots__ = ("text", "kind", "key", "info")

    def __init__(self, text, kind=None, key=None, info=None):
        self.text, self.kind, self.key, self.info = str(text), kind, key, info


class Gen:
    def __init__(self, seed, length=None):
        import torch

        self.torch = torch
        self.seed = seed
        self.rng = random.Random(seed)
        self.ns = {"__builtins__": builtins, "T": torch, "F": torch.nn.functional}
        self.order = []  # names bound in torch, in definition order
        self.exact = {}  # name -> bool (or list of bools for a sequence)
        self.canon = set()  # names whose strides are torch's for a fresh or viewed tensor
        self.huge = set()
        self.loose = set()  # names whose values went through inexact float32 arithmetic
        self.stmts = []
        self.counter = 0
        self.length = length or self.rng.randint(6, 36)
        self.wrap = ""  # a `with ...:` prefix the dispatcher puts around the next statement

    # ---- names, references, oracle ---------------------------------------------------------

    def new(self):
        n = f"v{self.counter}"
        self.counter += 1
        return n

    def refs(self, grads=True):
        out = []
        for n in self.order:
            if n in self.huge:
                continue
            v = self.ns.get(n)
            ex = self.exact.get(n, True)
            if is_tensor(v):
                if not _usable(v) or dname(v.dtype) not in DTYPES:  # e.g. a dtype the generator never makes
                    continue
                out.append(Ref(n, v, ex or not is_float(v), n))
                if grads and v.is_leaf and v.grad is not None and v.grad.numel() <= MAX_INPUT_NUMEL:
                    out.append(Ref(n + ".grad", v.grad, False, n))
            elif isinstance(v, (tuple, list)) and len(v) <= 8:
                for i, x in enumerate(v):
                    if (is_tensor(x) and x.numel() <= MAX_INPUT_NUMEL and _usable(x)
                            and dname(x.dtype) in DTYPES):
                        e = ex[i] if isinstance(ex, list) and i < len(ex) else bool(ex)
                        out.append(Ref(f"{n}[{i}]", x, e or not is_float(x), n))
        return out

    def pick(self, pred=None, exact=None, floating=None, rg=None, named=False, grads=True):
        """A random usable tensor reference (recent ones more likely), or None."""
        cands = []
        for r in self.refs(grads):
            if floating is not None and r.floating != floating:
                continue
            if exact and not r.exact:
                continue
            if rg is not None and r.rg != rg:
                continue
            if named and not r.named:
                continue
            if pred is not None and not pred(r):
                continue
            cands.append(r)
        if not cands:
            return None
        weights = [1 + i for i in range(len(cands))]
        return self.rng.choices(cands, weights)[0]

    def peek(self, expr):
        """torch's value of an expression over the current variables, or None if it raises."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return eval(expr, self.ns)
        except Exception:  # noqa: BLE001
            return None

    def _versions(self):
        out = {}
        for n in self.order:
            v = self.ns.get(n)
            if isinstance(v, (tuple, list)):
                for i, x in enumerate(v):
                    if is_tensor(x):
                        out[f"{n}[{i}]"] = (id(x), _version(x))
            if is_tensor(v):
                out[n] = (id(v), _version(v))
                try:
                    if v.is_leaf:
                        g = v.grad
                        out[n + ".grad"] = None if g is None else (id(g), _version(g))
                except RuntimeError:
                    pass
        return out

    def emit(self, src, op, exact=True, autograd=False, bad=False, canon=None, observe=()):
        """Appends a statement, runs it in torch and records what it bound and changed.

        `exact` says whether the result is bitwise reproducible given exact inputs (a bool, or a
        function of the resulting value); it is and-ed with the exactness of what was written.
        """
        if self.wrap and not autograd and not src.startswith("with "):
            src = self.wrap + src
            op = op + " [" + self.wrap.strip(": ").replace("with T.", "") + "]"
        tree = ast.parse(src)
        uses, defines, reads_grad, mutates = analyze(src, tree)
        # a float64 result computed from an inexact float32 value is only float32-accurate
        loose_in = any(self._loose_input(u) for u in uses)
        before = self._versions()
        ok = True
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(compile(tree, "<gen>", "exec"), self.ns)
        except Exception:  # noqa: BLE001 - a raising statement is as useful a test as any
            ok = False
        after = self._versions()
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        writes = tuple(sorted(changed | set(mutates)))
        touched = set(defines) | {_base(w) for w in writes}
        if loose_in and ok:
            self.loose |= touched
        elif loose_in:
            self.loose |= {_base(w) for w in writes}
        loose = tuple(sorted(n for n in touched if n in self.loose))
        unchecked = ok and bool(mutates) and self._overlapping_write(mutates, uses)
        self.stmts.append(Stmt(sid=len(self.stmts), src=src, op=op, uses=uses, defines=defines,
                               writes=writes, mutates=mutates, observe=tuple(defines) + tuple(observe),
                               reads_grad=reads_grad, loose=loose, autograd=autograd, bad=bad,
                               unchecked=unchecked))
        for w in {_base(w) for w in writes if not w.endswith(".grad")}:
            if w not in self.ns:
                continue
            e = exact(self.ns[w]) if callable(exact) else exact
            self.exact[w] = bool(self.exact.get(w, True)) and bool(e)
        if not ok:
            return False
        for d in defines:
            v = self.ns.get(d)
            if isinstance(v, (tuple, list)):
                self.exact[d] = [bool(exact(x) if callable(exact) else exact) for x in v]
                big = any(_oversized(x) for x in v)
            else:
                self.exact[d] = bool(exact(v) if callable(exact) else exact)
                big = _oversized(v)
            if big:
                self.huge.add(d)
            if canon and is_tensor(v):
                self.canon.add(d)
            if d not in self.order:
                self.order.append(d)
        return True

    def _overlapping_write(self, mutates, uses):
        """True when torch accepted an in-place write whose result depends on its loop order:
        the target overlaps itself (an expanded tensor) or an operand that views the same memory
        with another layout. torch documents these as undefined; they are run but not compared."""
        def tensors(v):
            return [x for x in (v if isinstance(v, (tuple, list)) else [v]) if is_tensor(x)]

        def layout(x):
            return tuple(x.shape), x.stride(), x.storage_offset()

        for m in mutates:
            if m.endswith(".grad"):
                continue
            for x in tensors(self.ns.get(m)):
                if any(st == 0 and sz > 1 for st, sz in zip(x.stride(), x.shape)):
                    return True
                ptr = x.untyped_storage().data_ptr()
                if not ptr:
                    continue
                for u in uses:
                    if u == m:
                        continue
                    for y in tensors(self.ns.get(u)):
                        if y.numel() and y.untyped_storage().data_ptr() == ptr and layout(y) != layout(x):
                            return True
        return False

    def _loose_input(self, name):
        if name in self.loose:
            return True
        v = self.ns.get(name)
        ex = self.exact.get(name, True)
        items = v if isinstance(v, (tuple, list)) else [v]
        exs = ex if isinstance(ex, list) else [ex] * len(items)
        return any(is_tensor(x) and dname(x.dtype) == "float32" and not e for x, e in zip(items, exs))

    # ---- random values --------------------------------------------------------------------

    def chance(self, p):
        return self.rng.random() < p

    def choice(self, seq):
        return self.rng.choice(list(seq))

    def dtype(self, weights=(5, 2, 2, 1, 1)):
        return self.rng.choices(DTYPES, weights)[0]

    def shape(self, max_numel=36, ndim=None):
        if ndim is None:
            ndim = self.rng.choices((0, 1, 2, 3, 4), (12, 30, 34, 18, 6))[0]
        zero = self.chance(0.08)
        dims = [self.rng.choices((1, 2, 3, 4, 5), (20, 30, 28, 15, 7))[0] for _ in range(ndim)]
        while math.prod(dims) > max_numel:
            i = self.rng.randrange(ndim)
            dims[i] = max(1, dims[i] // 2)
        if zero and ndim:
            dims[self.rng.randrange(ndim)] = 0
        return tuple(dims)

    def scalar(self, dtype):
        """A Python number fitting dtype, from the exactly representable grid (sometimes special)."""
        if dtype == "bool":
            return self.chance(0.5)
        if dtype in INTS:
            return self.rng.randint(-5, 5)
        if self.chance(0.06):
            return self.choice((float("nan"), float("inf"), -float("inf"), -0.0, 0.0, 64.0))
        return self.rng.randint(-12, 12) / 4

    def values(self, n, dtype, special=None):
        if special is None:
            special = self.chance(0.25)
        out = []
        for _ in range(n):
            if dtype == "bool":
                out.append(self.chance(0.5))
            elif dtype in INTS:
                out.append(self.rng.randint(-5, 5) if not self.chance(0.03)
                           else self.choice((2**31 - 1, -2**31, 1000)))
            elif special and self.chance(0.12):
                out.append(self.choice((float("nan"), float("inf"), -float("inf"), -0.0, 64.0)))
            else:
                out.append(self.rng.randint(-12, 12) / 4)
        return out

    def nested(self, flat, shape):
        """Source of a nested list holding `flat` laid out as `shape` (shape must have no 0 before its end)."""
        if not shape:
            return fmt_num(flat[0])
        if len(shape) == 1:
            return "[" + ", ".join(fmt_num(x) for x in flat) + "]"
        step = math.prod(shape[1:])
        return "[" + ", ".join(self.nested(flat[i * step:(i + 1) * step], shape[1:])
                               for i in range(shape[0])) + "]"

    def literal(self, shape, dtype, rg=False, distinct=False, explicit_dtype=None, lo=None, hi=None):
        """`T.tensor(...)` source with the given shape and dtype, from the value grid."""
        n = math.prod(shape)
        if lo is not None:
            flat = [self.rng.randint(lo, hi) for _ in range(n)]
            if dtype in FLOATS:
                flat = [float(x) for x in flat]
        elif distinct and dtype in FLOATS:
            pool = [k / 4 for k in range(-4 * n - 4, 4 * n + 4)]
            flat = self.rng.sample(pool, n)
        else:
            flat = self.values(n, dtype)
        if n == 0 or (0 in shape[:-1]):
            # a nested list cannot spell a 0 before the last dim
            base = f"T.zeros({shape!r}, dtype=T.{dtype})"
            return base + (".requires_grad_()" if rg else "")
        body = self.nested(flat, shape)
        if dtype == "float32" and explicit_dtype is None:
            explicit_dtype = not all(isinstance(x, float) for x in flat) or self.chance(0.5)
        elif explicit_dtype is None:
            explicit_dtype = dtype not in ("int64", "bool") or self.chance(0.5)
        kw = f", dtype=T.{dtype}" if explicit_dtype or dtype in ("float64", "int32") else ""
        if dtype == "int64" and not explicit_dtype and any(isinstance(x, float) for x in flat):
            kw = ", dtype=T.int64"
        if rg:
            kw += ", requires_grad=True"
        return f"T.tensor({body}{kw})"

    def index_literal(self, shape, high, unique_dim=None):
        """An int64 index tensor of `shape` with entries in [0, high) (distinct along unique_dim)."""
        n = math.prod(shape)
        if n == 0:
            return f"T.zeros({shape!r}, dtype=T.int64)"
        if high <= 0:
            flat = [0] * n
        elif unique_dim is None:
            flat = [self.rng.randrange(high) for _ in range(n)]
        else:
            # distinct along unique_dim: scatter/index_put with repeated targets is order-dependent
            import itertools

            flat = [0] * n
            strides = [math.prod(shape[i + 1:]) for i in range(len(shape))]
            others = [range(s) for i, s in enumerate(shape) if i != unique_dim]
            for pos in itertools.product(*others):
                col = self.rng.sample(range(high), shape[unique_dim]) if shape[unique_dim] <= high else None
                if col is None:
                    return None
                for k in range(shape[unique_dim]):
                    full = list(pos[:unique_dim]) + [k] + list(pos[unique_dim:])
                    flat[sum(a * b for a, b in zip(full, strides))] = col[k]
        return f"T.tensor({self.nested(flat, shape)})"

    def dim(self, r, allow_none=False):
        """A valid dim for r (negative sometimes); for a 0-d tensor 0 or -1."""
        nd = max(r.ndim, 1)
        d = self.rng.randrange(nd)
        if self.chance(0.3):
            d -= nd
        if allow_none and self.chance(0.15):
            return None
        return d

    def bcast_shape(self, shape):
        """A shape broadcastable with `shape` that does not change the broadcast result's shape."""
        k = self.rng.randint(0, len(shape))
        out = [1 if self.chance(0.3) else s for s in shape[len(shape) - k:]]
        if math.prod(out) > 4096:  # a huge-shaped empty tensor: a literal of its non-zero dims would never end
            out = [min(s, 1) for s in out]
        return tuple(out)

    # ---- bad arguments --------------------------------------------------------------------

    def bad_value(self, arg):
        kind, info = arg.kind, arg.info or {}
        nd = info.get("ndim", 1)
        size = info.get("size", 3)
        table = {
            "t": ["None", "'abc'", "[[1.0], [2.0, 3.0]]", "3.5", "T.zeros(7, 5)", "T.ones(2, dtype=T.bool)",
                  "T.tensor([1, 2], dtype=T.int32)"],
            "dim": [str(nd + self.rng.randint(0, 2)), str(-nd - 1 - self.rng.randint(0, 2)), "1.5", "'a'",
                    "(0, 0)"],
            "dims": ["(0, 0)", f"({nd},)", "(1.5,)", "[None]"],
            "int": ["-1", "-3", "2**40", "2**62", "2**63", "1.5", "'2'", "None", "True"],
            "size": ["-1", "-4", "2**40", "2**62", "2**63", "2.5", "'2'", "None", "(2**40, 2**40)"],
            "idx": [str(size + self.rng.randint(0, 3)), str(-size - 1 - self.rng.randint(0, 2)), "1.5", "None"],
            "float": ["'x'", "None", "[1.0]", "T.zeros(2, 2)"],
            # no complex number: torch takes one (it has complex dtypes, tapegrad has none), so it is
            # not a bad argument but a feature tapegrad leaves out
            "num": ["'x'", "None", "[1.0, 2.0]", "T.zeros(7, 5)", "T.zeros(2, dtype=T.bool)"],
            "bool": ["'yes'", "None", "2", "1.5"],
            "dtype": ["'float32'", "T.int64", "float", "3", "T.bool", "T.int32"],
            "str": ["'bogus'", "None", "3", "''"],
            "device": ["'cuda'", "'nope'", "'cuda:0'", "3", "T.device('cuda')"],
        }
        return self.choice(table.get(kind, ["None"]))

    def call(self, head, args, bad=False):
        """Source of head(args...); with `bad`, one argument is replaced by a wrong one."""
        args = list(args)
        if bad:
            slots = [i for i, a in enumerate(args) if a.kind]
            if slots and not self.chance(0.12):
                i = self.choice(slots)
                a = args[i]
                args[i] = Arg(self.bad_value(a), None, a.key)
            elif self.chance(0.5):
                args.append(Arg("1", None, self.choice(("bogus", "out_", "dimension"))))
            else:
                args.append(Arg(self.choice(("None", "'x'", "2**40", "-1")), None, None))
        pos = [a.text for a in args if a.key is None]
        kw = [f"{a.key}={a.text}" for a in args if a.key is not None]
        return f"{head}({', '.join(pos + kw)})"

    # ---- driving ----------------------------------------------------------------------------

    def program(self):
        from . import ops

        return ops.generate(self)


def generate(seed, length=None):
    """The program for `seed` (a deterministic function of the seed and the torch version)."""
    g = Gen(seed, length)
    try:
        g.program()
    except Exception:  # noqa: BLE001 - a generator bug must be reported, not crash the run
        import traceback

        return Program(seed=seed, stmts=g.stmts, gen_error=traceback.format_exc(limit=8))
    finally:
        try:
            g.torch.set_grad_enabled(True)
            g.torch.set_default_dtype(g.torch.float32)
        except Exception:  # noqa: BLE001
            pass
    return Program(seed=seed, stmts=g.stmts)
