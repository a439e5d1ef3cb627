"""The %CPU sort, which runs for every row at every poll: rows that read the same figure
keep their A-to-Z order in both directions, rows without a figure go to the end (or the
start, ascending), and Irix and Solaris modes give the same order of the same guests."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from virtui.model import CpuMode, DomainKey, DomainSample, DomainState, DomainStats
from virtui.widgets.domain_table import DomainTable

# name -> %CPU (Irix). 12.34, 12.26 and 12.31 all read 12.3: a tie on screen.
FIGURES: dict[str, float | None] = {
    "echo": 12.31,
    "delta": 50.0,
    "charlie": None,  # shut off: no figure
    "bravo": 12.26,
    "alpha": 12.34,
    "foxtrot": 0.04,  # reads 0.0
    "golf": 0.0,
}
DESCENDING = ["delta", "alpha", "bravo", "echo", "foxtrot", "golf", "charlie"]
ASCENDING = ["charlie", "foxtrot", "golf", "alpha", "bravo", "echo", "delta"]


def _stats(name: str, pct: float | None) -> DomainStats:
    state = DomainState.SHUTOFF if pct is None else DomainState.RUNNING
    sample = DomainSample(DomainKey("h", f"uuid-{name}"), name, state, 1, 1024, 1024, 0)
    return DomainStats(sample, host_cpus=1, cpu_pct_irix=pct)


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DomainTable()


@pytest.mark.parametrize("mode", [CpuMode.IRIX, CpuMode.SOLARIS])
async def test_cpu_sort_keeps_ties_a_to_z_and_unknown_figures_last(mode: CpuMode) -> None:
    app = _TableApp()
    async with app.run_test(size=(120, 20)):
        table = app.query_one(DomainTable)
        table.sync([_stats(name, pct) for name, pct in FIGURES.items()], mode)
        table.sort_by("cpu")
        assert table.column_texts("name") == DESCENDING
        table.sort_by("cpu", reverse=False)
        assert table.column_texts("name") == ASCENDING
        # The next poll, same figures: nobody moves.
        table.sync([_stats(name, pct) for name, pct in FIGURES.items()], mode)
        assert table.column_texts("name") == ASCENDING


async def test_a_rename_or_a_departure_between_polls_reaches_the_table() -> None:
    """Most polls bring the same domains under the same names, and the table then keeps
    its A-to-Z order and column widths; a poll that renames or drops one must not."""
    app = _TableApp()
    async with app.run_test(size=(200, 20)):  # room for a long name
        table = app.query_one(DomainTable)
        figures = dict(FIGURES)
        table.sync([_stats(name, pct) for name, pct in figures.items()], CpuMode.IRIX)
        assert table.column_texts("name") == DESCENDING
        table.move_cursor_to(DESCENDING.index("echo"))
        table.toggle_mark()  # echo is marked
        assert table.targets() == [DomainKey("h", "uuid-echo")]

        # alpha is renamed (same UUID): in the 12.3 tie it now sorts after echo, and
        # its long new name widens the NAME column.
        long_name = "zulu-with-a-much-longer-name"
        renamed = [
            _stats(name, pct) if name != "alpha" else _renamed(long_name, "alpha", pct)
            for name, pct in figures.items()
        ]
        table.sync(renamed, CpuMode.IRIX)
        assert table.column_texts("name") == [
            "delta", "bravo", "echo", long_name, "foxtrot", "golf", "charlie"
        ]  # fmt: skip
        row = table.column_texts("name").index(long_name) + 1  # under the header
        assert long_name in table.render_line(row).text  # shown whole, not cut

        # echo goes: its row and its mark with it.
        gone = [item for item in renamed if item.sample.name != "echo"]
        table.sync(gone, CpuMode.IRIX)
        assert "echo" not in table.column_texts("name")
        assert table.marked == set()


def _renamed(new: str, old: str, pct: float | None) -> DomainStats:
    stats = _stats(old, pct)
    sample = DomainSample(stats.sample.key, new, DomainState.RUNNING, 1, 1024, 1024, 0)
    return DomainStats(sample, host_cpus=1, cpu_pct_irix=pct)
