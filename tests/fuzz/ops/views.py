# Views that share storage (slices, transpose, permute, expand, select, diagonal, ...) and indexing reads/writes.
from ..gen import Arg, fmt_num


def _factor(g, n, k):
    """A random shape of k dims with product n (one entry may be -1)."""
    dims = [1] * k
    rest = n
    for i in range(k - 1):
        divs = [d for d in range(1, rest + 1) if rest % d == 0] if rest else [0, 1, 2]
        dims[i] = g.choice(divs)
        rest = rest // dims[i] if dims[i] else rest
    if k:
        dims[-1] = rest if n else (0 if 0 not in dims else g.choice((1, 2)))
    if k and n and g.chance(0.3):
        dims[g.rng.randrange(k)] = -1
    return dims


def view(g, bad):
    r = g.pick()
    if r is None:
        return
    nd, shape = r.ndim, r.shape
    kind = g.choice(("view", "reshape", "flatten", "squeeze", "unsqueeze", "transpose", "t", "T", "mT",
                     "permute", "expand", "narrow", "select", "diagonal", "split", "chunk", "unbind",
                     "unflatten", "movedim", "view_as", "swapaxes", "broadcast_to", "detach", "expand_as",
                     "squeeze_dims", "T.transpose", "T.narrow", "T.select", "T.squeeze"))
    v = g.new()
    head = kind[2:] if kind.startswith("T.") else kind
    fn_form = kind.startswith("T.")

    def call(name, args):
        if fn_form:
            return g.call(f"T.{name}", [Arg(r.text, "t")] + args, bad)
        return g.call(f"{r.text}.{name}", args, bad)

    info = {"ndim": nd}
    if head in ("view", "reshape"):
        k = g.rng.randint(0, 4) if r.numel != 1 else g.rng.randint(0, 2)
        if r.numel != 1 and k == 0:
            k = 1
        dims = _factor(g, r.numel, k)
        if g.chance(0.5) or not dims:
            src = call(head, [Arg(repr(tuple(dims)), "size")])
        else:
            src = call(head, [Arg(str(d), "size") for d in dims])
    elif head == "flatten":
        args = []
        if nd and g.chance(0.6):
            a = g.rng.randrange(nd)
            b = g.rng.randrange(a, nd)
            args = [Arg(str(a), "dim", info=info), Arg(str(b - (nd if g.chance(0.3) else 0)), "dim", info=info)]
        src = call("flatten", args)
    elif head == "squeeze":
        src = call("squeeze", [Arg(str(g.dim(r)), "dim", info=info)] if g.chance(0.6) else [])
    elif head == "squeeze_dims":
        dims = tuple(sorted({g.rng.randrange(max(nd, 1)) for _ in range(2)}))
        src = call("squeeze", [Arg(repr(dims), "dims", info=info)])
    elif head == "unsqueeze":
        src = call("unsqueeze", [Arg(str(g.rng.randint(-nd - 1, nd)), "dim", info={"ndim": nd + 1})])
    elif head in ("transpose", "swapaxes"):
        src = call(head, [Arg(str(g.dim(r)), "dim", info=info), Arg(str(g.dim(r)), "dim", info=info)])
    elif head == "t":
        src = call("t", [])
    elif head in ("T", "mT"):
        src = f"{r.text}.{head}"
    elif head == "permute":
        perm = list(range(nd))
        g.rng.shuffle(perm)
        if g.chance(0.5):
            src = call("permute", [Arg(str(p), "dim", info=info) for p in perm])
        else:
            src = call("permute", [Arg(repr(tuple(perm)), "dims", info=info)])
    elif head in ("expand", "broadcast_to"):
        new = [g.choice((2, 3)) if s == 1 and g.chance(0.6) else (-1 if g.chance(0.2) and head == "expand" else s)
               for s in shape]
        lead = [g.choice((1, 2, 3)) for _ in range(g.rng.randint(0, 2 if nd < 3 else 0))]
        new = lead + new
        if head == "expand" and g.chance(0.5) and new:
            src = call("expand", [Arg(str(s), "size") for s in new])
        elif head == "expand":
            src = call("expand", [Arg(repr(tuple(new)), "size")])
        else:
            src = g.call("T.broadcast_to", [Arg(r.text, "t"), Arg(repr(tuple(new)), "size")], bad)
    elif head == "expand_as":
        o = g.pick(lambda x: x.ndim >= nd and all(a in (1, b) for a, b in zip(shape[::-1], x.shape[::-1])))
        if o is None:
            return
        src = call("expand_as", [Arg(o.text, "t")])
    elif head == "narrow":
        if nd == 0:
            return
        d = g.dim(r)
        size = shape[d]
        start = g.rng.randint(0, size)
        length = g.rng.randint(0, size - start)
        if g.chance(0.2):
            start -= size
        src = call("narrow", [Arg(str(d), "dim", info=info), Arg(str(start), "idx", info={"size": size}),
                              Arg(str(length), "int")])
    elif head == "select":
        if nd == 0:
            return
        d = g.dim(r)
        size = shape[d]
        i = g.rng.randint(-size, size - 1) if size else 0
        src = call("select", [Arg(str(d), "dim", info=info), Arg(str(i), "idx", info={"size": size})])
    elif head == "diagonal":
        args = []
        if g.chance(0.7):
            args.append(Arg(str(g.rng.randint(-2, 2)), "int", "offset"))
        if nd >= 2 and g.chance(0.5):
            a = g.rng.randrange(nd)
            b = g.choice([x for x in range(nd) if x != a])
            args += [Arg(str(a), "dim", "dim1", info), Arg(str(b), "dim", "dim2", info)]
        src = call("diagonal", args)
    elif head in ("split", "chunk"):
        d = g.dim(r)
        n = g.rng.randint(1, 3)
        src = call(head, [Arg(str(n), "int"), Arg(str(d), "dim", "dim" if g.chance(0.5) else None, info)])
    elif head == "unbind":
        src = call("unbind", [Arg(str(g.dim(r)), "dim", info=info)] if g.chance(0.7) else [])
    elif head == "unflatten":
        if nd == 0:
            return
        d = g.dim(r)
        sizes = _factor(g, shape[d], g.rng.randint(1, 3))
        src = call("unflatten", [Arg(str(d), "dim", info=info), Arg(repr(tuple(sizes)), "size")])
    elif head == "movedim":
        src = call("movedim", [Arg(str(g.dim(r)), "dim", info=info), Arg(str(g.dim(r)), "dim", info=info)])
    elif head == "view_as":
        o = g.pick(lambda x: x.numel == r.numel)
        if o is None:
            return
        src = call("view_as", [Arg(o.text, "t")])
    else:  # detach
        src = call("detach", [])
    g.emit(f"{v} = {src}", f"view.{kind}" + (" (bad)" if bad else ""), exact=r.exact, bad=bad,
           canon=r.name in g.canon)


