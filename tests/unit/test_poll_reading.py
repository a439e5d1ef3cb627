"""A domain read one by one is read the same way whichever path reads it: the first poll
learns its autostart flag and devices (the full path), later polls take them as known
(the loop that runs for every domain of every poll). The two must agree field for field,
for running, paused and shut-off domains, with and without devices."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tests.fixtures.nodes import PAUSED, SHUTOFF, NodeDomain, write_node
from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.model import DomainSample, DomainState

DISK = (
    "<disk type='file' device='disk'><source file='/var/lib/x.img'/>"
    "<target dev='vda' bus='virtio'/></disk>"
)
NIC = (
    "<interface type='network'><source network='default'/>"
    "<mac address='52:54:00:00:00:01'/></interface>"
)


def _node(tmp_path: Path) -> str:
    domains = [
        NodeDomain("bare-running"),
        NodeDomain("disk-running", devices=DISK),
        NodeDomain("nic-running", devices=NIC),
        NodeDomain("paused", runstate=PAUSED, devices=DISK),
        NodeDomain("off", runstate=SHUTOFF, devices=DISK),
    ]
    return f"test://{write_node(tmp_path / 'node.xml', domains)}"


def _without_stamp(sample: DomainSample) -> tuple[object, ...]:
    """The sample without what moves with time (the test driver's counters do)."""
    disks = None if sample.disks is None else tuple((d.name, d.path) for d in sample.disks)
    nics = None if sample.nics is None else tuple(n.name for n in sample.nics)
    moving = {"read_ns", "cpu_time_ns", "disks", "nics"}
    fixed = tuple(
        getattr(sample, f.name) for f in dataclasses.fields(sample) if f.name not in moving
    )
    return (*fixed, disks, nics)


def test_later_polls_read_each_domain_as_the_first_poll_does(tmp_path: Path) -> None:
    backend = LibvirtBackend(_node(tmp_path), "h")
    backend.connect()
    try:
        first = {s.name: s for s in backend.poll().domains}
        later = {s.name: s for s in backend.poll().domains}
        assert set(later) == {"bare-running", "disk-running", "nic-running", "paused", "off"}
        # What the full path reads for each domain now, beside what the poll's loop read.
        full = {
            i.name: backend._read_info(i)  # the path under comparison
            for i in backend._identities.values()
        }
        for name, sample in later.items():
            assert _without_stamp(sample) == _without_stamp(first[name]), name
            reread = full[name]
            assert reread is not None
            assert _without_stamp(sample) == _without_stamp(reread), name
        assert later["disk-running"].disks and later["disk-running"].disks[0].name == "vda"
        assert later["nic-running"].nics is not None and len(later["nic-running"].nics) == 1
        assert later["bare-running"].disks == () and later["bare-running"].nics == ()
        assert later["off"].disks is None and later["off"].autostart is not None
        assert later["paused"].state is DomainState.PAUSED
        assert later["off"].state is DomainState.SHUTOFF
        assert later["bare-running"].read_ns > first["bare-running"].read_ns
    finally:
        backend.close()
