"""LogsScreen: one live timeline of every host's events, connections, actions and
virtui's own warnings, with filters, pause/follow, QEMU logs and daemon logging."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer

from virtui.config.log_settings import DEBUG_WARNING, check_filters, check_outputs, uses_debug
from virtui.formatting import plural
from virtui.model.timeline import DaemonLogging, LogEntry, LogLocation, Severity
from virtui.monitor.timeline import FilterError, LogFilter, Timeline
from virtui.ports.logs import LogsHosts
from virtui.screens.base import VirtuiScreen
from virtui.screens.confirm import Choice, ConfirmScreen
from virtui.screens.form import Field, FormScreen
from virtui.screens.navigation import TopScreenMark, navigation_keys
from virtui.screens.prompt import PromptScreen
from virtui.screens.tail import TailScreen
from virtui.screens.text_view import TextScreen
from virtui.ui.broadcast import subscribe
from virtui.ui.calls import Calls, Failure
from virtui.ui.messages import TimelineNote
from virtui.widgets.log_view import LogView, entry_texts
from virtui.widgets.status_bar import StatusBar

FILTER_HINT = (
    "Words: host:NAME dom:NAME kind:KIND sev:warning (or error, info, debug), "
    "and plain words that must all occur. Empty shows everything."
)


class LogsScreen(TopScreenMark, VirtuiScreen):
    """The timeline, newest at the bottom; follows new lines until the cursor moves up."""

    HELP_TITLE = "Logs"
    HELP_NOTE = (
        "Filter words: host:NAME dom:NAME kind:KIND sev:LEVEL and plain words. "
        "The cursor keys move; End follows the newest line again."
    )

    BINDINGS = [
        Binding("slash", "filter", "Filter", priority=True),
        Binding("p", "pause", "Pause/resume"),
        Binding("L", "qemu_log", "QEMU log"),
        Binding("D", "daemon_logging", "Daemon logging"),
        Binding("V", "own_log", "virtui's log", show=False),
        Binding("escape", "escape", "Clear filter / back", show=False),
        Binding("1", "back", "Domains"),
        *navigation_keys("4"),
    ]

    def __init__(self, timeline: Timeline, hosts: LogsHosts, calls: Calls, own_log: Path) -> None:
        super().__init__()
        self.timeline = timeline
        self.hosts = hosts
        self.calls = calls
        self.own_log = own_log
        self.filter = LogFilter()
        self.paused = False
        self.missed = 0  # matching entries that arrived while paused
        self.view = LogView(id="timeline")

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield self.view
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.view.focus()
        subscribe(self, "logged", LogsScreen.entry_added)
        self._reshow()

    # -- content ------------------------------------------------------------------------

    def entry_added(self, entry: LogEntry) -> None:
        """The app kept a new entry: show it if it passes the filter (and not paused)."""
        if not self.filter.matches(entry):
            return
        if self.paused:
            self.missed += 1
        else:
            self.view.append(entry)
            self.view.trim(self.timeline.entries.maxlen or len(self.view.entries))
        self._show_status()

    def _reshow(self) -> None:
        self.view.show(self.timeline.matching(self.filter))
        self.missed = 0
        self._show_status()

    def _show_status(self) -> None:
        shown = len(self.view.entries)
        count = plural(shown, "line")
        if not self.filter.empty:
            count += f" of {len(self.timeline.entries)}"
        if self.paused:
            state = f"PAUSED ({self.missed} new) · p resumes"
        elif self.view.following:
            state = "following"
        else:
            state = "scrolled back · End follows"
        parts = [
            ("virtui", "bold $accent"),
            (f"logs: {count}", ""),
            (state, "bold $text-warning" if self.paused else "bold"),
        ]
        if not self.filter.empty:
            parts.append((f"filter: {self.filter.text}", "$text-accent"))
        self.query_one(StatusBar).set_parts(parts)

    def on_log_view_opened(self, message: LogView.Opened) -> None:
        entry = message.entry
        texts = entry_texts(entry)
        self.app.push_screen(
            TextScreen(
                f"{texts[0]} {entry.severity.label} {entry.kind}",
                f"host: {entry.host or '-'}\ndomain: {entry.domain or '-'}\n\n{entry.detail}",
            )
        )

    def on_log_view_follow_changed(self, _message: LogView.FollowChanged) -> None:
        self._show_status()

    # -- keys ---------------------------------------------------------------------------

    def action_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            self._show_status()
        else:
            self._reshow()  # catch up with what came meanwhile

    def action_filter(self) -> None:
        def check(text: str) -> str:
            try:
                LogFilter.parse(text)
            except FilterError as error:
                return str(error)
            return ""

        def entered(text: str | None) -> None:
            if text is not None:
                self.filter = LogFilter.parse(text)
                self._reshow()

        self.app.push_screen(
            PromptScreen("Filter the timeline", FILTER_HINT, check, self.filter.text), entered
        )

    def set_filter(self, text: str) -> None:
        """Filter the timeline (as ``/`` does); a bad filter is said, not applied."""
        try:
            self.filter = LogFilter.parse(text)
        except FilterError as error:
            self.notify(str(error), severity="error")
            return
        self._reshow()

    def action_escape(self) -> None:
        if not self.filter.empty:
            self.filter = LogFilter()
            self._reshow()
        else:
            self.action_back()

    def action_qemu_log(self) -> None:
        entry = self.view.selected
        if entry is None or not entry.domain or not entry.host:
            self.notify("move to a line about a domain first", severity="warning")
            return
        location = self.hosts.logs(entry.host).qemu_log(entry.domain)
        self.app.push_screen(
            TailScreen(f"QEMU log of {entry.domain} on {entry.host}", location, self.calls)
        )

    def action_own_log(self) -> None:
        self.app.push_screen(
            TailScreen("virtui's own log", LogLocation(str(self.own_log), True), self.calls)
        )

    def action_daemon_logging(self) -> None:
        entry = self.view.selected
        hosts = self.hosts.host_names()
        host = entry.host if entry is not None and entry.host in hosts else ""
        if not hosts:
            self.notify("no hosts", severity="warning")
            return

        def check(name: str) -> str:
            return "" if name in hosts else f"{name!r} is not a host: {', '.join(hosts)}"

        def entered(name: str | None) -> None:
            if name:
                self._read_daemon_logging(name)

        self.app.push_screen(
            PromptScreen("Daemon logging", "Host:", check, host or hosts[0]), entered
        )

    def _read_daemon_logging(self, host: str) -> None:
        self.calls(
            f"daemon-logging:{host}",
            lambda: self.hosts.logs(host).daemon_logging(),
            lambda current: self._edit_daemon_logging(host, current),
            lambda failure: self.notify(f"{host}: {failure.message}", severity="error", timeout=10),
        )

    def _edit_daemon_logging(self, host: str, current: DaemonLogging) -> None:
        def check(values: dict[str, str]) -> str:
            return check_filters(values["filters"]) or check_outputs(values["outputs"])

        def chosen(values: dict[str, str] | None) -> None:
            if values is None:
                return
            if values["filters"] == current.filters and values["outputs"] == current.outputs:
                self.notify(f"{host}: daemon logging unchanged")
                return
            if uses_debug(values["filters"], values["outputs"]):
                self.app.push_screen(
                    ConfirmScreen(
                        f"Debug logging on {host}?",
                        [
                            f"filters: {values['filters'] or '(none)'}",
                            f"outputs: {values['outputs']}",
                        ],
                        DEBUG_WARNING,
                        [Choice("apply", "Apply", "y")],
                    ),
                    lambda answer: self._apply(host, values) if answer else None,
                )
            else:
                self._apply(host, values)

        self.app.push_screen(
            FormScreen(
                f"Daemon logging on {host}",
                DEBUG_WARNING,
                [
                    Field(
                        "filters", "Filters (LEVEL:NAME ...)", current.filters, "1:qemu 3:object"
                    ),
                    Field("outputs", "Outputs", current.outputs, "3:stderr"),
                ],
                check,
            ),
            chosen,
        )

    def _apply(self, host: str, values: dict[str, str]) -> None:
        def applied(now: DaemonLogging) -> None:
            text = f"daemon logging: filters {now.filters or '(none)'}; outputs {now.outputs}"
            self.post_message(TimelineNote(LogEntry.now(host, "", "action", text)))
            self.notify(f"{host}: {text}")

        def failed(failure: Failure) -> None:
            why = failure.message
            note = LogEntry.now(host, "", "action", f"daemon logging: {why}", Severity.ERROR)
            self.post_message(TimelineNote(note))
            self.notify(why, severity="error", timeout=10)

        self.calls(
            f"daemon-logging:{host}",
            lambda: self.hosts.logs(host).set_daemon_logging(values["filters"], values["outputs"]),
            applied,
            failed,
        )

    # -- navigation ---------------------------------------------------------------------
