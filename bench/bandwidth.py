# The machine's copy bandwidth: the yardstick for every case that declares the bytes it moves.
"""Measures a plain copy of 2^24 float32 (64 MiB) into a preallocated destination with
numpy's np.copyto, once per run. Bytes moved per copy = read + write = 128 MiB; the
bandwidth is those bytes over the median time (GB = 1e9 bytes)."""
import gc
import statistics
import time

import numpy as np

COPY_ELEMENTS = 2**24
COPY_REPEATS = 21


def measure_copy_bandwidth(n=COPY_ELEMENTS, repeats=COPY_REPEATS):
    """Median np.copyto time of n float32 and the bandwidth it implies, as a dict."""
    # Both buffers are written before timing: untouched pages would be page faults (dst) or
    # the shared zero page (src), neither of which is memory bandwidth.
    src = np.full(n, 1.5, dtype=np.float32)
    dst = np.full(n, 0.5, dtype=np.float32)
    for _ in range(3):
        np.copyto(dst, src)
    clock = time.perf_counter_ns
    samples = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            t0 = clock()
            np.copyto(dst, src)
            samples.append((clock() - t0) / 1e9)
    finally:
        if gc_was_enabled:
            gc.enable()
    seconds = statistics.median(samples)
    moved = 2 * n * src.itemsize
    return dict(method="np.copyto, float32, preallocated destination", elements=n,
                bytes=moved, median_s=seconds, min_s=min(samples), repeats=repeats,
                gbps=moved / seconds / 1e9)
