"""Python's cycle collector, set for a program that rebuilds its figures every second.

A poll of 1,000 domains makes some 5,000 objects that live until the next poll. With
Python's default thresholds the young generations are collected about seven times a
poll, so each poll's objects are traversed, found alive and promoted before they die:
2-3 ms of every second at 1,000 domains, for no garbage. A threshold of 50,000
allocations lets a poll's objects die of their reference counts first. What start-up
made (Textual's CSS, the screens, libvirt's module) is frozen out of later collections.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000
_settled = False


def settle_collector() -> None:
    """Call once the app has started and drawn: freeze what exists, collect rarely.
    Once per process (tests run many apps in one)."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.freeze()
    _first, second, third = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, second, third)
