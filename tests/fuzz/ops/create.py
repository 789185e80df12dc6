# Statements that make new tensors: literals, factories, *_like, arange/linspace/eye, casts and copies.
from ..gen import FLOATS, INTS, Arg, fmt_num


def _shape_args(g, shape, bad):
    """The size arguments of a factory, in one of torch's accepted spellings."""
    style = g.rng.randrange(4)
    if style == 0 and shape:
        args = [Arg(str(s), "size") for s in shape]
    elif style == 1:
        args = [Arg(repr(tuple(shape)), "size")]
    elif style == 2:
        args = [Arg(repr(list(shape)), "size")]
    else:
        args = [Arg(repr(tuple(shape)), "size", "size")]
    return args


def _dtype_kw(g, dtype, force=False):
    if force or dtype != "float32" or g.chance(0.3):
        return [Arg(f"T.{dtype}", "dtype", "dtype")]
    return []


def literal(g, bad):
    dtype = g.dtype()
    shape = g.shape()
    rg = dtype in FLOATS and g.chance(0.5)
    src = g.literal(shape, dtype, rg=rg)
    if bad:
        src = g.choice((
            f"T.tensor({g.nested([1, 2, 3], (3,))}, dtype=T.int64, requires_grad=True)",
            "T.tensor([[1.0, 2.0], [3.0]])",
            "T.tensor([1.0, 'a'])",
            "T.tensor([1.0], dtype='float32')",
            "T.tensor(None)",
            "T.tensor([True, 2.5], dtype=T.bool, requires_grad=True)",
            "T.tensor([1.0], device='cuda')",
            "T.tensor([[]], requires_grad=True, dtype=T.int32)",
            "T.tensor(2**63)",
            "T.tensor([2**63 - 1, -2**63])",
        ))
    g.emit(f"{g.new()} = {src}", "create.tensor" + (" (bad)" if bad else ""), bad=bad, canon=True)


def factory(g, bad):
    name = g.choice(("zeros", "ones", "full", "empty_fill", "zeros_like", "ones_like", "full_like",
                     "arange", "arange_f", "linspace", "eye", "scalar", "new_zeros", "new_full",
                     "new_tensor", "as_tensor"))
    dtype = g.dtype()
    shape = g.shape()
    v = g.new()
    rg = dtype in FLOATS and g.chance(0.4)
    rgk = [Arg("True", "bool", "requires_grad")] if rg else []
    exact = True
    if name in ("zeros", "ones"):
        src = g.call(f"T.{name}", _shape_args(g, shape, bad) + _dtype_kw(g, dtype) + rgk, bad)
    elif name == "full":
        val = fmt_num(g.scalar(dtype))
        src = g.call("T.full", [Arg(repr(tuple(shape)), "size"), Arg(val, "num")] + _dtype_kw(g, dtype) + rgk, bad)
    elif name == "empty_fill":
        # `empty` alone is uninitialised memory; filled right away it is deterministic
        src = g.call("T.empty", _shape_args(g, shape, bad) + _dtype_kw(g, dtype), bad) + \
            f".fill_({fmt_num(g.scalar(dtype))})"
    elif name in ("zeros_like", "ones_like", "full_like"):
        r = g.pick()
        if r is None:
            return
        args = [Arg(r.text, "t")]
        if name == "full_like":
            args.append(Arg(fmt_num(g.scalar(dtype if g.chance(0.5) else r.dtype)), "num"))
        if g.chance(0.5):
            args += _dtype_kw(g, dtype, force=True)
        src = g.call(f"T.{name}", args + rgk, bad)
    elif name == "arange":
        n = g.rng.randint(0, 12)
        args = [Arg(str(n), "int")]
        if g.chance(0.4):
            args = [Arg(str(g.rng.randint(-4, 2)), "int"), Arg(str(n), "int")]
            if g.chance(0.5):
                args.append(Arg(str(g.choice((1, 2, 3, -1))), "int"))
        src = g.call("T.arange", args + (_dtype_kw(g, dtype) if g.chance(0.5) else []), bad)
    elif name == "arange_f":
        start = g.rng.randint(-8, 0) / 2
        src = g.call("T.arange", [Arg(fmt_num(start), "float"), Arg(fmt_num(start + g.rng.randint(0, 10) / 2), "float"),
                                  Arg(fmt_num(g.choice((0.5, 0.25, 1.0, 1.5))), "float")], bad)
        if g.chance(0.5) and not bad:
            src += ".requires_grad_()"
    elif name == "linspace":
        exact = False  # torch's linspace fills from both ends; neither side's rounding is canonical
        src = g.call("T.linspace", [Arg(fmt_num(g.rng.randint(-4, 4) / 2), "float"),
                                    Arg(fmt_num(g.rng.randint(-4, 8) / 2), "float"),
                                    Arg(str(g.rng.randint(0, 7)), "int")] + rgk, bad)
    elif name == "eye":
        args = [Arg(str(g.rng.randint(0, 4)), "int")]
        if g.chance(0.5):
            args.append(Arg(str(g.rng.randint(0, 4)), "int"))
        src = g.call("T.eye", args + _dtype_kw(g, dtype) + rgk, bad)
    elif name == "scalar":
        src = g.literal((), dtype, rg=rg)
    elif name in ("new_zeros", "new_full", "new_tensor"):
        r = g.pick()
        if r is None:
            return
        if name == "new_zeros":
            src = g.call(f"{r.text}.new_zeros", [Arg(repr(tuple(shape)), "size")], bad)
        elif name == "new_full":
            src = g.call(f"{r.text}.new_full", [Arg(repr(tuple(shape)), "size"),
                                                Arg(fmt_num(g.scalar(r.dtype)), "num")], bad)
        else:
            src = g.call(f"{r.text}.new_tensor", [Arg(g.nested(g.values(3, r.dtype), (3,)), "t")], bad)
    else:  # as_tensor
        src = g.call("T.as_tensor", [Arg(g.nested(g.values(4, dtype), (2, 2)), "t")] + _dtype_kw(g, dtype), bad)
    g.emit(f"{v} = {src}", "create." + name + (" (bad)" if bad else ""), exact=exact, bad=bad, canon=True)


