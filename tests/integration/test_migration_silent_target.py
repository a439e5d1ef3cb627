"""A migration whose target goes silent half-way: the target stops answering without
closing anything (its link is cut, so no reset reaches anyone). QEMU's disk copy and
libvirt's calls would wait out TCP's retransmissions, a quarter of an hour; virtui
watches the target connection's keepalive, aborts, and gives up waiting.

A pair of hosts of its own: the source is left cancelling a copy it cannot finish,
and libvirtd 9.0 crashed (a segfault in its QEMU driver) when that guest was destroyed
or the cancel ended, so the pair is only killed afterwards, never reused."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.integration.migration_hosts import MigrationHost, make_guest, running_pair, state_on
from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.model.migration import CopyStorage, MigrationJob, MigrationOptions, MigrationOutcome

# The same bridge and addresses as test_migration.py: the same worker.
pytestmark = pytest.mark.xdist_group("host-network")

# A bound for the migration to notice a silent target (keepalive: about 20 s, then 10 s
# for the abort), generous for a loaded machine and far below TCP's quarter of an hour.
SILENT_TARGET_GIVEN_UP_S = 180.0


@pytest.fixture(scope="module")
def hosts() -> Iterator[tuple[MigrationHost, MigrationHost]]:
    with running_pair() as both:
        yield both


def test_a_target_gone_silent_midway_is_given_up_and_the_guest_stays_on_the_source(
    hosts: tuple[MigrationHost, MigrationHost],
) -> None:
    one, two = (LibvirtBackend(host.uri, host.hostname) for host in hosts)
    one.connect()
    two.connect()
    uuid = make_guest(one.uri, "stranded", disk_mib=48)
    options = MigrationOptions(copy_storage=CopyStorage.ALL, bandwidth_mib=4)
    jobs: list[MigrationJob] = []
    outcomes: list[MigrationOutcome] = []

    def seen(job: MigrationJob) -> None:
        jobs.append(job)
        if len(jobs) == 3:
            hosts[1].silence()

    def move() -> None:
        port = one.migration_port()
        outcomes.append(port.migrate(uuid, two.migration_port(), options, seen, threading.Event()))

    mover = threading.Thread(target=move, daemon=True)
    try:
        mover.start()
        mover.join(SILENT_TARGET_GIVEN_UP_S)
        assert not mover.is_alive(), "the migration still waits on a silent target"
        (outcome,) = outcomes
        assert not outcome.ok
        assert outcome.message.startswith(
            f"stranded did not move (lost the connection to {two.name}"
        )
        assert outcome.message.endswith(f"it is running on {one.name}")
        assert state_on(one.uri, uuid) == "running"
    finally:
        hosts[1].speak()
        # The migration's thread may still be inside libvirt: closing counts it out,
        # and the connections close when it returns (the hosts are killed next).
        one.close()
        two.close()
