"""Virtual networks on a real libvirtd with dnsmasq, in its own network namespace.

What is real here, and which is which:
- the NAT network: a bridge, iptables rules and a dnsmasq process, all made by libvirt's
  network driver inside the daemon's namespace;
- the DHCP lease: a TCG guest boots from the network (iPXE in its e1000's option ROM),
  asks dnsmasq for an address and gets one; dnsmasq records it and libvirt reports it
  through ``networkGetDHCPLeases``;
- the fixed DHCP host: merged from the review desk, sent live with ``networkUpdate``;
  libvirt writes it into dnsmasq's hostsfile, which the test reads in the namespace.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest
from textual.widgets import Input

from tests.fixtures.nodes import NETWORKS, SMALL_FLEET, write_node
from tests.integration.daemons import Daemon, OneHost, daemons_available
from tests.requirements import require
from tests.tui.helpers import RecordingApp, wait_for
from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.config.settings import Settings
from virtui.model.network import NetworkInfo
from virtui.monitor.sessions import open_sessions
from virtui.review.desk import ReviewDesk, ReviewRules
from virtui.review.model import State
from virtui.review.netops import AddDhcpHost, SetDhcpRange
from virtui.review.store import ReviewStore
from virtui.screens.form import FormScreen
from virtui.screens.networks import NetworksScreen
from virtui.screens.networks.view import HANDOFF_S

GUEST_MAC = "52:54:00:77:00:01"


@pytest.fixture(scope="module")
def daemon() -> Iterator[Daemon]:
    why = daemons_available() or (
        ""
        if shutil.which("dnsmasq") and shutil.which("iptables")
        else "needs dnsmasq-base, iptables"
    )
    require(why, "run virtual networks")
    daemon = Daemon(network=True)
    daemon.start()
    yield daemon
    daemon.remove()


@pytest.fixture(scope="module")
def backend(daemon: Daemon) -> Iterator[LibvirtBackend]:
    backend = LibvirtBackend(daemon.qemu_uri, "h1")
    backend.connect()
    yield backend
    backend.close()


def _network(backend: LibvirtBackend, name: str) -> NetworkInfo | None:
    return next((n for n in backend.network_port().networks() if n.name == name), None)


def test_nat_network_lifecycle_on_a_real_daemon(daemon: Daemon, backend: LibvirtBackend) -> None:
    said = backend.network_port().create_nat_network(
        "life", "10.77.9.0/24", "10.77.9.10", "10.77.9.20", "life.lan"
    )
    assert said == "network life created on 10.77.9.0/24, started, autostart on"
    info = _network(backend, "life")
    assert info is not None and info.active and info.autostart and info.persistent
    bridge = info.config.bridge
    assert f"{bridge} " in daemon.run_inside("ip", "-br", "link")  # the bridge exists
    conf = daemon.run_inside("cat", "/var/lib/libvirt/dnsmasq/life.conf")
    assert "dhcp-range=10.77.9.10,10.77.9.20" in conf and "domain=life.lan" in conf

    assert backend.network_port().network_command("life", "stop") == "network life stopped"
    assert not _network(backend, "life").active  # type: ignore[union-attr]
    assert f"{bridge} " not in daemon.run_inside("ip", "-br", "link")
    backend.network_port().network_command("life", "noautostart")
    assert not _network(backend, "life").autostart  # type: ignore[union-attr]
    backend.network_port().network_command("life", "start")
    assert _network(backend, "life").active  # type: ignore[union-attr]
    assert backend.network_port().delete_network("life") == "network life deleted"
    assert _network(backend, "life") is None


def test_a_fixed_host_is_merged_live_and_reaches_dnsmasq(
    daemon: Daemon, backend: LibvirtBackend, tmp_path: Path
) -> None:
    backend.network_port().create_nat_network("fixed", "10.77.2.0/24", "10.77.2.100", "10.77.2.200")
    try:
        uuid = _network(backend, "fixed").config.uuid  # type: ignore[union-attr]
        ports = OneHost(backend)
        desk = ReviewDesk(ReviewStore(tmp_path / "r.db"), ports, ReviewRules(), user="a@b")
        host = desk.draft(
            "h1",
            uuid,
            "web gets .50",
            [AddDhcpHost("52:54:00:77:00:02", "10.77.2.50", "web")],
            kind="network",
        )
        shrink = desk.draft(
            "h1",
            uuid,
            "smaller range",
            [SetDhcpRange("10.77.2.100", "10.77.2.150")],
            kind="network",
        )
        for change in (host, shrink):
            desk.publish(change.id)
        merged = desk.merge(host.id)
        assert merged.change.state is State.MERGED
        assert merged.live == [
            "fixed address 52:54:00:77:00:02 → 10.77.2.50 (web): live and in the configuration"
        ]
        conn = libvirt.open(daemon.qemu_uri)
        try:
            network = conn.networkLookupByName("fixed")
            for xml in (network.XMLDesc(0), network.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)):
                assert "<host mac='52:54:00:77:00:02' name='web' ip='10.77.2.50'/>" in xml
        finally:
            conn.close()
        hosts = daemon.run_inside("cat", "/var/lib/libvirt/dnsmasq/fixed.hostsfile")
        assert "52:54:00:77:00:02,10.77.2.50,web" in hosts
        # The live update told dnsmasq to re-read its hosts (SIGHUP): no second one was
        # started. The one whose pid libvirt keeps runs with its --dhcp-script helper,
        # a child of its own that ps also shows as dnsmasq.
        pid = daemon.run_inside("cat", "/run/libvirt/network/fixed.pid").strip()
        assert {p for p, _ in _dnsmasqs(daemon, "fixed")} == {pid, *_children(daemon, pid)}
        assert len(_dnsmasqs(daemon, "fixed")) == 2
        # The second change was drafted on the old base: the merge above made it stale.
        with pytest.raises(Exception, match="stale"):
            desk.merge(shrink.id)
        rebased = desk.rebase(shrink.id)
        desk_result = desk.merge(rebased.id)
        assert desk_result.pending_restart == [
            "DHCP range 10.77.2.100-10.77.2.200 → 10.77.2.100-10.77.2.150: at next network restart"
        ]
        live_conf = daemon.run_inside("cat", "/var/lib/libvirt/dnsmasq/fixed.conf")
        assert "dhcp-range=10.77.2.100,10.77.2.200" in live_conf  # running: not yet
        backend.network_port().network_command("fixed", "stop")
        backend.network_port().network_command("fixed", "start")
        assert "dhcp-range=10.77.2.100,10.77.2.150" in daemon.run_inside(
            "cat", "/var/lib/libvirt/dnsmasq/fixed.conf"
        )
    finally:
        backend.network_port().delete_network("fixed")
    assert _dnsmasqs(daemon, "fixed") == []  # destroyed and undefined: none left


def _dnsmasqs(daemon: Daemon, network: str) -> list[tuple[str, str]]:
    """(pid, parent pid) of every dnsmasq serving ``network`` in the daemon's namespace."""
    table = daemon.run_inside("ps", "-eo", "pid=,ppid=,args=")
    return [
        (line.split()[0], line.split()[1])
        for line in table.splitlines()
        if "dnsmasq" in line and f"/{network}.conf" in line
    ]


