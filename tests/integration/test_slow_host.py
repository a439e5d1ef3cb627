"""A host that accepts the connection and never answers holds up nobody else."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.tui.helpers import column, status_text, wait_for
from virtui.config.settings import Settings
from virtui.model import HostStatus
from virtui.tui.app import VirtuiApp


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A real TCP listener on loopback that accepts connections and says nothing."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
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
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()  # the hung open() gets EOF and its worker ends
    server.close()


async def test_silent_host_shows_connecting_while_the_others_update(
    fleet_uri: str, silent_port: int
) -> None:
    silent = f"qemu+tcp://127.0.0.1:{silent_port}/system"
    app = VirtuiApp(Settings(uris=[fleet_uri, silent], delay=0.5))
    app.poller.no_answer_after = 1.5  # 15 s in real use
    async with app.run_test(size=(160, 30)):
        await wait_for(lambda: len(column(app, "name")) == 5, timeout=5)
        assert "hosts 1/2" in status_text(app)
        assert "127.0.0.1: connecting" in status_text(app)
        await wait_for(lambda: "100.0" in column(app, "cpu"), timeout=5)  # still polling
        # The open() cannot be cancelled; the user is told the host does not answer.
        await wait_for(lambda: "127.0.0.1: no answer" in status_text(app), timeout=5)
        assert app.store.hosts["127.0.0.1"].status is HostStatus.NO_ANSWER
        leaving = time.monotonic()
    # Quitting does not wait for the call stuck on the silent host.
    assert time.monotonic() - leaving < 3
