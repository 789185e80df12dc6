# Joining, reordering and index-driven ops: cat/stack, flip/roll/repeat, sort/topk, gather/scatter/index_*.
from ..gen import Arg, fmt_num
from .pointwise import _grid_exact


def _same_shape_peer(g, r, except_dim=None):
    """Another tensor (existing or a literal) shaped like r except perhaps along except_dim."""
    def fits(x):
        if x.ndim != r.ndim or x.text == r.text:
            return False
        return all(a == b or i == except_dim for i, (a, b) in enumerate(zip(x.shape, r.shape)))
    o = g.pick(fits) if g.chance(0.5) else None
    if o is not None:
        return o.text, o.exact
    shape = list(r.shape)
    if except_dim is not None and shape:
        shape[except_dim] = g.rng.randint(0, 3)
    dtype = r.dtype if g.chance(0.85) else g.dtype()
    return g.literal(tuple(shape), dtype, rg=dtype in ("float32", "float64") and g.chance(0.3)), True


def join(g, bad):
    r = g.pick()
    if r is None:
        return
    name = g.choice(("cat", "cat", "concat", "stack", "stack", "hstack", "vstack", "cat_empty"))
    nd = r.ndim
    v = g.new()
    if name in ("cat", "concat"):
        if nd == 0:
            d = 0
        else:
            d = g.dim(r)
        dp = d % nd if nd else None
        peers = [_same_shape_peer(g, r, dp) for _ in range(g.rng.randint(0, 2))]
        items = [r.text] + [p[0] for p in peers]
        g.rng.shuffle(items)
        args = [Arg("[" + ", ".join(items) + "]", "t"), Arg(str(d), "dim", "dim" if g.chance(0.4) else None, {"ndim": nd})]
        exact = r.exact and all(p[1] for p in peers)
    elif name == "cat_empty":
        # torch still accepts a 1-d empty tensor next to anything (legacy rule)
        items = [r.text, "T.tensor([])"]
        g.rng.shuffle(items)
        args = [Arg("[" + ", ".join(items) + "]", "t")]
        exact = r.exact
    elif name == "stack":
        peers = [_same_shape_peer(g, r) for _ in range(g.rng.randint(0, 2))]
        items = [r.text] + [p[0] for p in peers]
        args = [Arg("(" + ", ".join(items) + ",)", "t"),
                Arg(str(g.rng.randint(-nd - 1, nd)), "dim", "dim" if g.chance(0.4) else None, {"ndim": nd + 1})]
        exact = r.exact and all(p[1] for p in peers)
    else:
        d = 1 if name == "hstack" and nd > 1 else 0
        peers = [_same_shape_peer(g, r, d if nd else None) for _ in range(g.rng.randint(0, 2))]
        args = [Arg("[" + ", ".join([r.text] + [p[0] for p in peers]) + "]", "t")]
        exact = r.exact and all(p[1] for p in peers)
    head = "T.cat" if name == "cat_empty" else f"T.{name}"
    g.emit(f"{v} = " + g.call(head, args, bad), f"join.{name}" + (" (bad)" if bad else ""), exact=exact, bad=bad)


