# Autograd statements: backward, autograd.grad (create_graph, second order), .grad handling, hooks, flags.
from ..gen import FLOATS, Arg, fmt_num


def _leaves(t):
    """The leaf tensors t's graph reaches (torch's AccumulateGrad nodes hold them)."""
    out, seen, stack = [], set(), [t.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        var = getattr(fn, "variable", None)
        if var is not None:
            out.append(var)
        stack.extend(nf for nf, _ in fn.next_functions)
    return out


def _loss_expr(g, r):
    """A scalar built from r (which requires grad)."""
    if r.numel == 1 and g.chance(0.3):
        return r.text if r.ndim == 0 else f"{r.text}.sum()"
    return g.choice((f"{r.text}.sum()", f"{r.text}.sum()", f"{r.text}.mean()", f"({r.text} * {r.text}).sum()",
                     f"({r.text} * {g.literal(r.shape, r.dtype)}).sum()" if r.dtype in FLOATS else f"{r.text}.sum()"))


def backward(g, bad):
    second = getattr(g, "second_order", set())
    r = None
    if second and g.chance(0.6):
        # differentiate a first derivative taken with create_graph=True
        r = g.pick(lambda x: x.name in second, rg=True)
    r = r or g.pick(rg=True)
    if r is None:
        return
    kind = g.choice(("backward", "backward", "backward_gradient", "grad", "grad", "grad_outputs", "autograd_backward"))
    retain = g.chance(0.5)
    kw = [Arg("True", "bool", "retain_graph")] if retain else []
    if kind == "backward":
        loss = _loss_expr(g, r)
        if bad:
            loss = g.choice((r.text, f"{r.text}.detach().sum()", loss))
            kw.append(Arg(g.choice(("T.ones(7)", "'x'", "T.ones(1, 2)")), None, "gradient"))
        g.emit(g.call(f"{loss}.backward", kw, False), "autograd.backward" + (" (bad)" if bad else ""),
               autograd=True, bad=bad)
        return
    if kind == "backward_gradient":
        grad = g.literal(r.shape if not bad else g.shape(), r.dtype if not bad else g.dtype())
        if r.ndim and g.chance(0.15) and not bad:
            grad = f"T.ones({r.shape!r}, dtype=T.{r.dtype})"
        g.emit(g.call(f"{r.text}.backward", [Arg(grad, None, "gradient" if g.chance(0.5) else None)] + kw, False),
               "autograd.backward(gradient)" + (" (bad)" if bad else ""), autograd=True, bad=bad)
        return
    if kind == "autograd_backward":
        loss = _loss_expr(g, r)
        g.emit(g.call("T.autograd.backward", [Arg(f"[{loss}]", "t")] + kw, bad),
               "autograd.backward(fn)" + (" (bad)" if bad else ""), autograd=True, bad=bad)
        return
    # autograd.grad with respect to some of the tensors r depends on
    ids = {id(x) for x in _leaves(r.value)}
    cands = [x for x in g.refs(grads=False) if x.named and x.rg and (id(x.value) in ids or g.chance(0.15))]
    if not cands:
        return
    g.rng.shuffle(cands)
    inputs = cands[: g.rng.randint(1, 3)]
    if g.chance(0.1) and not bad:
        inputs.append(g.pick(rg=True, named=True) or inputs[0])
    ins = "[" + ", ".join(i.text for i in inputs) + "]" if len(inputs) > 1 or g.chance(0.5) else inputs[0].text
    if kind == "grad_outputs":
        out = r.text
        kw.append(Arg(g.literal(r.shape, r.dtype), "t", "grad_outputs"))
    else:
        out = _loss_expr(g, r)
    if g.chance(0.35):
        kw.append(Arg("True", "bool", "create_graph"))
    if g.chance(0.3):
        kw.append(Arg("True", "bool", "allow_unused"))
    v = g.new()
    create = any(a.key == "create_graph" for a in kw)
    order2 = " (2nd order)" if r.name in second else ""
    ok = g.emit(f"{v} = " + g.call("T.autograd.grad", [Arg(out, "t"), Arg(ins, "t")] + kw, bad),
                "autograd.grad" + (" create_graph" if create else "") + order2 + (" (bad)" if bad else ""),
                autograd=True, bad=bad, exact=False)
    if ok and create:
        if not hasattr(g, "second_order"):
            g.second_order = set()
        g.second_order.add(v)


def grad_misc(g, bad):
    kind = g.choice(("retain_grad", "grad_none", "grad_zero", "sgd_step", "hook", "requires_grad_", "detach_",
                     "read_grad", "sgd_step_method", "requires_grad_attr", "tensor_hook_grad"))
    v = g.new()
    if kind == "retain_grad":
        r = g.pick(lambda x: not x.value.is_leaf, rg=True, named=True)
        if r is None:
            return
        g.emit(f"{r.text}.retain_grad()", "autograd.retain_grad")
        return
    if kind in ("grad_none", "grad_zero", "sgd_step", "sgd_step_method", "read_grad"):
        r = g.pick(lambda x: x.value.is_leaf and x.value.grad is not None, named=True)
        if r is None:
            return
        if kind == "grad_none":
            g.emit(f"{r.text}.grad = None", "autograd.grad=None")
        elif kind == "grad_zero":
            g.emit(f"{r.text}.grad.zero_()", "autograd.grad.zero_")
        elif kind == "sgd_step":
            lr = fmt_num(g.choice((0.5, 0.25, 1.0)))
            if g.chance(0.8) or bad:
                g.emit(f"with T.no_grad(): {r.text} -= {lr} * {r.text}.grad", "autograd.sgd_step", exact=False)
            else:  # in grad mode this is an in-place op on a leaf that requires grad: torch refuses
                g.emit(f"{r.text} -= {lr} * {r.text}.grad", "autograd.sgd_step(grad mode)", exact=False)
        elif kind == "sgd_step_method":
            g.emit(f"with T.no_grad(): {r.text}.add_({r.text}.grad, alpha=-0.5)", "autograd.sgd_step(add_)",
                   exact=False)
        else:
            g.emit(f"{v} = {r.text}.grad", "autograd.read_grad", exact=False)
        return
    if kind in ("hook", "tensor_hook_grad"):
        r = g.pick(rg=True, named=True)
        if r is None:
            return
        fn = g.choice(("lambda gr: gr * 2", "lambda gr: None", "lambda gr: gr + 1", "lambda gr: -gr"))
        g.emit(f"{v} = {r.text}.register_hook({fn})", "autograd.register_hook")
        return
    if kind in ("requires_grad_", "requires_grad_attr"):
        r = g.pick(named=True)
        if r is None:
            return
        flag = g.choice(("True", "False")) if not r.rg else g.choice(("False", "True"))
        if kind == "requires_grad_":
            g.emit(g.call(f"{r.text}.requires_grad_", [Arg(flag, "bool")], bad), "autograd.requires_grad_"
                   + (" (bad)" if bad else ""), bad=bad)
        else:
            g.emit(f"{r.text}.requires_grad = {flag}", "autograd.requires_grad=")
        return
    r = g.pick(named=True)
    if r is None:
        return
    g.emit(f"{r.text}.detach_()", "autograd.detach_")


def queries(g, bad):
    """Python-level facts about a tensor: sizes, flags, scalars, lists, layout of plain views."""
    r = g.pick()
    if r is None:
        return
    kinds = ["shape", "size", "size_d", "dim", "numel", "dtype", "item", "tolist", "len", "bool", "float", "int",
             "requires_grad", "is_leaf", "grad_fn_none", "ndim", "element_size", "is_tensor", "is_floating_point",
             "nelement", "T.numel", "tolist_nested", "device", "is_cuda"]
    if r.name in g.canon and r.named:
        kinds += ["is_contiguous", "stride", "storage_offset", "stride_d"]
    kind = g.choice(kinds)
    v = g.new()
    t = r.text
    src = {
        "shape": f"{t}.shape", "size": f"{t}.size()", "dim": f"{t}.dim()", "numel": f"{t}.numel()",
        "dtype": f"{t}.dtype", "item": f"{t}.item()", "tolist": f"{t}.tolist()", "len": f"len({t})",
        "bool": f"bool({t})", "float": f"float({t})", "int": f"int({t})", "requires_grad": f"{t}.requires_grad",
        "is_leaf": f"{t}.is_leaf", "grad_fn_none": f"{t}.grad_fn is None", "ndim": f"{t}.ndim",
        "element_size": f"{t}.element_size()", "is_tensor": f"T.is_tensor({t})",
        "is_floating_point": f"{t}.is_floating_point()", "nelement": f"{t}.nelement()", "T.numel": f"T.numel({t})",
        "tolist_nested": f"[x for x in {t}.tolist()] if {t}.dim() else {t}.tolist()", "device": f"str({t}.device)",
        "is_cuda": f"{t}.is_cuda", "is_contiguous": f"{t}.is_contiguous()", "stride": f"{t}.stride()",
        "storage_offset": f"{t}.storage_offset()",
    }.get(kind)
    if kind in ("size_d", "stride_d"):
        d = str(g.dim(r)) if not bad else g.bad_value(Arg("", "dim", info={"ndim": r.ndim}))
        src = f"{t}.{kind[:-2]}({d})"
    if kind in ("bool", "int") and not r.exact:
        return  # bool() and int() of an inexact value jump where the value is near 0 or an integer
    g.emit(f"{v} = {src}", f"query.{kind}" + (" (bad)" if bad and kind.endswith("_d") else ""),
           bad=bad and kind.endswith("_d"))
