"""What Textual alone costs to repaint a table whose every row changes each second.

A headless app at 120x35 with one Line-API widget of 33 rows of 110 characters (a
precomputed text per row, no formatting, no sorting) whose last characters change on
every row each tick, as a CPU-time column does on every running guest. The changed
runs are marked dirty in one ``refresh`` and the compositor draws them. The figure is
the UI thread's CPU time per tick: the least any Textual table showing those changes
can spend, beside virtui's table update in ``benchmarks.bench_console``.

Run alone: ``python -m benchmarks.textual_lines``.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

ROWS, WIDTH = 33, 110


class Lines(Widget):
    """``ROWS`` lines of text; ``tick`` changes the last seven characters of each."""

    def __init__(self) -> None:
        super().__init__()
        self.ticks = 0

    def _text(self, y: int) -> str:
        return f"guest-{y:02d}".ljust(WIDTH - 8) + f"{self.ticks + y:7d} "

    def tick(self) -> None:
        self.ticks += 1
        self.refresh(*(Region(WIDTH - 8, y, 7, 1) for y in range(ROWS)))

    def render_line(self, y: int) -> Strip:
        if y >= ROWS:
            return Strip.blank(self.size.width)
        return Strip([Segment(self._text(y))], WIDTH).extend_cell_length(self.size.width)


class LinesApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Lines()


def repaint_cost(rounds: int = 10) -> float:
    """Median UI-thread CPU seconds to change every row's last characters and draw."""

    async def run() -> list[float]:
        app = LinesApp()
        spent: list[float] = []
        async with app.run_test(size=(120, 35)) as pilot:
            lines = app.query_one(Lines)
            for _ in range(rounds + 2):
                started = time.thread_time()
                lines.tick()
                await pilot.pause()
                spent.append(time.thread_time() - started)
                await asyncio.sleep(0.2)
        return spent[2:]

    return statistics.median(asyncio.run(run()))


if __name__ == "__main__":
    print(f"Textual repainting {ROWS} changed rows: {repaint_cost() * 1000:.2f} ms of CPU")