def reorder(g, bad):
    r = g.pick()
    if r is None:
        return
    nd = r.ndim
    info = {"ndim": nd}
    name = g.choice(("flip", "roll", "repeat", "tile", "tril", "triu", "trace", "diag", "repeat_interleave",
                     "tril_", "triu_", "T.flip", "T.roll", "atleast_2d", "T.diag", "diag_embed_like"))
    v = g.new()
    form_t = name.startswith("T.")
    base = name[2:] if form_t else name
    if base == "flip":
        dims = sorted(g.rng.sample(range(max(nd, 1)), g.rng.randint(1, max(nd, 1)))) if nd else [0]
        args = [Arg(repr(tuple(dims)), "dims", info=info)]
    elif base == "roll":
        args = [Arg(str(g.rng.randint(-3, 3)), "int")]
        if nd and g.chance(0.7):
            args.append(Arg(str(g.dim(r)), "dim", info=info))
    elif base in ("repeat", "tile"):
        k = max(nd, 1) + g.rng.randint(0, 1) if base == "repeat" else g.rng.randint(1, nd + 1)
        reps = [g.choice((1, 1, 2, 3, 0)) for _ in range(k)]
        args = [Arg(repr(tuple(reps)), "size")] if g.chance(0.5) or base == "tile" else [Arg(str(x), "int") for x in reps]
    elif base in ("tril", "triu", "tril_", "triu_"):
        args = [Arg(str(g.rng.randint(-2, 2)), "int")] if g.chance(0.6) else []
    elif base == "repeat_interleave":
        args = [Arg(str(g.rng.randint(0, 3)), "int")]
        if nd and g.chance(0.6):
            args.append(Arg(str(g.dim(r)), "dim", "dim", info))
    elif base == "diag":
        args = [Arg(str(g.rng.randint(-2, 2)), "int")] if g.chance(0.4) else []
    elif base == "diag_embed_like":
        # diag of a 1-d vector: the 2-d matrix form
        src = g.call("T.diag", [Arg(f"{r.text}.flatten()", "t")], bad)
        g.emit(f"{v} = {src}", "reorder.diag(1d)" + (" (bad)" if bad else ""), exact=r.exact, bad=bad)
        return
    else:
        args = []
    if base in ("atleast_2d",) or form_t or base in ("trace",) and g.chance(0.5):
        src = g.call(f"T.{base}", [Arg(r.text, "t")] + args, bad)
    else:
        src = g.call(f"{r.text}.{base}", args, bad)
    exact = _grid_exact([r]) if base == "trace" else r.exact
    if base.endswith("_"):
        g.emit(src, f"reorder.{base}" + (" (bad)" if bad else ""), exact=exact, bad=bad)
    else:
        g.emit(f"{v} = {src}", f"reorder.{base}" + (" (bad)" if bad else ""), exact=exact, bad=bad)


def _distinct_along(g, r, d):
    """True when the values of r along dim d have no ties (torch's order among ties is its own)."""
    import torch

    t = r.value.detach()
    if t.dim() == 0 or t.numel() == 0:
        return True
    if t.is_floating_point() and bool((torch.isnan(t).sum(dim=d) > 1).any()):
        return False  # NaNs tie with each other
    s = torch.sort(t, dim=d).values
    if s.shape[d] < 2:
        return True
    a = s.narrow(d, 1, s.shape[d] - 1)
    b = s.narrow(d, 0, s.shape[d] - 1)
    return not bool((a == b).any())


def sort(g, bad):
    name = g.choice(("sort", "argsort", "topk", "sort_stable", "msort_like", "kth"))
    r = g.pick(exact=True)
    if r is None:
        return
    nd = r.ndim
    info = {"ndim": nd}
    d = g.dim(r)
    stable = name == "sort_stable"
    if not stable and not _distinct_along(g, r, d if nd else 0):
        return
    v = g.new()
    args = []
    if name in ("sort", "argsort", "sort_stable", "msort_like"):
        if g.chance(0.7) or name == "argsort":
            args.append(Arg(str(d), "dim", "dim" if g.chance(0.5) else None, info))
        if g.chance(0.5):
            args.append(Arg(g.choice(("True", "False")), "bool", "descending"))
        if stable:
            # torch's stable overload takes dim and descending by keyword only
            args = [Arg(a.text, a.kind, a.key or "dim", a.info) for a in args]
            args.insert(0, Arg("True", "bool", "stable"))
        head = "sort" if name != "argsort" else "argsort"
    else:
        size = r.shape[d] if nd else 1
        k = g.rng.randint(0, size) if name == "topk" else g.rng.randint(1, max(size, 1))
        args = [Arg(str(k), "int"), Arg(str(d), "dim", "dim" if g.chance(0.5) else None, info)]
        if g.chance(0.5):
            args.append(Arg(g.choice(("True", "False")), "bool", "largest"))
        head = "topk"
    # (the input is not a bad-argument slot: a substitute could have ties)
    if g.chance(0.5):
        src = g.call(f"T.{head}", [Arg(r.text, None)] + args, bad)
    else:
        src = g.call(f"{r.text}.{head}", args, bad)
    if head != "argsort" and g.chance(0.4):
        v2 = g.new()
        g.emit(f"{v}, {v2} = {src}", f"sort.{name}" + (" (bad)" if bad else ""), bad=bad)
    else:
        g.emit(f"{v} = {src}", f"sort.{name}" + (" (bad)" if bad else ""), bad=bad)


