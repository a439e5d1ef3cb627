"""The desk service in this process, on a real Unix socket, over the test driver: what a
member's client is answered and what it is refused. (The caller is this account: the
accounts, the read-only libvirt and SSH are test_desk_service.py's.)"""

from __future__ import annotations

import grp
import hashlib
import os
import select
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from virtui.cli.desk import RunningDesk, open_desk
from virtui.config.deskfile import load_desk_config
from virtui.config.hostsfile import ConfigError
from virtui.review.client import DeskClient, SocketLink
from virtui.review.core import ReviewError
from virtui.review.ops import RawXml, SetVcpus

TEST = "6695eb01-f6a4-8304-79aa-97f2502e193f"  # test:///default's domain "test"
SECRET = "hunter2"


def _config(folder: Path, group: str = "", review: str = "") -> Path:
    group = group or grp.getgrgid(os.getegid()).gr_name
    path = folder / "desk.toml"
    path.write_text(
        f'[desk]\nsocket = "{folder}/run/desk.sock"\ngroup = "{group}"\n\n'
        f'[review]\nstore = "{folder}/state/reviews.db"\nhistory = "{folder}/state/config.git"\n'
        f"{review}\n"
        '[[hosts]]\nname = "test"\nuri = "test:///default"\n'
    )
    path.chmod(0o644)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    tmp_path.chmod(0o755)
    return tmp_path


