"""`g` on guests of two hosts whose VNC displays are both :5900 (each host's own
loopback, in its own network namespace): each console gets its own local port, the
tunnel the screen shows reaches that guest's own display (its RFB desktop name), and
the close command the screen gives closes it."""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.daemons import daemons_available
from tests.integration.migration_hosts import MigrationHost, make_guest, pair, with_pools
from tests.integration.sshd import PrivateSshd, keypair
from tests.requirements import require
from tests.tui.helpers import RecordingApp, text_screen_shown, wait_for
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.screens.text_view import TextScreen

# One bridge and fixed 10.88.0.x addresses in the machine's own namespace: one worker.
pytestmark = [pytest.mark.xdist_group("host-network"), pytest.mark.slow]


@pytest.fixture(scope="module")
def hosts(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[tuple[MigrationHost, PrivateSshd]]]:
    require(daemons_available(), "start libvirtd")
    base = tmp_path_factory.mktemp("handoff")
    client_key = keypair(base / "id_ed25519")
    started: list[tuple[MigrationHost, PrivateSshd]] = []
    try:
        for host in pair():
            host.start()
            with_pools(host)
            sshd = PrivateSshd(base / host.hostname, host.address, client_key, prefix=host.enter())
            started.append((host, sshd))
            sshd.start()
        yield started
    finally:
        for host, sshd in started:
            sshd.stop()
            host.remove()


def _desktop_name(port: int, timeout: float = 30.0) -> str:
    """The RFB desktop name of the VNC server reached at the loopback ``port`` (no
    authentication: the test guests have no password)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), 5) as rfb:
                rfb.settimeout(10)
                stream = rfb.makefile("rwb")
                version = stream.read(12)
                if not version.startswith(b"RFB "):
                    raise ConnectionError(f"not RFB: {version!r}")
                stream.write(b"RFB 003.008\n")
                stream.flush()
                (count,) = stream.read(1)
                assert 1 in stream.read(count), "the display asks for a password"
                stream.write(b"\x01")
                stream.flush()
                assert struct.unpack(">I", stream.read(4)) == (0,)
                stream.write(b"\x01")  # ClientInit: shared
                stream.flush()
                init = stream.read(24)
                (length,) = struct.unpack(">I", init[20:24])
                return stream.read(length).decode()
        except (OSError, ConnectionError, ValueError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextlib.contextmanager
def _workstation(known_hosts: str, key: Path) -> Iterator[list[str]]:
    """A shell's words for commands run as this machine's root would run them, with a
    ~/.ssh of its own (its key and known hosts; the SSH master connections the tunnels
    share live there) so that the real one is never touched; one mount namespace for
    every command, held by a process that waits."""
    home = pwd.getpwuid(0).pw_dir
    setup = (
        f"mount -t tmpfs -o mode=0700 tmpfs {home}/.ssh 2>/dev/null || "
        f"mount -t tmpfs -o mode=0700 tmpfs {home}; mkdir -p -m 0700 {home}/.ssh; "
        f"cp {key} {home}/.ssh/id_ed25519; printf '%s' '{known_hosts}' > {home}/.ssh/known_hosts; "
        "echo ready; exec sleep infinity"
    )
    holder = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", setup],
        stdout=subprocess.PIPE,
        text=True,
    )
    namespace = ""
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        held = os.readlink(f"/proc/{holder.pid}/ns/mnt")  # once it is its own
        assert held != os.readlink("/proc/self/ns/mnt"), "no mount namespace of its own"
        namespace = held
        yield ["nsenter", "--target", str(holder.pid), "--mount", "sh", "-c"]
    finally:
        holder.kill()
        for entry in Path("/proc").iterdir() if namespace else ():  # any ssh master left
            with contextlib.suppress(OSError):
                if entry.name.isdigit() and os.readlink(entry / "ns" / "mnt") == namespace:
                    os.kill(int(entry.name), signal.SIGKILL)
        holder.wait(10)


async def test_two_hosts_displays_at_the_same_port_reach_each_its_own_guest(
    hosts: list[tuple[MigrationHost, PrivateSshd]],
) -> None:
    (one, one_sshd), (two, two_sshd) = hosts
    make_guest(one.uri, "alpha", vnc_port=5900)
    make_guest(two.uri, "beta", vnc_port=5900)
    uris = [one.uri, two.uri]
    app = RecordingApp(Settings(uris=uris), sessions=open_sessions(uris), auto_poll=False)
    shown: dict[str, str] = {}
    async with app.run_test(size=(180, 50)) as pilot:
        await app.poll_now()
        for name in ("alpha", "beta"):
            await pilot.press("slash", *name, "enter", "g")
            shown[name] = await text_screen_shown(app)
            await pilot.press("escape")
            await wait_for(lambda: not isinstance(app.screen, TextScreen))
    tunnels = {n: re.search(r"^ {3}(ssh -N .*)$", t, re.M) for n, t in shown.items()}
    closers = {n: re.search(r"^ {3}(ssh -O exit .*)$", t, re.M) for n, t in shown.items()}
    assert all(tunnels.values()) and all(closers.values()), shown
    ports = {
        n: int(re.findall(r"-L (\d+):127\.0\.0\.1:5900", m[1])[0]) for n, m in tunnels.items() if m
    }
    assert ports["alpha"] != ports["beta"], ports  # once both were 15900
    known = one_sshd.known_hosts_line() + two_sshd.known_hosts_line()
    key = one_sshd.dir.parent / "id_ed25519"
    with _workstation(known, key) as shell:
        running = [
            subprocess.Popen([*shell, match[1]], stderr=subprocess.PIPE, text=True)
            for match in tunnels.values()
            if match
        ]
        try:
            # Each tunnel reaches its own guest: QEMU names the desktop after it.
            assert _desktop_name(ports["alpha"]) == "QEMU (alpha)"
            assert _desktop_name(ports["beta"]) == "QEMU (beta)"
            for name, match in closers.items():
                assert match is not None
                closed = subprocess.run(
                    [*shell, match[1]], capture_output=True, text=True, timeout=30
                )
                assert closed.returncode == 0, (name, closed.stderr)
            for name in ports:
                with pytest.raises(OSError):
                    socket.create_connection(("127.0.0.1", ports[name]), 2).close()
        finally:
            for process in running:
                process.kill()
                process.wait(10)
