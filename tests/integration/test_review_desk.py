"""The review desk against real libvirt: the test driver and the embedded QEMU driver.

The domain's real configuration is checked after each step, through libvirt.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.integration.guests import define_guest
from virtui.backends.libvirt.demo import EmbeddedDemo
from virtui.monitor.hostports import HostPorts
from virtui.monitor.session import HostSession
from virtui.monitor.sessions import open_sessions
from virtui.monitor.store import DomainStore
from virtui.review.desk import ReviewDesk, ReviewError, ReviewRules
from virtui.review.model import State
from virtui.review.ops import AttachDevice, RawXml, SetMemory, SetVcpus
from virtui.review.store import ReviewStore
from virtui.review.xmlsafe import canonical

WEB01 = "00000000-0000-4000-8000-000000000001"  # running, 2 vCPUs, 2 GiB
BUILD01 = "00000000-0000-4000-8000-000000000005"  # shut off
DISK = (
    "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
    "<source file='{path}'/><target dev='vdb' bus='virtio'/></disk>"
)


def _desk(uri: str, store: ReviewStore, **rules: object) -> tuple[ReviewDesk, HostSession]:
    sessions = open_sessions([uri], names={uri: "h"})
    sessions[0].poll_once()  # connects
    port = HostPorts(lambda: sessions, DomainStore())
    return ReviewDesk(store, port, ReviewRules(**rules), user="alice@desk"), sessions[0]  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ReviewStore]:
    store = ReviewStore(tmp_path / "reviews.db")
    yield store
    store.close()


@pytest.fixture
def test_desk(
    fleet_uri: str, store: ReviewStore
) -> Iterator[tuple[ReviewDesk, libvirt.virConnect]]:
    desk, session = _desk(fleet_uri, store)
    # The test driver keeps state per connection: check through the backend's own.
    conn = session.backend._link.connection()  # type: ignore[attr-defined]
    yield desk, conn
    session.close()


def _xml(conn: libvirt.virConnect, uuid: str) -> str:
    return str(conn.lookupByUUIDString(uuid).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))


def test_vcpu_and_memory_changes_go_live_after_review(
    test_desk: tuple[ReviewDesk, libvirt.virConnect],
) -> None:
    desk, conn = test_desk
    change = desk.draft("h", WEB01, "web01 smaller", [SetVcpus(1), SetMemory(1024 * 1024)])
    assert change.state is State.DRAFT
    assert change.summary == ["vcpu 2→1: live", "memory 2GiB→1GiB: live"]
    assert conn.lookupByUUIDString(WEB01).info()[3] == 2  # a draft changes nothing
    with pytest.raises(ReviewError, match="draft: open it first"):
        desk.merge(change.id)
    desk.publish(change.id)
    desk.comment(change.id, 6, "<vcpu placement='static'>2</vcpu>", "why not keep 2?")
    desk.approve(change.id)
    result = desk.merge(change.id)
    dom = conn.lookupByUUIDString(WEB01)
    assert dom.info()[3] == 1 and dom.info()[2] == 1024 * 1024  # live: vCPUs, memory
    assert "<currentMemory unit='KiB'>1048576</currentMemory>" in _xml(conn, WEB01)
    assert (result.live, result.pending_restart) == (
        ["vcpu 2→1: live", "memory 2GiB→1GiB: live"],
        [],
    )
    merged = result.change
    assert merged.state is State.MERGED and merged.applied_xml
    assert [e.kind for e in merged.events] == [
        "created",
        "opened",
        "commented",
        "approved",
        "merging",
        "merge step",  # the journal: "define", written before the define
        "merged",
    ]
    assert merged.comments[0].text == "why not keep 2?"


def test_raising_a_maximum_waits_for_a_restart(
    test_desk: tuple[ReviewDesk, libvirt.virConnect],
) -> None:
    desk, conn = test_desk
    change = desk.draft("h", WEB01, "more headroom", [SetVcpus(2, maximum=4)])
    assert change.summary == ["vcpu max 2→4: needs restart"]
    desk.publish(change.id)
    result = desk.merge(change.id)
    assert result.pending_restart == ["vcpu max 2→4: needs restart"]
    assert "current='2'>4</vcpu>" in _xml(conn, WEB01)  # the next boot's config
    assert conn.lookupByUUIDString(WEB01).info()[3] == 2  # the running guest unchanged


def test_device_attach_to_a_shut_off_domain(
    test_desk: tuple[ReviewDesk, libvirt.virConnect], tmp_path: Path
) -> None:
    desk, conn = test_desk
    disk = DISK.format(path=tmp_path / "data.img")
    change = desk.draft("h", BUILD01, "data disk", [AttachDevice(disk)])
    assert change.summary == ["add disk vdb: at next start"]
    desk.publish(change.id)
    flags = desk.warnings(change)
    assert flags == [f"disk {tmp_path / 'data.img'} is outside the host's storage pools"]
    with pytest.raises(ReviewError, match="reaches beyond the guest"):
        desk.merge(change.id)  # not accepted: nothing applied
    assert "<target dev='vdb' bus='virtio'/>" not in _xml(conn, BUILD01)
    desk.merge(change.id, accepted=flags)
    assert "<target dev='vdb' bus='virtio'/>" in _xml(conn, BUILD01)


def test_drift_marks_stale_blocks_merge_and_a_typed_change_rebases(
    test_desk: tuple[ReviewDesk, libvirt.virConnect],
) -> None:
    desk, conn = test_desk
    change = desk.draft("h", WEB01, "one vCPU", [SetVcpus(1)])
    desk.publish(change.id)
    desk.approve(change.id)
    # Someone else edits the same domain meanwhile (here: its description).
    drifted = _xml(conn, WEB01).replace(
        "<name>web01</name>", "<name>web01</name><description>edited elsewhere</description>"
    )
    conn.defineXMLFlags(drifted, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
    assert desk.check_stale(change.id).state is State.STALE
    with pytest.raises(ReviewError, match="stale: rebase it first"):
        desk.merge(change.id)
    assert conn.lookupByUUIDString(WEB01).info()[3] == 2

    rebased = desk.rebase(change.id)
    assert rebased.state is State.OPEN and rebased.valid_approvals == []  # approval voided
    assert "edited elsewhere" in rebased.proposed_xml
    desk.merge(change.id)
    assert conn.lookupByUUIDString(WEB01).info()[3] == 1
    assert "edited elsewhere" in _xml(conn, WEB01)  # the other edit survived


def test_merge_refuses_drift_it_finds_itself(
    test_desk: tuple[ReviewDesk, libvirt.virConnect],
) -> None:
    desk, conn = test_desk
    change = desk.draft("h", WEB01, "memory", [SetMemory(1024 * 1024)])
    desk.publish(change.id)
    conn.lookupByUUIDString(WEB01).setMemoryFlags(1536 * 1024, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    before = _xml(conn, WEB01)
    with pytest.raises(ReviewError, match="live configuration changed since it was drafted"):
        desk.merge(change.id)
    assert _xml(conn, WEB01) == before
    with pytest.raises(ReviewError, match="conflicts with the live configuration: memory"):
        desk.rebase(change.id)
    assert desk.store.get(change.id).state is State.CONFLICTED  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda xml: xml.replace(">2</vcpu>", ">-1</vcpu>"), "vCPU count must be a positive"),
        (lambda xml: xml.replace("<devices>", "<devices><bogus/>"), "does not validate"),
        (lambda xml: xml.replace("<name>web01", "<name"), "not well-formed"),
        (
            lambda xml: (
                "<?xml version='1.0'?><!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/"
                "passwd'>]>" + xml.replace("<name>web01</name>", "<name>&x;</name>")
            ),
            "DOCTYPE or entity",
        ),
        (
            lambda xml: xml.replace(
                "</devices>", "<!--" + "x" * 10 * 1024 * 1024 + "--></devices>"
            ),
            "more than the 1024 KiB",
        ),
    ],
    ids=["negative-vcpu", "unknown-element", "malformed", "xxe", "10MiB"],
)
def test_bad_proposals_are_refused_and_nothing_is_applied(
    test_desk: tuple[ReviewDesk, libvirt.virConnect], mangle: object, message: str
) -> None:
    desk, conn = test_desk
    before = _xml(conn, WEB01)
    proposed = mangle(before)  # type: ignore[operator]
    with pytest.raises(ReviewError, match=message):
        change = desk.draft("h", WEB01, "bad", [RawXml(proposed)])
        desk.publish(change.id)
        desk.merge(change.id)
    assert _xml(conn, WEB01) == before  # and the process is alive to say so


def test_approval_rules(fleet_uri: str, store: ReviewStore) -> None:
    desk, session = _desk(fleet_uri, store, required_approvals=1, forbid_self_approval=True)
    try:
        change = desk.draft("h", WEB01, "one vCPU", [SetVcpus(1)])
        desk.publish(change.id)
        with pytest.raises(ReviewError, match="forbid approving one's own"):
            desk.approve(change.id)
        with pytest.raises(ReviewError, match="has 0 of the 1 approvals from others it needs"):
            desk.merge(change.id)
        bob = ReviewDesk(store, desk.hosts, desk.rules, user="bob@desk")
        assert bob.approve(change.id).state is State.APPROVED
        assert desk.merge(change.id).change.state is State.MERGED
    finally:
        session.close()


def test_revert_and_patch_files_round_trip(
    test_desk: tuple[ReviewDesk, libvirt.virConnect],
) -> None:
    desk, conn = test_desk
    original = _xml(conn, WEB01)
    change = desk.draft("h", WEB01, "one vCPU", [SetVcpus(1)], "smaller")
    patch = desk.export_patch(change.id)
    assert patch.startswith(f"Subject: [virtui #{change.id}] one vCPU\nAuthor: alice@desk\n")
    desk.withdraw(change.id)

    imported = desk.import_patch(patch)
    assert canonical(imported.proposed_xml) == canonical(change.proposed_xml)
    assert imported.title == "one vCPU" and "written by alice@desk" in imported.description
    tampered = "".join(
        line.replace('current="1"', 'current="2"') if line.startswith("+") else line
        for line in patch.splitlines(keepends=True)
    )
    with pytest.raises(ReviewError, match="damaged"):
        desk.import_patch(tampered)
    desk.publish(imported.id)
    desk.merge(imported.id)
    assert "current='1'" in _xml(conn, WEB01)

    revert = desk.revert(imported.id)
    assert revert.title == f"Revert #{imported.id}: one vCPU"
    desk.publish(revert.id)
    desk.merge(revert.id)
    assert canonical(_xml(conn, WEB01)) == canonical(original)


def test_the_store_is_private_and_its_history_append_only(store: ReviewStore) -> None:
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    db = sqlite3.connect(store.path)
    db.execute(
        "INSERT INTO changes (title, description, author, created, host, domain_uuid, "
        "domain_name, base_xml, base_hash, proposed_xml, proposed_hash, ops, summary, state) "
        "VALUES ('t', '', 'a', 0, 'h', 'u', 'n', '', '', '', '', '[]', '[]', 'open')"
    )
    db.execute(
        "INSERT INTO events (change_id, created, user, kind, detail) VALUES (1, 0, 'a', 'k', '')"
    )
    db.commit()
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE events SET detail = 'rewritten'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM events")
    db.close()


KILLED_MID_MERGE = """
import sys, time
sys.path[:0] = {paths!r}
from tests.integration.test_review_desk import _desk
from virtui.review.ops import SetVcpus
from virtui.review.store import ReviewStore
store = ReviewStore(__import__("pathlib").Path({db!r}))
desk, session = _desk({uri!r}, store)
change = desk.draft("h", {uuid!r}, "one vCPU", [SetVcpus(1)])
desk.publish(change.id)
desk.comment(change.id, 0, "", "keep this comment")
port = desk.hosts.domain_config("h")
real_define = port.define_config
def slow_define(xml):
    print("defining", flush=True)
    time.sleep(60)  # killed here, between "merging" and the define's answer
    return real_define(xml)
