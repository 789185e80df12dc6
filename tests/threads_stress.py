# Threaded autograd stress program: shared leaves, .grad resets, hooks, shared graphs, gc; run as a subprocess.
"""python tests/threads_stress.py SECONDS

Runs, for SECONDS, threads that all hit the same autograd state at once:
  - backward passes into a shared leaf `w` while another thread sets `w.grad = None` and reads it;
  - hooks registered and removed on `w` while those passes run them;
  - create_graph passes and retain_grad on a non-leaf over the same leaves;
  - several threads backpropagating through one shared graph, some of them freeing it
    (the others must then get torch's "backward through the graph a second time" error);
  - a custom autograd.Function, per-thread grad mode, and gc.collect() in a loop.
Then a second phase checks that concurrent accumulation loses no update.

Prints one JSON line: counts per worker, and the errors seen (the expected kind counted apart).
Exits 1 if an invariant broke; a crash shows as a negative return code.
"""
import gc
import json
import sys
import threading
import time

import numpy as np
import tapegrad as tg

SECOND_BACKWARD = "Trying to backward through the graph a second time"


class Square(tg.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return 2 * a * g


def run(seconds):
    deadline = time.monotonic() + seconds
    counts = {}
    unexpected = []
    lock = threading.Lock()

    # float64: a whole number of passes stays recognisable after thousands of additions.
    w = tg.linspace(-1.0, 1.0, 1000, dtype=tg.float64).requires_grad_()
    k = tg.linspace(0.0, 0.01, 1000, dtype=tg.float64)
    w2 = tg.linspace(-1.0, 1.0, 1000).requires_grad_()  # shared by the create_graph and retain_grad workers
    base = ((w * k).exp() * k).detach().numpy()  # the gradient one pass adds into w.grad
    hook_calls = [0]
    shared = {"graph": None}

    def worker(name, body):
        def loop():
            n = 0
            try:
                while time.monotonic() < deadline:
                    body()
                    n += 1
            except Exception as e:  # noqa: BLE001 - every failure is reported in the summary
                with lock:
                    unexpected.append(f"{name}: {type(e).__name__}: {e}")
            with lock:
                counts[name] = counts.get(name, 0) + n

        return threading.Thread(target=loop, name=name)

    def backward_into_w():
        (w * k).exp().sum().backward()

    def reset_and_read_w():
        g = w.grad
        if g is not None:
            # Each element is a whole number of passes' worth (a read may land mid-accumulation,
            # so elements may differ by one pass, as in torch: never a torn or foreign value).
            ratio = g.numpy()[1:] / base[1:]
            if not (np.all(ratio > 0.5) and np.all(np.abs(ratio - np.round(ratio)) < 1e-6)):
                raise AssertionError(f"w.grad is not a whole number of passes: {ratio[:4]}")
            with lock:
                counts["grad_checked"] = counts.get("grad_checked", 0) + 1
        w.grad = None
        time.sleep(0)  # let passes accumulate between resets

    def hook_churn():
        h = w.register_hook(lambda g: hook_calls.__setitem__(0, hook_calls[0] + 1))
        p = w.register_post_accumulate_grad_hook(lambda t: None)
        time.sleep(0)
        h.remove()
        p.remove()

    def create_graph_pass():
        v = tg.tensor([0.5, 1.5], dtype=tg.float64, requires_grad=True)
        (g,) = tg.autograd.grad((v**3).sum(), v, create_graph=True)
        (h,) = tg.autograd.grad(g.sum(), v)
        if h.tolist() != [3.0, 9.0]:
            raise AssertionError(f"second derivative {h.tolist()}")
        (w2 * 2).sum().backward(create_graph=True)  # into a shared leaf, recording the sum

    def retain_grad_pass():
        y = w2 * 3
        y.retain_grad()
        y.register_hook(lambda g: g * 1)
        y.sum().backward()
        if y.grad.numpy()[0] != 1.0:
            raise AssertionError("retained grad")

    def shared_graph_builder():
        s = tg.ones(100, requires_grad=True)
        shared["graph"] = (s * 2).sin().sum()
        time.sleep(0.001)

    def shared_graph_user(free):
        def body():
            y = shared["graph"]
            if y is None:
                return
            try:
                y.backward(retain_graph=not free)
            except RuntimeError as e:
                if SECOND_BACKWARD not in str(e):
                    raise
                with lock:
                    counts["expected_errors"] = counts.get("expected_errors", 0) + 1

        return body

    def function_and_grad_mode():
        a = tg.tensor([1.0, 2.0], requires_grad=True)
        Square.apply(a).sum().backward()
        if a.grad.tolist() != [2.0, 4.0]:
            raise AssertionError("custom Function gradient")
        with tg.no_grad():
            if tg.is_grad_enabled() or (a * 2).requires_grad:
                raise AssertionError("grad mode leaked into this thread")
        if not tg.is_grad_enabled():
            raise AssertionError("grad mode not restored")

    def collect():
        gc.collect()
        time.sleep(0.005)

    threads = [
        worker("backward_w_1", backward_into_w),
        worker("backward_w_2", backward_into_w),
        worker("reset_w", reset_and_read_w),
        worker("hooks_w", hook_churn),
        worker("create_graph", create_graph_pass),
        worker("retain_grad", retain_grad_pass),
        worker("graph_builder", shared_graph_builder),
        worker("graph_keep_1", shared_graph_user(free=False)),
        worker("graph_keep_2", shared_graph_user(free=False)),
        worker("graph_free", shared_graph_user(free=True)),
        worker("function", function_and_grad_mode),
        worker("gc", collect),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Phase 2: no update lost. Integer-valued float64 gradients add up exactly in any order.
    u = tg.zeros(64, dtype=tg.float64, requires_grad=True)
    m = tg.arange(64, dtype=tg.float64)
    passes, n_threads = 200, 4

    def accumulate():
        for _ in range(passes):
            (u * m).sum().backward()

    acc = [threading.Thread(target=accumulate) for _ in range(n_threads)]
    for t in acc:
        t.start()
    for t in acc:
        t.join()
    lost = u.grad.tolist() != (m * passes * n_threads).tolist()
    if lost:
        unexpected.append(f"accumulation lost updates: {u.grad.tolist()[:4]}")
    counts["hook_calls"] = hook_calls[0]
    print(json.dumps({"counts": counts, "unexpected": unexpected}))
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(run(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0))
