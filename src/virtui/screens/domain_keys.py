"""Lifecycle keys shared by every screen that shows domains."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message

from virtui.model import DomainAction, DomainKey, DomainState
from virtui.monitor.store import DomainStore
from virtui.screens.base import HelpFirst

# -- what these screens ask the app for (one message per intent) -------------------------


class RunAction(Message):
    """A screen asks for a lifecycle action on domains (the app owns the backends)."""

    def __init__(self, keys: list[DomainKey], action: DomainAction) -> None:
        super().__init__()
        self.keys = keys
        self.action = action


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


class BackUpDomains(Message):
    """Back these domains up (the app asks first)."""

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


# The binding's word -> the message it sends about one domain.
INTENTS: dict[str, type[DomainIntent]] = {
    "graphics": OpenGraphics,
    "detail": OpenDetail,
    "console": OpenConsole,
    "clone": CloneDomain,
    "snapshot": TakeSnapshot,
    "snapshots": OpenSnapshots,
    "qemu_log": OpenQemuLog,
}

DOMAIN_ACTION_BINDINGS = [
    Binding("s", "act('START')", "Start"),
    Binding("h", "act('SHUTDOWN')", "Shutdown"),
    Binding("r", "act('REBOOT')", "Reboot", show=False),
    Binding("ctrl+k", "act('DESTROY')", "Force off", show=False),
    Binding("X", "act('RESET')", "Reset (hard, asks first)", show=False),
    Binding("g", "command('graphics')", "Graphical console (SSH tunnel, viewer)", show=False),
    Binding("p", "pause_resume", "Pause/resume", show=False),
    Binding("w", "act('MANAGED_SAVE')", "Save (managed)", show=False),
    Binding("a", "act('AUTOSTART_ON')", "Autostart on", show=False),
    Binding("A", "act('AUTOSTART_OFF')", "Autostart off", show=False),
    Binding("ctrl+d", "act('UNDEFINE')", "Undefine", show=False),
    Binding("c", "command('console')", "Console", show=False),
    Binding("C", "command('clone')", "Clone", show=False),
    Binding("n", "command('snapshot')", "New snapshot", show=False),
    Binding("z", "command('snapshots')", "Snapshots", show=False),
    Binding("L", "command('qemu_log')", "QEMU log", show=False),
    Binding("e", "command('edit_xml')", "Edit XML (review)", show=False),
    Binding("v", "command('set_vcpus')", "vCPUs (review)", show=False),
    Binding("m", "command('set_memory')", "Memory (review)", show=False),
    Binding("b", "command('attach_disk')", "Add disk (review)", show=False),
    Binding("i", "command('attach_nic')", "Add NIC (review)", show=False),
    Binding("D", "command('detach_nic')", "Remove NIC (review)", show=False),
    Binding("o", "migrate", "Migrate to another host", show=False),
    Binding("J", "app.show_migrations", "Migrations", show=False),
    Binding("K", "backup", "Back up (asks first)", show=False),
    Binding("ctrl+n", "new_guest", "New guest (review)", show=False),
]


class DomainKeysScreen(HelpFirst):
    """A screen that shows domains: its lifecycle keys become messages for the app."""

    store: DomainStore

    def command_targets(self) -> list[DomainKey]:
        """The domains a key applies to (the marked ones, or the one in view)."""
        raise NotImplementedError

    def action_act(self, name: str) -> None:
        keys = self.command_targets()
        if keys:
            self.post_message(RunAction(keys, DomainAction[name]))

    def action_new_guest(self) -> None:
        keys = self.command_targets()
        self.post_message(NewGuest(keys[0] if keys else None))

    def action_migrate(self) -> None:
        keys = self.command_targets()
        if keys:
            self.post_message(MigrateDomains(keys))

    def action_backup(self) -> None:
        keys = self.command_targets()
        if keys:
            self.post_message(BackUpDomains(keys))

    def action_pause_resume(self) -> None:
        keys = self.command_targets()
        paused = [
            key
            for key in keys
            if (stats := self.store.get(key)) is not None
            and stats.sample.state is DomainState.PAUSED
        ]
        others = [key for key in keys if key not in paused]
        if paused:
            self.post_message(RunAction(paused, DomainAction.RESUME))
        if others:
            self.post_message(RunAction(others, DomainAction.SUSPEND))

    def action_command(self, command: str) -> None:
        keys = self.command_targets()
        if not keys:
            return
        if command in DRAFT_KINDS:
            self.post_message(DraftChange(keys[0], command))
        else:
            self.post_message(INTENTS[command](keys[0]))
