"""--readonly: every key that would change something is refused, and says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.helpers import RecordingApp, action_log, column, status_text, wait_for
from virtui.cli.main import build_parser, settings_from
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.screens.confirm import ConfirmScreen
from virtui.screens.networks import NetworksScreen
from virtui.screens.prompt import PromptScreen
from virtui.tui.app import VirtuiApp


def _readonly_app(uri: str) -> VirtuiApp:
    settings = settings_from(build_parser().parse_args(["--readonly", "-c", uri]))
    assert settings.readonly
    sessions = open_sessions(settings.uris, readonly=True)
    return RecordingApp(settings, sessions=sessions, auto_poll=False)


@pytest.mark.parametrize(
    ("key", "verb"),
    [
        ("s", "start"),
        ("h", "shut down"),
        ("r", "reboot"),
        ("ctrl+k", "force off"),
        ("p", "pause"),
        ("w", "save"),
        ("a", "autostart on"),
        ("A", "autostart off"),
        ("ctrl+d", "undefine"),
        ("C", "clone"),
        ("n", "snapshot"),
        ("c", "attach to the console"),
        ("e", "draft a configuration change"),
        ("v", "draft a configuration change"),
        ("m", "draft a configuration change"),
        ("b", "draft a configuration change"),
        ("i", "draft a configuration change"),
        ("D", "draft a configuration change"),
        ("o", "migrate"),
        ("X", "reset"),
        ("ctrl+n", "create a guest"),
    ],
)
async def test_every_mutating_key_is_refused_with_a_reason(
    fleet_uri: str, key: str, verb: str
) -> None:
    app = _readonly_app(fleet_uri)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.poll_now()
        await pilot.pause()
        assert "READ-ONLY" in status_text(app)
        before = dict(zip(column(app, "name"), column(app, "state"), strict=True))
        await pilot.press(key)
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen | PromptScreen)  # not even asked
        assert isinstance(app, RecordingApp)
        title, text = app.titled[-1]
        assert title == f"{verb}: refused"
        assert "read-only" in text and "nothing was sent" in text
        assert all(": refused: " in line for line in action_log(app))  # nothing was run
        await app.poll_now()
        await pilot.pause()
        assert dict(zip(column(app, "name"), column(app, "state"), strict=True)) == before


async def test_a_failing_detail_read_is_shown_not_swallowed() -> None:
    # A recording has no detail to read: the screen's worker fails, and the user is told.
    recording = Path(__file__).parents[1] / "snapshots" / "recordings" / "fleet.json"
    uri = f"replay://{recording}"
    app = RecordingApp(Settings(uris=[uri]), sessions=open_sessions([uri]), auto_poll=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.poll_now()
        await pilot.press("enter")
        await wait_for(lambda: any("detail view is not possible" in text for text in app.told))


@pytest.mark.parametrize(
    ("key", "verb"),
    [
        ("s", "start a network"),
        ("ctrl+k", "stop a network"),
        ("a", "change autostart"),
        ("ctrl+d", "delete a network"),
        ("n", "create a network"),
        ("h", "draft a configuration change"),
        ("D", "draft a configuration change"),
        ("f", "draft a configuration change"),
        ("e", "draft a configuration change"),
    ],
)
async def test_every_networks_key_that_changes_is_refused_before_asking(
    network_uri: str, key: str, verb: str
) -> None:
    app = _readonly_app(network_uri)
    async with app.run_test(size=(160, 30)) as pilot:
        await app.poll_now()
        await pilot.press("6")
        await wait_for(lambda: isinstance(app.screen, NetworksScreen))
        screen = app.screen
        assert isinstance(screen, NetworksScreen)
        await wait_for(lambda: len(screen.networks) == 2)
        before = {k: (n.active, n.autostart) for k, n in screen.networks.items()}
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, NetworksScreen)  # no dialog, no form
        assert isinstance(app, RecordingApp)
        title, text = app.titled[-1]
        assert title == f"{verb}: refused"
        assert "read-only" in text and "nothing was sent" in text
        screen.reload()
        await pilot.pause()
        assert {k: (n.active, n.autostart) for k, n in screen.networks.items()} == before


@pytest.mark.parametrize(
    ("key", "verb"),
    [
        ("o", "open a change for review"),
        ("a", "approve"),
        ("x", "reject"),
        ("c", "comment"),
        ("m", "merge"),
        ("R", "rebase"),
        ("w", "withdraw"),
        ("v", "draft a revert"),
        ("e", "edit a change"),
        ("E", "export a patch"),
        ("i", "import a patch"),
    ],
)
async def test_the_review_desk_is_read_only_too(
    fleet_uri: str, tmp_path: Path, key: str, verb: str
) -> None:
    from tests.tui.helpers import own_desk
    from virtui.monitor.hostports import HostPorts
    from virtui.monitor.store import DomainStore
    from virtui.review.core import ReviewError, ReviewRules
    from virtui.review.desk import ReviewDesk
    from virtui.review.ops import SetVcpus
    from virtui.review.store import ReviewStore
    from virtui.screens.review import ReviewScreen

    WEB01 = "00000000-0000-4000-8000-000000000001"

    app = _readonly_app(fleet_uri)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.poll_now()
        # A change drafted by someone else on the same store, over a read-write link.
        sessions = open_sessions([fleet_uri])
        sessions[0].poll_once()
        writer = ReviewDesk(
            ReviewStore(tmp_path / "reviews.db"),
            HostPorts(lambda: sessions, DomainStore()),
            ReviewRules(),
            user="bob@desk",
        )
        change = writer.draft("test", WEB01, "one vCPU", [SetVcpus(1)])
        desk = own_desk(app, tmp_path)  # the app's own desk, on that store
        desk.readonly = True  # as --readonly makes it
        before = writer.store.get(change.id)
        await pilot.press("5")
        await wait_for(lambda: isinstance(app.screen, ReviewScreen))
        screen = app.screen
        await wait_for(lambda: screen.selected() is not None)  # type: ignore[attr-defined]
        await pilot.press(key)
        await pilot.pause()
        assert app.screen is screen  # nothing was asked
        assert isinstance(app, RecordingApp)
        assert app.titled[-1] == (
            f"{verb}: refused",
            f"cannot {verb}: the review desk is read-only (opened with --readonly); "
            "nothing was sent",
        )
        assert writer.store.get(change.id) == before  # nothing recorded, nothing changed
        with pytest.raises(ReviewError, match="read-only"):
            desk.approve(change.id)  # the desk itself refuses as well
        sessions[0].close()