def _serving(config: Path) -> Iterator[RunningDesk]:
    desk = open_desk(config)
    thread = threading.Thread(target=desk.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield desk
    finally:
        desk.server.shutdown()
        thread.join(10)
        desk.close()


@pytest.fixture
def served(folder: Path) -> Iterator[RunningDesk]:
    yield from _serving(_config(folder))


def _client(desk: RunningDesk) -> DeskClient:
    return DeskClient(SocketLink(str(desk.config.socket)))


def _with_password(desk: RunningDesk) -> str:
    """The test domain, given a VNC password on the service's own connection."""
    desk.hosts.ready("test")
    port = desk.hosts.ports.domain_config("test")
    xml = port.read_config(TEST).xml.replace(
        "</devices>", f"<graphics type='vnc' port='-1' passwd='{SECRET}'/></devices>"
    )
    return port.define_config(xml)


def test_members_never_see_a_secret_and_their_edits_keep_it(served: RunningDesk) -> None:
    live = _with_password(served)
    client = _client(served)
    shown = client.read_config("test", TEST)
    assert SECRET not in shown.xml and "passwd='(redacted)'" in shown.xml

    edited = shown.xml.replace("<vcpu placement='static'>2</vcpu>", "<vcpu>1</vcpu>")
    change = client.draft("test", TEST, "one vCPU", [RawXml(edited)])
    kept = served.service.store.get(change.id)
    assert kept is not None and f"passwd='{SECRET}'" in kept.proposed_xml  # restored
    for seen in (change, client.get(change.id), *client.changes()):
        assert SECRET not in repr(seen)
        # A bare hash of the text with the password in would let a member guess it.
        assert seen.base_hash != hashlib.sha256(live.encode()).hexdigest()
        assert seen.base_hash != kept.base_hash
    client.publish(change.id)
    approved = client.approve(change.id)
    assert [a.user for a in approved.valid_approvals] == [client.user]  # hashes still match

    result = client.merge(change.id)
    assert SECRET not in repr(result)
    merged = served.hosts.ports.domain_config("test").read_config(TEST).xml
    assert f"passwd='{SECRET}'" in merged and "<vcpu placement='static'>1</vcpu>" in merged
    editable = served.service.desk_for("x@y")  # the service's own view keeps the secret
    assert SECRET in editable.get(change.id).applied_xml


def test_a_step_the_service_does_not_have_or_bad_arguments_are_refused(
    served: RunningDesk,
) -> None:
    link = SocketLink(str(served.config.socket))
    for step in ("__init__", "store", "desk_for", "_get"):
        assert link.call({"op": step}) == {"refused": f"the desk has no step {step!r}"}
    assert link.call({"op": "approve", "args": {"id": "1"}}) == {"refused": "id must be a number"}
    assert "refused" in link.call({"op": "draft", "args": {"host": "test", "uuid": TEST}})
    answer = link.call({"op": "get", "args": {"id": 1, "user": "someone@else"}})
    assert answer == {"refused": "there is no change #1"}
    client = _client(served)
    with pytest.raises(ReviewError, match="the desk reaches no host 'elsewhere'"):
        client.draft("elsewhere", TEST, "x", [SetVcpus(1)])


def test_the_version_members_watch_moves_only_when_the_desk_changed(
    served: RunningDesk,
) -> None:
    client = _client(served)
    change = client.draft("test", TEST, "one vCPU", [SetVcpus(1)])
    before = client.data_version()
    client.check_stale(change.id)  # no drift: nothing written
    assert client.for_me() == 0 and client.data_version() == before
    client.comment(change.id, 0, "", "fine")
    assert client.data_version() != before


def test_a_caller_outside_the_group_is_refused(folder: Path) -> None:
    outside = next(
        g.gr_name
        for g in grp.getgrall()
        if g.gr_gid not in os.getgrouplist("root", 0) and g.gr_name == "nogroup"
    )
    for desk in _serving(_config(folder, group=outside)):
        with pytest.raises(ReviewError, match=f"root is not a member of {outside}"):
            _client(desk)
        # The refusal answers the caller's first request. Sent at once and the socket
        # closed, the caller's request arrived to a closed socket: a reset, and the
        # client said "Broken pipe" instead of why (once, in a CI run).
        raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        raw.connect(str(desk.config.socket))
        try:
            assert select.select([raw], [], [], 0.2)[0] == []  # nothing before the request
            raw.sendall(b'{"op": "hello"}\n')
            answer = raw.makefile("rb").readline()
            assert b"is not a member of" in answer
        finally:
            raw.close()


def test_rules_that_cannot_be_read_disable_merging_and_the_service_says_so(
    folder: Path,
) -> None:
    for desk in _serving(_config(folder, review="required_approvls = 1\n")):
        client = _client(desk)
        assert "unknown key(s) required_approvls" in client.rules.problem
        change = client.draft("test", TEST, "one vCPU", [SetVcpus(1)])
        client.publish(change.id)
        with pytest.raises(ReviewError, match=r"merging is disabled: .*required_approvls"):
            client.merge(change.id)


def test_a_rules_file_others_can_change_is_refused(folder: Path) -> None:
    config = _config(folder)
    config.chmod(0o664)
    with pytest.raises(ConfigError, match="mode 0664 lets others change the team's rules"):
        load_desk_config(config)
    config.chmod(0o644)
    folder.chmod(0o777)
    with pytest.raises(ConfigError, match="lets others change the folder of the team's rules"):
        load_desk_config(config)
    folder.chmod(0o755)
    config.write_text(config.read_text().replace("[desk]\n", "[desk]\nsockt = 1\n"))
    with pytest.raises(ConfigError, match=r"\[desk\] unknown key\(s\) sockt"):
        load_desk_config(config)
    (folder / "state").mkdir(mode=0o755)
    with pytest.raises(Exception, match="must be its account's alone"):
        open_desk(_config(folder))


async def test_a_members_tui_drafts_and_lists_through_the_service(served: RunningDesk) -> None:
    from tests.tui.helpers import RecordingApp, wait_for
    from virtui.config.settings import Settings
    from virtui.monitor.sessions import open_sessions
    from virtui.screens.prompt import PromptScreen
    from virtui.screens.review import ReviewScreen

    uri = "test:///default"  # the member's own connection; the service has its own
    settings = Settings(uris=[uri], review_desk=str(served.config.socket))
    app = RecordingApp(settings, sessions=open_sessions([uri]), auto_poll=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(lambda: isinstance(app.desk_watch.desk, DeskClient))
        await app.poll_now()
        await pilot.press("slash", *"test", "enter", "v")
        await wait_for(lambda: isinstance(app.screen, PromptScreen))
        app.screen.query_one("Input").value = "1"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(lambda: any("change #1 drafted" in t for t in app.told))
        kept = served.service.store.get(1)
        assert kept is not None and kept.author == served.service.desk_for("").user
        await pilot.press("5")
        await wait_for(lambda: isinstance(app.screen, ReviewScreen) and bool(app.screen.changes))
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert screen.filters[0] == "for me"  # a team's desk
        client = _client(served)
        client.comment(1, 0, "", "seen")  # another member's step: the list follows
        await wait_for(lambda: bool(screen.changes[1].comments))
