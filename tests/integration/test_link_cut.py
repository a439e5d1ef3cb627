"""A host behind a real network link that gets cut: lost within the keepalive window.

The host is a libvirtd listening on TCP inside a network namespace of the test's own,
reached over a veth pair on a private /24 that exists only on this machine.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.integration.daemons import PRIVATE_STATE, Daemon, accepts, daemons_available
from tests.requirements import require
from tests.tui.helpers import host_status, keep_updating, wait_for
from virtui.backends.libvirt.backend import keepalive_window
from virtui.config.settings import Settings
from virtui.model import HostStatus
from virtui.tui.app import VirtuiApp

# Fixed 10.231.7.x addresses in the machine's own namespace: one worker.
pytestmark = pytest.mark.xdist_group("host-network")

NETNS = f"vt-{os.getpid()}"
HOST_SIDE, GUEST_SIDE = f"vth{os.getpid() % 100000}", "vtg0"
HOST_ADDR, DAEMON_ADDR = "10.231.7.1", "10.231.7.2"

TCP_CONFIG = """\
unix_sock_dir = "{dir}"
auth_unix_rw = "none"
auth_unix_ro = "none"
listen_tls = 0
listen_tcp = 1
listen_addr = "{addr}"
auth_tcp = "none"
log_outputs = "3:file:{dir}/libvirtd.log"
"""


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def _network() -> str:
    """Create the namespace and link; returns why it could not be done, or ""."""
    try:
        _ip("netns", "add", NETNS)
        _ip("link", "add", HOST_SIDE, "type", "veth", "peer", "name", GUEST_SIDE)
        _ip("link", "set", GUEST_SIDE, "netns", NETNS)
        _ip("addr", "add", f"{HOST_ADDR}/24", "dev", HOST_SIDE)
        _ip("link", "set", HOST_SIDE, "up")
        _ip("-n", NETNS, "addr", "add", f"{DAEMON_ADDR}/24", "dev", GUEST_SIDE)
        _ip("-n", NETNS, "link", "set", GUEST_SIDE, "up")
        _ip("-n", NETNS, "link", "set", "lo", "up")
    except (OSError, subprocess.CalledProcessError) as error:
        stderr = getattr(error, "stderr", b"") or b""
        return f"cannot create a network namespace here: {stderr.decode().strip() or error}"
    return ""


@pytest.fixture
def linked_daemon() -> Iterator[Daemon]:
    require(daemons_available() or _network(), "cut a link between network namespaces")
    daemon = Daemon()
    (daemon.dir / "libvirtd.conf").write_text(TCP_CONFIG.format(dir=daemon.dir, addr=DAEMON_ADDR))
    command = PRIVATE_STATE + (
        f"exec libvirtd --listen --config {daemon.dir}/libvirtd.conf --pid-file {daemon.dir}/pid"
    )
    daemon.process = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            NETNS,
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            command,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while not accepts(daemon.socket):  # listening, not only bound
            assert daemon.process.poll() is None, "libvirtd in the namespace exited"
            assert time.monotonic() < deadline, "libvirtd in the namespace did not start"
            time.sleep(0.05)
        yield daemon
    finally:
        daemon.remove()
        subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)
        subprocess.run(["ip", "link", "del", HOST_SIDE], capture_output=True)


async def test_cut_link_shows_lost_within_keepalive_and_reconnects(
    linked_daemon: Daemon, fleet_uri: str
) -> None:
    remote = f"test+tcp://{DAEMON_ADDR}/default"
    app = VirtuiApp(Settings(uris=[remote, fleet_uri], delay=0.5))
    async with app.run_test(size=(120, 30)):
        await wait_for(lambda: host_status(app, DAEMON_ADDR) is HostStatus.CONNECTED, timeout=20)
        await wait_for(lambda: host_status(app, "test") is HostStatus.CONNECTED, timeout=5)
        _ip("link", "set", HOST_SIDE, "down")  # the cable is pulled: nothing answers
        cut = time.monotonic()
        await keep_updating(app, ["test"], timeout=3)
        down = (HostStatus.LOST, HostStatus.RECONNECTING)
        await wait_for(lambda: host_status(app, DAEMON_ADDR) in down, timeout=45)
        window = keepalive_window()
        # Found by keepalive, not by TCP giving up (about 15 minutes of retransmissions):
        # the margin is for polls and a loaded machine (25.07 s against 25 once, in a full run).
        assert time.monotonic() - cut <= window + 15
        _ip("link", "set", HOST_SIDE, "up")
        await wait_for(lambda: host_status(app, DAEMON_ADDR) is HostStatus.CONNECTED, timeout=45)
