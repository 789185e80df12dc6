# torch.nn modules (with deterministic weights), optimizers, autograd.functional and global dtype state.
from ..gen import FLOATS, Arg, fmt_num

# Modules whose construction involves no randomness: name -> argument source makers
_ACT_MODULES = {
    "ReLU": "", "ReLU6": "", "Sigmoid": "", "Tanh": "", "GELU": "", "SiLU": "", "Mish": "", "ELU": "alpha=0.5",
    "CELU": "", "Softplus": "beta=2.0", "Hardtanh": "-0.5, 2.0", "Hardsigmoid": "", "Hardswish": "",
    "LogSigmoid": "", "Softsign": "", "Tanhshrink": "", "Hardshrink": "0.5", "Softshrink": "0.25",
    "Threshold": "0.5, -1.0", "LeakyReLU": "0.25", "Identity": "", "Flatten": "", "Softmax": "dim=-1",
    "LogSoftmax": "dim=0", "Softmin": "dim=-1", "GLU": "dim=-1", "Dropout": "p=0.0",
}
_LOSS_MODULES = ("MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "SoftMarginLoss")


def module(g, bad):
    """Builds a module (its weights set from literals when it has random ones) or calls one."""
    mods = [n for n in g.order if n.startswith("m") and n in g.ns]
    if mods and g.chance(0.6):
        return _use_module(g, bad, g.choice(mods))
    kind = g.choice(("act", "act", "linear", "layernorm", "batchnorm", "embedding", "sequential", "loss"))
    m = "m" + g.new()[1:]
    if kind == "act":
        name = g.choice(_ACT_MODULES)
        src = f"{m} = T.nn.{name}({_ACT_MODULES[name]})"
    elif kind == "linear":
        k, n = g.rng.randint(1, 4), g.rng.randint(1, 3)
        dt = g.choice(FLOATS)
        bias = g.chance(0.7)
        dtk = ", dtype=T.float64" if dt == "float64" else ""
        src = (f"with T.no_grad(): {m} = T.nn.Linear({k}, {n}, bias={bias}{dtk}); "
               f"{m}.weight.copy_({g.literal((n, k), dt)})")
        if bias:
            src += f"; {m}.bias.copy_({g.literal((n,), dt)})"
    elif kind == "layernorm":
        r = g.pick(lambda x: x.ndim >= 1 and x.floating)
        shape = r.shape[-1:] if r is not None else (3,)
        src = f"{m} = T.nn.LayerNorm({shape[0]}, elementwise_affine={g.choice(('True', 'False'))})"
    elif kind == "batchnorm":
        r = g.pick(lambda x: x.ndim in (2, 3) and x.floating)
        c = r.shape[1] if r is not None else 3
        src = f"{m} = T.nn.BatchNorm1d({c}, momentum={fmt_num(g.choice((0.1, 0.5)))}, affine={g.choice(('True', 'False'))})"
    elif kind == "embedding":
        n, d = g.rng.randint(1, 5), g.rng.randint(1, 3)
        src = f"with T.no_grad(): {m} = T.nn.Embedding({n}, {d}); {m}.weight.copy_({g.literal((n, d), 'float32')})"
    elif kind == "sequential":
        names = [g.choice(("ReLU", "Tanh", "Sigmoid", "Identity", "SiLU")) for _ in range(g.rng.randint(1, 3))]
        src = f"{m} = T.nn.Sequential(" + ", ".join(f"T.nn.{x}()" for x in names) + ")"
    else:
        name = g.choice(_LOSS_MODULES)
        red = g.choice(("", "reduction='sum'", "reduction='none'"))
        src = f"{m} = T.nn.{name}({red})"
    if bad:
        src = g.choice((f"{m} = T.nn.Linear(-1, 2)", f"{m} = T.nn.LayerNorm(0)", f"{m} = T.nn.Softmax(dim='x')",
                        f"{m} = T.nn.BatchNorm1d(2.5)", f"{m} = T.nn.Embedding(3, -2)", f"{m} = T.nn.ReLU(3, 4)"))
    g.emit(src, f"nn.{kind}" + (" (bad)" if bad else ""), bad=bad, exact=kind == "act")


def _use_module(g, bad, m):
    mod = g.ns[m]
    kind = type(mod).__name__
    what = g.choice(("call", "call", "call", "train_eval", "params", "state_dict", "zero_grad", "weight"))
    v = g.new()
    if what == "call":
        if kind in _LOSS_MODULES:
            r = g.pick(floating=True)
            if r is None:
                return
            src = f"{v} = {m}({r.text}, {g.literal(r.shape, r.dtype)})"
        elif kind == "Embedding":
            src = f"{v} = {m}({g.index_literal(g.shape(max_numel=6, ndim=g.rng.randint(0, 2)), mod.num_embeddings)})"
        else:
            r = g.pick(floating=True) if not bad else g.pick()
            if r is None:
                return
            src = f"{v} = {m}({r.text})"
        exact = kind in ("ReLU", "ReLU6", "Identity", "Flatten", "Hardtanh", "Threshold", "Hardshrink", "Softshrink")
        g.emit(src, f"nn.{kind}.call" + (" (bad)" if bad else ""), bad=bad, exact=exact, observe=(m,))
    elif what == "train_eval":
        g.emit(f"{m}.{g.choice(('train()', 'eval()', 'train(False)'))}", f"nn.{kind}.train/eval", observe=(m,))
    elif what == "params":
        g.emit(f"{v} = list({m}.parameters())", f"nn.{kind}.parameters")
    elif what == "state_dict":
        g.emit(f"{v} = {m}.state_dict()", f"nn.{kind}.state_dict")
    elif what == "zero_grad":
        g.emit(f"{m}.zero_grad()", f"nn.{kind}.zero_grad", observe=(m,))
    else:
        if not hasattr(mod, "weight") or mod.weight is None:
            return
        g.emit(f"{v} = {m}.weight", f"nn.{kind}.weight")


_OPTIMS = {"SGD": ("lr=0.5", "lr=0.25, momentum=0.5", "lr=0.5, weight_decay=0.25", "lr=0.5, momentum=0.5, nesterov=True"),
           "Adam": ("lr=0.25", "lr=0.5, betas=(0.5, 0.75)", "lr=0.25, weight_decay=0.5, amsgrad=True"),
           "AdamW": ("lr=0.25", "lr=0.25, weight_decay=0.5"),
           "RMSprop": ("lr=0.25", "lr=0.25, momentum=0.5, centered=True"),
           "Adagrad": ("lr=0.5", "lr=0.5, lr_decay=0.25")}


def optim(g, bad):
    opts = [n for n in g.order if n.startswith("o") and n in g.ns]
    if opts and g.chance(0.75):
        o = g.choice(opts)
        what = g.choice(("step", "step", "step", "zero_grad", "zero_grad_keep"))
        watched = tuple(getattr(g, "optim_params", {}).get(o, ()))
        if what == "step":
            g.emit(f"{o}.step()", "optim.step", observe=watched, exact=False)
        elif what == "zero_grad":
            g.emit(f"{o}.zero_grad()", "optim.zero_grad", observe=watched)
        else:
            g.emit(f"{o}.zero_grad(set_to_none=False)", "optim.zero_grad(set_to_none=False)", observe=watched)
        return
    mods = [n for n in g.order if n.startswith("m") and n in g.ns and list(g.ns[n].parameters())]
    leaves = [r for r in g.refs(grads=False) if r.named and r.value.is_leaf and r.rg]
    if mods and (not leaves or g.chance(0.4)):
        m = g.choice(mods)
        params, watched = f"{m}.parameters()", (m,)
    elif leaves:
        chosen = g.rng.sample(leaves, min(len(leaves), g.rng.randint(1, 2)))
        params, watched = "[" + ", ".join(r.text for r in chosen) + "]", tuple(r.text for r in chosen)
    else:
        return
    name = g.choice(_OPTIMS)
    o = "o" + g.new()[1:]
    args = g.choice(_OPTIMS[name])
    if bad:
        args = g.choice(("lr=-1.0", "lr='x'", "momentum=-0.5, lr=0.1", "betas=(2.0, 0.5)", "lr=0.1, bogus=1"))
        if name != "SGD" and "momentum" in args:
            args = "lr=-1.0"
    if g.emit(f"{o} = T.optim.{name}({params}, {args})", f"optim.{name}" + (" (bad)" if bad else ""), bad=bad):
        if not hasattr(g, "optim_params"):
            g.optim_params = {}
        g.optim_params[o] = watched


_FUNS = ("lambda a: (a * a).sum()", "lambda a: T.sin(a).sum()", "lambda a: (a.exp() * a).sum()",
         "lambda a: a * 2", "lambda a: T.tanh(a)", "lambda a: (a ** 3).sum()", "lambda a: a.cumsum(0)",
         "lambda a: F.softplus(a).sum()", "lambda a: (a[:1] * a).sum()")


def functional(g, bad):
    """torch.autograd.functional on small lambdas."""
    r = g.pick(lambda x: x.floating and 1 <= x.numel <= 6 and x.ndim >= 1)
    if r is None:
        return
    fn = g.choice(_FUNS)
    kind = g.choice(("jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"))
    scalar_fn = fn.endswith(".sum()")
    if kind in ("hessian", "hvp", "vhp") and not scalar_fn:
        fn = "lambda a: (a * a * a).sum()"
        scalar_fn = True
    args = [Arg(fn, None), Arg(r.text, "t")]
    if kind == "vjp":
        if not scalar_fn:
            args.append(Arg(f"T.ones_like({r.text})", "t"))
    elif kind in ("jvp", "hvp", "vhp"):
        args.append(Arg(g.literal(r.shape, r.dtype), "t"))
    if kind in ("jacobian", "hessian") and g.chance(0.3):
        args.append(Arg("True", "bool", "create_graph"))
    src = f"{g.new()} = " + g.call(f"T.autograd.functional.{kind}", args, bad)
    g.emit(src, f"autograd.functional.{kind}" + (" (bad)" if bad else ""), bad=bad, exact=False)


def global_state(g, bad):
    """The default dtype is process-global in both libraries (the executor restores it)."""
    cur = g.torch.get_default_dtype()
    target = "float32" if cur == g.torch.float64 else g.choice(("float64", "float32"))
    if bad:
        g.emit(f"T.set_default_dtype({g.choice(('T.int64', 'None', 'float'))})", "set_default_dtype (bad)", bad=True)
    else:
        g.emit(f"T.set_default_dtype(T.{target})", "set_default_dtype")
