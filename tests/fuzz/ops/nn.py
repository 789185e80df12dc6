# The matmul family and torch.nn.functional: activations, normalisation, padding, embeddings and losses.
from ..gen import FLOATS, Arg, fmt_num
from .pointwise import _grid_exact


def matmul(g, bad):
    name = g.choice(("matmul", "@", "mm", "bmm", "mv", "dot", "outer", "addmm", "linear", "matmul_method"))
    r = g.pick(lambda x: x.ndim >= 1 and x.dtype != "bool" or bad)
    if r is None:
        return
    v = g.new()
    dt = r.dtype if g.chance(0.9) else g.choice(FLOATS)
    rg = dt in FLOATS and g.chance(0.3)
    s = r.shape
    if name in ("matmul", "@", "matmul_method"):
        if len(s) == 1:
            oshape = g.choice(((s[0],), (s[0], g.rng.randint(0, 3)), (2, s[0], 2)))
        elif len(s) >= 2:
            k = s[-1]
            oshape = g.choice(((k,), (k, g.rng.randint(0, 3)), (1,) * (len(s) - 2) + (k, 2),
                               (g.rng.randint(1, 2), k, 2)))
        else:
            oshape = (2,)
        other = g.literal(oshape, dt, rg=rg)
        if name == "@":
            src = f"{r.text} @ {other}"
        elif name == "matmul":
            src = g.call("T.matmul", [Arg(r.text, "t"), Arg(other, "t")], bad)
        else:
            src = g.call(f"{r.text}.matmul", [Arg(other, "t")], bad)
    elif name in ("mm", "addmm"):
        if len(s) != 2 and not bad:
            return
        n = s[-1] if s else 2
        other = g.literal((n, g.rng.randint(0, 3)), dt, rg=rg)
        if name == "mm":
            src = g.call("T.mm", [Arg(r.text, "t"), Arg(other, "t")], bad) if g.chance(0.5) else \
                g.call(f"{r.text}.mm", [Arg(other, "t")], bad)
        else:
            m = s[0] if s else 2
            q = g.rng.randint(0, 3)
            other = g.literal((n, q), dt, rg=rg)
            bias = g.literal(g.bcast_shape((m, q)), dt)
            args = [Arg(bias, "t"), Arg(r.text, "t"), Arg(other, "t")]
            if g.chance(0.4):
                args += [Arg(fmt_num(g.choice((0.5, 2, 0))), "num", "beta"), Arg(fmt_num(g.choice((1, -1, 0.5))), "num", "alpha")]
            src = g.call("T.addmm", args, bad)
    elif name == "bmm":
        if len(s) != 3 and not bad:
            return
        other = g.literal((s[0], s[2], g.rng.randint(0, 3)) if len(s) == 3 else (2, 2, 2), dt, rg=rg)
        src = g.call("T.bmm", [Arg(r.text, "t"), Arg(other, "t")], bad)
    elif name == "mv":
        if len(s) != 2 and not bad:
            return
        other = g.literal((s[-1],) if s else (2,), dt, rg=rg)
        src = g.call("T.mv", [Arg(r.text, "t"), Arg(other, "t")], bad)
    elif name == "dot":
        if len(s) != 1 and not bad:
            return
        other = g.literal(s if len(s) == 1 else (2,), dt, rg=rg)
        src = g.call("T.dot", [Arg(r.text, "t"), Arg(other, "t")], bad) if g.chance(0.5) else \
            g.call(f"{r.text}.dot", [Arg(other, "t")], bad)
    elif name == "outer":
        other = g.literal((g.rng.randint(0, 4),), dt, rg=rg)
        src = g.call("T.outer", [Arg(r.text, "t"), Arg(other, "t")], bad)
    else:  # linear
        if not s:
            return
        k = s[-1]
        out = g.rng.randint(1, 3)
        w = g.literal((out, k), dt, rg=rg)
        args = [Arg(r.text, "t"), Arg(w, "t")]
        if g.chance(0.6):
            args.append(Arg(g.literal((out,), dt), "t"))
        src = g.call("F.linear", args, bad)
    exact = _grid_exact([r])
    g.emit(f"{v} = {src}", f"matmul.{name}" + (" (bad)" if bad else ""), exact=exact, bad=bad)


