"""A host that accepts the connection and never answers holds up nobody else."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from tests.tui.helpers import column, status_text, wait_for
from virtui.config.settings import Settings
from virtui.model import HostStatus
from virtui.tui.app import VirtuiApp


class SilentServer:
    """A real TCP listener on loopback that accepts connections and says nothing."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.accepted: list[socket.socket] = []

    def held_open(self) -> bool:
        """Whether a client connected and has not closed its end since."""
        for conn in self.accepted:
            conn.setblocking(False)
            try:
                if conn.recv(1, socket.MSG_PEEK) == b"":
                    return False  # the client's end is closed
            except BlockingIOError:
                pass  # nothing sent, still open
        return bool(self.accepted)


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    """A silent server; the connections it accepted are closed at teardown."""
    silent = SilentServer()
    server, accepted = silent.listener, silent.accepted
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield silent
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()  # the hung open() gets EOF and its worker ends
    server.close()


async def test_silent_host_shows_connecting_while_the_others_update(
    fleet_uri: str, silent: SilentServer
) -> None:
    uri = f"qemu+tcp://127.0.0.1:{silent.port}/system"
    app = VirtuiApp(Settings(uris=[fleet_uri, uri], delay=0.5))
    app.poller.no_answer_after = 1.5  # 15 s in real use
    async with app.run_test(size=(160, 30)):
        await wait_for(lambda: len(column(app, "name")) == 5, timeout=5)
        assert "hosts 1/2" in status_text(app)
        assert "127.0.0.1: connecting" in status_text(app)
        await wait_for(lambda: "100.0" in column(app, "cpu"), timeout=5)  # still polling
        # The open() cannot be cancelled; the user is told the host does not answer.
        await wait_for(lambda: "127.0.0.1: no answer" in status_text(app), timeout=5)
        assert app.store.hosts["127.0.0.1"].status is HostStatus.NO_ANSWER
    # Quitting did not wait for the call stuck on the silent host: that open() still
    # holds its connection (it ends only when the server closes it, at teardown).
    assert silent.held_open()
