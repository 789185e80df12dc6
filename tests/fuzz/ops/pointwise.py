# Elementwise math: unary, binary (functions, methods, operators, reflected, in-place), ternary, clamp.
from ..gen import FLOATS, Arg, fmt_num, on_grid

# Exactness classes. E: correctly rounded or exact, so bitwise equal for equal inputs.
# I: transcendental or otherwise library-dependent in the last bits. D: discontinuous (a tiny
# input difference flips the output), so only given exact inputs.
E, I, D = "E", "I", "D"

UNARY = {
    "abs": E, "neg": E, "negative": E, "exp": I, "log": I, "sin": I, "cos": I, "tanh": I, "sigmoid": I,
    "relu": E, "sqrt": I, "reciprocal": I, "sign": D, "floor": D, "ceil": D, "trunc": D, "frac": D,
    "round": D, "expm1": I, "log1p": I, "log2": I, "log10": I, "exp2": I, "rsqrt": I, "square": E,
    "asin": I, "acos": I, "atan": I, "sinh": I, "cosh": I, "asinh": I, "acosh": I, "atanh": I, "erf": I,
    "nan_to_num": E, "logical_not": D, "bitwise_not": D, "isnan": D, "isinf": D, "isfinite": D,
}
# name -> (class, operator or None, reflected operator form exists)
BINARY = {
    "add": (E, "+"), "sub": (E, "-"), "mul": (E, "*"), "div": (I, "/"), "pow": (I, "**"),
    "remainder": (D, "%"), "fmod": (D, None), "floor_divide": (D, "//"), "atan2": (I, None),
    "arctan2": (I, None), "maximum": (E, None), "minimum": (E, None), "logaddexp": (I, None),
    "eq": (D, "=="), "ne": (D, "!="), "lt": (D, "<"), "le": (D, "<="), "gt": (D, ">"), "ge": (D, ">="),
    "logical_and": (D, None), "logical_or": (D, None), "logical_xor": (D, None),
    "bitwise_and": (D, "&"), "bitwise_or": (D, "|"), "bitwise_xor": (D, "^"), "rsub": (E, None),
}
_NO_INPLACE = {"negative", "isnan", "isinf", "isfinite", "rsub", "maximum", "minimum", "logaddexp", "arctan2"}


def _exactness(cls, refs):
    """The exactness of a result of class cls from refs (a function of the torch value for sums)."""
    if cls == I:
        return lambda v: False
    return all(r.exact for r in refs)


def unary(g, bad):
    name = g.choice(UNARY)
    cls = UNARY[name]
    r = g.pick(exact=True if cls == D else None)
    if r is None:
        return
    form = g.choice(("fn", "method", "inplace") if name not in _NO_INPLACE else ("fn", "method"))
    args = []
    if name == "round" and g.chance(0.3):
        args.append(Arg(str(g.rng.randint(0, 2)), "int", "decimals"))
    if name == "nan_to_num" and g.chance(0.6):
        args += [Arg(fmt_num(g.rng.randint(-8, 8) / 4), "float", k) for k in ("nan", "posinf", "neginf")
                 if g.chance(0.6)]
    exact = _exactness(cls, [r])
    if form == "fn":
        src = f"{g.new()} = " + g.call(f"T.{name}", [Arg(r.text, "t")] + args, bad)
    elif form == "method":
        src = f"{g.new()} = " + g.call(f"{r.text}.{name}", args, bad)
    else:
        src = g.call(f"{r.text}.{name}_", args, bad)
    g.emit(src, f"unary.{name}.{form}" + (" (bad)" if bad else ""), exact=exact, bad=bad)


def _operand(g, r, name, cls):
    """The second operand of a binary op with r: (source, ref or None)."""
    kind = g.rng.choices(("ref", "literal", "scalar", "zerod"), (35, 25, 30, 10))[0]
    want_exact = cls == D
    if kind == "ref":
        o = g.pick(lambda x: (all(a == b or a == 1 or b == 1 for a, b in zip(x.shape[::-1], r.shape[::-1]))
                              and (x.exact or not want_exact)))
        if o is not None:
            return o.text, o
        kind = "literal"
    if kind == "literal":
        dtype = r.dtype if g.chance(0.6) else g.dtype()
        shape = g.bcast_shape(r.shape) if g.chance(0.85) else r.shape[:-1] + (1, 2)[: 2 - min(1, len(r.shape))]
        return g.literal(shape, dtype, rg=dtype in FLOATS and g.chance(0.2)), None
    if kind == "zerod":
        dtype = g.dtype()
        return g.literal((), dtype), None
    dtype = g.choice((r.dtype, r.dtype, "float32", "int64", "bool"))
    val = g.scalar(dtype)
    if name == "pow" and g.chance(0.6):
        val = g.choice((2, 3, 0, 1, -1, 0.5, 2.0, -2, 1.5))
    return fmt_num(val), None