# name -> (exact-preserving?, argument makers)
ACTS = {
    "relu": True, "relu6": True, "leaky_relu": False, "elu": False, "celu": False, "gelu": False, "silu": False,
    "mish": False, "softplus": False, "hardtanh": True, "hardsigmoid": False, "hardswish": False,
    "logsigmoid": False, "softsign": False, "tanhshrink": False, "hardshrink": True, "softshrink": True,
    "threshold": True, "glu": False, "sigmoid": False, "tanh": False, "normalize": False, "dropout": True,
}


def activation(g, bad):
    name = g.choice(ACTS)
    r = g.pick()
    if r is None:
        return
    args = [Arg(r.text, "t")]
    kw = []
    if name == "leaky_relu" and g.chance(0.6):
        kw.append(Arg(fmt_num(g.choice((0.25, 0.1, 2.0))), "float", "negative_slope"))
    elif name in ("elu", "celu") and g.chance(0.6):
        kw.append(Arg(fmt_num(g.choice((0.5, 1.0, 2.0))), "float", "alpha"))
    elif name == "gelu" and g.chance(0.5):
        kw.append(Arg(repr(g.choice(("none", "tanh"))), "str", "approximate"))
    elif name == "softplus" and g.chance(0.6):
        kw += [Arg(fmt_num(g.choice((0.5, 1.0, 2.0))), "float", "beta"), Arg(fmt_num(g.choice((1.0, 20.0))), "float", "threshold")]
    elif name == "hardtanh" and g.chance(0.6):
        kw += [Arg(fmt_num(-g.choice((0.5, 1.0, 2.0))), "float", "min_val"), Arg(fmt_num(g.choice((0.5, 1.0, 2.0))), "float", "max_val")]
    elif name in ("hardshrink", "softshrink") and g.chance(0.6):
        kw.append(Arg(fmt_num(g.choice((0.25, 0.5, 1.0))), "float", "lambd"))
    elif name == "threshold":
        args += [Arg(fmt_num(g.choice((0.0, 0.5, -1.0))), "float"), Arg(fmt_num(g.choice((0.0, 2.0, -0.5))), "float")]
    elif name == "glu":
        kw.append(Arg(str(g.dim(r)), "dim", "dim", {"ndim": r.ndim}))
    elif name == "normalize":
        if g.chance(0.5):
            kw.append(Arg(fmt_num(g.choice((1.0, 2.0, 3.0))), "float", "p"))
        if g.chance(0.6):
            kw.append(Arg(str(g.dim(r)), "dim", "dim", {"ndim": r.ndim}))
    elif name == "dropout":
        # only the deterministic settings: evaluation mode, or p = 0 / 1
        if g.chance(0.5):
            kw += [Arg(fmt_num(g.choice((0.5, 0.2))), "float", "p"), Arg("False", "bool", "training")]
        else:
            kw.append(Arg(fmt_num(g.choice((0.0, 1.0))), "float", "p"))
    if name in ("relu", "relu6", "leaky_relu", "elu", "celu", "hardtanh", "hardsigmoid", "hardswish", "silu",
                "mish", "threshold") and g.chance(0.25):
        kw.append(Arg("True", "bool", "inplace"))
    src = f"{g.new()} = " + g.call(f"F.{name}", args + kw, bad)
    exact = r.exact if ACTS[name] else False
    g.emit(src, f"F.{name}" + (".inplace" if "inplace=True" in src else "") + (" (bad)" if bad else ""),
           exact=exact, bad=bad)


