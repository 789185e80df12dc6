# The bad-argument sweep's table: the tensors its calls use and one valid baseline call per function.
"""Baselines are torch-API expressions over a small vocabulary of tensors (TENSORS). Integer arguments
are marked by what they mean, so the sweep knows how to break them: d(1) is a dim, n(3) a size or a
count, k(1) an index or offset. The markers are identity functions; the sweep removes them from the
calls it runs.

Functions and methods missing here get an automatic baseline (f(x), f(x, y), x.m(), x.m(y), x.attr:
the first torch accepts). Each T.f(x, ...) baseline also gives x.f(...) and x.f_(...) where torch
has them and accepts them.
"""

# name -> (kind, source). Kinds say how the sweep breaks a tensor: a float tensor gets a bool and an
# int64 one; an index tensor a float one and out-of-range values; a mask a float one.
TENSORS = {
    "x": ("float", "T.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])"),
    "y": ("float", "T.tensor([[0.9, 0.8, 0.7], [0.25, 0.35, 0.45]])"),
    "z": ("float", "T.tensor([[1.5, 2.5, 3.5], [4.5, 5.5, 6.5]])"),
    "v": ("float", "T.tensor([0.5, 1.5, 2.5])"),
    "u": ("float", "T.tensor([0.75, 1.25])"),
    "m": ("float", "T.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])"),
    "q": ("float", "T.tensor([[1.0, 2.0], [3.0, 4.0]])"),
    "o": ("float", "T.tensor([[1.0, 2.0, 3.0]])"),
    "s": ("float", "T.tensor(0.5)"),
    "bx": ("float", "T.arange(12.0).reshape(2, 2, 3)"),
    "bm": ("float", "T.arange(12.0).reshape(2, 3, 2)"),
    "xg": ("float", "T.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], requires_grad=True)"),
    "j": ("int", "T.tensor([[1, 2, 3], [4, 5, 6]])"),
    "i": ("index", "T.tensor([[0], [2]])"),
    "iv": ("index", "T.tensor([0, 2])"),
    "i0": ("index", "T.tensor([1, 0])"),
    "mask": ("mask", "T.tensor([[True, False, True], [False, True, False]])"),
}