def binary(g, bad):
    name = g.choice(BINARY)
    cls, opr = BINARY[name]
    r = g.pick(exact=True if cls == D else None)
    if r is None:
        return
    other, o = _operand(g, r, name, cls)
    refs = [r] + ([o] if o else [])
    exact = _exactness(cls, refs)
    if name == "pow" and not o and other in ("2", "1", "0", "2.0"):
        exact = r.exact
    forms = ["fn", "method"]
    if opr:
        forms += ["op", "op", "rop"]
        if r.named and opr not in ("==", "!=", "<", "<=", ">", ">="):
            forms.append("iop")
    if name not in _NO_INPLACE:
        forms.append("inplace")
    form = g.choice(forms)
    kw = []
    if name in ("add", "sub") and g.chance(0.2):
        kw.append(Arg(fmt_num(g.choice((2, -1, 0.5, 3))), "num", "alpha"))
    if name == "div" and g.chance(0.3):
        kw.append(Arg(repr(g.choice(("trunc", "floor"))), "str", "rounding_mode"))
        if not (r.exact and (o is None or o.exact)):
            return
        exact = True
    v = g.new()
    if form == "fn":
        src = f"{v} = " + g.call(f"T.{name}", [Arg(r.text, "t"), Arg(other, "num")] + kw, bad)
    elif form == "method":
        src = f"{v} = " + g.call(f"{r.text}.{name}", [Arg(other, "num")] + kw, bad)
    elif form == "inplace":
        src = g.call(f"{r.text}.{name}_", [Arg(other, "num")] + kw, bad)
    else:
        if bad:
            other = g.choice(("None", "'a'", "[1, 2]", "T.zeros(7, 5)", "object()"))
        if form == "op":
            src = f"{v} = {r.text} {opr} {other}"
        elif form == "rop":
            src = f"{v} = {other} {opr} {r.text}"
        else:
            src = f"{r.text} {opr}= {other}"
    g.emit(src, f"binary.{name}.{form}" + (" (bad)" if bad else ""), exact=exact, bad=bad)