def norm_layers(g, bad):
    name = g.choice(("layer_norm", "batch_norm_eval", "batch_norm_train", "pad", "pad", "one_hot", "embedding"))
    r = g.pick()
    if r is None:
        return
    v = g.new()
    s = r.shape
    dt = r.dtype if r.floating else "float32"
    if name == "layer_norm":
        k = g.rng.randint(1, max(1, min(2, r.ndim)))
        ns = s[len(s) - k:] if s else (1,)
        args = [Arg(r.text, "t"), Arg(repr(tuple(ns)), "size")]
        if g.chance(0.6):
            args += [Arg(g.literal(ns, dt, rg=g.chance(0.5)), "t", "weight"), Arg(g.literal(ns, dt), "t", "bias")]
        if g.chance(0.3):
            args.append(Arg(fmt_num(g.choice((1e-5, 0.1, 1.0))), "float", "eps"))
        src = g.call("F.layer_norm", args, bad)
    elif name.startswith("batch_norm"):
        if r.ndim < 2 and not bad:
            return
        c = s[1] if len(s) > 1 else 1
        rm, rv = g.new(), g.new()
        g.emit(f"{rm} = {g.literal((c,), dt)}", "batch_norm.stats")
        g.emit(f"{rv} = {g.literal((c,), dt, lo=1, hi=4)}", "batch_norm.stats")
        training = name.endswith("train")
        args = [Arg(r.text, "t"), Arg(rm, "t"), Arg(rv, "t")]
        if g.chance(0.6):
            args += [Arg(g.literal((c,), dt, rg=g.chance(0.5)), "t", "weight"), Arg(g.literal((c,), dt), "t", "bias")]
        args.append(Arg(str(training), "bool", "training"))
        if g.chance(0.4):
            args.append(Arg(fmt_num(g.choice((0.1, 0.5, 0.0))), "float", "momentum"))
        src = g.call("F.batch_norm", args, bad)
    elif name == "pad":
        mode = g.choice(("constant", "constant", "reflect", "replicate", "circular"))
        k = g.rng.randint(1, max(1, min(3, r.ndim)))
        pads = [g.rng.randint(-1 if mode == "constant" else 0, 2) for _ in range(2 * k)]
        args = [Arg(r.text, "t"), Arg(repr(tuple(pads)), "size")]
        if mode != "constant" or g.chance(0.5):
            args.append(Arg(repr(mode), "str", "mode"))
        if mode == "constant" and g.chance(0.5):
            args.append(Arg(fmt_num(g.scalar(r.dtype)), "num", "value"))
        src = g.call("F.pad", args, bad)
    elif name == "one_hot":
        if r.dtype != "int64":
            idx = g.index_literal(g.shape(max_numel=8), 4)
        else:
            if not r.exact:
                return
            idx = r.text
        args = [Arg(idx, "t")]
        if g.chance(0.7):
            args.append(Arg(str(g.rng.randint(-1, 6)), "int", "num_classes" if g.chance(0.5) else None))
        src = g.call("F.one_hot", args, bad)
    else:  # embedding
        if r.ndim != 2 and not bad:
            return
        idx = g.index_literal(g.shape(max_numel=6, ndim=g.rng.randint(0, 2)), s[0] if s else 1)
        args = [Arg(idx, "t"), Arg(r.text, "t")]
        if g.chance(0.3) and s and s[0]:
            args.append(Arg(str(g.rng.randint(0, s[0] - 1)), "int", "padding_idx"))
        src = g.call("F.embedding", args, bad)
    exact = r.exact if name in ("pad", "one_hot", "embedding") else False
    g.emit(f"{v} = {src}", f"F.{name}" + (" (bad)" if bad else ""), exact=exact, bad=bad)


LOSSES = ("mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
          "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "kl_div", "hinge_embedding_loss",
          "margin_ranking_loss", "soft_margin_loss", "cross_entropy_probs")


