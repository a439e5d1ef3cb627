"""The review desk through its keys, on the test driver: draft, review, merge, drift."""

from __future__ import annotations

from pathlib import Path

from textual.widget import Widget
from textual.widgets import Input

from tests.tui.helpers import RecordingApp, own_desk, screen_text, showing, status_text, wait_for
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.review.desk import ReviewRules
from virtui.review.model import ChangeRequest, State
from virtui.review.ops import SetMemory, SetVcpus
from virtui.screens.confirm import ConfirmScreen
from virtui.screens.prompt import PromptScreen
from virtui.screens.review import ReviewScreen

WEB01 = "00000000-0000-4000-8000-000000000001"


def _app(uri: str, tmp_path: Path, **rules: object) -> RecordingApp:
    settings = Settings(uris=[uri], **rules)  # type: ignore[arg-type]
    app = RecordingApp(settings, sessions=open_sessions([uri]), auto_poll=False)
    return app


async def _prompt(app: RecordingApp, pilot: object, text: str) -> None:
    await wait_for(lambda: isinstance(app.screen, PromptScreen))
    app.screen.query_one(Input).value = text
    await pilot.press("enter")  # type: ignore[attr-defined]


async def test_draft_from_the_domains_screen_then_review_and_merge(
    fleet_uri: str, tmp_path: Path
) -> None:
    app = _app(fleet_uri, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        desk = own_desk(app, tmp_path)
        await app.poll_now()
        await pilot.press("slash", *"web01", "enter", "v")
        await _prompt(app, pilot, "9")
        assert "9 is more than the maximum 2" in str(app.screen.query_one("#error").render())
        app.screen.query_one(Input).value = "1"
        await pilot.press("enter")
        await wait_for(lambda: any("change #1 drafted: web01: vcpu 2→1" in t for t in app.told))
        backend = app.ports.domain_config("test")
        assert backend is not None
        assert backend.read_config(WEB01).xml.count("current=") == 0  # nothing applied

        await pilot.press("5")
        await wait_for(lambda: isinstance(app.screen, ReviewScreen) and bool(app.screen.changes))
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert screen.selected() is not None and screen.selected().state is State.DRAFT  # type: ignore[union-attr]
        await pilot.press("m")
        await wait_for(lambda: any("draft: open it first (o)" in t for t in app.told))
        await pilot.press("o")
        await wait_for(lambda: screen.changes[1].state is State.OPEN)

        await pilot.press("tab")  # the diff; down to the changed <vcpu> line
        for _ in range(len(screen.diff_table.lines)):  # bounded: no added line fails
            if str(screen._diff_line()[1])[:1] == "+":
                break
            await pilot.press("down")
        line, anchor = screen._diff_line()
        assert "current=" in anchor
        await pilot.press("c")
        await _prompt(app, pilot, "one is enough for a web server")
        await wait_for(lambda: bool(screen.changes[1].comments))
        comment = screen.changes[1].comments[0]
        assert (comment.line, comment.anchor, comment.author) == (line, anchor, "alice@desk")

        await pilot.press("a")
        await wait_for(lambda: screen.changes[1].state is State.APPROVED)
        await pilot.press("m")
        await wait_for(lambda: showing(app, ConfirmScreen))
        assert "✓ vcpu 2→1: live" in str(app.screen.query_one("#targets").render())
        await pilot.press("y")
        await wait_for(lambda: any("#1 merged into web01" in t for t in app.told))
        assert "current='1'" in backend.read_config(WEB01).xml
        await wait_for(lambda: screen.changes[1].state is State.MERGED)
        assert [e.kind for e in desk.store.get(1).events][-1] == "merged"  # type: ignore[union-attr]
        summary = str(screen.query_one("#summary").render())
        assert "libvirt normalised" in summary or "libvirt stored the proposal as it was" in summary

        await pilot.press("shift+tab", "slash")  # the list; filter by host or domain
        await _prompt(app, pilot, "db01")
        await wait_for(lambda: screen.list_table.row_count == 0)
        await pilot.press("slash")
        await _prompt(app, pilot, "web01@test")
        await wait_for(lambda: screen.list_table.row_count == 1)


async def test_drift_marks_a_change_stale_on_screen(fleet_uri: str, tmp_path: Path) -> None:
    app = _app(fleet_uri, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        desk = own_desk(app, tmp_path)
        await app.poll_now()
        await pilot.press("slash", *"web01", "enter", "m")
        await _prompt(app, pilot, "1G")
        await wait_for(lambda: bool(desk.store.ids()))
        backend = app.ports.domain_config("test")
        assert backend is not None
        # Edited elsewhere: libvirt's DEFINED event makes virtui check its open changes.
        xml = backend.read_config(WEB01).xml.replace("</name>", "</name><title>edited</title>")
        backend.define_config(xml)
        await wait_for(lambda: any("#1 went stale" in t for t in app.told), 10)
        await pilot.press("5")
        await wait_for(lambda: isinstance(app.screen, ReviewScreen) and bool(app.screen.changes))
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert screen.changes[1].state is State.STALE
        screen.changes[1] = screen.changes[1]  # the rebase below replaces it
        await pilot.press("R")
        # A rebase keeps a draft a draft (it was never opened for review).
        await wait_for(lambda: "<title>edited</title>" in screen.changes[1].proposed_xml)
        assert screen.changes[1].state.label == "draft"


async def test_self_approval_is_refused_when_the_rules_say_so(
    fleet_uri: str, tmp_path: Path
) -> None:
    app = _app(fleet_uri, tmp_path, required_approvals=1, forbid_self_approval=True)
    async with app.run_test(size=(160, 40)) as pilot:
        desk = own_desk(app, tmp_path)
        assert desk.rules == ReviewRules(1, True)
        await app.poll_now()
        await pilot.press("slash", *"web01", "enter", "v")
        await _prompt(app, pilot, "1")
        await wait_for(lambda: bool(desk.store.ids()))
        await pilot.press("5")
        await wait_for(lambda: isinstance(app.screen, ReviewScreen) and bool(app.screen.changes))
        await pilot.press("o")
        await pilot.press("a")
        await wait_for(lambda: any("forbid approving one's own" in t for t in app.told))
        await pilot.press("m")
        await wait_for(
            lambda: any("has 0 of the 1 approvals from others it needs" in t for t in app.told)
        )


async def test_the_other_review_keys(fleet_uri: str, tmp_path: Path) -> None:
    """t ] f x w e i v: each does what its help line says."""
    app = _app(fleet_uri, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        desk = own_desk(app, tmp_path)
        await app.poll_now()
        first = desk.draft("test", WEB01, "one vCPU", [SetVcpus(1)])
        desk.draft("test", WEB01, "less memory", [SetMemory(1024 * 1024)])
        await pilot.press("5")
        await wait_for(
            lambda: isinstance(app.screen, ReviewScreen) and len(app.screen.changes) == 2
        )
        screen = app.screen
        assert isinstance(screen, ReviewScreen)

        await pilot.press("t")  # side by side: base | marker | proposed
        assert [c.label.plain for c in screen.diff_table.columns.values()] == [
            "base",
            "",
            "proposed",
        ]
        await pilot.press("t")
        await pilot.press("right_square_bracket")  # the first hunk, in the diff
        assert screen.focused is screen.diff_table
        assert screen._diff_line()[1].startswith("@@")
        await pilot.press("shift+tab", "f")
        assert "filter: open (f)" in status_text(app)

        await pilot.press("x")  # reject the highlighted (newest) change, with a reason
        await _prompt(app, pilot, "not now")
        await wait_for(lambda: screen.changes[2].state is State.REJECTED)
        await wait_for(lambda: screen.list_table.row_count == 1)  # "open" hides it

        export = tmp_path / "one.patch"
        await pilot.press("E")  # e edits the proposal; E exports it
        await _prompt(app, pilot, str(export))
        await wait_for(export.exists)
        assert oct(export.stat().st_mode & 0o777) == "0o600"  # secrets redacted, all the same
        await pilot.press("w")
        await wait_for(lambda: screen.changes[first.id].state is State.WITHDRAWN)
        await pilot.press("i")
        await _prompt(app, pilot, str(export))
        await wait_for(lambda: len(screen.changes) == 3)
        imported = screen.changes[3]
        assert imported.state is State.DRAFT and imported.title == "one vCPU"

        desk.publish(3)
        desk.merge(3)
        screen.reload()
        await pilot.press("f", "f", "f")  # back to "all"
        await wait_for(lambda: screen.changes[3].state is State.MERGED)
        for _ in range(len(screen.changes)):  # bounded: a hidden row must fail, not hang
            if screen.selected_id() == 3:
                break
            await pilot.press("up")
        assert screen.selected_id() == 3
        await pilot.press("v")  # revert the merged change: a new request
        await wait_for(lambda: len(screen.changes) == 4)
        assert screen.changes[4].title == "Revert #3: one vCPU"


async def test_the_desk_shows_no_secret_and_asks_more_than_y_for_a_dangerous_merge(
    tmp_path: Path,
) -> None:
    from tests.fixtures.nodes import NodeDomain, write_node

    vault = NodeDomain("vault", devices="<graphics type='vnc' port='-1' passwd='t0p-s3cret'/>")
    uri = f"test://{write_node(tmp_path / 'node.xml', [vault])}"
    app = _app(uri, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        desk = own_desk(app, tmp_path)
        await app.poll_now()
        uuid = WEB01  # the first domain of a node file
        xml = desk.hosts.domain_config(app.sessions[0].name).read_config(uuid).xml
        wide = xml.replace("passwd='t0p-s3cret'", "passwd='n3w-s3cret' listen='0.0.0.0'")
        from virtui.review.ops import RawXml

        change = desk.draft(app.sessions[0].name, uuid, "open it up", [RawXml(wide)])
        desk.publish(change.id)
        await pilot.press("5")
        await wait_for(lambda: isinstance(app.screen, ReviewScreen) and bool(app.screen.changes))
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await wait_for(lambda: bool(screen.warnings.get(change.id)))
        shown = "\n".join(screen.diff_table.lines) + str(screen.query_one("#header").render())
        assert "s3cret" not in shown and "(redacted)" in shown
        assert "vnc console listens on 0.0.0.0" in shown
        await pilot.press("m")
        await wait_for(lambda: isinstance(app.screen, PromptScreen))  # not a y/n dialog
        app.screen.query_one(Input).value = "y"
        await pilot.press("enter")
        assert isinstance(app.screen, PromptScreen)  # "y" is not enough
        app.screen.query_one(Input).value = "vault"
        await pilot.press("enter")
        await wait_for(lambda: screen.changes[change.id].state is State.MERGED)


async def _a_request_shown(
    app: RecordingApp, pilot: object, tmp_path: Path
) -> tuple[ChangeRequest, ReviewScreen, Widget]:
    """A drafted request of web01 on the review desk, its header saying base = live."""
    desk = own_desk(app, tmp_path)
    await app.poll_now()
    change = desk.draft(app.sessions[0].name, WEB01, "one vCPU", [SetVcpus(1)])
    await pilot.press("5")  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, ReviewScreen) and bool(app.screen.changes))
    screen = app.screen
    assert isinstance(screen, ReviewScreen)
    header = screen.query_one("#header")
    await wait_for(lambda: "base = live ✓" in str(header.render()))
    return change, screen, header


async def test_the_shown_request_turns_stale_when_its_domain_is_defined_elsewhere(
    fleet_uri: str, tmp_path: Path
) -> None:
    app = _app(fleet_uri, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        change, screen, header = await _a_request_shown(app, pilot, tmp_path)
        backend = app.ports.domain_config("test")
        assert backend is not None
        xml = backend.read_config(WEB01).xml.replace("</name>", "</name><title>x</title>")
        backend.define_config(xml)  # as virsh attach-disk --config would, from outside
        # The DEFINED event re-checks the shown request: no cursor move needed.
        await wait_for(lambda: "live changed ✗" in str(header.render()), 10)
        assert screen.changes[change.id].state is State.STALE


async def test_an_empty_list_says_what_the_filter_hides(fleet_uri: str, tmp_path: Path) -> None:
    app = _app(fleet_uri, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        own_desk(app, tmp_path)
        bob = own_desk(app, tmp_path, user="bob@desk")
        await app.poll_now()
        change = bob.draft("test", WEB01, "web01: one vCPU", [SetVcpus(1)])
        bob.publish(change.id)
        mine = own_desk(app, tmp_path)  # alice's desk, on the same store
        mine.approve(change.id)
        await pilot.press("5")
        await wait_for(lambda: isinstance(app.screen, ReviewScreen) and bool(app.screen.changes))
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await pilot.press("f", "f")  # all → open → mine: alice wrote none of them
        await wait_for(lambda: screen.filter == "mine")
        await wait_for(lambda: "Nothing for the filter mine" in screen_text(app))
        text = " ".join(screen_text(app).split())
        assert "it hides 1 request(s), 1 approved and waiting for a merge" in text
        assert "No change requests" not in text


async def test_a_metadata_change_elsewhere_turns_the_shown_request_stale(
    fleet_uri: str, tmp_path: Path
) -> None:
    """``virsh desc --config`` changes the definition without a DEFINED event: libvirt's
    metadata-change event re-checks the shown request (it went unflagged for 40 s)."""
    import libvirt

    app = _app(fleet_uri, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        change, screen, header = await _a_request_shown(app, pilot, tmp_path)
        backend = app.ports.backend(app.sessions[0].name)
        conn = backend._link.connection()  # type: ignore[union-attr]
        conn.lookupByName("web01").setMetadata(
            libvirt.VIR_DOMAIN_METADATA_DESCRIPTION,
            "moved",
            None,
            None,
            libvirt.VIR_DOMAIN_AFFECT_CONFIG,
        )
        await wait_for(lambda: "live changed ✗" in str(header.render()), 10)
        assert screen.changes[change.id].state is State.STALE
