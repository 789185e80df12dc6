# After a full garbage collection that freed objects, hand free memory back to the system.
"""Cycles through hooks and Function contexts are freed by the garbage collector, often in bulk
(a whole loop's worth at once). The tensors' memory then sits in the allocator's cache and in
the C heap's free lists, which keep it for reuse: the process would look as large as before the
collection. A full collection (gc.collect(), or the collector's own rare generation-2 pass) is
where a program says it wants memory back, so that is when the caches are released."""
import gc

from tapegrad import _C


def _release_after_full_collection(phase, info):
    if phase == "stop" and info["generation"] == 2 and info["collected"]:
        _C._release_free_memory()


gc.callbacks.append(_release_after_full_collection)
