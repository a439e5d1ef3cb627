"""A rate is the counters' change over the counters' own time: the per-domain calls a
poll makes after the bulk read (a new domain's autostart flag and device facts) must
not stretch it. On a loaded host they did, and the first %CPU after a domain appeared
read 1.6x what the guest used."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import libvirt
import pytest

from tests.integration.daemons import Daemon
from tests.integration.guests import TEST_PREFIX
from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.backends.libvirt.bootsector import SPIN_CODE, write_image
from virtui.backends.libvirt.demo import guest_xml
from virtui.monitor.rates import HostRates

SLOW_S = 0.5  # a stand-in for a slow per-domain call on a loaded host (named as such)


def test_a_slow_call_after_the_bulk_read_does_not_inflate_the_rate(
    storage_daemon: Daemon,
    storage_check: libvirt.virConnect,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = write_image(tmp_path / "spin.img", SPIN_CODE)
    name = f"{TEST_PREFIX}stamp-spin"
    dom = storage_check.defineXMLFlags(
        guest_xml(name, image, 1, 32), libvirt.VIR_DOMAIN_DEFINE_VALIDATE
    )
    dom.create()
    backend = LibvirtBackend(storage_daemon.qemu_uri, "d")
    backend.connect()
    real = backend._autostart_of
    seen: set[str] = set()

    def slow_first(domain: libvirt.virDomain, uuid: str) -> bool | None:
        if uuid == dom.UUIDString() and uuid not in seen:
            time.sleep(SLOW_S)  # only when the domain is first seen, as the cache does
        seen.add(uuid)
        return real(domain, uuid)

    monkeypatch.setattr(backend, "_autostart_of", slow_first)
    # The truth: the guest's CPU time read just before the first bulk read and just
    # after the second, so it covers virtui's own interval and hardly more (a bracket
    # around the whole polls also held the polls' other calls, and under the suite's
    # load the guest's share of a CPU in them differed by 10%).
    conn = backend._link.connection()
    real_bulk = conn.getAllDomainStats
    around: list[tuple[float, int]] = []  # (monotonic s, guest CPU ns) before, after

    def bracketed(stats: int, flags: int) -> Any:
        around.append((time.monotonic(), dom.info()[4]))
        records = real_bulk(stats, flags)
        around.append((time.monotonic(), dom.info()[4]))
        return records

    monkeypatch.setattr(conn, "getAllDomainStats", bracketed)
    rates = HostRates()
    try:
        time.sleep(3)  # past the boot: a spinning guest uses its CPU steadily
        # A stamp stretched by the slow call after the first read shortens virtui's
        # interval by half of it: the rate reads ~20% high.
        rates.update(backend.poll())
        time.sleep(1)
        stats = {item.sample.name: item for item in rates.update(backend.poll())}
    finally:
        backend.close()
        dom.destroy()
        dom.undefine()
    assert len(around) == 4, "two bulk reads"
    (was, used_before), (now, used) = around[0], around[3]
    truth = 100 * (used - used_before) / 1e9 / (now - was)
    shown = stats[name].cpu_pct_irix
    assert shown is not None and truth > 5
    assert shown == pytest.approx(truth, rel=0.1), (shown, truth)
