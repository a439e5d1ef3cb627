"""The ``:`` command line, k9s style: each parsed command goes to the one thing that
does it (the parsing itself, with no Textual, is in ``tui.commands``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from textual.screen import Screen
from textual.theme import Theme
from textual.widget import Widget
from textual.widgets import Input

from virtui.screens.command import CommandLine
from virtui.screens.domains import DomainsScreen
from virtui.tui.hosts_controller import HostsController
from virtui.ui.commands import HELP, Command, CommandError, hidden_after, parse
from virtui.ui.top_screens import BY_WORD


class CommandLineApp(Protocol):
    """The little of the app the command line uses."""

    domains: DomainsScreen
    hosts: HostsController

    @property
    def focused(self) -> Widget | None:
        """The widget with the focus."""

    def push_screen(self, screen: Screen[Any], callback: Any = None) -> Any:
        """Show a screen."""

    @property
    def available_themes(self) -> dict[str, Theme]:
        """Every registered theme by name."""

    def front(self) -> Screen[object] | None:
        """The screen in front."""

    def switch_theme(self, name: str) -> bool:
        """Apply a theme; False when it was refused."""

    def notify(self, message: str, *, title: str = "", **kwargs: Any) -> None:
        """Show a notification."""

    def call_later(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        """Run a callback once the current message is handled."""

    def exit(self) -> None:
        """Quit."""

    def action_show(self, name: str, host: str = "", text: str = "", scoped: bool = False) -> None:
        """Show a top screen of the registry."""

    def open_history(self, host: str, name: str) -> None: ...


class CommandLineController:
    """Runs one command line at a time. UI thread only."""

    def __init__(self, app: CommandLineApp) -> None:
        self.app = app
        self.recall: list[str] = []  # what was typed, oldest first (↑ recalls it)
        self._commands: dict[str, Callable[[Command], None]] = {
            **{word: self._show for word in BY_WORD},
            "history": lambda c: app.open_history(c.host, c.text),
            "theme": self._theme,
            "columns": self._columns,
            "connect": lambda c: app.hosts.connect(c.text),
            "disconnect": lambda c: app.hosts.disconnect(c.text),
            "help": lambda _c: app.notify(HELP, title="command line", timeout=15),
            "quit": lambda _c: app.exit(),
        }

    def open(self) -> None:
        """Show the prompt (not twice); in a text field ':' is just text."""
        focused = self.app.focused
        if isinstance(focused, Input):
            focused.insert_text_at_cursor(":")
            return
        if not isinstance(self.app.front(), CommandLine):
            self.app.push_screen(CommandLine(self.recall), self.run)

    def run(self, line: str | None) -> None:
        """Do what a command line says (nothing for an empty one)."""
        if not line:
            return
        command = parse(line)
        handler = self._commands.get(command.name)
        if handler is not None:
            handler(command)

    def _show(self, command: Command) -> None:
        self.app.action_show(BY_WORD[command.name].name, command.host, command.text, scoped=True)

    def _theme(self, command: Command) -> None:
        app = self.app
        if command.text in app.available_themes:
            if app.switch_theme(command.text):
                app.notify(f"theme: {command.text}")
            return
        names = ", ".join(sorted(n for n in app.available_themes if n.startswith("virtui")))
        app.notify(f"no theme {command.text!r}: {names}", severity="error")

    def _columns(self, command: Command) -> None:
        table = self.app.domains.table
        try:
            hidden = hidden_after(command.text, table.hidden)
        except CommandError as error:
            self.app.notify(str(error), severity="error")
            return
        table.set_hidden(hidden)
