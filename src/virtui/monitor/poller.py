"""The polling engine: which host to read when, without Textual.

Like k9s's model layer: a poll of a host never overlaps another poll of the same host
(an update already in flight is not joined by a second read), a host asked for while
its poll runs is read once more when that poll returns, and a host whose read has been
in flight too long is reported as not answering while the attempt goes on. Each host's
reads run on a daemon thread of its own, kept across polls (``background.SerialWorker``),
and each finished one goes to ``deliver`` from that thread; the owner (the app) hands it
back with ``finished`` on its own thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from virtui.background import SerialWorker
from virtui.model import HostStatus
from virtui.monitor.session import HostSession, HostUpdate

log = logging.getLogger("virtui.monitor.poller")

# libvirt's open() cannot be cancelled and, towards a host that drops packets, blocks for
# minutes; after this long the host is shown as not answering while the attempt goes on.
NO_ANSWER_AFTER_S = 15.0


class Poller:
    """Starts polls of the sessions; every method is called from one (the UI) thread."""

    def __init__(
        self,
        sessions: Callable[[], Sequence[HostSession]],
        deliver: Callable[[HostUpdate], object],
        *,
        no_answer_after: float = NO_ANSWER_AFTER_S,
    ) -> None:
        self._sessions = sessions
        self._deliver = deliver
        self.no_answer_after = no_answer_after
        self._since: dict[str, float] = {}  # host -> when its poll in flight started
        self._workers: dict[str, SerialWorker] = {}  # host -> the thread its polls run on
        self._again: set[str] = set()

    def in_flight(self, name: str) -> bool:
        """True while a poll of the host runs."""
        return name in self._since

    def busy(self) -> bool:
        """True while a poll of any host runs."""
        return bool(self._since)

    def poll_due(self) -> None:
        """Start a poll of every host that has none in flight and is due (the timer)."""
        for session in self._sessions():
            if session.due():
                self.start(session)

    def poll_host(self, name: str) -> None:
        """Poll one host now (after an event or an action); once more if one is running."""
        for session in self._sessions():
            if session.name == name:
                if self.in_flight(name):
                    self._again.add(name)
                else:
                    self.start(session)

    def start(self, session: HostSession) -> None:
        """Read one host on its thread, unless a read of it is in flight."""
        if self.in_flight(session.name):
            return
        self._since[session.name] = time.monotonic()
        worker = self._workers.get(session.name)
        if worker is None:
            worker = self._workers[session.name] = SerialWorker(f"poll:{session.name}")
        worker.submit(lambda: self._read(session))

    def _read(self, session: HostSession) -> None:
        try:
            update = session.poll_once()
        except Exception as error:  # a bug: show it on the host rather than lose the host
            log.exception("polling %s", session.name)
            update = HostUpdate(
                session.name, session.backend.uri, HostStatus.FAILED, message=f"bug: {error}"
            )
        self._deliver(update)

    def finished(self, update: HostUpdate) -> None:
        """A delivered update reached the owner: the host may be polled again (and is,
        when it was asked for meanwhile)."""
        self._since.pop(update.name, None)
        if update.name in self._again:
            self._again.discard(update.name)
            self.poll_host(update.name)

    def forget(self, name: str) -> None:
        """A host was removed: nothing of it is kept."""
        self._since.pop(name, None)
        self._again.discard(name)
        self._workers.pop(name, None)  # its thread ends once idle

    def silent(self, already: Callable[[str], bool]) -> list[HostUpdate]:
        """ "No answer" updates for the hosts whose poll has been in flight too long
        (``already(name)``: the host is shown as not answering already)."""
        now = time.monotonic()
        found = []
        for session in self._sessions():
            since = self._since.get(session.name)
            if since is None or now - since < self.no_answer_after or already(session.name):
                continue
            found.append(
                HostUpdate(
                    session.name,
                    session.backend.uri,
                    HostStatus.NO_ANSWER,
                    message=f"no answer for {now - since:.0f}s (still trying)",
                )
            )
        return found
