# nn.Module mechanics vs torch.nn: registration, traversal, state_dict, modes, conversion, hooks, printing.
import copy
from collections import OrderedDict

import numpy as np
import pytest

import tapegrad
import tapegrad.nn  # noqa: F401  (tapegrad.nn is a subpackage; make sure it is loaded)
import torch
from conftest import capture, expect_same_error


def to_ours(t):
    """A tapegrad tensor with a torch tensor's values and dtype."""
    return tapegrad.from_numpy(t.detach().numpy().copy())


def copy_state(ours, theirs):
    """Loads torch module's state into ours (the two libraries' random streams differ)."""
    ours.load_state_dict({k: to_ours(v) for k, v in theirs.state_dict().items()})


def build(lib):
    """The same small network in either library: nesting, containers, buffers, a shared module."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 4)
            self.act = nn.ReLU()
            self.register_buffer("scale", lib.ones(4))
            self.register_buffer("cache", lib.zeros(2), persistent=False)

        def forward(self, x):
            return self.act(self.fc(x)) * self.scale

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.seq = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2, bias=False))
            self.heads = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.Sigmoid()])
            self.extra = nn.ModuleDict({"norm": nn.LayerNorm(2), "bn": nn.BatchNorm1d(2)})
            self.shared = self.seq[0]  # one module reachable under two names
            self.alpha = nn.Parameter(lib.tensor(0.5))
            self.register_parameter("unused", None)

        def forward(self, x):
            h = self.seq(self.block(x))
            for head in self.heads:
                h = head(h)
            return self.extra["bn"](self.extra["norm"](h)) * self.alpha

    return Net()


def both(fn):
    return fn(tapegrad), fn(torch)


def expect_same_error_but_class_paths(fn):
    """As expect_same_error, for messages that print a class (<class 'torch.nn....'> vs 'tapegrad.nn....')."""
    _, theirs = capture(fn, torch)
    _, ours = capture(fn, tapegrad)
    assert theirs is not None and ours is not None, (ours, theirs)
    assert type(ours) is type(theirs), f"tapegrad raised {type(ours).__name__}: {ours}"
    assert str(ours).replace("'tapegrad.", "'torch.") == str(theirs)


# ---------------------------------------------------------------- traversal


@pytest.mark.parametrize("kwargs", [{}, {"recurse": False}, {"prefix": "net"}, {"remove_duplicate": False}])
def test_named_parameters_match_torch(kwargs):
    ours, theirs = both(lambda lib: [(n, tuple(p.shape)) for n, p in build(lib).named_parameters(**kwargs)])
    assert ours == theirs


@pytest.mark.parametrize("kwargs", [{}, {"recurse": False}, {"prefix": "m"}, {"remove_duplicate": False}])
def test_named_buffers_match_torch(kwargs):
    ours, theirs = both(lambda lib: [(n, tuple(b.shape), str(b.dtype)) for n, b in
                                     build(lib).named_buffers(**kwargs)])
    assert ours == theirs


@pytest.mark.parametrize("kwargs", [{}, {"prefix": "root"}, {"remove_duplicate": False}])
def test_named_modules_match_torch(kwargs):
    ours, theirs = both(lambda lib: [(n, type(m).__name__) for n, m in build(lib).named_modules(**kwargs)])
    assert ours == theirs


def test_children_and_counts_match_torch():
    def summary(lib):
        net = build(lib)
        return ([n for n, _ in net.named_children()], len(list(net.children())), len(list(net.modules())),
                len(list(net.parameters())), len(list(net.parameters(recurse=False))), len(list(net.buffers())))

    ours, theirs = both(summary)
    assert ours == theirs


def test_parameters_are_the_registered_objects():
    net = build(tapegrad)
    params = list(net.parameters())
    assert params[0] is net.alpha and params[1] is net.block.fc.weight  # own parameters come first
    assert all(isinstance(p, tapegrad.nn.Parameter) and p.requires_grad and p.is_leaf for p in params)
    assert net.shared is net.seq[0]


def test_apply_visits_children_first_like_torch():
    def order(lib):
        seen = []
        build(lib).apply(lambda m: seen.append(type(m).__name__))
        return seen

    ours, theirs = both(order)
    assert ours == theirs


def test_get_submodule_parameter_buffer():
    net = build(tapegrad)
    assert net.get_submodule("") is net
    assert net.get_submodule("seq.0") is net.seq[0]
    assert net.get_parameter("block.fc.bias") is net.block.fc.bias
    assert net.get_buffer("block.scale") is net.block.scale
    for target, getter in [("block.nope", "get_submodule"), ("block.fc.bias", "get_submodule"),
                           ("block.scale", "get_parameter"), ("block.fc.weight", "get_buffer"),
                           ("block.missing", "get_parameter")]:
        expect_same_error(lambda lib: getattr(build(lib), getter)(target))


# ---------------------------------------------------------------- state_dict


def test_state_dict_keys_and_values_match_torch():
    ours, theirs = both(build)
    copy_state(ours, theirs)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert type(ours_sd) is OrderedDict
    assert list(ours_sd) == list(theirs_sd)
    assert "block.cache" not in ours_sd  # non-persistent
    assert "shared.weight" in ours_sd  # state_dict keeps duplicates, as torch's does
    for key, value in theirs_sd.items():
        assert str(ours_sd[key].dtype) == str(value.dtype)
        np.testing.assert_array_equal(ours_sd[key].numpy(), value.numpy(), err_msg=key)
        assert ours_sd[key].requires_grad is False
    assert dict(ours_sd._metadata) == dict(theirs_sd._metadata)


def test_state_dict_detaches_but_shares_memory_and_keep_vars():
    net = tapegrad.nn.Linear(2, 3)
    sd = net.state_dict()
    assert not sd["weight"].requires_grad and not isinstance(sd["weight"], tapegrad.nn.Parameter)
    with tapegrad.no_grad():
        net.weight.fill_(2.0)
    assert np.all(sd["weight"].numpy() == 2.0)
    kept = net.state_dict(keep_vars=True)
    assert kept["weight"] is net.weight and kept["bias"] is net.bias
    prefixed = net.state_dict(prefix="enc.")
    assert list(prefixed) == ["enc.weight", "enc.bias"]
    dest = {}
    assert net.state_dict(destination=dest) is dest and list(dest) == ["weight", "bias"]


def test_load_state_dict_copies_in_place():
    net = tapegrad.nn.Linear(2, 3)
    weight = net.weight
    version = weight._version
    values = np.arange(6, dtype=np.float32).reshape(3, 2)
    result = net.load_state_dict({"weight": tapegrad.from_numpy(values), "bias": tapegrad.zeros(3)})
    assert net.weight is weight and weight.requires_grad and weight.is_leaf and weight._version > version
    np.testing.assert_array_equal(net.weight.detach().numpy(), values)
    assert result == ([], []) and repr(result) == "<All keys matched successfully>"
    assert result.missing_keys == [] and result.unexpected_keys == []


def test_load_state_dict_assign_replaces_objects_keeping_requires_grad():
    net = tapegrad.nn.Linear(2, 3)
    net.bias.requires_grad_(False)
    new_w, new_b = tapegrad.ones(3, 2, dtype=tapegrad.float64), tapegrad.zeros(3, dtype=tapegrad.float64)
    net.load_state_dict({"weight": new_w, "bias": new_b}, assign=True)
    assert isinstance(net.weight, tapegrad.nn.Parameter) and net.weight.dtype == tapegrad.float64
    assert net.weight.requires_grad and not net.bias.requires_grad


def _bad_state(lib, case):
    net = build(lib)
    sd = net.state_dict()
    if case in ("missing", "both"):
        del sd["seq.2.weight"]
        del sd["extra.bn.running_var"]
    if case in ("unexpected", "both"):
        sd["block.fc.extra"] = lib.zeros(1)
        sd["nothere.weight"] = lib.zeros(1)
        sd["_extra_state"] = lib.zeros(1)
    if case == "size":
        sd["block.fc.weight"] = lib.zeros(2, 2)
    if case == "not_tensor":
        sd["alpha"] = 3
    return net, sd


@pytest.mark.parametrize("case", ["missing", "unexpected", "both", "size", "not_tensor"])
def test_load_state_dict_errors_match_torch(case):
    expect_same_error(lambda lib: (lambda net, sd: net.load_state_dict(sd))(*_bad_state(lib, case)))


def test_load_state_dict_needs_a_mapping():
    expect_same_error(lambda lib: lib.nn.Linear(2, 2).load_state_dict([1, 2]))


@pytest.mark.parametrize("case", ["missing", "unexpected", "both"])
def test_load_state_dict_non_strict_reports_keys_like_torch(case):
    def load(lib):
        net, sd = _bad_state(lib, case)
        result = net.load_state_dict(sd, strict=False)
        return result.missing_keys, result.unexpected_keys, repr(result), str(result)

    ours, theirs = both(load)
    assert ours == theirs


def test_batchnorm_loads_old_checkpoints_without_num_batches_tracked():
    def load(lib):
        bn = lib.nn.BatchNorm1d(3)
        sd = dict(bn.state_dict())  # a plain dict: no version metadata, like an old checkpoint
        del sd["num_batches_tracked"]
        return repr(bn.load_state_dict(sd))

    ours, theirs = both(load)
    assert ours == theirs == "<All keys matched successfully>"


def test_round_trip_through_torch_state_dict():
    # Seeded: the two float32 GEMMs sum in different orders, and about 2% of random weight draws put
    # an output 5e-6 to 1e-5 apart, just past this test's tolerance.
    torch.manual_seed(0)
    ours, theirs = both(build)
    copy_state(ours, theirs)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(tapegrad.from_numpy(x)).detach().numpy(),
                               theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- registration rules and errors


class _Early:
    """Assignments made before Module.__init__ ran."""

    @staticmethod
    def param(lib):
        class M(lib.nn.Module):
            def __init__(self):
                self.w = lib.nn.Parameter(lib.zeros(1))

        return M()

    @staticmethod
    def module(lib):
        class M(lib.nn.Module):
            def __init__(self):
                self.child = lib.nn.ReLU()

        return M()

    @staticmethod
    def buffer(lib):
        class M(lib.nn.Module):
            def __init__(self):
                self.register_buffer("b", lib.zeros(1))

        return M()

    @staticmethod
    def register_param(lib):
        class M(lib.nn.Module):
            def __init__(self):
                self.register_parameter("w", None)

        return M()


@pytest.mark.parametrize("case", ["param", "module", "buffer", "register_param"])
def test_assignment_before_init_errors(case):
    expect_same_error(getattr(_Early, case))


def _assign(lib, name, value_fn):
    m = lib.nn.Linear(2, 2)
    m.register_buffer("buf", lib.zeros(1))
    m.child = lib.nn.ReLU()
    setattr(m, name, value_fn(lib))


@pytest.mark.parametrize("name, value_fn", [
    ("weight", lambda lib: lib.zeros(2, 2)),
    ("weight", lambda lib: lib.zeros(2, 2, dtype=lib.float64)),
    ("weight", lambda lib: lib.zeros(2, dtype=lib.int64)),
    ("bias", lambda lib: 3),
    ("child", lambda lib: lib.zeros(1)),
    ("child", lambda lib: "relu"),
    ("buf", lambda lib: 1.5),
    ("buf", lambda lib: [1, 2]),
])
def test_setattr_type_errors_match_torch(name, value_fn):
    expect_same_error(lambda lib: _assign(lib, name, value_fn))


@pytest.mark.parametrize("call", [
    lambda lib, m: m.register_buffer("a.b", lib.zeros(1)),
    lambda lib, m: m.register_buffer("", lib.zeros(1)),
    lambda lib, m: m.register_buffer(3, lib.zeros(1)),
    lambda lib, m: m.register_buffer("weight", lib.zeros(1)),
    lambda lib, m: m.register_buffer("b", 3.0),
    lambda lib, m: m.register_parameter("a.b", None),
    lambda lib, m: m.register_parameter("", None),
    lambda lib, m: m.register_parameter("training", None),
    lambda lib, m: m.register_parameter("p", lib.zeros(1)),
    lambda lib, m: m.register_parameter("p", lib.nn.Parameter(lib.zeros(1)) * 2),
    lambda lib, m: m.add_module("a.b", lib.nn.ReLU()),
    lambda lib, m: m.add_module("", lib.nn.ReLU()),
    lambda lib, m: m.add_module("weight", lib.nn.ReLU()),
    lambda lib, m: m.add_module("x", lib.zeros(1)),
    lambda lib, m: m.add_module(1, lib.nn.ReLU()),
    lambda lib, m: m.nothing,
    lambda lib, m: delattr(m, "nothing"),
    lambda lib, m: m.train("yes"),
    lambda lib, m: m.to(lib.int64),
])
def test_registration_errors_match_torch(call):
    expect_same_error(lambda lib: call(lib, lib.nn.Linear(2, 2)))


def test_setattr_moves_names_between_kinds():
    m = tapegrad.nn.Module()
    m.x = tapegrad.nn.ReLU()
    m.x = tapegrad.nn.Parameter(tapegrad.zeros(1))  # a parameter now, no longer a module
    assert "x" in m._parameters and "x" not in m._modules
    m.x = None  # None keeps the slot
    assert m._parameters == {"x": None} and m.x is None
    m.register_buffer("b", tapegrad.ones(2))
    m.b = tapegrad.zeros(2)  # plain tensors assigned to a buffer name replace the buffer
    assert m._buffers["b"] is m.b
    m.register_buffer("nb", tapegrad.ones(1), persistent=False)
    m.nb = tapegrad.zeros(1)
    assert "nb" in m._non_persistent_buffers_set
    m.plain = tapegrad.zeros(1)  # any other tensor is a plain attribute
    assert "plain" in m.__dict__ and list(m.state_dict()) == ["b"]
    del m.x, m.b, m.nb, m.plain
    assert m._parameters == {} and m._buffers == {} and not m._non_persistent_buffers_set
    assert not hasattr(m, "plain")


def test_dir_lists_members():
    keys = dir(build(tapegrad))
    assert {"alpha", "block", "seq", "heads", "unused", "forward", "training", "state_dict"} <= set(keys)
    assert keys == sorted(keys)
    seq_keys = dir(tapegrad.nn.Sequential(tapegrad.nn.ReLU()))
    assert "0" not in seq_keys and "append" in seq_keys


def test_module_init_arguments_and_missing_forward():
    expect_same_error(lambda lib: lib.nn.Module(3))
    expect_same_error(lambda lib: lib.nn.Module(x=3))
    expect_same_error(lambda lib: lib.nn.Module()(lib.zeros(1)))


# ---------------------------------------------------------------- modes, grads, conversion


def test_train_eval_flags_recurse():
    def flags(lib):
        net = build(lib)
        out = [[m.training for m in net.modules()]]
        assert net.eval() is net
        out.append([m.training for m in net.modules()])
        net.seq.train()
        out.append([m.training for m in net.modules()])
        return out

    ours, theirs = both(flags)
    assert ours == theirs


def test_requires_grad_and_zero_grad():
    net = build(tapegrad)
    net.eval()
    net(tapegrad.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())


@pytest.mark.parametrize("convert", [lambda lib, m: m.to(lib.float64), lambda lib, m: m.double(),
                                     lambda lib, m: m.to("cpu", lib.float64),
                                     lambda lib, m: m.to(dtype=lib.float64, device="cpu"),
                                     lambda lib, m: m.to(lib.zeros(1, dtype=lib.float64))])
def test_to_float64_converts_floats_keeps_objects(convert):
    net = build(tapegrad)
    net.train()
    net(tapegrad.randn(4, 3)).sum().backward()
    params = list(net.parameters())
    assert convert(tapegrad, net) is net
    assert [p is q for p, q in zip(net.parameters(), params)] == [True] * len(params)
    for p in net.parameters():
        assert p.dtype == tapegrad.float64 and p.grad.dtype == tapegrad.float64 and p.is_leaf and p.requires_grad
    assert net.extra.bn.running_mean.dtype == tapegrad.float64
    assert net.extra.bn.num_batches_tracked.dtype == tapegrad.int64  # integer buffers keep their dtype
    assert net(tapegrad.randn(4, 3, dtype=tapegrad.float64)).dtype == tapegrad.float64
    net.float().cpu()
    assert all(p.dtype == tapegrad.float32 for p in net.parameters())
    ours, theirs = both(lambda lib: [str(t.dtype) for t in convert(lib, build(lib)).state_dict().values()])
    assert ours == theirs


# ---------------------------------------------------------------- hooks and copying


def test_forward_hooks():
    lin = tapegrad.nn.Linear(2, 2)
    calls = []
    pre = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = lin(tapegrad.ones(3, 2))
    np.testing.assert_allclose(out.detach().numpy(), np.broadcast_to(lin.bias.detach().numpy() + 1, (3, 2)))
    assert calls == [tapegrad.Size([3, 2])]
    pre.remove()
    post.remove()
    with lin.register_forward_pre_hook(lambda m, a, k: ((a[0] * 2,), k), with_kwargs=True):
        doubled = lin(tapegrad.ones(1, 2))
    np.testing.assert_allclose(doubled.detach().numpy(), lin(tapegrad.full((1, 2), 2.0)).detach().numpy())
    order = []
    lin.register_forward_hook(lambda m, a, o: order.append("a"))
    lin.register_forward_hook(lambda m, a, o: order.append("b"), prepend=True)
    lin(tapegrad.ones(1, 2))
    assert order == ["b", "a"]


def test_deepcopy_is_independent():
    net = build(tapegrad)
    twin = copy.deepcopy(net)
    assert twin.shared is twin.seq[0] and twin.seq[0] is not net.seq[0]
    with tapegrad.no_grad():
        twin.alpha.fill_(7.0)
    assert float(net.alpha.detach()) == 0.5 and isinstance(twin.alpha, tapegrad.nn.Parameter)
    assert repr(twin) == repr(net)


# ---------------------------------------------------------------- printing


@pytest.mark.parametrize("make", [
    build,
    lambda lib: lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU()),
    lambda lib: lib.nn.Sequential(OrderedDict(enc=lib.nn.Linear(2, 3), act=lib.nn.GELU("tanh"))),
    lambda lib: lib.nn.ModuleList([lib.nn.Linear(2, 2)] * 3 + [lib.nn.ReLU(), lib.nn.ReLU(), lib.nn.Tanh()]),
    lambda lib: lib.nn.ModuleList([lib.nn.Sequential(lib.nn.Linear(1, 1)), lib.nn.Sequential(lib.nn.Linear(1, 1))]),
    lambda lib: lib.nn.ModuleList(),
    lambda lib: lib.nn.ModuleDict({"a": lib.nn.Identity(), "b": lib.nn.Dropout(0.2)}),
    lambda lib: lib.nn.Module(),
])
def test_repr_matches_torch(make):
    ours, theirs = both(lambda lib: repr(make(lib)))
    assert ours == theirs


def test_multiline_extra_repr_is_indented_like_torch():
    def make(lib):
        class Two(lib.nn.Module):
            def extra_repr(self):
                return "first=1\nsecond=2"

        outer = lib.nn.Sequential(Two(), lib.nn.ReLU())
        outer.inner = Two()
        return repr(outer)

    ours, theirs = both(make)
    assert ours == theirs


# ---------------------------------------------------------------- containers


def _seq_ops(lib):
    nn = lib.nn
    a, b, c, d = nn.Linear(1, 1), nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    s = nn.Sequential(a, b, c)
    out = [len(s), s[0] is a, s[-1] is c, type(s[1:]).__name__, list(s[1:]._modules), repr(s[::2])]
    s.append(d)
    s.insert(1, nn.Identity())
    s.insert(-1, nn.ELU())
    out.append(repr(s))
    del s[0]
    out.append(list(s._modules))
    del s[1:3]
    out.append(repr(s))
    s[0] = nn.SiLU()
    out.append(repr(s.pop(-1)))
    out.append(repr(s + nn.Sequential(nn.ReLU())))
    out.append(repr(s * 2))
    s.extend([nn.ReLU()])
    s += nn.Sequential(nn.Tanh())
    out.append(repr(s))
    out.append([type(m).__name__ for m in s])
    named = nn.Sequential(OrderedDict([("x", nn.ReLU()), ("y", nn.Tanh())]))
    out.append((list(named._modules), repr(named[1:]), named.y is named[1]))
    return out


def test_sequential_api_matches_torch():
    ours, theirs = both(_seq_ops)
    assert ours == theirs


@pytest.mark.parametrize("call", [
    lambda nn: nn.Sequential(nn.ReLU())[1],
    lambda nn: nn.Sequential(nn.ReLU())[-2],
    lambda nn: nn.Sequential(nn.ReLU()).insert(3, nn.ReLU()),
    lambda nn: nn.Sequential(nn.ReLU()).insert(0, 3),
    lambda nn: nn.Sequential(nn.ReLU()) + [nn.ReLU()],
    lambda nn: nn.Sequential(nn.ReLU()) * 0,
    lambda nn: nn.Sequential(nn.ReLU()) * 1.5,
    lambda nn: nn.ModuleList([nn.ReLU()])[2],
    lambda nn: nn.ModuleList([nn.ReLU()]).extend(3),
    lambda nn: nn.ModuleList([3]),
    lambda nn: nn.ModuleDict(3),
    lambda nn: nn.ModuleDict([(1, 2, 3)]),
    lambda nn: nn.ModuleDict([3]),
    lambda nn: nn.ModuleDict({"a": nn.ReLU()})["b"],
])
def test_container_errors_match_torch(call):
    expect_same_error_but_class_paths(lambda lib: call(lib.nn))


def _list_ops(lib):
    nn = lib.nn
    ml = nn.ModuleList([nn.Linear(1, 1), nn.ReLU()])
    ml.append(nn.Tanh())
    ml.extend([nn.Sigmoid(), nn.Identity()])
    ml.insert(1, nn.GELU())
    ml += [nn.ELU()]
    out = [len(ml), repr(ml), type(ml[1:3]).__name__, repr(ml[::-2]), type(ml[-1]).__name__]
    ml[0] = nn.SiLU()
    del ml[1]
    del ml[::2]
    out.append(repr(ml))
    out.append(repr(ml.pop(0)))
    out.append(repr(ml + [nn.ReLU()]))
    out.append([type(m).__name__ for m in ml])
    return out


def test_module_list_api_matches_torch():
    ours, theirs = both(_list_ops)
    assert ours == theirs
    holder = tapegrad.nn.Module()
    holder.layers = tapegrad.nn.ModuleList([tapegrad.nn.Linear(2, 2) for _ in range(2)])
    assert [n for n, _ in holder.named_parameters()] == ["layers.0.weight", "layers.0.bias", "layers.1.weight",
                                                         "layers.1.bias"]


def _dict_ops(lib):
    nn = lib.nn
    md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Tanh()})
    md["c"] = nn.Linear(1, 2)
    md.update([("d", nn.Identity())])
    md.update(nn.ModuleDict({"a": nn.Sigmoid()}))
    out = [list(md), list(md.keys()), [type(v).__name__ for v in md.values()],
           [(k, type(v).__name__) for k, v in md.items()], len(md), "a" in md, "z" in md, repr(md)]
    out.append(type(md.pop("b")).__name__)
    del md["c"]
    out.append(repr(md))
    md.clear()
    out.append((len(md), repr(md)))
    return out


def test_module_dict_api_matches_torch():
    ours, theirs = both(_dict_ops)
    assert ours == theirs


# ---- ParameterList / ParameterDict ----

def _parameter_containers(lib):
    nn, seen = lib.nn, []
    pl = nn.ParameterList([nn.Parameter(lib.zeros(2, 3)), nn.Parameter(lib.zeros(3, dtype=lib.float64), requires_grad=False)])
    seen += [repr(pl), len(pl), [n for n, _ in pl.named_parameters()], tuple(pl[0].shape), str(pl[-1].dtype)]
    pl.append(lib.ones(2))
    pl.extend([nn.Parameter(lib.ones(1))])
    seen += [type(pl[2]).__name__, pl[2].requires_grad, len(pl), list(pl.state_dict()), len(pl[1:]), repr(pl[1:])]
    pl[0] = nn.Parameter(lib.ones(1))
    seen.append(repr(pl))
    pd = nn.ParameterDict({"a": nn.Parameter(lib.zeros(2)), "b": lib.ones(3, dtype=lib.int64).float()})
    seen += [repr(pd), list(pd.keys()), "a" in pd, len(pd), [n for n, _ in pd.named_parameters()]]
    pd["c"] = nn.Parameter(lib.zeros(1))
    seen += [list(pd.items())[2][0], tuple(pd.pop("c").shape), list(pd)]
    pd.update([("x", lib.zeros(2))])
    seen += [list(pd), pd.get("zz"), tuple(pd.setdefault("y", lib.ones(1)).shape), list(reversed(pd))]
    m = nn.Module()
    m.p = nn.ParameterList([nn.Parameter(lib.zeros(1))])
    m.d = pd
    seen += [repr(m), [n for n, _ in m.named_parameters()], repr(nn.ParameterList()), repr(nn.ParameterDict())]
    pd.clear()
    seen += [len(pd), list(pd.named_parameters())]
    return seen


def test_parameter_list_and_dict_match_torch():
    assert _parameter_containers(tapegrad) == _parameter_containers(torch)


def test_parameter_list_errors_and_training():
    for lib in (tapegrad, torch):
        with pytest.raises(IndexError, match="index 5 is out of range"):
            lib.nn.ParameterList([lib.nn.Parameter(lib.zeros(1))])[5]
    losses = []
    for lib in (tapegrad, torch):
        params = lib.nn.ParameterList([lib.nn.Parameter(lib.tensor([1.0, -2.0])), lib.nn.Parameter(lib.tensor(0.5))])
        opt = lib.optim.SGD(params.parameters(), lr=0.1)
        for _ in range(3):
            loss = (params[0] * params[1]).pow(2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        losses.append([round(v, 6) for v in params[0].tolist()] + [round(params[1].item(), 6)])
    assert losses[0] == losses[1]
