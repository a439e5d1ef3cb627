"""HistoryScreen: the git history of one domain's configuration (``:history NAME``):
every merge with who approved it, every change seen made outside virtui; Enter shows a
commit's diff, ``r`` drafts a change back to that version."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer

from virtui.review.history import Version
from virtui.review.model import ChangeRequest
from virtui.screens.base import VirtuiScreen
from virtui.screens.confirm import Choice, ConfirmScreen
from virtui.screens.text_view import TextScreen
from virtui.text import visible
from virtui.ui.calls import Calls
from virtui.widgets.plain import Static
from virtui.widgets.status_bar import StatusBar


@dataclass(frozen=True, slots=True)
class HistorySource:
    """One domain's history, as blocking calls bound to it."""

    domain: str  # "name on host", for titles
    versions: Callable[[], list[Version]]
    diff: Callable[[str], str]
    revert: Callable[[str], ChangeRequest]


class HistoryScreen(VirtuiScreen):
    """Commits newest first; the diff of the highlighted one on Enter."""

    HELP_TITLE = "Configuration history"
    HELP_NOTE = (
        "Every merge of the review desk is a commit (with its Approved-by: trailers); a "
        "change made outside virtui is committed as drift when virtui sees it. r drafts a "
        "change request back to the highlighted version (secrets are kept from the live "
        "configuration)."
    )

    BINDINGS = [
        Binding("enter", "show_diff", "Diff"),
        Binding("r", "revert", "Revert to this"),
        Binding("escape", "back", "Back"),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]

    DEFAULT_CSS = """
    HistoryScreen {
        & #empty { color: $text-muted; padding: 0 1; height: auto; }
    }
    """

    def __init__(self, source: HistorySource, calls: Calls) -> None:
        super().__init__()
        self.source = source
        self.calls = calls
        self.versions: list[Version] = []
        self.table: DataTable[str] = DataTable(id="history", cursor_type="row")

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static("", id="empty", markup=False)
        yield self.table
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.table.add_columns("When", "Who", "Commit", "What")
        self.query_one(StatusBar).set_parts(
            [
                ("virtui", "bold $accent"),
                (f"history of {self.source.domain}", "bold"),
                ("Enter diff · r revert to it", "$text-muted"),
            ]
        )
        self.table.focus()
        self.calls(
            f"history:{self.source.domain}",
            self.source.versions,
            self._show,
            lambda failure: self._failed(failure.message),
        )

    def _show(self, versions: list[Version]) -> None:
        if not self.is_attached:
            return
        self.versions = versions
        self.table.clear()
        for version in versions:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(version.when))
            subject = version.subject.partition(": ")[2] or version.subject
            self.table.add_row(
                when,
                visible(version.author),
                version.commit[:12],
                visible(subject),
                key=version.commit,
            )
        self.query_one("#empty", Static).update(
            "" if versions else "No commits yet: merges and drift seen from now on land here."
        )

    def selected(self) -> Version | None:
        """The highlighted commit."""
        if not self.versions:
            return None
        return self.versions[min(self.table.cursor_row, len(self.versions) - 1)]

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_show_diff()  # Enter on the table (the table takes the key first)

    def action_show_diff(self) -> None:
        version = self.selected()
        if version is None:
            return
        self.calls(
            f"history-diff:{version.commit}",
            lambda: self.source.diff(version.commit),
            lambda text: self.app.push_screen(TextScreen(f"{version.commit[:12]}", text)),
            lambda failure: self._failed(failure.message),
        )

    def action_revert(self) -> None:
        version = self.selected()
        if version is None:
            return

        def drafted(change: ChangeRequest) -> None:
            self.notify(f"change #{change.id} drafted: {change.title}. Press 5 to review it.")

        def chosen(answer: str | None) -> None:
            if answer:
                self.calls(
                    f"history-revert:{version.commit}",
                    lambda: self.source.revert(version.commit),
                    drafted,
                    lambda failure: self._failed(failure.message),
                )

        self.app.push_screen(
            ConfirmScreen(
                f"Draft a change back to {version.commit[:12]}?",
                [f"{self.source.domain}: {visible(version.subject)}"],
                "Nothing is applied now: the change goes to the review desk like any other.",
                [Choice("draft", "Draft", "y")],
            ),
            chosen,
        )
