"""ReviewScreen: the review desk. Change requests on the left; on the right the summary,
then the diff against the live base with comment threads inline."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Static

from virtui.model.timeline import LogEntry, Severity
from virtui.review.desk import MergeResult, ReviewDesk
from virtui.review.diff import shown_diff, shown_side_by_side
from virtui.review.model import ChangeRequest, Comment, State
from virtui.review.patchfile import write_private
from virtui.review.xmlsafe import XmlRefused
from virtui.screens.confirm import Choice, ConfirmScreen
from virtui.screens.editor import edit_text
from virtui.screens.failures import VirtuiScreen
from virtui.screens.prompt import PromptScreen
from virtui.screens.transfer import Runner
from virtui.text import error_text, visible
from virtui.tui.messages import TimelineNote
from virtui.widgets.status_bar import StatusBar

FILTERS = ("all", "open", "mine", "stale")
_OPEN = (State.DRAFT, State.OPEN, State.APPROVED)


class ReviewScreen(VirtuiScreen):
    """Keyboard-only review: move, comment, approve, merge."""

    HELP_TITLE = "Review desk"
    HELP_NOTE = (
        "Tab moves between the list and the diff; c on a diff line comments on it. "
        "e edits the proposal in $EDITOR on the live configuration (a conflict comes "
        "with <<<<<<< markers to resolve). "
        "Changes are drafted on the domains screen: e XML, v vCPUs, m memory, b disk."
    )

    BINDINGS = [
        Binding("o", "publish", "Open draft"),
        Binding("c", "comment", "Comment"),
        Binding("a", "approve", "Approve"),
        Binding("m", "merge", "Merge"),
        Binding("R", "rebase", "Rebase"),
        Binding("x", "reject", "Reject", show=False),
        Binding("w", "withdraw", "Withdraw", show=False),
        Binding("v", "revert", "Revert merged", show=False),
        Binding("t", "toggle_layout", "Unified/side by side", show=False),
        Binding("right_square_bracket", "hunk(1)", "Next hunk", key_display="]", show=False),
        Binding("left_square_bracket", "hunk(-1)", "Previous hunk", key_display="[", show=False),
        Binding("f", "cycle_filter", "Filter", show=False),
        Binding("slash", "filter_text", "Filter by host/domain", show=False),
        Binding("e", "edit", "Edit / resolve", show=False),
        Binding("E", "export", "Export patch", show=False),
        Binding("i", "import_patch", "Import patch", show=False),
        Binding("1,escape", "back", "Domains"),
        Binding("2", "app.show_hosts", "Hosts", show=False),
        Binding("3", "app.show_storage", "Storage", show=False),
        Binding("4", "app.show_logs", "Logs", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "app.quit", "Quit"),
    ]

    COMPONENT_CLASSES = {
        "review--added",
        "review--removed",
        "review--hunk",
        "review--muted",
        "review--live",
        "review--restart",
        "review--state",
    }

    DEFAULT_CSS = """
    ReviewScreen {
        & > .review--added { color: $text-success; }
        & > .review--removed { color: $text-error; }
        & > .review--hunk { color: $text-accent; }
        & > .review--muted { color: $text-secondary; }
        & > .review--live { color: $text-success; }
        & > .review--restart { color: $text-warning; }
        & > .review--state { color: $text-accent; text-style: bold; }
        & #desk { height: 1fr; }
        & #changes { width: 46%; border-right: solid $primary-muted; }
        & #right { width: 1fr; }
        & #header { height: auto; padding: 0 1; background: $panel; }
        & #summary { height: auto; padding: 0 1; }
        & #diff { height: 1fr; }
    }
    """

    def __init__(self, desk: ReviewDesk, runner: Runner) -> None:
        super().__init__()
        self.desk = desk
        self.runner = runner
        self.changes: dict[int, ChangeRequest] = {}
        self.filter = "all"
        self.text_filter = ""  # host or domain substring
        self.side_by_side = False
        self.live_matches: dict[int, bool] = {}  # change -> base equals live (last check)
        self.diff_lines: list[str] = []
        self.warnings: dict[int, list[str]] = {}  # change -> what reaches beyond the guest
        self.list_table: DataTable[object] = DataTable(id="changes", cursor_type="row")
        self.diff_table: DataTable[object] = DataTable(id="diff", cursor_type="row")

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="desk"):
            yield self.list_table
            with Vertical(id="right"):
                yield Static("", id="header")
                yield Static("", id="summary")
                yield self.diff_table
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.list_table.add_columns("", "#", "Domain", "Title", "State")
        self.list_table.focus()
        self._status()
        self.reload(recover=True)

    # -- reading ------------------------------------------------------------------------

    def reload(self, recover: bool = False) -> None:
        """Read every change again (on a thread); after a crash, settle merges first."""

        def work() -> None:
            if recover:
                self.desk.recover()
            changes = [c for i in self.desk.store.ids() if (c := self.desk.store.get(i))]
            self.app.call_from_thread(self._show_list, changes)

        self.runner("review:reload", work)

    def _visible(self, change: ChangeRequest) -> bool:
        where = f"{change.domain_name}@{change.host}".lower()
        if self.text_filter and self.text_filter.lower() not in where:
            return False
        if self.filter == "open":
            return change.state in _OPEN
        if self.filter == "mine":
            return change.author == self.desk.user
        if self.filter == "stale":
            return change.state in (State.STALE, State.CONFLICTED)
        return True

    def _show_list(self, changes: list[ChangeRequest]) -> None:
        selected = self.selected_id()
        for change in changes:  # what was checked against the live XML may be old now
            before = self.changes.get(change.id)
            if before is not None and before.state is not change.state:
                self.live_matches.pop(change.id, None)
        self.changes = {c.id: c for c in changes}
        table = self.list_table
        table.clear()
        for change in changes:
            if self._visible(change):
                table.add_row(
                    change.state.glyph,
                    str(change.id),
                    visible(f"{change.domain_name}@{change.host}"),
                    visible(change.title),
                    _state_text(change, self.desk.rules.approvals_needed),
                    key=str(change.id),
                )
        if selected is not None and str(selected) in {k.value for k in table.rows}:
            table.move_cursor(row=table.get_row_index(str(selected)))
        self._status()
        self._show_change()

    def selected_id(self) -> int | None:
        """The number of the highlighted change."""
        table = self.list_table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key else None

    def selected(self) -> ChangeRequest | None:
        """The highlighted change."""
        number = self.selected_id()
        return self.changes.get(number) if number is not None else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self.list_table:
            self._show_change()
            self._check_live()

    def _check_live(self) -> None:
        change = self.selected()
        if change is None or change.state.closed:
            return

        def work() -> None:
            warnings = self.desk.warnings(change)
            try:
                checked = self.desk.check_stale(change.id)
            except Exception:
                checked = change  # host unreachable: the badge says "not checked"
            self.app.call_from_thread(self._checked, checked, warnings)

        self.runner(f"review:check:{change.id}", work)

    def _checked(self, change: ChangeRequest, warnings: list[str]) -> None:
        self.warnings[change.id] = warnings
        self.live_matches[change.id] = change.state is not State.STALE
        before = self.changes.get(change.id)
        self.changes[change.id] = change
        if before is not None and before.state is not change.state:
            self.reload()
        elif self.selected_id() == change.id:
            self._show_header(change)

    # -- drawing ------------------------------------------------------------------------

    def _status(self) -> None:
        waiting = sum(1 for c in self.changes.values() if c.state in _OPEN)
        self.query_one(StatusBar).set_parts(
            [
                ("virtui", "bold $accent"),
                (f"review: {len(self.changes)} changes, {waiting} waiting", ""),
                (
                    f"filter: {self.filter} (f)"
                    + (f", '{self.text_filter}' (/)" if self.text_filter else ""),
                    "$text-muted",
                ),
                (f"you are {self.desk.user}", "$text-muted"),
            ]
        )

    def _show_header(self, change: ChangeRequest) -> None:
        need = self.desk.rules.approvals_needed
        live = self.live_matches.get(change.id)
        badge = (
            ""
            if change.state.closed
            else " conflicts with the live configuration: e resolves it"
            if change.state is State.CONFLICTED
            else " live changed ✗ (R rebases, e edits)"
            if change.state is State.STALE
            else " base = live ✓"
            if live
            else " live changed ✗ (R rebases)"
            if live is False
            else " base not checked yet"
        )
        header = Text(f"#{change.id} {visible(change.domain_name)}@{change.host}  ", style="bold")
        header.append(change.state.label.upper(), style=self._style("state"))
        header.append(f"  {len(change.valid_approvals)}/{need} approvals ")
        header.append(badge, style=self._style("live" if live else "restart"))
        header.append(
            f"\n{visible(change.title)} — by {visible(change.author)}", style=self._style("muted")
        )
        if change.description:
            header.append(f"\n{visible(change.description)}")
        for warning in self.warnings.get(change.id, []):
            header.append(f"\n⚠ {visible(warning)}", style=self._style("restart"))
        if self.desk.rules.problem:
            header.append(
                f"\nmerging disabled: {visible(self.desk.rules.problem)}",
                style=self._style("removed"),
            )
        self.query_one("#header", Static).update(header)

    def _style(self, name: str) -> Style:
        """A Rich style from this screen's component classes (so, from the theme)."""
        return self.get_component_rich_style(f"review--{name}", partial=True)

    def _show_change(self) -> None:
        change = self.selected()
        summary = self.query_one("#summary", Static)
        if change is None:
            self.query_one("#header", Static).update(
                "No change requests. On the domains "
                "screen: e edits the XML, v vCPUs, "
                "m memory, b adds a disk."
            )
            summary.update("")
            self.diff_table.clear(columns=True)
            return
        self._show_header(change)
        text = Text()
        for line in change.summary:
            restart = "needs restart" in line or "pending" in line
            text.append(
                "⟳ " if restart else "✓ ", style=self._style("restart" if restart else "live")
            )
            text.append(visible(line) + "\n")
        for line in change.outcome:
            text.append(f"  {visible(line)}\n", style=self._style("muted"))
        if change.applied_xml:
            normalised = [
                line
                for line in shown_diff(change.proposed_xml, change.applied_xml)[2:]
                if line[:1] in "+-"
            ]
            text.append(
                f"libvirt normalised {len(normalised)} line(s) of the proposal when it stored it\n"
                if normalised
                else "libvirt stored the proposal as it was\n",
                style=self._style("muted"),
            )
            for line in normalised[:8]:
                text.append(
                    f"  {visible(line)}\n",
                    style=self._style("added" if line[0] == "+" else "removed"),
                )
        summary.update(text)
        self._show_diff(change)

    def _show_diff(self, change: ChangeRequest) -> None:
        table = self.diff_table
        table.clear(columns=True)
        try:
            self.diff_lines = [
                visible(line) for line in shown_diff(change.base_xml, change.proposed_xml)[2:]
            ]
        except XmlRefused as error:
            self.diff_lines = [f"(cannot show a diff: {error})"]
        styles = {"+": "added", "-": "removed", "@": "hunk"}
        # Widths are given, not measured: measured widths depended on when the rows were
        # added (a flake: the diff column at times only as wide as its header).
        if self.side_by_side:
            rows = [
                (visible(old), mark, visible(new))
                for old, mark, new in shown_side_by_side(change.base_xml, change.proposed_xml)
            ]
            widest = max((len(text) for old, _m, new in rows for text in (old, new)), default=4)
            table.add_column("base", width=widest)
            table.add_column("", width=1)
            table.add_column("proposed", width=widest)
            for n, (old, mark, new) in enumerate(rows, 1):
                style = self._style("restart") if mark.strip() else Style()
                table.add_row(Text(old, style=style), mark, Text(new, style=style), key=f"s{n}")
            return
        threads = _threads(change, self.diff_lines)
        remarks = [
            f"  └ {visible(c.author)}: {visible(c.text)}" for cs in threads.values() for c in cs
        ]
        widest = max((len(t) for t in self.diff_lines + remarks), default=4)
        table.add_column(" ", width=1)
        table.add_column("diff", width=widest)
        for n, line in enumerate(self.diff_lines, 1):
            style = self._style(styles[line[:1]]) if line[:1] in styles else Style()
            count = len(threads.get(n, []))
            table.add_row("✎" if count else " ", Text(line, style=style), key=f"l{n}")
            for comment in threads.get(n, []):
                table.add_row(
                    "",
                    Text(
                        f"  └ {visible(comment.author)}: {visible(comment.text)}",
                        style=self._style("muted"),
                    ),
                    key=f"c{comment.id}",
                )
        for comment in threads.get(0, []):
            said = Text(f"{visible(comment.author)}: {visible(comment.text)}")
            table.add_row("✎", said, key=f"c{comment.id}")

    def _diff_line(self) -> tuple[int, str]:
        """(line number, text) of the highlighted diff line; (0, "") for none."""
        table = self.diff_table
        if self.side_by_side or not table.row_count or self.focused is not table:
            return 0, ""
        key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        if not key.startswith("l"):
            return 0, ""
        number = int(key[1:])
        return number, self.diff_lines[number - 1]

    # -- running ------------------------------------------------------------------------

    def _run(self, label: str, call: Callable[[], object], done: str = "") -> None:
        change = self.selected()

        def work() -> None:
            try:
                result = call()
            except Exception as error:
                why = error_text(error)
                self.app.call_from_thread(self.notify, why, severity="error", timeout=10)
                self._note(change, why, Severity.ERROR)
                self.app.call_from_thread(self.reload)
                return
            message = done or label
            if isinstance(result, MergeResult):
                message = _merge_message(result)
            self.app.call_from_thread(self.notify, message, timeout=8)
            self._note(change, message, Severity.INFO)
            self.app.call_from_thread(self.reload)

        self.runner(f"review:{label}", work)

    def _note(self, change: ChangeRequest | None, text: str, severity: Severity) -> None:
        host, domain = (change.host, change.domain_name) if change else ("", "")
        self.post_message(TimelineNote(LogEntry.now(host, domain, "review", text, severity)))

    def _with_change(self) -> ChangeRequest | None:
        change = self.selected()
        if change is None:
            self.notify("no change selected", severity="warning")
        return change

    # -- keys ---------------------------------------------------------------------------

    def action_publish(self) -> None:
        if change := self._with_change():
            self._run(
                "open", lambda: self.desk.publish(change.id), f"#{change.id} is open for review"
            )

    def action_approve(self) -> None:
        if change := self._with_change():
            self._run("approve", lambda: self.desk.approve(change.id), f"#{change.id} approved")

    def action_rebase(self) -> None:
        if change := self._with_change():
            self._run(
                "rebase",
                lambda: self.desk.rebase(change.id),
                f"#{change.id} rebased on the live configuration",
            )

    def action_withdraw(self) -> None:
        if change := self._with_change():
            self._run("withdraw", lambda: self.desk.withdraw(change.id), f"#{change.id} withdrawn")

    def action_revert(self) -> None:
        if change := self._with_change():
            self._run(
                "revert", lambda: self.desk.revert(change.id), f"revert of #{change.id} drafted"
            )

    def action_comment(self) -> None:
        change = self._with_change()
        if change is None:
            return
        line, anchor = self._diff_line()
        where = f"line {line}: {anchor.strip()[:50]}" if line else "the whole change"

        def entered(text: str | None) -> None:
            if text:
                self._run(
                    "comment",
                    lambda: self.desk.comment(change.id, line, anchor, text),
                    "comment added",
                )

        self.app.push_screen(
            PromptScreen(
                f"Comment on #{change.id}", f"On {where}:", lambda t: "" if t else "write something"
            ),
            entered,
        )

    def action_reject(self) -> None:
        change = self._with_change()
        if change is None:
            return

        def entered(reason: str | None) -> None:
            if reason:
                self._run(
                    "reject", lambda: self.desk.reject(change.id, reason), f"#{change.id} rejected"
                )

        self.app.push_screen(
            PromptScreen(f"Reject #{change.id}", "Why?", lambda t: "" if t else "say why"), entered
        )

    def action_merge(self) -> None:
        change = self._with_change()
        if change is None:
            return
        try:
            self.desk.check_mergeable(change)
        except Exception as error:
            self.notify(str(error), severity="error")
            return

        def work() -> None:
            warnings = self.desk.warnings(change)
            self.app.call_from_thread(self._confirm_merge, change, warnings)

        self.runner(f"review:warnings:{change.id}", work)

    def _confirm_merge(self, change: ChangeRequest, warnings: list[str]) -> None:
        self.warnings[change.id] = warnings
        targets = [
            ("⟳ " if "needs restart" in line else "✓ ") + visible(line) for line in change.summary
        ]

        def merge() -> None:
            self._run("merge", lambda: self.desk.merge(change.id))

        name = visible(change.domain_name)
        if warnings:
            # More than y: the change reaches beyond the guest. Type the domain's name.
            self.app.push_screen(
                PromptScreen(
                    f"Merge #{change.id} into {name} on {change.host}? It reaches beyond the guest",
                    "\n".join(f"⚠ {visible(w)}" for w in warnings)
                    + f"\nType the domain name ({name}) to merge anyway:",
                    lambda text: "" if text == name else f"type {name} to merge, Esc to cancel",
                ),
                lambda text: merge() if text == name else None,
            )
            return
        self.app.push_screen(
            ConfirmScreen(
                f"Merge #{change.id} into {name} on {change.host}?",
                targets,
                "The base is checked against the live configuration first; the proposal is "
                "validated and defined, what can go live is applied now (✓), the rest (⟳) "
                "waits for the next restart.",
                [Choice("merge", "Merge", "y")],
            ),
            lambda answer: merge() if answer else None,
        )

    def action_toggle_layout(self) -> None:
        self.side_by_side = not self.side_by_side
        self._show_change()

    def action_cycle_filter(self) -> None:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]
        self._show_list(list(self.changes.values()))

    def action_filter_text(self) -> None:
        def entered(text: str | None) -> None:
            if text is not None:
                self.text_filter = text
                self._show_list(list(self.changes.values()))

        self.app.push_screen(
            PromptScreen(
                "Filter changes", "Host or domain (empty: all):", lambda _t: "", self.text_filter
            ),
            entered,
        )

    def action_hunk(self, step: int) -> None:
        table = self.diff_table
        starts = [n for n, line in enumerate(self.diff_lines, 1) if line.startswith("@@")]
        if not starts or self.side_by_side:
            return
        line, _anchor = self._diff_line()
        here = line or 0
        target = (
            next((n for n in starts if n > here), starts[-1])
            if step > 0
            else next((n for n in reversed(starts) if n < here), starts[0])
        )
        table.focus()
        table.move_cursor(row=table.get_row_index(f"l{target}"))

    def action_edit(self) -> None:
        """Edit the proposal in $EDITOR, carried onto the live configuration; a conflict
        comes with git-style markers to resolve."""
        change = self._with_change()
        if change is None:
            return

        def work() -> None:
            try:
                found = self.desk.editable_text(change.id)
            except Exception as error:
                self.app.call_from_thread(self.notify, error_text(error), severity="error")
                return
            self.app.call_from_thread(self._edit_in_editor, *found)

        self.runner(f"review:edit:{change.id}", work)

    def _edit_in_editor(self, change: ChangeRequest, live_xml: str, text: str) -> None:
        edited = edit_text(self.app, text, change.domain_name)
        if edited is None:
            return
        if edited == text and "<<<<<<<" not in text:
            self.notify(f"#{change.id}: not changed")
            return
        self._run(
            "edit",
            lambda: self.desk.resolve(change.id, edited, live_xml),
            f"#{change.id}: proposal replaced (approvals of the old one no longer count)",
        )

    def action_export(self) -> None:
        change = self._with_change()
        if change is None:
            return
        default = str(Path.cwd() / f"virtui-{change.id}.patch")

        def check(path: str) -> str:
            full = os.path.expanduser(path)
            if os.path.exists(full):
                return f"{path} exists: not overwritten"
            if not os.path.isdir(os.path.dirname(os.path.abspath(full))):
                return f"{os.path.dirname(full)} does not exist"
            return ""

        def entered(path: str | None) -> None:
            if not path:
                return
            full = os.path.expanduser(path)

            def write() -> str:
                write_private(Path(full), self.desk.export_patch(change.id))
                return full

            self._run("export", write, f"#{change.id} written to {full}")

        self.app.push_screen(
            PromptScreen(f"Export #{change.id}", "Patch file:", check, default), entered
        )

    def action_import_patch(self) -> None:
        def check(path: str) -> str:
            return "" if os.path.isfile(os.path.expanduser(path)) else f"{path} is not a file"

        def entered(path: str | None) -> None:
            if path:
                full = os.path.expanduser(path)

                def read() -> ChangeRequest:
                    with open(full, encoding="utf-8") as file:
                        return self.desk.import_patch(file.read())

                self._run("import", read, f"{path} imported as a draft")

        self.app.push_screen(PromptScreen("Import a patch", "Patch file:", check), entered)


