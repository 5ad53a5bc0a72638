"""Helpers shared by the test suite."""
from __future__ import annotations

import os

import pytest


def require_or_skip(kind: str, reason: str) -> None:
    """Skip with ``reason``, or fail when CI made this part mandatory (JOURNEY_REQUIRE_<KIND>=1)."""
    if os.environ.get(f"JOURNEY_REQUIRE_{kind.upper()}") == "1":
        pytest.fail(f"{kind} is mandatory here (JOURNEY_REQUIRE_{kind.upper()}=1): {reason}")
    pytest.skip(reason)
