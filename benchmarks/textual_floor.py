"""The floor under virtui's figures: what Python, libvirt and Textual cost before virtui
does anything.

A minimal Textual app that opens the same libvirt URI (so libvirt, and the test driver's
domains, are resident as in the tools measured) and changes one line of text each
second, nothing else: no polling, no table. ``benchmarks.bench_console`` runs it on a
pseudo-terminal beside virt-top and virtui, so its CPU and RSS say how much of virtui's
figures the stack itself takes.

Run alone: ``python -m benchmarks.textual_floor URI``.
"""

from __future__ import annotations

import sys

import libvirt
from textual.app import App, ComposeResult
from textual.widgets import Static


class FloorApp(App[None]):
    """One line of text, changed once a second."""

    def __init__(self, uri: str) -> None:
        super().__init__()
        self.connection = libvirt.openReadOnly(uri)
        self.ticks = 0

    def compose(self) -> ComposeResult:
        yield Static("floor 0", id="line")

    def on_mount(self) -> None:
        self.set_interval(1.0, self.tick)

    def tick(self) -> None:
        self.ticks += 1
        self.query_one("#line", Static).update(f"floor {self.ticks}")


if __name__ == "__main__":
    FloorApp(sys.argv[1]).run()
