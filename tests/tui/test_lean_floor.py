"""The lean floor (benchmarks/textual_leanfloor.py) is held to virtui's visible work.

bench_console divides virtui's CPU by the lean floor's and says "out of this stack's
reach" where the floor costs more than virt-top: that holds only if the floor shows what
virtui shows. On the same test node it must show the same domains with the same texts,
sorted as virtui sorts them (by the %CPU shown, ties by name, no figure last).
"""

from __future__ import annotations

import asyncio
from itertools import accumulate
from pathlib import Path

from benchmarks.bench_poll import build_node
from benchmarks.floor_parts import STATS
from benchmarks.textual_leanfloor import WIDTHS, LeanFloorApp, Lines

from tests.tui.helpers import column, wait_for
from virtui.backends.libvirt.backend import BULK_STATS
from virtui.config.settings import Settings
from virtui.tui.app import VirtuiApp

# The floor's columns and virtui's keys for the texts compared (HOST is the host's name
# in virtui and libvirt's hostname in the floor: the same width, another text).
KEYS = (
    *("host", "name", "state", "vcpus", "cpu", "mem", "memp", "time"),
    *("rd", "wr", "rx", "tx", "auto"),
)
SAME = ("state", "vcpus", "mem", "memp", "rd", "wr", "rx", "tx", "auto")


def _cells(line: str) -> dict[str, str]:
    """One of the floor's lines cut into its columns."""
    ends = list(accumulate(abs(width) + 1 for width in WIDTHS))
    starts = [0, *ends[:-1]]
    return {
        key: line[start:end].strip() for key, start, end in zip(KEYS, starts, ends, strict=True)
    }


def _figure(text: str) -> float:
    return -1.0 if text == "-" else float(text)


async def test_lean_floor_shows_the_rows_and_texts_virtui_shows(tmp_path: Path) -> None:
    uri = build_node(tmp_path, 40)  # 36 running, 2 paused, 2 shut off
    virtui = VirtuiApp(Settings(uris=[uri], delay=2.0), auto_poll=False)
    async with virtui.run_test(size=(160, 60)):
        await virtui.poll_now()
        await asyncio.sleep(0.3)  # two samples a real interval apart, as users see them
        await virtui.poll_now()
        names = column(virtui, "name")
        expected = {
            name: {key: column(virtui, key)[row] for key in (*SAME, "cpu")}
            for row, name in enumerate(names)
        }

    floor = LeanFloorApp(uri)
    async with floor.run_test(size=(120, 60)):
        table = floor.query_one("#table", Lines)
        # Figures from the second poll on (the floor polls once a second).
        await wait_for(lambda: any("100.0" in line for line in table.lines))
        rows = [_cells(line) for line in table.lines]

    assert sorted(row["name"] for row in rows) == sorted(names)
    for row in rows:
        want = expected[row["name"]]
        assert {key: row[key] for key in SAME} == {key: want[key] for key in SAME}
        if want["cpu"] == "-":  # paused or shut off: no figure in either
            assert row["cpu"] == "-"
        else:  # the test driver's running guests: one CPU's worth each
            assert 95 <= float(row["cpu"]) <= 105
    shown = [(-_figure(row["cpu"]), row["name"]) for row in rows]
    assert shown == sorted(shown)


def test_the_floors_ask_the_bulk_call_for_what_virtui_asks() -> None:
    # Written out in floor_parts (importing virtui's backend would count it in the
    # floors' memory): a stat group added to one and not the other would compare a
    # cheaper call with a dearer one.
    assert STATS == BULK_STATS
