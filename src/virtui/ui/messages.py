"""Messages from workers to the UI: the only way data crosses into Textual."""

from __future__ import annotations

from textual.message import Message

from virtui.model import DomainAction, DomainEvent, DomainKey, LogEntry
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


class RunAction(Message):
    """A screen asks for a lifecycle action on domains (the app owns the backends)."""

    def __init__(self, keys: list[DomainKey], action: DomainAction) -> None:
        super().__init__()
        self.keys = keys
        self.action = action


class ToggleCpuMode(Message):
    """A screen asks to switch between Irix and Solaris CPU figures everywhere."""


class NewGuest(Message):
    """Start the new-guest form (on the host of ``near``, when given)."""

    def __init__(self, near: DomainKey | None) -> None:
        super().__init__()
        self.near = near


class MigrateDomains(Message):
    """Move these domains to another host (the app asks where and how)."""

    def __init__(self, keys: list[DomainKey]) -> None:
        super().__init__()
        self.keys = keys


class DomainIntent(Message):
    """A screen asks for something about one domain; each kind is its own subclass."""

    def __init__(self, key: DomainKey) -> None:
        super().__init__()
        self.key = key


class OpenDetail(DomainIntent):
    """Show the domain's detail screen."""


class OpenGraphics(DomainIntent):
    """Hand the domain's graphical console to a viewer (tunnel command, .vv file)."""


class OpenConsole(DomainIntent):
    """Attach the terminal to the domain's text console."""


class OpenSnapshots(DomainIntent):
    """Show the domain's snapshots."""


class OpenQemuLog(DomainIntent):
    """Follow the domain's QEMU log."""


class TakeSnapshot(DomainIntent):
    """Ask for a name, then take a snapshot."""


class CloneDomain(DomainIntent):
    """Ask for a name, then clone the (shut-off) domain."""


class DraftChange(DomainIntent):
    """Draft a configuration change for the review desk: ``kind`` is one of
    ``DRAFT_KINDS`` (edit the XML, set vCPUs, set memory, attach a disk, attach or
    detach a NIC)."""

    def __init__(self, key: DomainKey, kind: str) -> None:
        super().__init__(key)
        self.kind = kind


DRAFT_KINDS = (
    "edit_xml",
    "set_vcpus",
    "set_memory",
    "attach_disk",
    "attach_nic",
    "detach_nic",
)


class HostEventArrived(Message):
    """A backend reported an event (posted from the backend's own thread)."""

    def __init__(self, event: DomainEvent) -> None:
        super().__init__()
        self.event = event


class TimelineNote(Message):
    """Something for the logs timeline (from a screen, or any thread via post_message)."""

    def __init__(self, entry: LogEntry) -> None:
        super().__init__()
        self.entry = entry
