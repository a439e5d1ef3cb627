"""Judging whether a configuration holds a proposal by the nodes it changed."""

from __future__ import annotations

from virtui.review import xmlnodes

BASE = (
    "<domain type='qemu'><name>a</name><memory unit='KiB'>65536</memory>"
    "<currentMemory unit='KiB'>65536</currentMemory><vcpu>1</vcpu>"
    "<devices><disk type='file'><source file='/a'/><target dev='vda'/></disk>"
    "<disk type='file'><source file='/b'/><target dev='vdb'/></disk></devices></domain>"
)
PROPOSED = BASE.replace("<vcpu>1", "<vcpu>2").replace("file='/b'", "file='/c'")


def test_an_adjacent_change_outside_the_proposal_still_holds_it() -> None:
    live = PROPOSED.replace("<currentMemory unit='KiB'>65536", "<currentMemory unit='KiB'>1024")
    assert xmlnodes.holds(BASE, PROPOSED, live)


def test_the_base_or_another_value_for_a_changed_node_does_not() -> None:
    assert not xmlnodes.holds(BASE, PROPOSED, BASE)
    assert not xmlnodes.holds(BASE, PROPOSED, PROPOSED.replace("<vcpu>2", "<vcpu>3"))
    assert not xmlnodes.holds(BASE, PROPOSED, PROPOSED.replace("file='/c'", "file='/d'"))


def test_devices_are_told_apart_by_target_not_order() -> None:
    swapped = PROPOSED.replace(
        "<disk type='file'><source file='/a'/><target dev='vda'/></disk>", ""
    ).replace(
        "</devices>", "<disk type='file'><source file='/a'/><target dev='vda'/></disk></devices>"
    )
    assert xmlnodes.holds(BASE, PROPOSED, swapped)
    removed = BASE.replace("<disk type='file'><source file='/b'/><target dev='vdb'/></disk>", "")
    assert xmlnodes.changed(BASE, removed)  # a removed device is a change
    assert not xmlnodes.holds(BASE, removed, BASE)
    assert xmlnodes.holds(BASE, removed, removed)
