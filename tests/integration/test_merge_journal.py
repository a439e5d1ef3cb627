"""A merge's journal, on a real libvirtd: a merge cut at each step (the merging process
`kill -9`ed, or the daemon killed) is settled when the desk next opens, each step rolled
back or adopted and said so, and the change can be merged again after a roll-back."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.integration.daemons import Daemon, OneHost, daemons_available
from tests.integration.guests import (
    define_dir_pool,
    define_guest,
    remove_dir_pool,
    remove_test_guests,
)
from tests.requirements import require
from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.model.config import DomainConfig
from virtui.model.newguest import NewVolume
from virtui.review.desk import ReviewDesk, ReviewError, ReviewRules
from virtui.review.model import ChangeRequest, State
from virtui.review.newguest import GuestSpec, domain_xml
from virtui.review.ops import SetVcpus
from virtui.review.store import ReviewStore

MIB = 1024 * 1024
_pools = itertools.count(1)


def _pool(uri: str, folder: Path) -> str:
    name = f"journal{next(_pools)}"
    define_dir_pool(uri, name, folder)
    return name


def _new_guest(desk: ReviewDesk, pool: str, folder: Path, name: str) -> ChangeRequest:
    spec = GuestSpec(name, 1, 64, "generic", disk_path=str(folder / f"{name}.qcow2"))
    change = desk.draft_new(
        "h", domain_xml(spec), [NewVolume(pool, f"{name}.qcow2", 32 * MIB, "qcow2")], start=True
    )
    desk.publish(change.id)
    return change


# A child that merges with its backend stopping after one call, waiting to be killed.
_CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from tests.integration.daemons import OneHost
    from virtui.backends.libvirt.backend import LibvirtBackend
    from virtui.review.desk import ReviewDesk, ReviewRules
    from virtui.review.store import ReviewStore

    uri, store_path, change_id, after = sys.argv[1:5]
    backend = LibvirtBackend(uri, "h")
    backend.connect()
    port = backend.domain_config_port()  # what OneHost hands the desk
    real = getattr(port, after)

    def stopping(*args):
        result = real(*args)
        print("ready", flush=True)
        time.sleep(600)
        return result

    setattr(port, after, stopping)
    desk = ReviewDesk(ReviewStore(Path(store_path)), OneHost(backend), ReviewRules(),
                      user="a@b")
    desk.merge(int(change_id))
    """
)


def _merge_killed_after(uri: str, store: Path, change_id: int, after: str) -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-X",
            "faulthandler",
            "-c",
            _CHILD,
            uri,
            str(store),
            str(change_id),
            after,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    assert child.stdout is not None and child.stderr is not None
    if child.stdout.readline().strip() != "ready":
        # Ended before the step: say how, and what it printed (a traceback, a fault).
        code = child.wait(60)
        pytest.fail(f"the merging child ended before {after} (exit {code}): {child.stderr.read()}")
    child.send_signal(signal.SIGKILL)
    child.wait(10)


