"""The Prometheus fleet backend against real Prometheus and prometheus-libvirt-exporter.

One exporter reads a hand-started libvirtd running a real QEMU guest that spins one
vCPU; Prometheus scrapes it every second. Faults Prometheus cannot be made to produce
on demand (an answer that is not JSON) come from a stand-in HTTP server, named so.
"""

from __future__ import annotations

import http.server
import signal
import socket
import threading
import time
from collections.abc import Iterator

import libvirt
import pytest

from tests.integration.daemons import Daemon
from tests.integration.guests import TEST_PREFIX, remove_test_guests
from tests.integration.prometheus import Exporter, Prometheus, free_port, prometheus_available
from tests.requirements import require
from tests.tui.helpers import RecordingApp, wait_for
from virtui.backends.libvirt.bootsector import SPIN_CODE, write_image
from virtui.backends.libvirt.demo import guest_xml
from virtui.backends.prometheus.backend import PrometheusBackend
from virtui.backends.prometheus.client import SHARED_FOR_S
from virtui.config.settings import Settings
from virtui.model import CpuMode, DomainKey, DomainState, HostStatus
from virtui.monitor.session import HostSession
from virtui.monitor.sessions import open_sessions
from virtui.monitor.store import DomainStore

# Guests of the storage daemon started at the same moment by two workers' daemons can
# meet cgroup v1's cpuset race ("No space left on device"): the fleet tests run in turn.
pytestmark = pytest.mark.xdist_group("prometheus")


@pytest.fixture(scope="module")
def fleet(
    storage_daemon: Daemon,
    storage_check: libvirt.virConnect,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Prometheus, Exporter, libvirt.virDomain]]:
    require(prometheus_available(), "run Prometheus")
    image = write_image(tmp_path_factory.mktemp("prom") / "spin.img", SPIN_CODE)
    dom = storage_check.defineXMLFlags(
        guest_xml(f"{TEST_PREFIX}prom-spin", image, 1, 32), libvirt.VIR_DOMAIN_DEFINE_VALIDATE
    )
    dom.create()
    exporter = Exporter(storage_daemon.qemu_uri)
    prometheus = Prometheus([exporter.address])
    prometheus.wait_for_samples(6)
    yield prometheus, exporter, dom
    prometheus.remove()
    exporter.stop()
    remove_test_guests(storage_check)


def _uri(prometheus: Prometheus, exporter: Exporter, extra: str = "") -> str:
    return f"prometheus+{prometheus.url}/?instance={exporter.address}&cpus=2{extra}"


def _stats(session: HostSession, name: str) -> tuple[float | None, DomainState] | None:
    """The guest's CPU and state, or None when Prometheus's last scrape failed (under
    the suite's load the exporter can miss the 1 s scrape timeout)."""
    update = session.poll_once()
    assert update.status is HostStatus.CONNECTED, update.message
    if not update.answered:
        assert "last scrape of" in update.message, update.message
        return None
    item = next(s for s in update.stats if s.sample.name == name)
    return item.cpu_pct_irix, item.sample.state


def test_domains_and_cpu_match_the_libvirt_backend(
    fleet: tuple[Prometheus, Exporter, libvirt.virDomain], storage_daemon: Daemon
) -> None:
    prometheus, exporter, dom = fleet
    from_prometheus = HostSession(PrometheusBackend(_uri(prometheus, exporter), "fleet"))
    from_libvirt = open_sessions([storage_daemon.qemu_uri], names={storage_daemon.qemu_uri: "d"})[0]
    try:
        readings: dict[str, list[float]] = {"prometheus": [], "libvirt": []}
        # Ground truth over the same window: the guest's own CPU time, by a bare libvirt
        # call. Under load the guest gets less than a whole CPU; both backends must
        # still show what it got.
        # What is checked here is the fleet backend against a bare libvirt call over the
        # same window; the libvirt backend's own figures are checked against the kernel
        # and the counters' own times in test_cpu_stamps.py and test_embedded_qemu.py.
        cpu_before, wall_before = dom.info()[4], time.monotonic()
        for _ in range(5):
            for label, session in (("prometheus", from_prometheus), ("libvirt", from_libvirt)):
                read = _stats(session, dom.name())
                if read is None:
                    continue
                pct, state = read
                assert state is DomainState.RUNNING
                if pct is not None:
                    readings[label].append(pct)
            time.sleep(1.1)
        truth = 100 * (dom.info()[4] - cpu_before) / 1e9 / (time.monotonic() - wall_before)
        assert len(readings["prometheus"]) >= 3 and len(readings["libvirt"]) >= 3
        assert all(pct > 0 for pct in readings["libvirt"]), readings
        prom = sum(readings["prometheus"]) / len(readings["prometheus"])
        assert truth > 5, f"the spinning guest got {truth:.1f}% of a CPU"
        assert abs(prom - truth) <= 15, (truth, readings)
        update = from_prometheus.poll_once()
        sample = next(s.sample for s in update.stats if s.sample.name == dom.name())
        assert (sample.vcpus, sample.max_mem_kib) == (1, 32 * 1024)
        spin = next(s for s in update.stats if s.sample.name == dom.name())
        assert spin.cpu_pct_irix is not None
        assert spin.cpu_pct(CpuMode.SOLARIS) == pytest.approx(spin.cpu_pct_irix / 2)  # cpus=2
    finally:
        from_prometheus.close()
        from_libvirt.close()


