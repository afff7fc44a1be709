"""One way to pause Python's cyclic garbage collector around a stage.

The pipeline allocates millions of small containers (parsed documents, model objects, filled
tenant copies) and makes almost no cyclic garbage: reference counting frees it. With that many
objects alive, every full collection walks them all, which cost a third of render time at 10k
Ingresses. Stages therefore run with the collector paused; it is restored (only if it was on)
when the outermost stage ends, and nesting is harmless.
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
            gc.enable()