@pytest.fixture
def pool(storage_daemon: Daemon, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    folder = tmp_path / "pool"
    folder.mkdir()
    name = _pool(storage_daemon.qemu_uri, folder)
    yield name, folder
    remove_dir_pool(storage_daemon.qemu_uri, name, "jvm")


@pytest.fixture
def desk(storage_daemon: Daemon, tmp_path: Path) -> Iterator[ReviewDesk]:
    backend = LibvirtBackend(storage_daemon.qemu_uri, "h")
    backend.connect()
    store = ReviewStore(tmp_path / "r.db")
    yield ReviewDesk(store, OneHost(backend), ReviewRules(), user="a@b")
    store.close()
    backend.close()


@pytest.mark.parametrize(
    ("after", "settled", "said"),
    [
        # The volume made, the define never reached: rolled back, the volume removed.
        ("create_guest_volume", "open", "rolled back: the domain was never defined; removed"),
        # Defined, never started: adopted with its volume.
        ("define_config", "merged", "adopted volume"),
        # Defined and started: adopted, and it runs.
        ("start_domain", "merged", "started"),
    ],
)
def test_a_new_guest_cut_at_each_step_is_rolled_back_or_adopted_and_says_which(
    storage_daemon: Daemon,
    pool: tuple[str, Path],
    desk: ReviewDesk,
    after: str,
    settled: str,
    said: str,
) -> None:
    name, folder = pool
    change = _new_guest(desk, name, folder, "jvm-cut")
    _merge_killed_after(storage_daemon.qemu_uri, desk.store.path, change.id, after)
    assert (folder / "jvm-cut.qcow2").exists()
    assert desk.store.get(change.id).state is State.MERGING  # type: ignore[union-attr]

    assert desk.recover() == [change.id]
    after_recovery = desk.store.get(change.id)
    assert after_recovery is not None and after_recovery.state.label == settled
    assert said in after_recovery.events[-1].detail, after_recovery.events[-1].detail
    conn = libvirt.open(storage_daemon.qemu_uri)
    try:
        if settled == "open":
            assert not (folder / "jvm-cut.qcow2").exists()
            # Nothing half-made is in the way: the same change merges now.
            assert desk.merge(change.id).change.state is State.MERGED
        merged = desk.store.get(change.id)
        assert merged is not None
        dom = conn.lookupByName("jvm-cut")
        assert dom.isActive() == (after != "define_config"), (
            dom.state(),
            [event.detail for event in merged.events][-4:],
        )
    finally:
        conn.close()


def test_a_define_cut_by_a_killed_daemon_is_taken_back_when_the_daemon_answers(
    tmp_path: Path,
) -> None:
    require(daemons_available(), "start libvirtd")
    daemon = Daemon(keep_config=True)
    daemon.start()
    folder = tmp_path / "pool"
    folder.mkdir()
    backend = LibvirtBackend(daemon.qemu_uri, "h")
    store = ReviewStore(tmp_path / "r.db")
    name = ""
    try:
        name = _pool(daemon.qemu_uri, folder)
        backend.connect()
        desk = ReviewDesk(store, OneHost(backend), ReviewRules(), user="a@b")
        change = _new_guest(desk, name, folder, "jvm-lost")
        port = backend._config  # what OneHost hands the desk
        real_define = port.define_config

        def daemon_dies_first(xml: str) -> str:
            daemon.kill()  # kill -9 of libvirtd between the volume and the define
            return real_define(xml)

        port.define_config = daemon_dies_first  # type: ignore[method-assign]
        with pytest.raises(ReviewError) as refused:
            desk.merge(change.id)
        message = refused.value.message
        # The define may have reached libvirt before it died: nothing is guessed.
        assert "the define did not answer" in message, message
        assert "nothing is taken back" in message
        assert "removed volume" not in message  # nothing claimed that was not done
        assert "stays merging until the host answers" in message
        assert (folder / "jvm-lost.qcow2").exists()
        assert desk.recover() == []  # the host does not answer: nothing is guessed
        assert store.get(change.id).state is State.MERGING  # type: ignore[union-attr]

        daemon.start()
        port.define_config = real_define  # type: ignore[method-assign]
        backend.connect()
        assert desk.recover() == [change.id]
        back = store.get(change.id)
        assert back is not None and back.state is State.OPEN
        assert f"removed volume {name}/jvm-lost.qcow2" in back.events[-1].detail
        assert not (folder / "jvm-lost.qcow2").exists()
        # and no "volume exists already" now
        assert desk.merge(change.id).change.state is State.MERGED
    finally:
        store.close()
        backend.close()
        if name and daemon.process is not None:  # its started guest's QEMU goes too
            with contextlib.suppress(libvirt.libvirtError):
                remove_dir_pool(daemon.qemu_uri, name, "jvm")
        daemon.remove()


@pytest.fixture
def two_vcpus(
    storage_check: libvirt.virConnect, desk: ReviewDesk, tmp_path: Path
) -> Iterator[tuple[libvirt.virDomain, ChangeRequest]]:
    """A shut-off guest and an open change request giving it 2 vCPUs."""
    dom = define_guest(storage_check, tmp_path)
    change = desk.draft("h", dom.UUIDString(), "2 vCPUs", [SetVcpus(2, 2)])
    desk.publish(change.id)
    yield dom, change
    remove_test_guests(storage_check)


def test_an_edit_cut_after_the_define_stays_adopted_beside_an_adjacent_edit(
    storage_daemon: Daemon,
    desk: ReviewDesk,
    two_vcpus: tuple[libvirt.virDomain, ChangeRequest],
) -> None:
    dom, change = two_vcpus
    _merge_killed_after(storage_daemon.qemu_uri, desk.store.path, change.id, "define_config")
    # `virsh setmem --config`: the line next to <vcpu> changes, not the vCPUs.
    dom.setMemoryFlags(24 * 1024, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    assert desk.recover() == [change.id]
    after = desk.store.get(change.id)
    assert after is not None and after.state is State.MERGED
    assert "other changes beside it were made outside" in after.events[-1].detail


def test_a_define_by_someone_else_inside_the_merge_window_is_reported(
    storage_check: libvirt.virConnect,
    desk: ReviewDesk,
    two_vcpus: tuple[libvirt.virDomain, ChangeRequest],
) -> None:
    dom, change = two_vcpus
    backend = desk.hosts.domain_config("h")
    real_read = backend.read_config

    late = threading.Event()

    class LateEvents(threading.Condition):
        """A fake of timing (a loaded machine cannot be ordered on demand): once armed,
        libvirt's event thread hands over each event 0.3 s late."""

        def __enter__(self) -> bool:
            if late.is_set() and threading.current_thread().name == "libvirt-events":
                time.sleep(0.3)
            return super().__enter__()

    backend._link.defined = LateEvents()  # type: ignore[attr-defined]

    def someone_defines_right_after_the_read(uuid: str) -> DomainConfig:
        config = real_read(uuid)
        # `virsh define` from another shell, after the drift check's read; its event is
        # in before the merge's own define, whose event then comes late: the merge's
        # wait finds one event at once and must not take it for its own.
        counted = backend.define_count(uuid)  # type: ignore[attr-defined]
        xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        storage_check.defineXML(xml.replace("</name>", "</name><title>theirs</title>"))
        assert backend.await_define(uuid, counted, 30) == counted + 1  # type: ignore[attr-defined]
        late.set()
        return config

    backend.read_config = someone_defines_right_after_the_read  # type: ignore[method-assign]
    result = desk.merge(change.id)
    warnings = [line for line in result.change.outcome if line.startswith("warning:")]
    assert len(warnings) == 1 and "another define of" in warnings[0], result.change.outcome
    backend.read_config = real_read  # type: ignore[method-assign]
    late.clear()
    # An ordinary merge says nothing of the kind.
    again = desk.draft("h", dom.UUIDString(), "1 vCPU", [SetVcpus(1, 2)])
    desk.publish(again.id)
    merged = desk.merge(again.id).change
    assert not [line for line in merged.outcome if line.startswith("warning:")]
