"""Messages several senders share: a screen asking to switch the CPU mode, anything for
the logs timeline. A message with one sender is defined beside it (Textual's way): the
domain screens' intents in screens/domain_keys.py, a poll's or an event's arrival in
tui/app.py, the demo's progress in tui/demo_start.py."""

from __future__ import annotations

from textual.message import Message

from virtui.model import LogEntry


class ToggleCpuMode(Message):
    """A screen asks to switch between Irix and Solaris CPU figures everywhere."""


class TimelineNote(Message):
    """Something for the logs timeline (from a screen, or any thread via post_message)."""

    def __init__(self, entry: LogEntry) -> None:
        super().__init__()
        self.entry = entry
