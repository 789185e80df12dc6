# Cases: single ops on scalars, the seed graphs, matmul, reductions over a dim, a strided op.
"""Overhead-bound cases (scalars: the per-op and per-graph cost of the engine) and the
tensor cases of the Tensors issue. Registration order is table order."""
from harness import case

# op name -> the timed statement (the case is named after it).
SCALAR_OPS = {"add": "add(x, x)", "mul": "mul(x, x)", "sin": "sin(x)", "sigmoid": "sigmoid(x)"}


def _scalar_op_setup(op_name):
    def setup(lib):
        # x is created once; only the op (and freeing its result) is timed.
        ns = {op_name: getattr(lib, op_name), "x": lib.tensor(3.0, requires_grad=True)}
        return SCALAR_OPS[op_name], ns

    return setup


for _op, _stmt in SCALAR_OPS.items():
    case(f"op: {_stmt}, x requires grad", size="scalar", target=0.7)(_scalar_op_setup(_op))


@case("seed: z = sin(x**2) fwd+bwd", size="scalar", target=0.1)
def seed_sin(lib):
    tensor, sin = lib.tensor, lib.sin

    def run():
        x = tensor(3.0, requires_grad=True)
        z = sin(x**2)
        z.backward()
        return x.grad

    return run


@case("seed: placement neuron fwd+bwd", size="scalar", target=0.1)
def seed_neuron(lib):
    tensor, sigmoid, clamp, log = lib.tensor, lib.sigmoid, lib.clamp, lib.log

    def run():
        x = tensor(6.7)
        y = tensor(0.0)
        w = tensor(1.0, requires_grad=True)
        b = tensor(0.0, requires_grad=True)
        z = w * x + b
        y_pred = sigmoid(z)
        p = clamp(y_pred, 1e-8, 1 - 1e-8)
        loss = -(y * log(p) + (1 - y) * log(1 - p))
        loss.backward()
        return w.grad, b.grad

    return run


# Tensors issue: matmul forward+backward, reductions over a dim, a strided elementwise op.
def _matmul_fwd_bwd(n):
    def setup(lib):
        lib.manual_seed(0)
        a = lib.randn(n, n, requires_grad=True)
        b = lib.randn(n, n, requires_grad=True)
        g = lib.ones(n, n)

        def run():
            a.grad = None
            b.grad = None
            (a @ b).backward(g)

        return run

    return setup


for _n in (64, 256, 1024):
    case("matmul fwd+bwd float32", size=f"{_n}x{_n}", target=1.1)(_matmul_fwd_bwd(_n))


def _reduce_dim(op, dim):
    def setup(lib):
        lib.manual_seed(0)
        x = lib.rand(4096, 4096)
        return f"x.{op}({dim})", {"x": x}

    return setup


for _op, _dim in (("sum", 0), ("sum", 1), ("mean", 0), ("mean", 1)):
    # Traffic: read the matrix once, write one row/column of results.
    case(f"{_op}(dim={_dim}) float32", size="4096x4096", target=1.0,
         bytes=4 * (4096 * 4096 + 4096))(_reduce_dim(_op, _dim))


@case("strided elementwise: xt * yt (transposed)", size="4096x4096", target=1.5,
      bytes=4 * 3 * 4096 * 4096)  # read both, write the product
def strided_mul(lib):
    lib.manual_seed(0)
    xt = lib.rand(4096, 4096).t()
    yt = lib.rand(4096, 4096).t()
    return "xt * yt", {"xt": xt, "yt": yt}
