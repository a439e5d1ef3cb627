"""Guest addresses are resolved a few domains per poll, new domains first, then the
ones read longest ago: on a large host a poll never asks every domain."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import libvirt
import pytest

from tests.fixtures.nodes import NodeDomain, write_node
from virtui.backends.libvirt import addresses
from virtui.backends.libvirt.addresses import BUDGET, REFRESH_S, AddressCache
from virtui.backends.libvirt.backend import LibvirtBackend


def test_each_poll_resolves_the_budget_new_first_then_the_oldest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = 2 * BUDGET + 3
    node = write_node(tmp_path / "node.xml", [NodeDomain(f"vm{i:02d}") for i in range(count)])
    backend = LibvirtBackend(f"test://{node}", "h")
    backend.connect()
    conn = libvirt.openReadOnly(f"test://{node}")
    try:
        samples = list(backend.poll().domains)
        clock = [1000.0]
        # This module's clock only: other threads of the test process keep the real one.
        monkeypatch.setattr(addresses, "time", SimpleNamespace(monotonic=lambda: clock[0]))
        asked: list[str] = []
        real_lookup = conn.lookupByUUIDString

        def lookup(uuid: str) -> libvirt.virDomain:
            asked.append(uuid)
            return real_lookup(uuid)

        monkeypatch.setattr(conn, "lookupByUUIDString", lookup)
        cache = AddressCache()
        rounds = []
        for step in range(4):
            clock[0] = 1000.0 + step
            asked.clear()
            cache.fill(conn, samples)
            rounds.append(list(asked))
        uuids = [s.key.uuid for s in samples]
        assert rounds[0] == uuids[:BUDGET]  # new domains, in the order listed
        assert rounds[1] == uuids[BUDGET : 2 * BUDGET]
        assert rounds[2] == uuids[2 * BUDGET :]
        assert rounds[3] == []  # every domain read within REFRESH_S
        # Past REFRESH_S for all of them, the first round's domains are the oldest:
        # they go first.
        clock[0] = 1000.0 + REFRESH_S + 5
        asked.clear()
        cache.fill(conn, samples)
        assert asked == uuids[:BUDGET]
    finally:
        conn.close()
        backend.close()
