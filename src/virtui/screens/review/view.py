"""ReviewView: the review desk's list of change requests, and on the right the summary
and the diff against the live base with comment threads inline; read on a background
thread, checked against the live configuration as the cursor moves."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer

from virtui.review.api import Desk
from virtui.review.diff import shown_diff
from virtui.review.model import ChangeRequest, State, waits_for_restart
from virtui.screens.base import VirtuiScreen
from virtui.screens.navigation import TopScreenMark
from virtui.screens.prompt import PromptScreen
from virtui.text import visible
from virtui.ui.broadcast import subscribe
from virtui.ui.calls import Calls
from virtui.widgets.diff_table import DiffTable
from virtui.widgets.plain import Static
from virtui.widgets.status_bar import StatusBar

FILTERS = ("all", "open", "mine", "stale")
TEAM_FILTERS = ("for me", *FILTERS)  # a shared desk: what waits for me comes first
WATCH_EVERY_S = 0.5  # another admin's change to the store shows within this
OPEN_STATES = (State.DRAFT, State.OPEN, State.APPROVED)


class ReviewView(TopScreenMark, VirtuiScreen):
    """Move, filter and read; ReviewScreen adds the keys that change requests."""

    COMPONENT_CLASSES = {
        "review--added",
        "review--removed",
        "review--muted",
        "review--live",
        "review--restart",
        "review--state",
    }

    DEFAULT_CSS = """
    ReviewView {
        & > .review--added { color: $text-success; }
        & > .review--removed { color: $text-error; }
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

    def __init__(self, desk: Desk, calls: Calls) -> None:
        super().__init__()
        self.desk = desk
        self.calls = calls
        self.changes: dict[int, ChangeRequest] = {}
        # A team's desk opens on what waits for me; one's own desk on everything.
        self.filters = TEAM_FILTERS if desk.shared else FILTERS
        self.filter = self.filters[0]
        self._seen_version = -1  # the store's data_version the list was read at
        self.text_filter = ""  # host or domain substring
        self.side_by_side = False
        self.live_matches: dict[int, bool] = {}  # change -> base equals live (last check)
        self.warnings: dict[int, list[str]] = {}  # change -> what reaches beyond the guest
        self.list_table: DataTable[object] = DataTable(id="changes", cursor_type="row")
        self.diff_table = DiffTable(id="diff")

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
        self.set_interval(WATCH_EVERY_S, self._watch_store, name="review-watch")
        subscribe(self, "desk_changed", lambda screen, _news: screen.reload())
        self.reload(recover=True)

    # -- reading ------------------------------------------------------------------------

    def reload(self, recover: bool = False) -> None:
        """Read every change again (on a thread); after a crash, settle merges first."""

        def read() -> list[ChangeRequest]:
            if recover:
                self.desk.recover()
            self._seen_version = self.desk.data_version()  # read before the rows
            return self.desk.changes()

        self.calls("review:reload", read, self._show_list, lambda f: self._failed(f.message))

    def _watch_store(self) -> None:
        """Read the list again when anyone (another virtui, another user) wrote."""

        def changed(version: int) -> None:
            if version != self._seen_version:
                self._seen_version = version
                self.reload()

        self.calls("review:watch", self.desk.data_version, changed, lambda _f: None, once=True)

    def _visible(self, change: ChangeRequest) -> bool:
        where = change.where.lower()
        if self.text_filter and self.text_filter.lower() not in where:
            return False
        if self.filter == "open":
            return change.state in OPEN_STATES
        if self.filter == "for me":
            return change.waits_for(self.desk.user)
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
                    visible(change.where),
                    visible(change.title),
                    state_text(change, self.desk.rules.approvals_needed, self.filter == "mine"),
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

        def check() -> tuple[ChangeRequest, list[str]]:
            warnings = self.desk.warnings(change)
            try:
                checked = self.desk.check_stale(change.id)
            except Exception:
                checked = change  # host unreachable: the badge says "not checked"
            return checked, warnings

        self.calls(
            f"review:check:{change.id}",
            check,
            lambda found: self._checked(*found),
            lambda f: self._failed(f.message),
        )

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
        waiting = sum(1 for c in self.changes.values() if c.state in OPEN_STATES)
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
        header = Text(f"#{change.id} {visible(change.where)}  ", style="bold")
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

    def _empty_text(self) -> str:
        """What an empty list means: nothing at all, or what the filter hides."""
        if not self.changes:
            return (
                "No change requests. On the domains screen: e edits the XML, v vCPUs, "
                "m memory, b adds a disk."
            )
        hidden = list(self.changes.values())
        approved = sum(1 for c in hidden if c.state is State.APPROVED)
        waiting = f", {approved} approved and waiting for a merge" if approved else ""
        text = f' and "{visible(self.text_filter)}"' if self.text_filter else ""
        return (
            f"Nothing for the filter {self.filter}{text}: it hides {len(hidden)} "
            f"request(s){waiting}. f changes the filter (all shows every one)."
        )

    def _style(self, name: str) -> Style:
        """A Rich style from this screen's component classes (so, from the theme)."""
        return self.get_component_rich_style(f"review--{name}", partial=True)

    def _show_change(self) -> None:
        change = self.selected()
        summary = self.query_one("#summary", Static)
        if change is None:
            self.query_one("#header", Static).update(self._empty_text())
            summary.update("")
            self.diff_table.clear(columns=True)
            return
        self._show_header(change)
        text = Text()
        for line in change.summary:
            restart = waits_for_restart(line)
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
        self.diff_table.show(change, side_by_side=self.side_by_side)

    def _diff_line(self) -> tuple[int, str]:
        """(line number, text) of the highlighted diff line; (0, "") for none."""
        if self.side_by_side or self.focused is not self.diff_table:
            return 0, ""
        return self.diff_table.line_at_cursor()

    def action_toggle_layout(self) -> None:
        self.side_by_side = not self.side_by_side
        self._show_change()

    def action_cycle_filter(self) -> None:
        self.filter = self.filters[(self.filters.index(self.filter) + 1) % len(self.filters)]
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
        if self.side_by_side:
            return
        line, _anchor = self._diff_line()
        if self.diff_table.move_to_hunk(step, line or 0):
            self.diff_table.focus()


def state_text(change: ChangeRequest, need: int, approvers: bool = False) -> str:
    """The State column: approvals so far against those needed (with ``approvers``, who
    gave them: what one's own request waits on)."""
    if change.state in (State.OPEN, State.APPROVED):
        text = f"{change.state.label} {len(change.valid_approvals)}/{need}"
        who = ", ".join(a.user.partition("@")[0] for a in change.valid_approvals)
        return f"{text} ({who})" if approvers and who else text
    return change.state.label