# One or more baselines per function; every one must run in torch (the test checks).
BASELINES = [
    # --- top level: arithmetic and comparison ---
    "T.add(x, y, alpha=2)", "T.add(x, 2.0)", "T.sub(x, y, alpha=2)", "T.rsub(x, y, alpha=2)", "T.mul(x, y)",
    "T.div(x, y, rounding_mode='floor')", "T.divide(x, y)", "T.true_divide(x, y)", "T.floor_divide(x, y)",
    "T.remainder(x, 0.3)", "T.fmod(x, y)", "T.pow(x, 2.0)", "T.pow(x, y)", "T.pow(2.0, x)",
    "T.addcdiv(x, y, z, value=0.5)", "T.addcmul(x, y, z, value=0.5)", "T.lerp(x, y, 0.5)", "T.lerp(x, y, z)",
    "T.atan2(x, y)", "T.arctan2(x, y)", "T.logaddexp(x, y)", "T.maximum(x, y)", "T.minimum(x, y)",
    "T.clamp(x, 0.2, 0.5)", "T.clamp(x, min=y)", "T.clip(x, max=0.5)", "T.clamp_min(x, 0.3)", "T.clamp_max(x, 0.3)",
    "T.round(x, decimals=k(1))", "T.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0)",
    "T.bitwise_and(j, j)", "T.bitwise_or(j, 3)", "T.bitwise_xor(j, j)", "T.bitwise_not(j)",
    "T.logical_and(x, mask)", "T.isclose(x, y, rtol=1e-5, atol=1e-8, equal_nan=True)",
    "T.allclose(x, y, rtol=1e-5, atol=1e-8, equal_nan=True)", "T.where(mask, x, y)", "T.where(mask, x, 0.5)",
    "T.where(mask)",
    # --- reductions ---
    "T.sum(x, d(1), keepdim=True, dtype=T.float64)", "T.sum(x, (d(0), d(1)))", "T.nansum(x, d(1))",
    "T.mean(x, d(1), keepdim=True, dtype=T.float64)", "T.prod(x, d(1), keepdim=True, dtype=T.float64)",
    "T.std(x, d(1), correction=k(1), keepdim=True)", "T.var(x, d(1), unbiased=False)",
    "T.all(x, d(1), keepdim=True)", "T.any(x, d(1))", "T.amax(x, d(1), keepdim=True)", "T.amin(x, (d(0), d(1)))",
    "T.argmax(x, d(1), keepdim=True)", "T.argmin(x, dim=d(0))", "T.argsort(x, dim=d(1), descending=True)",
    "T.max(x)", "T.max(x, d(1), keepdim=True)", "T.max(x, y)", "T.min(x, d(1))", "T.min(x, y)",
    "T.logsumexp(x, d(1), keepdim=True)", "T.norm(x, p=2, dim=d(1), keepdim=True)", "T.count_nonzero(x, d(1))",
    "T.cumsum(x, d(1), dtype=T.float64)", "T.softmax(x, d(1), dtype=T.float64)", "T.log_softmax(x, d(1))",
    "T.sort(x, d(1), descending=True)", "T.topk(x, n(2), d(1), largest=False)",
    # --- shape and views ---
    "T.reshape(x, (n(3), n(2)))", "T.permute(x, (d(1), d(0)))", "T.transpose(x, d(0), d(1))",
    "T.swapaxes(x, d(0), d(1))", "T.squeeze(o, d(0))", "T.unsqueeze(x, d(2))", "T.flatten(bx, d(1), d(2))",
    "T.unflatten(x, d(1), (n(3), n(1)))", "T.flip(x, (d(1),))", "T.roll(x, k(1), d(1))",
    "T.movedim(x, (d(0), d(1)), (d(1), d(0)))", "T.moveaxis(x, d(0), d(1))", "T.narrow(x, d(1), k(1), n(2))",
    "T.select(x, d(1), k(1))", "T.diagonal(x, k(0), d(0), d(1))", "T.diag(x, k(1))", "T.tril(x, k(1))",
    "T.triu(x, diagonal=k(-1))", "T.chunk(x, n(2), d(1))", "T.split(x, n(2), d(1))", "T.split(x, [n(1), n(2)], d(1))",
    "T.unbind(x, d(1))", "T.tile(x, (n(2), n(1)))", "T.repeat_interleave(x, n(2), dim=d(1))",
    "T.broadcast_to(v, (n(2), n(3)))", "T.broadcast_tensors(x, v)", "T.cat([x, y], d(1))", "T.concat((x, y), dim=d(0))",
    "T.concatenate([x, y], d(0))", "T.stack([x, y], d(1))", "T.hstack([x, y])", "T.vstack([x, y])",
    # --- indexing ---
    "T.gather(x, d(1), i)", "T.index_select(x, d(1), iv)", "T.index_add(x, d(1), iv, q, alpha=2)",
    "T.scatter(x, d(1), i, y)", "T.scatter(x, d(1), i, 0.5)", "T.scatter_add(x, d(1), i, y)",
    "T.masked_fill(x, mask, 0.5)", "T.masked_select(x, mask)", "T.nonzero(x, as_tuple=True)",
    # --- linear algebra ---
    "T.matmul(x, m)", "T.mm(x, m)", "T.mv(x, v)", "T.dot(v, v)", "T.outer(v, u)", "T.bmm(bx, bm)",
    "T.addmm(q, x, m, beta=0.5, alpha=2)",
    # --- creation ---
    "T.tensor([[1.0, 2.0]], dtype=T.float64, requires_grad=True)", "T.as_tensor([1.0, 2.0], dtype=T.float64)",
    "T.zeros(n(2), n(3))", "T.zeros((n(2), n(3)), dtype=T.int64)", "T.ones(n(2), n(3), dtype=T.float64)",
    "T.empty((n(2), n(3)), dtype=T.float64)", "T.full((n(2), n(3)), 1.5)", "T.eye(n(3), n(2))",
    "T.arange(n(5))", "T.arange(1, n(5), 2, dtype=T.float64)", "T.linspace(0.0, 1.0, n(5))",
    "T.rand(n(2), n(3))", "T.randn((n(2), n(3)), dtype=T.float64)", "T.randint(0, 5, (n(2), n(3)))",
    "T.randint(5, (n(3),))", "T.randperm(n(4))", "T.zeros_like(x, dtype=T.int64)", "T.ones_like(x)",
    "T.empty_like(x, dtype=T.float64)", "T.full_like(x, 2.0)", "T.rand_like(x)", "T.randn_like(x, dtype=T.float64)",
    "T.from_numpy(x.numpy())", "T.from_dlpack(x)", "T.atleast_1d(s)", "T.atleast_2d(v)",
    # --- global state ---
    "T.manual_seed(0)", "T.seed()", "T.initial_seed()", "T.get_default_dtype()", "T.set_default_dtype(T.float64)",
    "T.is_grad_enabled()", "T.is_anomaly_enabled()", "T.is_inference_mode_enabled()", "T.set_printoptions(precision=3)",
    # --- nn.functional ---
    "F.linear(x, y, u)", "F.relu(x, inplace=True)", "F.relu6(x)", "F.leaky_relu(x, 0.2)", "F.elu(x, alpha=1.0, inplace=True)",
    "F.celu(x, 2.0)", "F.gelu(x, approximate='tanh')", "F.silu(x, inplace=False)", "F.softplus(x, beta=2.0, threshold=10.0)",
    "F.hardtanh(x, -0.5, 0.5)", "F.hardshrink(x, 0.5)", "F.softshrink(x, 0.5)", "F.threshold(x, 0.3, 0.0)",
    "F.glu(x, d(0))", "F.softmax(x, dim=d(1))", "F.log_softmax(x, d(1))", "F.softmin(x, d(1))",
    "F.dropout(x, 0.5, training=True)", "F.normalize(x, p=2.0, dim=d(1), eps=1e-12)",
    "F.layer_norm(x, (n(3),), weight=v, bias=v, eps=1e-5)",
    "F.batch_norm(x, v, v, weight=v, bias=v, training=True, momentum=0.1, eps=1e-5)",
    "F.embedding(iv, m, padding_idx=k(0))", "F.one_hot(iv, n(3))", "F.pad(x, (k(1), k(1)), mode='constant', value=0.0)",
    "F.binary_cross_entropy(x, y, weight=z, reduction='mean')",
    "F.binary_cross_entropy_with_logits(x, y, pos_weight=v, reduction='sum')",
    "F.cross_entropy(x, iv, weight=v, ignore_index=k(-100), reduction='mean', label_smoothing=0.1)",
    "F.nll_loss(x, iv, weight=v, ignore_index=k(-100), reduction='sum')", "F.kl_div(x, y, reduction='batchmean', log_target=True)",
    "F.mse_loss(x, y, reduction='sum')", "F.l1_loss(x, y, reduction='none')", "F.huber_loss(x, y, reduction='sum', delta=0.5)",
    "F.smooth_l1_loss(x, y, beta=0.5)", "F.soft_margin_loss(x, y)", "F.hinge_embedding_loss(x, y, margin=1.0)",
    "F.margin_ranking_loss(u, u, u, margin=0.5)",
    # --- Tensor methods torch has only as methods (or with another form) ---
    "x.where(mask, y)", "x.max(y)", "x.expand(n(2), n(3))", "o.expand((n(2), n(3)))", "x.expand_as(y)",
    "x.view(n(3), n(2))", "x.view(T.int32)", "x.view_as(m)", "x.reshape_as(m)", "x.repeat(n(2), n(1))",
    "x.size(d(1))", "x.stride(d(1))", "x.to(T.float64)", "x.to('cpu', T.float64)", "x.to(y)", "x.type(T.float64)",
    "x.type_as(j)", "x.copy_(j)", "x.fill_(0.5)", "x.bernoulli_(0.5)", "x.normal_(0.0, 1.0)", "x.uniform_(0.0, 1.0)",
    "x.new_empty((n(2), n(3)))", "x.new_full((n(2),), 0.5)", "x.new_ones(n(2), n(3))", "x.new_zeros((n(2),), dtype=T.int64)",
    "x.new_tensor([1.0, 2.0], dtype=T.float64)", "s.item()", "x.index_put((i0,), v)", "x.index_put_((i0,), v, accumulate=True)",
    "x.cumsum_(d(1))", "x.requires_grad_(True)", "x.cpu()", "xg.retain_grad()", "xg.backward(y, retain_graph=True)",
    "xg.register_hook(lambda g: g)", "xg.register_post_accumulate_grad_hook(lambda t: None)", "xg.detach_()",
    "setattr(xg, 'grad', y)", "setattr(x, 'requires_grad', True)", "setattr(x, 'data', y)",
]

# Functions the sweep does not call, each with the reason.
NOT_SWEPT = {
    ("Tensor", "cuda"): "needs a CUDA device; tests/test_cuda.py covers it where there is one",
}