port.define_config = slow_define
desk.merge(change.id)
"""


def test_kill_9_during_a_merge_leaves_the_store_intact(fleet_uri: str, tmp_path: Path) -> None:
    db = tmp_path / "reviews.db"
    script = KILLED_MID_MERGE.format(
        paths=[str(Path(__file__).parents[2]), str(Path(__file__).parents[2] / "src")],
        db=str(db),
        uri=fleet_uri,
        uuid=WEB01,
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "defining"
        process.kill()  # SIGKILL: no cleanup of any kind
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    store = ReviewStore(db)
    try:
        assert store.integrity() == "ok"
        (change_id,) = store.ids()
        change = store.get(change_id)
        assert change is not None and change.state is State.MERGING
        assert change.comments[0].text == "keep this comment"
        # The journal says the define was begun.
        assert [(e.kind, e.detail) for e in change.events][-2:] == [
            ("merging", ""),
            ("merge step", "define"),
        ]
        # The killed process's test-driver connection took its state with it: a fresh
        # connection sees the base, so recovery puts the change back where it was.
        desk, session = _desk(fleet_uri, store)
        try:
            assert desk.recover() == [change_id]
            recovered = store.get(change_id)
            assert recovered is not None and recovered.state is State.OPEN
            assert recovered.events[-1].kind == "merge interrupted"
        finally:
            session.close()
    finally:
        store.close()


def test_embedded_qemu_guest_gets_its_change_at_next_start(
    embedded_demo: EmbeddedDemo, embed_conn: libvirt.virConnect, tmp_path: Path, store: ReviewStore
) -> None:
    dom = define_guest(embed_conn, tmp_path)
    desk, _session = _desk(embedded_demo.uri, store)
    disk = tmp_path / "data.img"
    disk.write_bytes(b"\0" * 1024 * 1024)
    change = desk.draft(
        "h",
        dom.UUIDString(),
        "two vCPUs and a disk",
        [SetVcpus(2, maximum=2), AttachDevice(DISK.format(path=disk))],
    )
    assert change.summary == [
        "vcpu max 1→2: at next start"[:0] + "vcpu max 1→2: needs restart",
        "vcpu 1→2: at next start",
        "add disk vdb: at next start",
    ]
    desk.publish(change.id)
    # The embedded driver has no storage pools: the disk is flagged, and accepted here.
    result = desk.merge(change.id, accepted=desk.warnings(change))
    assert result.change.state is State.MERGED
    dom.create()
    time.sleep(0.5)
    assert dom.info()[3] == 2  # the real QEMU guest runs with two vCPUs
    assert "vdb" in dom.XMLDesc(0)

    # Memory change on the running guest: no balloon device, so libvirt refuses it live
    # and it waits for the restart, as the merge reports.
    change = desk.draft("h", dom.UUIDString(), "less memory", [SetMemory(16 * 1024)])
    assert change.summary == ["memory 32MiB→16MiB: live"]
    desk.publish(change.id)
    result = desk.merge(change.id)
    assert result.live == [] and "pending restart" in result.pending_restart[0]
    # It read "memory 32MiB→16MiB: live — not applied live (…)": said once, as it happened.
    assert result.pending_restart[0].startswith("memory 32MiB→16MiB: pending restart (the live")
    assert "<currentMemory unit='KiB'>16384</currentMemory>" in dom.XMLDesc(
        libvirt.VIR_DOMAIN_XML_INACTIVE
    )


def test_a_live_memory_change_the_guest_ignores_is_reported_as_it_is(
    embedded_demo: EmbeddedDemo, embed_conn: libvirt.virConnect, tmp_path: Path, store: ReviewStore
) -> None:
    # A balloon device but no driver in the guest (a boot sector): QEMU accepts the
    # request, the guest never gives the memory back. The report must not say "live".
    dom = define_guest(embed_conn, tmp_path, running=False)
    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE).replace(
        "<memballoon model='none'/>", "<memballoon model='virtio'/>"
    )
    dom = embed_conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
    dom.create()
    desk, _session = _desk(embedded_demo.uri, store)
    change = desk.draft("h", dom.UUIDString(), "less memory", [SetMemory(24 * 1024)])
    assert change.summary == ["memory 32MiB→24MiB: live"]
    desk.publish(change.id)
    result = desk.merge(change.id)
    assert result.live == []
    assert "the running guest has 32MiB" in result.pending_restart[0]
    assert dom.info()[2] == 32 * 1024  # what virsh dominfo says too
