"""Make the repository's `benchmarks` package importable (it is not installed with the renderer).

It is registered in sys.modules from its folder instead of putting the repository root on
sys.path, so no other test can pick up top-level folders by accident.
"""

from __future__ import annotations

from bench_package import register

register()
