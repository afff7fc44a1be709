"""One way to pause Python's cyclic garbage collector around a stage.

The pipeline allocates millions of small containers (parsed documents, model objects, filled
tenant copies) and makes almost no cyclic garbage: reference counting frees it. With that many
objects alive, every full collection walks them all, which cost a third of render time at 10k
Ingresses. Stages therefore run with the collector paused; it is restored (only if it was on)
when the outermost stage ends, and nesting is harmless.

Restoring it must not cost what pausing saved: the allocation counter keeps counting while the
collector is off, so the first allocation after `gc.enable()` would start a young collection that
walks every object allocated during the pause and still alive (both sides of a 10k diff: 0.26 s,
at the end of the command). `gc.freeze()` first moves every tracked object out of the young
generations (and zeroes the counter), and `gc.unfreeze()` right after puts them all in the oldest
generation: nothing is lost to the collector, and only a later full collection, which CPython
runs when enough new long-lived objects justify it, looks at them again.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic GC for the `with` block; re-enable it afterwards if it was enabled."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()
            gc.unfreeze()
