"""The networks screen over many hosts: 20 hosts x 50 networks, CPU of one refresh.

Run: ``.venv/bin/python -m benchmarks.bench_networks`` (from the repository root).

Each host is its own libvirt test-driver node with 50 networks and 10 domains, one NIC
each. A refresh is what the screen does every 5 s and after a network event: read every
host's networks (one thread per host, as the app does) and bring the table up to date.
It is measured as process CPU (every thread) in a headless app, beside the bare libvirt
calls it cannot do without (list the networks, read each one's XML) in the same run.
Target: one refresh under 50 ms of CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import libvirt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fixtures.nodes import NodeDomain, write_node

from virtui.config.settings import Settings
from virtui.model.network import NetworkInfo
from virtui.monitor.sessions import open_sessions
from virtui.screens.networks import NetworksScreen
from virtui.tui.app import VirtuiApp

TARGET_MS = 50.0


def network_xml(host: int, index: int) -> str:
    """A NAT network with DHCP and two fixed hosts on 10.<host>.<index>.0/24."""
    net = f"10.{host}.{index}"
    return (
        f"<network><name>net{index:02d}</name>"
        f"<uuid>30000000-0000-4000-8000-{host:04d}{index:08d}</uuid>"
        f"<forward mode='nat'/><bridge name='vbr{index}'/>"
        f"<ip address='{net}.1' prefix='24'><dhcp><range start='{net}.100' end='{net}.200'/>"
        f"<host mac='52:54:00:{host:02x}:{index:02x}:01' ip='{net}.10'/>"
        f"<host mac='52:54:00:{host:02x}:{index:02x}:02' ip='{net}.11'/>"
        "</dhcp></ip></network>"
    )


def build_hosts(directory: Path, hosts: int, networks: int, domains: int) -> list[str]:
    uris = []
    for host in range(hosts):
        guests = [
            NodeDomain(
                f"vm{host:02d}-{n:03d}",
                devices=(
                    f"<interface type='network'><mac address='52:54:01:{host:02x}:00:{n:02x}'/>"
                    f"<source network='net{n % networks:02d}'/><model type='virtio'/></interface>"
                ),
            )
            for n in range(domains)
        ]
        path = write_node(
            directory / f"host{host:02d}.xml",
            guests,
            networks=[network_xml(host, index) for index in range(networks)],
        )
        uris.append(f"test://{path}")
    return uris


def bare_round(conns: list[libvirt.virConnect]) -> float:
    """Process CPU seconds of the least a listing needs: each network and its XML."""

    def one(conn: libvirt.virConnect) -> None:
        for network in conn.listAllNetworks(0):
            network.XMLDesc(0)

    start = time.process_time()
    threads = [threading.Thread(target=one, args=(conn,)) for conn in conns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.process_time() - start


async def screen_rounds(uris: list[str], rounds: int, expected: int) -> tuple[float, list[float]]:
    """(first fill wall seconds, CPU seconds of each later refresh) in a headless app."""
    app = VirtuiApp(Settings(uris=uris), sessions=open_sessions(uris), auto_poll=False)
    cpu: list[float] = []
    async with app.run_test(size=(200, 50)) as pilot:
        await app.poll_now()
        start = time.perf_counter()
        await pilot.press("6")
        while not (isinstance(app.screen, NetworksScreen) and len(app.screen.networks) == expected):
            await asyncio.sleep(0.005)
        fill = time.perf_counter() - start
        screen = app.screen
        assert isinstance(screen, NetworksScreen)
        answered: list[str] = []
        everyone = asyncio.Event()
        original = screen._read

        def counted(host: str, found: list[NetworkInfo]) -> None:
            original(host, found)
            answered.append(host)
            if len(answered) == len(uris):
                everyone.set()

        screen._read = counted  # type: ignore[method-assign]
        for _ in range(rounds):
            answered.clear()
            everyone.clear()
            start_cpu = time.process_time()
            screen.reload()
            await everyone.wait()
            cpu.append(time.process_time() - start_cpu)
            await asyncio.sleep(0.2)  # apart, as refreshes are (every 5 s in the app)
    return fill, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--networks", type=int, default=50)
    parser.add_argument("--domains", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        uris = build_hosts(Path(tmp), args.hosts, args.networks, args.domains)
        conns = [libvirt.open(uri) for uri in uris]
        bare = [bare_round(conns) for _ in range(args.rounds)]
        fill, cpu = asyncio.run(screen_rounds(uris, args.rounds, args.hosts * args.networks))
        refresh_ms = statistics.median(cpu) * 1000
        bare_ms = statistics.median(bare) * 1000
        rows = args.hosts * args.networks
        print(f"{args.hosts} hosts x {args.networks} networks ({rows} rows), {args.rounds} rounds")
        print(f"first fill (wall)                 {fill * 1000:8.1f} ms")
        print(
            f"refresh, virtui (process CPU)     {refresh_ms:8.1f} ms median, "
            f"max {max(cpu) * 1000:.1f}"
        )
        print(f"bare listNetworks + XMLDesc (CPU) {bare_ms:8.1f} ms median")
        print(f"virtui / bare                     {refresh_ms / bare_ms:8.2f}x")
        verdict = "met" if refresh_ms < TARGET_MS else "NOT met"
        print(f"target: one refresh under {TARGET_MS:.0f} ms of CPU: {verdict}")
        for conn in conns:
            conn.close()


if __name__ == "__main__":
    main()
