"""What one-thread-at-a-time costs on a remote connection (ConnectionOwner's gate).

The same reads a person's screens make at once — bulk domain stats, a storage listing,
a network listing, a domain's XML — from 4 threads on one connection to a private
libvirtd with 50 defined domains, each thread 200 times: first as libvirt allows (all
4 inside the client together), then the same calls through the gate virtui puts on
every remote connection, which lets one thread in at a time. Printed side by side,
from the same run.

    .venv/bin/python -m benchmarks.bench_serial_calls
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import libvirt
from tests.integration.daemons import Daemon
from tests.integration.guests import define_guest

from virtui.backends.libvirt.connections import ConnectionOwner

THREADS = 4
CALLS = 200


def _run(work: list[Callable[[], object]]) -> tuple[float, float]:
    """Wall time of all threads, and the median latency of one call (ms)."""
    latencies: list[float] = []
    lock = threading.Lock()

    def thread(call: Callable[[], object]) -> None:
        for _ in range(CALLS):
            start = time.perf_counter()
            call()
            with lock:
                latencies.append((time.perf_counter() - start) * 1000)

    threads = [threading.Thread(target=thread, args=(call,)) for call in work]
    began = time.perf_counter()
    for each in threads:
        each.start()
    for each in threads:
        each.join()
    return time.perf_counter() - began, statistics.median(latencies)


def main() -> None:
    daemon = Daemon(private_config=True)
    daemon.start()
    try:
        conn = libvirt.open(daemon.qemu_uri)
        with tempfile.TemporaryDirectory() as folder:
            uuid = ""
            for _ in range(50):
                uuid = define_guest(conn, Path(folder)).UUIDString()
            bare: list[Callable[[], object]] = [
                lambda: conn.getAllDomainStats(0, 0),
                lambda: conn.listAllStoragePools(0),
                lambda: conn.listAllNetworks(0),
                lambda: conn.lookupByUUIDString(uuid).XMLDesc(0),
            ]
            owner = ConnectionOwner(daemon.qemu_uri, conn, serial=True)

            def gate(call: Callable[[], object]) -> Callable[[], object]:
                def inside() -> object:
                    with owner.one_at_a_time():
                        return call()

                return inside

            bare_wall, bare_median = _run(bare)
            gated_wall, gated_median = _run([gate(call) for call in bare])
            for dom in conn.listAllDomains(0):
                dom.undefine()
        conn.close()
    finally:
        daemon.remove()
    print(f"{THREADS} threads x {CALLS} calls on one connection to a local libvirtd")
    print(f"  libvirt, all inside at once : {bare_wall:6.2f} s, median call {bare_median:5.2f} ms")
    print(
        f"  through the gate, one by one: {gated_wall:6.2f} s, median call {gated_median:5.2f} ms"
    )
    print(f"  ratio (gate / libvirt)      : {gated_wall / bare_wall:6.2f} x")


if __name__ == "__main__":
    main()
