"""A host's polls run on one thread kept across polls, in order, registered by name
while they run; the thread ends when idle and a new one takes the next call."""

from __future__ import annotations

import functools
import threading

from virtui import background
from virtui.background import SerialWorker


def test_calls_run_in_order_on_one_thread_and_a_new_one_after_idle() -> None:
    worker = SerialWorker("poll:unit")
    worker.IDLE_S = 0.05
    ran: list[tuple[int, int]] = []
    done = threading.Event()
    release = threading.Event()

    def call(number: int) -> None:
        if number == 0:
            release.wait(10)  # the others queue behind it
        ran.append((number, threading.get_ident()))
        if number == 2:
            done.set()

    for number in range(3):
        worker.submit(functools.partial(call, number))
    assert background.running("poll:unit") == 3
    release.set()
    assert done.wait(10)
    assert [n for n, _ in ran] == [0, 1, 2]
    assert len({thread for _, thread in ran}) == 1
    assert background.idle("poll:unit", timeout=10)
    first = worker._thread
    assert first is not None
    first.join(10)  # idle: it ends
    assert worker._thread is None
    again = threading.Event()
    worker.submit(again.set)
    assert again.wait(10)
