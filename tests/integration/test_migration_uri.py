"""Peer to peer, the source host's libvirtd opens the target's URI as root there: the
URI allow-list applies to it as to every URI the app opens, at the pre-checks and
again when the move starts (a real daemon; the refusal comes before anything moves)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.integration.daemons import Daemon
from tests.integration.guests import define_guest, remove_test_guests
from virtui.backends.base import BackendError
from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.model.migration import MigrationOptions, Transport


@pytest.fixture
def hosts(storage_daemon: Daemon) -> Iterator[tuple[LibvirtBackend, LibvirtBackend]]:
    source = LibvirtBackend(storage_daemon.qemu_uri, "src")
    # The same daemon, reached through a URI whose parameter name hides "netcat" behind
    # an escape: libvirt reads it as netcat= (a program) on an ssh transport.
    target = LibvirtBackend(f"{storage_daemon.qemu_uri}&netcat%00x=/tmp/pwn", "dst")
    source.connect()
    target.connect()
    yield source, target
    source.close()
    target.close()


@pytest.mark.parametrize("transport", [Transport.P2P, Transport.TUNNELLED])
def test_a_target_uri_off_the_allow_list_is_refused_for_peer_to_peer_moves(
    hosts: tuple[LibvirtBackend, LibvirtBackend],
    storage_check: libvirt.virConnect,
    tmp_path: Path,
    transport: Transport,
) -> None:
    source, target = hosts
    dom = define_guest(storage_check, tmp_path, running=True)
    try:
        options = MigrationOptions(transport=transport)
        facts = source.migration_port().migration_source(dom.UUIDString())
        (check,) = [
            c
            for c in target.migration_port().migration_checks(facts, options)
            if c.name == "target URI"
        ]
        assert not check.ok
        assert "the source's libvirtd would open" in check.detail
        assert "escapes are refused" in check.detail
        with pytest.raises(BackendError, match=r"escapes are refused.*nothing was moved"):
            source.migration_port().migrate(
                dom.UUIDString(),
                target.migration_port(),
                options,
                lambda _job: None,
                threading.Event(),
            )
        assert dom.isActive()  # still where it was
        # A direct move gives the source's daemon no URI: no such check.
        direct = target.migration_port().migration_checks(
            facts, MigrationOptions(transport=Transport.DIRECT)
        )
        assert "target URI" not in [c.name for c in direct]
    finally:
        remove_test_guests(storage_check)
