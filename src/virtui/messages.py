"""Messages from workers to the UI: the only way data crosses into Textual."""

from __future__ import annotations

from textual.message import Message

from virtui.monitor.session import HostUpdate


class HostUpdated(Message):
    """A poll of one host finished (successfully or not)."""

    def __init__(self, update: HostUpdate) -> None:
        super().__init__()
        self.update = update


class DemoProgress(Message):
    """The demo provisioner reached a new step."""

    def __init__(self, message: str, step: int, steps: int) -> None:
        super().__init__()
        self.message = message
        self.step = step
        self.steps = steps
