"""Blocking calls that may hang (a dead or silent host) run on daemon threads.

Textual's thread workers use asyncio's default executor: it is joined when the app
exits, so one libvirt open() stuck on a silent host would keep `q` from quitting, and it
has only min(32, CPUs + 4) threads, so a few stuck hosts would starve everything else.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("virtui.background")


def run_detached(name: str, work: Callable[[], None]) -> None:
    """Run ``work`` on its own daemon thread; an exception escaping it is logged.

    ``work`` reports its outcome itself (by posting a message), failures included.
    """

    def guarded() -> None:
        try:
            work()
        except Exception:  # a bug, not a host failure: those are reported by work()
            log.exception("background call %s failed", name)

    threading.Thread(target=guarded, name=name, daemon=True).start()
