# The statement families and the dispatcher that strings them into a program.
from ..gen import BAD_RATE
from . import create, grad, modules, nn, pointwise, reduce, select, views

# (weight, family). Weights favour what composes: creation early, views and math throughout.
FAMILIES = [
    (5, create.literal), (4, create.factory), (3, create.convert),
    (9, views.view), (4, views.index_read), (4, views.index_write),
    (8, pointwise.unary), (10, pointwise.binary), (3, pointwise.ternary), (2, pointwise.clamp),
    (6, reduce.reduce), (2, reduce.along), (1, reduce.compare_all),
    (3, select.join), (3, select.reorder), (2, select.sort), (3, select.gather_scatter),
    (3, nn.matmul), (3, nn.activation), (2, nn.norm_layers), (3, nn.loss),
    (4, grad.backward), (3, grad.grad_misc), (3, grad.queries),
    (2, modules.module), (1, modules.optim), (1, modules.functional), (0.2, modules.global_state),
]
# A statement is sometimes run under a grad-mode context manager.
WRAPS = [(0.05, "with T.no_grad(): "), (0.01, "with T.enable_grad(): "),
         (0.015, "with T.set_grad_enabled(False): "), (0.01, "with T.inference_mode(): ")]


def generate(g):
    for _ in range(g.rng.randint(1, 3)):
        (create.literal if g.chance(0.6) else create.factory)(g, False)
    weights = [w for w, _ in FAMILIES]
    fns = [f for _, f in FAMILIES]
    attempts = 0
    while len(g.stmts) < g.length and attempts < g.length * 20:
        attempts += 1
        if not g.refs():
            create.literal(g, False)
            continue
        fn = g.rng.choices(fns, weights)[0]
        bad = g.chance(BAD_RATE)
        g.wrap = ""
        x = g.rng.random()
        for p, w in WRAPS:
            if x < p:
                g.wrap = w
                break
            x -= p
        try:
            fn(g, bad)
        finally:
            g.wrap = ""
    if g.chance(0.5):
        grad.backward(g, False)