def _index(g, r, for_write=False):
    """Source of an index expression for r, built from ints, slices, None, Ellipsis and tensors."""
    parts = []
    nd = r.ndim
    d = 0
    advanced = False
    budget = g.rng.randint(1, max(1, nd))
    while d < nd and len(parts) < budget:
        size = r.shape[d]
        kind = g.rng.choices(("int", "slice", "none", "ellipsis", "list", "tensor", "mask"),
                             (25, 35, 8, 6, 8, 8, 6))[0]
        if kind == "int" and size:
            parts.append(str(g.rng.randint(-size, size - 1)))
            d += 1
        elif kind == "slice":
            a = g.choice(("", str(g.rng.randint(-size - 1, size + 1))))
            b = g.choice(("", str(g.rng.randint(-size - 1, size + 2))))
            step = g.choice(("", "", ":2", ":3", ":1"))
            parts.append(f"{a}:{b}{step}")
            d += 1
        elif kind == "none":
            parts.append("None")
        elif kind == "ellipsis" and "..." not in parts:
            parts.append("...")
            d = nd - g.rng.randint(0, nd - d)
        elif kind in ("list", "tensor") and size and not (advanced and for_write):
            n = g.rng.randint(1, 3)
            if for_write:
                idx = g.rng.sample(range(size), min(n, size))  # repeated targets make writes order-dependent
            else:
                idx = [g.rng.randint(-size, size - 1) for _ in range(n)]
            parts.append(repr(idx) if kind == "list" else f"T.tensor({idx!r})")
            advanced = True
            d += 1
        elif kind == "mask" and not advanced:
            k = g.rng.randint(1, nd - d)
            mshape = r.shape[d:d + k]
            parts.append(g.literal(mshape, "bool"))
            advanced = True
            d += k
    if not parts:
        parts.append(":")
    return parts[0] if len(parts) == 1 else ", ".join(parts)


def index_read(g, bad):
    r = g.pick()
    if r is None:
        return
    if bad:
        size = r.shape[0] if r.ndim else 1
        idx = g.choice((str(size + 2), str(-size - 3), "1.5", "'a'", ", ".join(["0"] * (r.ndim + 1)),
                        "T.tensor([0.5])", f"T.tensor([{size + 4}])", "[[0, 1], [2]]",
                        "T.tensor([True, False, True, True, False, True, True])", "..., ..."))
    else:
        idx = _index(g, r)
    g.emit(f"{g.new()} = {r.text}[{idx}]", "index.read" + (" (bad)" if bad else ""), exact=r.exact, bad=bad,
           canon=r.name in g.canon and "T.tensor" not in idx and "[" not in idx)


def index_write(g, bad):
    r = g.pick(named=True) or g.pick()
    if r is None:
        return
    idx = _index(g, r, for_write=True)
    target = g.peek(f"{r.text}[{idx}]")
    if target is None and not bad:
        return
    tshape = tuple(target.shape) if target is not None else (2,)
    op = g.choice(("=", "=", "=", "+=", "*="))
    kind = g.choice(("scalar", "tensor", "ref"))
    exact = r.exact
    if bad:
        value = g.choice(("None", "'a'", "T.zeros(7, 5)", "[1.0, 'b']", "T.zeros(3, 3, 3, 3)"))
    elif kind == "scalar":
        value = fmt_num(g.scalar(r.dtype if g.chance(0.8) else g.choice(("float32", "int64", "bool"))))
    elif kind == "tensor":
        value = g.literal(g.bcast_shape(tshape), r.dtype if g.chance(0.8) else g.choice(("float32", "int64", "bool")))
    else:
        o = g.pick(lambda x: x.ndim <= len(tshape) and all(a in (1, b) for a, b in zip(x.shape[::-1], tshape[::-1])))
        if o is None:
            return
        value = o.text
        exact = exact and o.exact
    # `x[i] += v` reads then writes through the same index: with an advanced index that is
    # index_put, well defined because the generator keeps write indices distinct.
    g.emit(f"{r.text}[{idx}] {op} {value}", f"index.write{op}" + (" (bad)" if bad else ""), exact=exact, bad=bad)
