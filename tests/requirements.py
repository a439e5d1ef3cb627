"""What a test needs from the machine: skipped where it is missing, a failure in CI.

The README's test command installs every package the suite uses, so in CI (``CI`` set) a
missing tool, daemon or namespace is a broken set-up, never a reason to skip.
"""

from __future__ import annotations

import os

import pytest


def require(why: str, what: str) -> None:
    """Skip the test when ``why`` (what is missing) is not empty; fail instead in CI.

    ``what``: what CI must be able to do, for the failure's message."""
    if not why:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must be able to {what}: {why}")
    pytest.skip(why)
