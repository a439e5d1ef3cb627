"""DiffTable: a change's diff as table rows, unified with comment threads inline, or side
by side; colours from the theme through its component classes."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

from virtui.review.diff import shown_diff, shown_side_by_side
from virtui.review.model import ChangeRequest, Comment
from virtui.review.xmlsafe import XmlRefused
from virtui.text import visible

_STYLES = {"+": "added", "-": "removed", "@": "hunk"}


class DiffTable(DataTable[object]):
    """Rows keyed ``l<n>`` for diff line n, ``c<id>`` for a comment, ``s<n>`` side by
    side; ``lines`` holds the unified diff's lines, control characters visible."""

    COMPONENT_CLASSES = {
        "diff-table--added",
        "diff-table--removed",
        "diff-table--hunk",
        "diff-table--muted",
        "diff-table--changed",
    }

    DEFAULT_CSS = """
    DiffTable {
        & > .diff-table--added { color: $text-success; }
        & > .diff-table--removed { color: $text-error; }
        & > .diff-table--hunk { color: $text-accent; }
        & > .diff-table--muted { color: $text-secondary; }
        & > .diff-table--changed { color: $text-warning; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.lines: list[str] = []

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"diff-table--{name}", partial=True)

    def show(self, change: ChangeRequest, *, side_by_side: bool) -> None:
        """Show the diff of a change's base and proposal."""
        self.clear(columns=True)
        try:
            self.lines = [
                visible(line) for line in shown_diff(change.base_xml, change.proposed_xml)[2:]
            ]
        except XmlRefused as error:
            self.lines = [f"(cannot show a diff: {error})"]
        # Widths are given, not measured: measured widths depended on when the rows were
        # added (a flake: the diff column at times only as wide as its header).
        if side_by_side:
            self._side_by_side(change)
        else:
            self._unified(change)

    def _side_by_side(self, change: ChangeRequest) -> None:
        rows = [
            (visible(old), mark, visible(new))
            for old, mark, new in shown_side_by_side(change.base_xml, change.proposed_xml)
        ]
        widest = max((len(text) for old, _m, new in rows for text in (old, new)), default=4)
        self.add_column("base", width=widest)
        self.add_column("", width=1)
        self.add_column("proposed", width=widest)
        for n, (old, mark, new) in enumerate(rows, 1):
            style = self._style("changed") if mark.strip() else Style()
            self.add_row(Text(old, style=style), mark, Text(new, style=style), key=f"s{n}")

    def _unified(self, change: ChangeRequest) -> None:
        threads = comment_threads(change, self.lines)
        remarks = [
            f"  └ {visible(c.author)}: {visible(c.text)}" for cs in threads.values() for c in cs
        ]
        widest = max((len(t) for t in self.lines + remarks), default=4)
        self.add_column(" ", width=1)
        self.add_column("diff", width=widest)
        for n, line in enumerate(self.lines, 1):
            style = self._style(_STYLES[line[:1]]) if line[:1] in _STYLES else Style()
            count = len(threads.get(n, []))
            self.add_row("✎" if count else " ", Text(line, style=style), key=f"l{n}")
            for comment in threads.get(n, []):
                self.add_row(
                    "",
                    Text(
                        f"  └ {visible(comment.author)}: {visible(comment.text)}",
                        style=self._style("muted"),
                    ),
                    key=f"c{comment.id}",
                )
        for comment in threads.get(0, []):
            said = Text(f"{visible(comment.author)}: {visible(comment.text)}")
            self.add_row("✎", said, key=f"c{comment.id}")

    def line_at_cursor(self) -> tuple[int, str]:
        """(line number, text) of the highlighted diff line; (0, "") on anything else."""
        if not self.row_count:
            return 0, ""
        key = str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        if not key.startswith("l"):
            return 0, ""
        number = int(key[1:])
        return number, self.lines[number - 1]

    def move_to_hunk(self, step: int, here: int) -> bool:
        """Move the cursor to the next (step 1) or previous (-1) hunk from line ``here``;
        False when the diff has none."""
        starts = [n for n, line in enumerate(self.lines, 1) if line.startswith("@@")]
        if not starts:
            return False
        target = (
            next((n for n in starts if n > here), starts[-1])
            if step > 0
            else next((n for n in reversed(starts) if n < here), starts[0])
        )
        self.move_cursor(row=self.get_row_index(f"l{target}"))
        return True


def comment_threads(change: ChangeRequest, lines: list[str]) -> dict[int, list[Comment]]:
    """Comments by diff line; one whose line moved (a rebase) follows its anchor text,
    or goes to the whole change when the text is gone."""
    threads: dict[int, list[Comment]] = {}
    for comment in change.comments:
        line = comment.line
        if line and (line > len(lines) or lines[line - 1] != comment.anchor):
            line = next((n for n, text in enumerate(lines, 1) if text == comment.anchor), 0)
        threads.setdefault(line, []).append(comment)
    return threads