def convert(g, bad):
    """Copies and dtype conversions of an existing tensor."""
    r = g.pick()
    if r is None:
        return
    kind = g.choice(("to", "method", "clone", "detach", "contiguous", "type_as", "requires_grad_", "T.clone"))
    v = g.new()
    target = g.choice(FLOATS + INTS + ("bool",))
    # converting a float to an integer type or bool is discontinuous: only exact values
    if kind in ("to", "method", "type_as") and target not in FLOATS and not r.exact:
        target = g.choice(FLOATS)
    if kind == "to":
        args = [Arg(f"T.{target}", "dtype")]
        if g.chance(0.2):
            args = [Arg("'cpu'", "device")] + ([Arg(f"T.{target}", "dtype")] if g.chance(0.5) else [])
        if g.chance(0.2):
            args.append(Arg("True", "bool", "copy"))
        src = g.call(f"{r.text}.to", args, bad)
    elif kind == "method":
        m = {"float32": "float", "float64": "double", "int64": "long", "int32": "int", "bool": "bool"}[target]
        src = g.call(f"{r.text}.{m}", [], bad)
    elif kind == "type_as":
        o = g.pick(lambda x: x.exact or x.floating or r.exact)
        if o is None or (not r.exact and not o.floating):
            return
        src = g.call(f"{r.text}.type_as", [Arg(o.text, "t")], bad)
    elif kind == "requires_grad_":
        if not r.named:
            return
        flag = g.choice(("", "True", "False"))
        src = g.call(f"{r.text}.requires_grad_", [Arg(flag, "bool")] if flag else [], bad)
        g.emit(src, "convert.requires_grad_" + (" (bad)" if bad else ""), bad=bad)
        return
    elif kind == "T.clone":
        src = g.call("T.clone", [Arg(r.text, "t")], bad)
    else:
        src = g.call(f"{r.text}.{kind}", [], bad)
    g.emit(f"{v} = {src}", "convert." + kind + (" (bad)" if bad else ""), exact=r.exact, bad=bad,
           canon=kind in ("detach",) and r.name in g.canon)