async def test_history_is_prefilled_and_actions_go_through_libvirt(
    fleet: tuple[Prometheus, Exporter, libvirt.virDomain], storage_daemon: Daemon
) -> None:
    prometheus, exporter, dom = fleet
    uris = [storage_daemon.qemu_uri, _uri(prometheus, exporter, "&via=d")]
    names = {storage_daemon.qemu_uri: "d"}
    app = RecordingApp(
        Settings(uris=uris, names=names), sessions=open_sessions(uris, names=names), auto_poll=False
    )
    async with app.run_test(size=(150, 30)) as pilot:
        await app.poll_now()
        fleet_host = f"{exporter.address}@prom"
        key = DomainKey(fleet_host, dom.UUIDString())
        await wait_for(lambda: len(app.cpu_history.series(key)) >= 2, 15)  # before a 2nd poll
        # A spinning guest: its past reads above idle (an idle one reads under 1%) and at
        # most one CPU. How much of a CPU it got depends on the machine's load (the suite
        # runs on every core), so no tighter bound than that.
        past = sorted(app.cpu_history.series(key))
        assert 5 <= past[len(past) // 2] <= 120, past
        # The fleet row says where it comes from, and acting on it goes through libvirt.
        await pilot.press("slash", *fleet_host, "enter")
        assert app.domains.table.column_texts("host") == [fleet_host]
        await pilot.press("p")
        await wait_for(lambda: dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED, 10)
        # The action reads the state back before it says so: the word comes after.
        await wait_for(lambda: any(t.startswith(f"{dom.name()}: paused") for t in app.told), 10)

        async def fleet_shows_paused() -> bool:
            await app.poll_now()
            return app.domains.table.column_texts("state") == ["paused"]

        deadline = time.monotonic() + 15
        while not await fleet_shows_paused():  # once Prometheus scraped the change
            assert time.monotonic() < deadline
            await pilot.pause(0.5)
        await pilot.press("p")  # paused on screen: p resumes, through libvirt again
        await wait_for(lambda: dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING, 10)
    app.shutdown()


def test_prometheus_stopped_mid_run_shows_lost_then_recovers(
    fleet: tuple[Prometheus, Exporter, libvirt.virDomain],
) -> None:
    prometheus, exporter, _dom = fleet
    session = HostSession(PrometheusBackend(_uri(prometheus, exporter), "fleet"))
    try:
        assert session.poll_once().status is HostStatus.CONNECTED
        prometheus.stop()
        time.sleep(SHARED_FOR_S + 0.1)  # past the answer shared by one poll round
        started = time.monotonic()
        down = session.poll_once()
        assert time.monotonic() - started < 5  # a timeout, never a hang
        assert down.status in (HostStatus.LOST, HostStatus.RECONNECTING)
        assert "cannot reach Prometheus" in down.message
        prometheus.start()
        deadline = time.monotonic() + 30
        while session.poll_once().status is not HostStatus.CONNECTED:
            assert time.monotonic() < deadline, "did not recover"
            time.sleep(0.5)
    finally:
        session.close()


def test_a_failed_scrape_keeps_the_host_and_says_so(
    fleet: tuple[Prometheus, Exporter, libvirt.virDomain],
) -> None:
    """A scrape that fails (an exporter too slow for the scrape timeout, as under load)
    leaves Prometheus with ``up`` 0 and none of the target's series: the host is still
    there, its guests stay listed, and the message says what happened."""
    prometheus, exporter, dom = fleet
    session = HostSession(PrometheusBackend(_uri(prometheus, exporter), "fleet"))
    store = DomainStore()
    try:
        first = session.poll_once()
        assert first.answered, first.message
        store.apply(first)
        exporter.process.send_signal(signal.SIGSTOP)  # every scrape now times out
        try:
            prometheus.wait_for_up(exporter.address, 0)
            time.sleep(SHARED_FOR_S + 0.1)  # past the answer shared by one poll round
            failed = session.poll_once()
        finally:
            exporter.process.send_signal(signal.SIGCONT)
        assert failed.status is HostStatus.CONNECTED and not failed.answered
        assert failed.message == (
            f"Prometheus's last scrape of {exporter.address} failed (up is 0):"
            " the figures shown are from before"
        )
        store.apply(failed)
        assert [s.sample.name for s in store.all()] == [dom.name()]
        prometheus.wait_for_up(exporter.address, 1)
        time.sleep(SHARED_FOR_S + 0.1)
        assert session.poll_once().answered
    finally:
        session.close()


def test_a_target_whose_exporter_cannot_reach_libvirt(
    fleet: tuple[Prometheus, Exporter, libvirt.virDomain],
) -> None:
    dead = Exporter("qemu+tcp://127.0.0.1:1/system")  # nobody listens there
    prometheus = Prometheus([dead.address])
    try:
        prometheus.wait_for_samples(1)
        session = HostSession(
            PrometheusBackend(f"prometheus+{prometheus.url}/?instance={dead.address}", "x")
        )
        update = session.poll_once()
        assert update.status is HostStatus.FAILED
        assert update.message == "the exporter is up but cannot reach libvirt (libvirt_up is 0)"
        missing = HostSession(
            PrometheusBackend(f"prometheus+{prometheus.url}/?instance=nope:1", "y")
        )
        assert missing.poll_once().message == 'no target in Prometheus matches instance="nope:1"'
    finally:
        prometheus.remove()
        dead.stop()


class _NotJson(http.server.BaseHTTPRequestHandler):
    """A stand-in for a broken Prometheus (a proxy's error page, say): Prometheus itself
    cannot be made to answer like this."""

    def do_GET(self) -> None:
        body = b"<html>502 Bad Gateway</html>"
        self.send_response(502)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def test_malformed_answers_and_silent_servers_are_host_states() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotJson)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never answers
    try:
        broken = HostSession(
            PrometheusBackend(f"prometheus+http://127.0.0.1:{server.server_port}/?instance=a", "a")
        )
        update = broken.poll_once()
        assert update.status is HostStatus.FAILED
        assert "malformed answer" in update.message and "HTTP 502" in update.message
        mute = HostSession(
            PrometheusBackend(
                f"prometheus+http://127.0.0.1:{silent.getsockname()[1]}/?instance=a", "b"
            )
        )
        started = time.monotonic()
        update = mute.poll_once()
        assert time.monotonic() - started < 6
        assert update.status is HostStatus.FAILED and "did not answer within 3s" in update.message
        nobody = HostSession(
            PrometheusBackend(f"prometheus+http://127.0.0.1:{free_port()}/?x=1", "c")
        )
        assert "cannot reach Prometheus" in nobody.poll_once().message
    finally:
        server.shutdown()
        silent.close()


def test_a_bad_prometheus_uri_is_a_clear_error() -> None:
    update = HostSession(PrometheusBackend("prometheus+ftp://h/?instance=a", "z")).poll_once()
    assert (
        update.message
        == "prometheus+ftp://h/?instance=a: write prometheus+http://HOST:PORT/?instance=TARGET"
    )


def test_hosts_polled_at_once_are_answered_by_one_query(
    fleet: tuple[Prometheus, Exporter, libvirt.virDomain],
) -> None:
    """The poller starts every due host at the same moment: their round must cost
    Prometheus one instant query (a cache alone let each of them send its own)."""
    prometheus, exporter, _dom = fleet
    backends = [PrometheusBackend(_uri(prometheus, exporter), f"h{n}") for n in range(6)]
    for backend in backends:
        backend.connect()
    time.sleep(SHARED_FOR_S + 0.1)  # past the answer the connects shared
    before = prometheus.queries()
    together = threading.Barrier(len(backends))

    def poll(backend: PrometheusBackend) -> None:
        together.wait()
        backend.poll()

    threads = [threading.Thread(target=poll, args=(b,)) for b in backends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert prometheus.queries() - before == 1