def loss(g, bad):
    name = g.choice(LOSSES)
    r = g.pick(floating=True)
    if r is None:
        return
    s, dt = r.shape, r.dtype
    v = g.new()
    kw = []
    if g.chance(0.5):
        kw.append(Arg(repr(g.choice(("mean", "sum", "none"))), "str", "reduction"))
    target_rg = g.chance(0.2)
    if name in ("mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "soft_margin_loss", "kl_div"):
        tshape = s if g.chance(0.9) else g.bcast_shape(s)
        if name == "soft_margin_loss":
            tgt = g.literal(tshape, dt, lo=-1, hi=1).replace("0.0", "1.0")
        else:
            tgt = g.literal(tshape, dt, rg=target_rg)
        if name == "huber_loss" and g.chance(0.5):
            kw.append(Arg(fmt_num(g.choice((0.5, 1.0, 2.0))), "float", "delta"))
        if name == "smooth_l1_loss" and g.chance(0.5):
            kw.append(Arg(fmt_num(g.choice((0.5, 1.0, 0.0))), "float", "beta"))
        if name == "kl_div":
            if kw and kw[0].text == "'mean'" or g.chance(0.3):
                kw = [Arg("'batchmean'", "str", "reduction")]
            if g.chance(0.4):
                kw.append(Arg("True", "bool", "log_target"))
        args = [Arg(r.text, "t"), Arg(tgt, "t")]
    elif name in ("binary_cross_entropy", "binary_cross_entropy_with_logits"):
        inp = r.text if name.endswith("logits") else f"T.sigmoid({r.text})"
        tgt = g.literal(s, dt, lo=0, hi=1) if g.chance(0.6) else f"T.full({s!r}, 0.25, dtype=T.{dt})"
        args = [Arg(inp, "t"), Arg(tgt, "t")]
        if g.chance(0.3):
            kw.append(Arg(g.literal(g.bcast_shape(s), dt, lo=0, hi=2), "t", "weight"))
        if name.endswith("logits") and g.chance(0.3) and s:
            kw.append(Arg(g.literal((s[-1],), dt, lo=1, hi=3), "t", "pos_weight"))
    elif name in ("cross_entropy", "nll_loss"):
        if r.ndim not in (1, 2, 3):
            return
        c = s[1] if r.ndim >= 2 else s[0]
        tshape = (s[0],) + s[2:] if r.ndim >= 2 else ()
        tgt = g.index_literal(tshape, c)
        if g.chance(0.2) and tshape and all(tshape):
            tgt = tgt.replace("[0", "[-100", 1)
            if "-100" in tgt:
                kw.append(Arg("-100", "int", "ignore_index"))
        if g.chance(0.3):
            kw.append(Arg(g.literal((c,), dt, lo=1, hi=3), "t", "weight"))
        if name == "cross_entropy" and g.chance(0.3):
            kw.append(Arg(fmt_num(g.choice((0.1, 0.25, 0.0))), "float", "label_smoothing"))
        inp = r.text if name == "cross_entropy" else f"T.log_softmax({r.text}, dim={1 if r.ndim >= 2 else 0})"
        args = [Arg(inp, "t"), Arg(tgt, "t")]
    elif name == "cross_entropy_probs":
        if r.ndim not in (1, 2) and not bad:
            return
        tgt = f"T.softmax({g.literal(s, dt)}, dim={1 if r.ndim == 2 else 0})"
        args = [Arg(r.text, "t"), Arg(tgt, "t")]
        name = "cross_entropy"
    elif name == "hinge_embedding_loss":
        tgt = g.literal(s, dt, lo=0, hi=1).replace("0.0", "-1.0")
        args = [Arg(r.text, "t"), Arg(tgt, "t")]
        if g.chance(0.4):
            kw.append(Arg(fmt_num(g.choice((0.5, 1.0, 2.0))), "float", "margin"))
    else:  # margin_ranking_loss
        x2 = g.literal(s, dt, rg=target_rg)
        y = g.literal(s, dt, lo=0, hi=1).replace("0.0", "-1.0")
        args = [Arg(r.text, "t"), Arg(x2, "t"), Arg(y, "t")]
        if g.chance(0.4):
            kw.append(Arg(fmt_num(g.choice((0.5, 0.0, 1.0))), "float", "margin"))
    src = g.call(f"F.{name}", args + kw, bad)
    g.emit(f"{v} = {src}", f"loss.{name}" + (" (bad)" if bad else ""), exact=lambda t: False, bad=bad)