def gather_scatter(g, bad):
    name = g.choice(("gather", "scatter", "scatter_value", "scatter_add", "index_select", "index_add",
                     "masked_select", "nonzero", "scatter_", "scatter_add_", "index_add_", "take_along",
                     "nonzero_tuple", "where1"))
    r = g.pick()
    if r is None:
        return
    nd = r.ndim
    info = {"ndim": nd}
    d = g.dim(r)
    dd = d % nd if nd else 0
    size = r.shape[dd] if nd else 1
    v = g.new()
    exact = r.exact
    if name in ("gather", "take_along"):
        ishape = tuple(g.rng.randint(0, s) if i != dd else g.rng.randint(0, 4) for i, s in enumerate(r.shape)) or ()
        idx = g.index_literal(ishape, size)
        args = [Arg(str(d), "dim", info=info), Arg(idx, "t")]
        src = g.call("T.gather", [Arg(r.text, "t")] + args, bad) if g.chance(0.5) else \
            g.call(f"{r.text}.gather", args, bad)
    elif name in ("scatter", "scatter_value", "scatter_", "scatter_add", "scatter_add_"):
        ishape = tuple(g.rng.randint(0, s) if i != dd else g.rng.randint(0, s) for i, s in enumerate(r.shape))
        add = "add" in name
        idx = g.index_literal(ishape, size, unique_dim=None if add else (dd if nd else None))
        if idx is None:
            return
        if name == "scatter_value":
            srcv = Arg(fmt_num(g.scalar(r.dtype)), "num", "value" if g.chance(0.5) else None)
        else:
            srcv = Arg(g.literal(ishape, r.dtype), "t", "src" if g.chance(0.3) else None)
        args = [Arg(str(d), "dim", info=info), Arg(idx, "t"), srcv]
        if add:
            exact = _grid_exact([r])
        if name.endswith("_"):
            g.emit(g.call(f"{r.text}.{name}", args, bad), f"index.{name}" + (" (bad)" if bad else ""),
                   exact=exact, bad=bad)
            return
        head = "scatter_add" if add else "scatter"
        src = g.call(f"T.{head}", [Arg(r.text, "t")] + args, bad) if g.chance(0.5) else \
            g.call(f"{r.text}.{head}", args, bad)
    elif name == "index_select":
        n = g.rng.randint(0, 4)
        idx = g.index_literal((n,), size) if g.chance(0.9) else g.index_literal((), size)
        src = g.call("T.index_select", [Arg(r.text, "t"), Arg(str(d), "dim", info=info), Arg(idx, "t")], bad) \
            if g.chance(0.5) else g.call(f"{r.text}.index_select", [Arg(str(d), "dim", info=info), Arg(idx, "t")], bad)
    elif name in ("index_add", "index_add_"):
        n = g.rng.randint(0, 3)
        idx = g.index_literal((n,), size)
        sshape = list(r.shape) or []
        if sshape:
            sshape[dd] = n
        source = g.literal(tuple(sshape), r.dtype, rg=r.floating and g.chance(0.3))
        args = [Arg(str(d), "dim", info=info), Arg(idx, "t"), Arg(source, "t")]
        if g.chance(0.3):
            args.append(Arg(fmt_num(g.choice((2, -1, 0.5))), "num", "alpha"))
        exact = _grid_exact([r])
        if name.endswith("_"):
            g.emit(g.call(f"{r.text}.index_add_", args, bad), "index.index_add_" + (" (bad)" if bad else ""),
                   exact=exact, bad=bad)
            return
        src = g.call(f"{r.text}.index_add", args, bad)
    elif name == "masked_select":
        m = g.pick(lambda x: x.dtype == "bool" and len(x.shape) <= nd
                   and all(a in (1, b) for a, b in zip(x.shape[::-1], r.shape[::-1])))
        mask = m.text if m is not None and g.chance(0.5) else g.literal(g.bcast_shape(r.shape), "bool")
        src = g.call("T.masked_select", [Arg(r.text, "t"), Arg(mask, "t")], bad) if g.chance(0.5) else \
            g.call(f"{r.text}.masked_select", [Arg(mask, "t")], bad)
    elif name in ("nonzero", "nonzero_tuple", "where1"):
        if not r.exact:
            return
        if name == "nonzero":
            src = g.call(f"{r.text}.nonzero", [], bad) if g.chance(0.5) else g.call("T.nonzero", [Arg(r.text, "t")], bad)
        elif name == "nonzero_tuple":
            src = g.call("T.nonzero", [Arg(r.text, "t"), Arg("True", "bool", "as_tuple")], bad)
        else:
            src = g.call("T.where", [Arg(r.text, "t")], bad)
    g.emit(f"{v} = {src}", f"index.{name}" + (" (bad)" if bad else ""), exact=exact, bad=bad)
