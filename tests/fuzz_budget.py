"""How many examples a fuzz test runs: its share of the hypothesis profile loaded by tests/conftest.py."""

from __future__ import annotations

import os

from hypothesis import settings


def fuzz_examples(variable: str, share: int) -> int:
    """`share` times the profile's max_examples (suite 100, deep 1000), unless the environment variable
    `variable` gives the count (as it did before the profiles: a one-off long or short run)."""
    return int(os.environ.get(variable) or share * settings.default.max_examples)
