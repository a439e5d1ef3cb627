"""Reading what a user sees off a running app."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.screen import Screen
from textual.widgets import Input

from virtui.config.settings import Settings
from virtui.model import HostStatus
from virtui.monitor.hostports import HostPorts
from virtui.monitor.sessions import open_sessions
from virtui.review.desk import ReviewDesk
from virtui.review.store import ReviewStore
from virtui.screens.form import FormScreen
from virtui.screens.transfer import TransferScreen
from virtui.tui.app import VirtuiApp
from virtui.widgets.status_bar import StatusBar


def app_on(uri: str) -> VirtuiApp:
    """The app on one host, polled only when a test asks (``poll_now``)."""
    return VirtuiApp(Settings(uris=[uri]), sessions=open_sessions([uri]), auto_poll=False)


def column(app: VirtuiApp, key: str) -> list[str]:
    """The texts of one column, top to bottom, as displayed."""
    return app.domains.table.column_texts(key)


def status_text(app: VirtuiApp) -> str:
    """The status line of the screen in front."""
    return str(app.screen.query_one(StatusBar).render())


def showing(app: App[Any], kind: type[Screen[Any]]) -> bool:
    """Whether the screen in front is a ``kind`` with its widgets in place: a screen is
    in front as soon as it is pushed, and composed a moment later (a test that read it
    at once found it empty on a loaded machine)."""
    screen = app.screen
    return isinstance(screen, kind) and screen.is_mounted


async def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Let the app run until ``condition`` holds; fail after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.1)


async def text_screen_shown(app: App[Any]) -> str:
    """Once a text view (``TextScreen``) is in front and composed, the text it shows (a
    pushed screen is not composed at once: its Static comes a moment later)."""
    from virtui.screens.text_view import TextScreen

    def composed() -> bool:
        return isinstance(app.screen, TextScreen) and bool(app.screen.query("Static"))

    await wait_for(composed)
    return str(app.screen.query_one("Static").render())


class RecordingApp(VirtuiApp):
    """The real app, also keeping every notification text it showed and every screen it
    pushed (for assertions on dialogs that may close before a test looks)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.told: list[str] = []
        self.titled: list[tuple[str, str]] = []  # (title, text) of every notification
        self.pushed: list[Any] = []

    def push_screen(self, screen: Any, *args: Any, **kwargs: Any) -> Any:
        self.pushed.append(screen)
        return super().push_screen(screen, *args, **kwargs)

    def notify(self, message: str, *args: Any, **kwargs: Any) -> None:
        self.told.append(message)
        self.titled.append((kwargs.get("title", ""), message))
        super().notify(message, *args, **kwargs)


def action_log(app: VirtuiApp) -> list[str]:
    """The details of the timeline's action entries (what the logs screen shows)."""
    return [entry.detail for entry in app.timeline.entries if entry.kind == "action"]


def host_status(app: VirtuiApp, name: str) -> HostStatus | None:
    """A host's state as the app last recorded it (None before its first report)."""
    update = app.store.hosts.get(name)
    return update.status if update else None


async def keep_updating(app: VirtuiApp, names: list[str], timeout: float = 5.0) -> None:
    """Wait until every named host has reported again since now."""
    before = {name: app.store.hosts[name].wall_time for name in names}
    await wait_for(
        lambda: all(app.store.hosts[name].wall_time > then for name, then in before.items()),
        timeout,
    )


def own_desk(app: VirtuiApp, folder: Path, user: str = "alice@desk") -> ReviewDesk:
    """A review desk on a fresh store in ``folder`` (each test starts with no
    changes), over the app's own hosts; the app uses it from now on."""
    assert app.desk_watch.desk is not None
    desk = ReviewDesk(
        ReviewStore(folder / "reviews.db"),
        HostPorts(lambda: app.sessions, app.store),
        app.desk_watch.desk.rules,
        user=user,
    )
    app.desk_watch.desk = desk
    return desk


def screen_text(app: VirtuiApp) -> str:
    """What the terminal shows now, line by line, as text (from Textual's screenshot)."""
    lines: dict[float, list[tuple[float, str]]] = {}
    for match in re.finditer(
        r'<text[^>]*x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>', app.export_screenshot()
    ):
        x, y, text = float(match[1]), float(match[2]), html.unescape(match[3])
        lines.setdefault(y, []).append((x, text.replace("\xa0", " ")))
    return "\n".join("".join(t for _x, t in sorted(lines[y])) for y in sorted(lines))


async def start_upload(app: VirtuiApp, pilot: object, source: Path) -> TransferScreen:
    """``u`` on the selected pool with ``source``, named after it; the transfer dialog
    once its first progress came."""
    await pilot.press("u")  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, FormScreen))
    app.screen.query_one("#path", Input).value = str(source)
    app.screen.query_one("#name", Input).focus()
    await pilot.press("enter")  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, TransferScreen))
    transfer = app.screen
    assert isinstance(transfer, TransferScreen)
    await wait_for(lambda: transfer.last is not None, timeout=30)
    return transfer
