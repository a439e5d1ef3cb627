"""Messages from workers to the UI: the only way data crosses into Textual."""

from __future__ import annotations

from textual.message import Message

from virtui.model import ActionResult, DomainAction, DomainEvent, DomainKey, LogEntry
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


class DomainCommand(Message):
    """A screen asks the app to do something to domains (the app owns the backends).

    ``command`` is one of: act, detail, console, snapshot, snapshots, clone, qemu_log,
    edit_xml, set_vcpus, set_memory, attach_disk.
    """

    def __init__(
        self, command: str, keys: list[DomainKey], action: DomainAction | None = None
    ) -> None:
        super().__init__()
        self.command = command
        self.keys = keys
        self.action = action


class HostEventArrived(Message):
    """A backend reported an event (posted from the backend's own thread)."""

    def __init__(self, event: DomainEvent) -> None:
        super().__init__()
        self.event = event


class ActionFinished(Message):
    """One action on one domain finished (in a worker)."""

    def __init__(self, result: ActionResult, batch: int) -> None:
        super().__init__()
        self.result = result
        self.batch = batch


class TimelineNote(Message):
    """Something for the logs timeline (from a screen, or any thread via post_message)."""

    def __init__(self, entry: LogEntry) -> None:
        super().__init__()
        self.entry = entry


class HistoryArrived(Message):
    """Past %CPU of a host's domains (by UUID, oldest first), to pre-fill the graphs."""

    def __init__(self, host: str, history: dict[str, list[float]]) -> None:
        super().__init__()
        self.host = host
        self.history = history