def _state_text(change: ChangeRequest, need: int) -> str:
    if change.state in (State.OPEN, State.APPROVED):
        return f"{change.state.label} {len(change.valid_approvals)}/{need}"
    return change.state.label


def _threads(change: ChangeRequest, lines: list[str]) -> dict[int, list[Comment]]:
    """Comments by diff line; one whose line moved (a rebase) follows its anchor text,
    or goes to the whole change when the text is gone."""
    threads: dict[int, list[Comment]] = {}
    for comment in change.comments:
        line = comment.line
        if line and (line > len(lines) or lines[line - 1] != comment.anchor):
            line = next((n for n, text in enumerate(lines, 1) if text == comment.anchor), 0)
        threads.setdefault(line, []).append(comment)
    return threads


def _merge_message(result: MergeResult) -> str:
    change = result.change
    parts = [f"#{change.id} merged into {change.domain_name}"]
    if result.live:
        parts.append(f"live: {'; '.join(result.live)}")
    if result.pending_restart:
        parts.append(f"pending restart: {'; '.join(result.pending_restart)}")
    if len(result.normalised) > 2:
        changed = sum(1 for line in result.normalised[2:] if line[:1] in "+-")
        parts.append(f"libvirt normalised {changed} line(s)")
    return " · ".join(parts)