def _children(daemon: Daemon, pid: str) -> set[str]:
    return {p for p, parent in _dnsmasqs(daemon, "fixed") if parent == pid}


def test_a_guest_booting_from_the_network_gets_a_lease_that_virtui_shows(
    daemon: Daemon, backend: LibvirtBackend
) -> None:
    backend.network_port().create_nat_network("pxe", "10.77.3.0/24", "10.77.3.100", "10.77.3.200")
    conn = libvirt.open(daemon.qemu_uri)
    xml = f"""<domain type='qemu'><name>netboot</name><memory unit='MiB'>64</memory>
<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type><boot dev='network'/></os>
<devices><interface type='network'><mac address='{GUEST_MAC}'/><source network='pxe'/>
<model type='e1000'/></interface><memballoon model='none'/></devices></domain>"""
    dom = conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
    try:
        dom.create()
        deadline = time.monotonic() + 90
        while not conn.networkLookupByName("pxe").DHCPLeases():
            assert time.monotonic() < deadline, "the guest got no lease in 90 s"
            time.sleep(0.5)
        detail = backend.network_port().network_detail("pxe")
        (lease,) = detail.leases
        assert (lease.mac, lease.domain, lease.prefix) == (GUEST_MAC, "netboot", 24)
        assert lease.ip.startswith("10.77.3.") and lease.expiry > time.time()
        assert _network(backend, "pxe").leases == 1  # type: ignore[union-attr]
        found = backend.network_port().guest_addresses(dom.UUIDString())
        assert [(a.address, a.source) for a in found.addresses] == [(f"{lease.ip}/24", "lease")]
        poll = backend.poll()
        (sample,) = [s for s in poll.domains if s.name == "netboot"]
        assert (sample.address, sample.address_source) == (lease.ip, "lease")
    finally:
        dom.destroy()
        dom.undefine()
        conn.close()
        backend.network_port().delete_network("pxe")


