"""The review desk's promises under concurrency and crashes, on a real libvirtd.

Each test drives ``virtui review`` (or a desk in a child process) against the QEMU driver
of a hand-started daemon, whose state every connection shares, then checks what libvirt
really holds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.integration.daemons import Daemon
from tests.integration.guests import define_guest, remove_test_guests
from virtui.monitor.hostports import HostPorts
from virtui.monitor.session import HostSession
from virtui.monitor.sessions import open_sessions
from virtui.monitor.store import DomainStore
from virtui.review.desk import ReviewDesk, ReviewRules
from virtui.review.model import State
from virtui.review.ops import SetMemory
from virtui.review.store import ReviewStore


@pytest.fixture
def guest(
    storage_daemon: Daemon, storage_check: libvirt.virConnect, tmp_path: Path
) -> Iterator[libvirt.virDomain]:
    dom = define_guest(storage_check, tmp_path)
    yield dom
    remove_test_guests(storage_check)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }


def _desk(uri: str, env: dict[str, str]) -> tuple[ReviewDesk, HostSession]:
    """A desk on the same store the child processes use."""
    sessions = open_sessions([uri], names={uri: "h"})
    sessions[0].backend.connect()
    store = ReviewStore(Path(env["XDG_STATE_HOME"]) / "virtui" / "reviews.db")
    return ReviewDesk(store, HostPorts(lambda: sessions, DomainStore()), ReviewRules()), sessions[0]


def _memory_kib(dom: libvirt.virDomain) -> int:
    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    return int(xml.split("<currentMemory unit='KiB'>")[1].split("<")[0])


def _cli(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "virtui", "review", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_merging_on_one_base_apply_exactly_one(
    storage_daemon: Daemon, guest: libvirt.virDomain, env: dict[str, str]
) -> None:
    desk, session = _desk(storage_daemon.qemu_uri, env)
    uuid = guest.UUIDString()
    try:
        for round_ in range(20):
            first_kib, second_kib = (40 + round_) * 1024, (100 + round_) * 1024
            first = desk.draft("h", uuid, f"a{round_}", [SetMemory(first_kib, first_kib)])
            second = desk.draft("h", uuid, f"b{round_}", [SetMemory(second_kib, second_kib)])
            desk.publish(first.id)
            desk.publish(second.id)
            one = _cli("merge", str(first.id), "--yes", env=env)
            two = _cli("merge", str(second.id), "--yes", env=env)
            outcomes = [(p.wait(60), p.communicate()) for p in (one, two)]
            codes = sorted(code for code, _out in outcomes)
            assert codes == [0, 1], outcomes
            loser_err = next(err for code, (_o, err) in outcomes if code == 1)
            assert "stale" in loser_err, loser_err
            states = {
                c.id: c.state for c in (desk.store.get(first.id), desk.store.get(second.id)) if c
            }
            assert sorted(s.label for s in states.values()) == ["merged", "stale"]
            winner = first if states[first.id] is State.MERGED else second
            expected = first_kib if winner is first else second_kib
            assert _memory_kib(guest) == expected  # libvirt holds the winner's change only
    finally:
        session.close()
        desk.store.close()


def test_the_same_change_merged_from_two_processes_is_recorded_once(
    storage_daemon: Daemon, guest: libvirt.virDomain, env: dict[str, str]
) -> None:
    desk, session = _desk(storage_daemon.qemu_uri, env)
    try:
        change = desk.draft("h", guest.UUIDString(), "48M", [SetMemory(48 * 1024, 48 * 1024)])
        desk.publish(change.id)
        runs = [_cli("merge", str(change.id), "--yes", env=env) for _ in range(2)]
        codes = sorted(p.wait(60) for p in runs)
        assert codes == [0, 1]
        merged = desk.store.get(change.id)
        assert merged is not None and merged.state is State.MERGED
        assert [e.kind for e in merged.events].count("merged") == 1
    finally:
        session.close()
        desk.store.close()


# A child that merges with a DomainConfigPort which stops at one step and waits to be killed.
_CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from virtui.monitor.store import DomainStore
    from virtui.review.desk import ReviewDesk, ReviewRules
    from virtui.review.store import ReviewStore
    from virtui.monitor.hostports import HostPorts
    from virtui.monitor.sessions import open_sessions

    uri, store_path, change_id, step = sys.argv[1:5]
    sessions = open_sessions([uri], names={uri: "h"})
    sessions[0].backend.connect()

    port = sessions[0].backend.domain_config_port()  # what HostPorts hands the desk
    real_define = port.define_config

    def stopping_define(xml):
        if step == "before-define":
            print("ready", flush=True); time.sleep(600)
        result = real_define(xml)
        print("ready", flush=True); time.sleep(600)
        return result

    port.define_config = stopping_define
    desk = ReviewDesk(ReviewStore(Path(store_path)), HostPorts(lambda: sessions, DomainStore()),
                      ReviewRules())
    desk.merge(int(change_id))
    """
)


@pytest.mark.parametrize(
    ("step", "drift", "settled"),
    [
        ("before-define", False, "open"),  # nothing applied: back where it was
        ("after-define", False, "merged"),  # libvirt has it: merged
        # Someone else set the memory the proposal set: neither, stale, and why.
        ("after-define", True, "stale"),
    ],
)
def test_a_merge_killed_at_each_step_is_settled_from_the_live_xml(
    storage_daemon: Daemon,
    guest: libvirt.virDomain,
    env: dict[str, str],
    step: str,
    drift: bool,
    settled: str,
) -> None:
    desk, session = _desk(storage_daemon.qemu_uri, env)
    try:
        change = desk.draft("h", guest.UUIDString(), "56M", [SetMemory(56 * 1024, 56 * 1024)])
        desk.publish(change.id)
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _CHILD,
                storage_daemon.qemu_uri,
                str(desk.store.path),
                str(change.id),
                step,
            ],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        assert desk.store.get(change.id).state is State.MERGING  # type: ignore[union-attr]
        if drift:  # someone else changes the same node before the desk opens again
            guest.setMemoryFlags(40 * 1024, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        assert desk.recover() == [change.id]
        after = desk.store.get(change.id)
        assert after is not None and after.state.label == settled
        if settled == "stale":
            assert "neither the base nor the proposal" in after.events[-1].detail
        if settled == "merged":
            assert _memory_kib(guest) == 56 * 1024
    finally:
        session.close()
        desk.store.close()