def ternary(g, bad):
    name = g.choice(("where", "where_method", "lerp", "addcmul", "addcdiv", "clamp_t", "masked_fill",
                     "where_scalar", "lerp_"))
    r = g.pick()
    if r is None:
        return
    v = g.new()
    shape = r.shape
    if name.startswith("where"):
        c = g.pick(lambda x: x.dtype == "bool" and len(x.shape) <= len(shape)
                   and all(a in (1, b) for a, b in zip(x.shape[::-1], shape[::-1])))
        cond = c.text if c is not None and g.chance(0.6) else g.literal(g.bcast_shape(shape), "bool")
        other = g.literal(g.bcast_shape(shape), r.dtype if g.chance(0.7) else g.dtype())
        if name == "where":
            src = g.call("T.where", [Arg(cond, "t"), Arg(r.text, "t"), Arg(other, "num")], bad)
        elif name == "where_scalar":
            src = g.call("T.where", [Arg(cond, "t"), Arg(fmt_num(g.scalar(r.dtype)), "num"), Arg(r.text, "num")], bad)
        else:
            src = g.call(f"{r.text}.where", [Arg(cond, "t"), Arg(other, "num")], bad)
        g.emit(f"{v} = {src}", f"ternary.{name}" + (" (bad)" if bad else ""), exact=r.exact, bad=bad)
        return
    if name == "masked_fill":
        mask = g.literal(g.bcast_shape(shape), "bool")
        val = fmt_num(g.scalar(r.dtype)) if g.chance(0.8) else g.literal((), r.dtype)
        form = g.choice(("T", "method", "inplace"))
        if form == "T":
            src = f"{v} = " + g.call("T.masked_fill", [Arg(r.text, "t"), Arg(mask, "t"), Arg(val, "num")], bad)
        elif form == "method":
            src = f"{v} = " + g.call(f"{r.text}.masked_fill", [Arg(mask, "t"), Arg(val, "num")], bad)
        else:
            src = g.call(f"{r.text}.masked_fill_", [Arg(mask, "t"), Arg(val, "num")], bad)
        g.emit(src, f"masked_fill.{form}" + (" (bad)" if bad else ""), exact=r.exact, bad=bad)
        return
    if name == "clamp_t":
        lo = g.literal(g.bcast_shape(shape), r.dtype)
        hi = g.literal(g.bcast_shape(shape), r.dtype)
        args = [Arg(lo, "t", "min")] if g.chance(0.7) else []
        if g.chance(0.7) or not args:
            args.append(Arg(hi, "t", "max"))
        form = g.choice(("T.clamp", "method", "clip", "inplace"))
        if form == "inplace":
            src = g.call(f"{r.text}.clamp_", args, bad)
        elif form == "method":
            src = f"{v} = " + g.call(f"{r.text}.clamp", args, bad)
        else:
            src = f"{v} = " + g.call(f"T.{form.split('.')[-1]}", [Arg(r.text, "t")] + args, bad)
        g.emit(src, f"clamp.tensor.{form}" + (" (bad)" if bad else ""), exact=r.exact, bad=bad)
        return
    b = g.literal(g.bcast_shape(shape), r.dtype if g.chance(0.85) else g.dtype())
    c = g.literal(g.bcast_shape(shape), r.dtype if g.chance(0.85) else g.dtype())
    if name.startswith("lerp"):
        w = fmt_num(g.choice((0.0, 0.25, 0.5, 1.0, 2.0))) if g.chance(0.6) else c
        if name == "lerp_":
            src = g.call(f"{r.text}.lerp_", [Arg(b, "t"), Arg(w, "num")], bad)
        else:
            src = f"{v} = " + g.call("T.lerp", [Arg(r.text, "t"), Arg(b, "t"), Arg(w, "num")], bad)
    else:
        args = [Arg(r.text, "t"), Arg(b, "t"), Arg(c, "t")]
        if g.chance(0.4):
            args.append(Arg(fmt_num(g.choice((0.5, 2, -1))), "num", "value"))
        form = g.choice(("T", "method", "inplace"))
        if form == "T":
            src = f"{v} = " + g.call(f"T.{name}", args, bad)
        elif form == "method":
            src = f"{v} = " + g.call(f"{r.text}.{name}", args[1:], bad)
        else:
            src = g.call(f"{r.text}.{name}_", args[1:], bad)
    g.emit(src, f"ternary.{name}" + (" (bad)" if bad else ""), exact=lambda t: False, bad=bad)


def clamp(g, bad):
    r = g.pick()
    if r is None:
        return
    name = g.choice(("clamp", "clip", "clamp_min", "clamp_max", "clamp_", "clamp_min_", "clamp_max_"))
    dt = r.dtype if g.chance(0.8) else "float32"
    lo = g.scalar(dt)
    hi = g.scalar(dt)
    if name.startswith("clamp_min"):
        args = [Arg(fmt_num(lo), "num")]
    elif name.startswith("clamp_max"):
        args = [Arg(fmt_num(hi), "num")]
    else:
        args = []
        if g.chance(0.8):
            args.append(Arg(fmt_num(lo), "num", "min" if g.chance(0.5) else None))
        if g.chance(0.8) or not args:
            args.append(Arg(fmt_num(hi), "num", "max" if g.chance(0.5) or not args or args[0].key else None))
    form = "inplace" if name.endswith("_") else g.choice(("T", "method"))
    if form == "T":
        src = f"{g.new()} = " + g.call(f"T.{name}", [Arg(r.text, "t")] + args, bad)
    elif form == "method":
        src = f"{g.new()} = " + g.call(f"{r.text}.{name}", args, bad)
    else:
        src = g.call(f"{r.text}.{name}", args, bad)
    g.emit(src, f"clamp.{name}.{form}" + (" (bad)" if bad else ""), exact=r.exact, bad=bad)


def _grid_exact(refs):
    """For order-dependent results (sums): exact when the inputs and the result are on the grid."""
    ok = all(r.exact and on_grid(r.value) for r in refs)
    return lambda v: ok and (on_grid(v) if not isinstance(v, (tuple, list)) else all(on_grid(x) for x in v))
