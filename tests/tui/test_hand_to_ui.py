"""A worker's progress reaches the UI without the worker waiting for it."""

from __future__ import annotations

import threading

from textual.app import App

from virtui.ui.calls import hand_to_ui


async def test_a_worker_reporting_progress_never_waits_for_a_busy_ui_thread() -> None:
    """The UI thread is busy (as when the console leaves and waits for this very worker
    to take back what it made): the worker's report must not hold it, or it never sees
    the cancel (a fresh-clone run left a 4 GiB upload's volume behind)."""
    app: App[None] = App()
    async with app.run_test() as pilot:
        shown: list[str] = []
        returned = threading.Event()

        def worker() -> None:
            hand_to_ui(app, shown.append, "50%")
            returned.set()

        threading.Thread(target=worker, daemon=True).start()
        # This blocks the UI thread: the worker must be done meanwhile.
        assert returned.wait(10), "the worker waited for the UI thread"
        assert shown == []  # the UI thread was busy: it is shown next
        await pilot.pause()
        assert shown == ["50%"]


async def test_a_report_after_the_app_closed_is_dropped() -> None:
    app: App[None] = App()
    async with app.run_test():
        pass
    shown: list[str] = []
    thread = threading.Thread(target=hand_to_ui, args=(app, shown.append, "late"))
    thread.start()
    thread.join(10)
    assert not thread.is_alive() and shown == []
