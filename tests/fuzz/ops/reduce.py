# Reductions over all or some dims (sum, mean, max with indices, var, norm, ...), softmax and cumulative ops.
from ..gen import Arg
from .pointwise import _grid_exact

# name -> (class, accepts a tuple of dims, has dtype=)
REDUCE = {
    "sum": ("order", True, True), "mean": ("order", True, True), "prod": ("order", False, True),
    "amax": ("E", True, False), "amin": ("E", True, False), "argmax": ("D", False, False),
    "argmin": ("D", False, False), "var": ("I", True, False), "std": ("I", True, False),
    "norm": ("I", True, False), "logsumexp": ("I", True, False), "any": ("D", True, False),
    "all": ("D", True, False), "count_nonzero": ("D", True, False), "max": ("E", False, False),
    "min": ("E", False, False), "nansum": ("order", True, True),
}


def _dims_arg(g, r, tuple_ok, info):
    nd = max(r.ndim, 1)
    if tuple_ok and g.chance(0.3):
        k = g.rng.randint(1, nd)
        dims = sorted(g.rng.sample(range(nd), k))
        dims = [d - nd if g.chance(0.3) else d for d in dims]
        return Arg(repr(tuple(dims)) if g.chance(0.7) else repr(list(dims)), "dims", info=info)
    return Arg(str(g.dim(r)), "dim", info=info)


def reduce(g, bad):
    name = g.choice(REDUCE)
    cls, tuple_ok, has_dtype = REDUCE[name]
    # Ties decide where max/min's gradient goes and which index argmax returns: inexact inputs
    # could tie in one library and not the other.
    need_exact = cls == "D" or name in ("max", "min", "amax", "amin")
    r = g.pick(exact=True if need_exact else None)
    if r is None:
        return
    info = {"ndim": r.ndim}
    args = []
    whole = g.chance(0.3)
    if not whole:
        if name == "logsumexp" or g.chance(0.6):
            args.append(_dims_arg(g, r, tuple_ok, info))
        else:
            a = _dims_arg(g, r, tuple_ok, info)
            args.append(Arg(a.text, a.kind, "dim", info))
        if name not in ("count_nonzero",) and g.chance(0.4):
            args.append(Arg(g.choice(("True", "False")), "bool", "keepdim"))
    elif name == "logsumexp":
        args.append(Arg(repr(tuple(range(r.ndim))), "dims", info=info))
    if name in ("var", "std") and g.chance(0.5):
        if g.chance(0.5):
            args.append(Arg(str(g.choice((0, 1, 2))), "int", "correction"))
        elif not whole:
            args.append(Arg(g.choice(("True", "False")), "bool", "unbiased"))
    if name == "norm" and g.chance(0.6):
        p = g.choice(("1", "2", "3", "float('inf')", "-float('inf')", "0", "'fro'", "0.5"))
        args.insert(0, Arg(p, "num", "p"))
    if has_dtype and g.chance(0.15):
        args.append(Arg(g.choice(("T.float64", "T.float32", "T.int64")), "dtype", "dtype"))
    form = g.choice(("T", "method"))
    head = f"T.{name}" if form == "T" else f"{r.text}.{name}"
    src = g.call(head, ([Arg(r.text, "t")] if form == "T" else []) + args, bad)
    if cls == "order":
        exact = _grid_exact([r])
    elif cls == "I":
        exact = False
    else:
        exact = r.exact
    g.emit(f"{g.new()} = {src}", f"reduce.{name}" + (".dim" if args else "") + (" (bad)" if bad else ""),
           exact=exact, bad=bad)


def along(g, bad):
    """Ops along one dim that keep the shape: softmax family, cumsum."""
    name = g.choice(("softmax", "log_softmax", "cumsum", "F.softmax", "F.log_softmax", "F.softmin", "cumsum_"))
    r = g.pick()
    if r is None:
        return
    info = {"ndim": r.ndim}
    args = [Arg(str(g.dim(r)), "dim", "dim" if g.chance(0.5) else None, info)]
    if g.chance(0.15):
        args.append(Arg(g.choice(("T.float64", "T.float32")), "dtype", "dtype"))
    if name.startswith("F."):
        src = f"{g.new()} = " + g.call(name, [Arg(r.text, "t")] + args, bad)
    elif name == "cumsum_":
        src = g.call(f"{r.text}.cumsum_", args, bad)
    elif g.chance(0.5):
        src = f"{g.new()} = " + g.call(f"T.{name}", [Arg(r.text, "t")] + args, bad)
    else:
        src = f"{g.new()} = " + g.call(f"{r.text}.{name}", args, bad)
    exact = _grid_exact([r]) if name.startswith("cumsum") else False
    g.emit(src, f"along.{name}" + (" (bad)" if bad else ""), exact=exact, bad=bad)


def compare_all(g, bad):
    """Whole-tensor comparisons: equal, allclose, isclose."""
    r = g.pick(exact=True)
    if r is None:
        return
    o = g.pick(lambda x: x.exact and (x.shape == r.shape or g.chance(0.3)))
    if o is None:
        return
    name = g.choice(("equal", "allclose", "isclose", "method_equal"))
    if name == "method_equal":
        src = g.call(f"{r.text}.equal", [Arg(o.text, "t")], bad)
    else:
        args = [Arg(r.text, "t"), Arg(o.text, "t")]
        if name != "equal" and g.chance(0.4):
            args.append(Arg("True", "bool", "equal_nan"))
        src = g.call(f"T.{name}", args, bad)
    g.emit(f"{g.new()} = {src}", f"compare.{name}" + (" (bad)" if bad else ""), bad=bad)


