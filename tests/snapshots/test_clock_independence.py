"""Every snapshot is the same on any day: the snapshot tests, run again with the clock
a month ahead (libfaketime moves it for Python and libvirt alike), still match."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.requirements import require

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("offset", ["+31d", "-400d"])
def test_the_snapshots_match_on_another_day(offset: str, tmp_path: Path) -> None:
    faketime = shutil.which("faketime")
    require("" if faketime else "faketime is not installed (Debian: faketime)", "move the clock")
    assert faketime is not None
    here = Path(__file__).parent
    done = subprocess.run(
        [
            faketime,
            "-f",
            offset,
            sys.executable,
            "-m",
            "pytest",
            str(here),
            "-m",
            "not slow",  # not this test again
            "-p",
            "no:cacheprovider",
            "-q",
            f"--basetemp={tmp_path / 'inner'}",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        # The calendar moves, the monotonic clock does not: Python computes a timed
        # wait's deadline on it, libfaketime would move that deadline by the offset but
        # not the kernel's clock, and every wait on a timeout would last 31 days.
        env={**os.environ, "FAKETIME_DONT_FAKE_MONOTONIC": "1"},
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and " failed" not in done.stdout