async def test_overlap_is_refused_before_libvirt_and_events_refresh_the_screen(
    daemon: Daemon, backend: LibvirtBackend
) -> None:
    backend.network_port().create_nat_network("taken", "10.77.4.0/24", "10.77.4.100", "10.77.4.200")
    app = RecordingApp(
        Settings(uris=[daemon.qemu_uri]), sessions=open_sessions([daemon.qemu_uri]), auto_poll=False
    )
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            await app.poll_now()
            await pilot.press("6")
            await wait_for(lambda: isinstance(app.screen, NetworksScreen))
            screen = app.screen
            assert isinstance(screen, NetworksScreen)
            await wait_for(lambda: any(n.name == "taken" for n in screen.networks.values()))
            before = sorted(n.name for n in backend.network_port().networks())
            await pilot.press("n")
            await wait_for(lambda: isinstance(app.screen, FormScreen))
            form = app.screen
            assert isinstance(form, FormScreen)
            assert form.query_one("#subnet", Input).value != "10.77.4.0/24"
            form.query_one("#name", Input).value = "other"
            form.query_one("#subnet", Input).value = "10.77.4.128/25"
            form.query_one("#domain", Input).focus()
            form.query_one("#domain", Input).value = "x"
            await pilot.press("enter")
            await wait_for(
                lambda: "overlaps 10.77.4.0/24" in str(form.query_one("#error").render())
            )
            await pilot.press("escape")
            assert (
                sorted(n.name for n in backend.network_port().networks()) == before
            )  # nothing created

            # Another client stops the network: the event refreshes the screen at once
            # (the screen's own re-read comes only every 5 s).
            other = libvirt.open(daemon.qemu_uri)
            try:
                other.networkLookupByName("taken").destroy()
            finally:
                other.close()
            key = next(k for k, n in screen.networks.items() if n.name == "taken")
            await wait_for(lambda: not screen.networks[key].active, timeout=3.0)
            assert any(
                e.kind == "network stopped" and e.domain == "taken" for e in app.timeline.entries
            )
    finally:
        backend.network_port().delete_network("taken")


async def test_a_frozen_host_holds_up_the_others_for_a_moment_only(
    daemon: Daemon, tmp_path: Path
) -> None:
    node = write_node(tmp_path / "other.xml", SMALL_FLEET, networks=NETWORKS[:1])
    uris = [daemon.qemu_uri, f"test://{node}"]
    app = RecordingApp(Settings(uris=uris), sessions=open_sessions(uris), auto_poll=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await app.poll_now()
        _frozen, other = app.ports.host_names()  # the frozen host is first in line
        await pilot.press("6")
        await wait_for(lambda: isinstance(app.screen, NetworksScreen))
        screen = app.screen
        assert isinstance(screen, NetworksScreen)
        await wait_for(lambda: any(n.host == other for n in screen.networks.values()))
        daemon.freeze()
        try:
            # the other host's new network shows, though the frozen one is asked first
            app.ports.networks(other).create_nat_network(
                "late", "10.99.0.0/24", "10.99.0.2", "10.99.0.9"
            )
            screen.reload()
            await wait_for(lambda: f"{other}\tlate" in screen.networks, timeout=HANDOFF_S * 8)
        finally:
            daemon.thaw()
