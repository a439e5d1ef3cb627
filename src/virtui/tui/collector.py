"""Python's cycle collector, set for a program that rebuilds its figures every second.

A poll of 1,000 domains makes some 5,000 objects that live until the next poll. With
Python's default thresholds the young generations are collected about seven times a
poll, so each poll's objects are traversed, found alive and promoted before they die:
2-3 ms of every second at 1,000 domains, for no garbage. A threshold of 50,000
allocations lets a poll's objects die of their reference counts first. What start-up
made (Textual's CSS, the screens, libvirt's module) is frozen out of later collections.

The other side of a high threshold: a closed screen's widgets are cycles (each knows its
parent and its children), which only the collector frees, and it then ran seldom. With
a person switching screens every few seconds they piled up for ten minutes before the
first full collection (+20 MiB resident, docs/benchmarks.md). So a screen switch asks
for one full collection a moment after the last switch of a burst (``AFTER_SWITCH_S``;
``collect_closed_screens``, which the app runs at the first poll after it).

Between those, a closed screen's young objects waited for the threshold: at 5,000
domains 20,000-35,000 of them were freed at once, 30-80 ms inside whatever key came
next (the key benchmark's slowest answers). So each switch, once drawn, collects the
young generations too (``collect_young``): a few milliseconds while nobody waits.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger("virtui.tui.collector")

YOUNG_THRESHOLD = 50_000
AFTER_SWITCH_S = 2.0  # after the last screen switch of a burst: one collection for all
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


def collect_closed_screens() -> None:
    """One full collection: what the screens closed since the last one left behind."""
    started = time.perf_counter()
    found = gc.collect()
    log.debug("collected %d objects in %.0f ms", found, 1000 * (time.perf_counter() - started))


def collect_young() -> None:
    """The young generations: what a screen switch just left, freed now (after its frame
    is drawn) rather than with other garbage later, in the middle of a key's answer."""
    gc.collect(1)
