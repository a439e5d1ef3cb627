"""NetworksView: every network of every host, read on background threads and kept fresh;
NetworksScreen adds the keys."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from textual.app import ComposeResult
from textual.widgets import DataTable, Footer

from virtui.formatting import plural
from virtui.model.network import NetworkInfo
from virtui.model.timeline import LogEntry, Severity
from virtui.ports.networks import NetworkHosts
from virtui.screens.base import VirtuiScreen
from virtui.screens.confirm import Choice, ConfirmScreen
from virtui.screens.navigation import TopScreenMark
from virtui.screens.networks.drafts import NetworkDrafts
from virtui.screens.networks.tables import NETWORK_COLUMNS, network_key, network_row
from virtui.screens.readonly import refused_read_only
from virtui.text import visible
from virtui.ui.broadcast import subscribe
from virtui.ui.calls import Calls, Failure
from virtui.ui.messages import TimelineNote
from virtui.widgets.plain import Static
from virtui.widgets.status_bar import StatusBar
from virtui.widgets.table_sync import update_rows

RELOAD_EVERY_S = 5.0
HANDOFF_S = 0.25  # how long a host that does not answer holds up the next one


class NetworksView(TopScreenMark, VirtuiScreen):
    """One row per network of every host, read again every few seconds and at once
    when a host reports a network event (``reload``)."""

    DEFAULT_CSS = """
    NetworksView {
        & #networks { height: 1fr; }
        & #problems { color: $text-muted; height: auto; padding: 0 1; }
    }
    """

    def __init__(
        self, hosts: NetworkHosts, calls: Calls, drafts: NetworkDrafts, only_host: str = ""
    ) -> None:
        super().__init__()
        self.hosts = hosts
        self.calls = calls
        self.drafts = drafts
        self.only_host = only_host  # `:net @host` shows one host's networks
        self.networks: dict[str, NetworkInfo] = {}
        self._rows: dict[str, tuple[str, ...]] = {}  # what each row of the table shows
        self._queue: deque[str] = deque()  # hosts waiting for their turn to be read
        self._relay = 0  # counts the reads handed on (see reload)
        self._problems_text = ""
        self._keys_of: dict[str, set[str]] = {}  # host -> the row keys of its networks
        self._status_shown = False
        self.problems: dict[str, str] = {}
        self.table: DataTable[str] = DataTable(id="networks", cursor_type="row")

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield self.table
        yield Static("", id="problems", markup=False)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.table.add_columns(*NETWORK_COLUMNS)
        self.table.focus()
        self._show_status()
        subscribe(self, "networks_changed", NetworksView.reload)
        self.reload()
        self.set_interval(RELOAD_EVERY_S, self.reload, name="networks-reload")

    # -- reading ------------------------------------------------------------------------

    def _hosts(self) -> dict[str, str]:
        hosts = self.hosts.network_hosts()
        if self.only_host:
            return {h: why for h, why in hosts.items() if h == self.only_host} or {
                self.only_host: "no such host"
            }
        return hosts

    def reload(self, host: str = "") -> None:
        """Read every host's networks again (or only ``host``'s, after its event).

        Hosts already shown are read one after the other, each on its own thread: the
        next starts when one answers, or after ``HANDOFF_S`` when it does not (a frozen
        host delays the others that long, no more). Twenty hosts read at once cost
        seven times the CPU of the same reads in turn: every libvirt call hands Python's
        lock over. A host's first read starts at once, so the screen fills quickly.
        """
        hosts = self._hosts()
        self.problems = {h: why for h, why in hosts.items() if why}
        self._apply({}, {k for h in self.problems for k in self._keys_of.pop(h, set())})
        wanted = [h for h, why in hosts.items() if not why and (not host or h == host)]
        new = [h for h in wanted if h not in self._keys_of]
        for first in new:  # a host's first read runs at once, beside the others
            self._keys_of[first] = set()
            self._start_read(first, lambda: None)
        idle = not self._queue
        self._queue.extend(h for h in wanted if h not in new and h not in self._queue)
        if idle:
            self._read_next()

    def _read_next(self) -> None:
        if not self._queue or not self.is_attached:
            self._queue.clear()
            return
        host = self._queue.popleft()
        self._relay += 1
        step = self._relay

        def handed_on() -> None:
            if self._relay == step:  # not yet moved on by an answer
                self._relay += 1
                self._read_next()

        if self._start_read(host, handed_on):
            self.set_timer(HANDOFF_S, handed_on)
        else:
            handed_on()

    def _start_read(self, host: str, then: Callable[[], None]) -> bool:
        """Read one host's networks on its own thread; ``then`` after the answer. False
        when a read of this host is still running (a frozen host is not asked again and
        again)."""

        def answered(found: list[NetworkInfo]) -> None:
            self._read(host, found)
            then()

        def failed(failure: Failure) -> None:
            self._read_failed(host, failure)
            then()

        return self.calls(
            f"networks:{host}", self.hosts.networks(host).networks, answered, failed, once=True
        )

    def _read(self, host: str, found: list[NetworkInfo]) -> None:
        self.problems.pop(host, None)
        fresh = {network_key(n): n for n in found}
        gone = self._keys_of.get(host, set()) - fresh.keys()
        self._keys_of[host] = set(fresh)
        self._apply(fresh, gone)

    def _read_failed(self, host: str, failure: Failure) -> None:
        self.problems[host] = failure.message
        self._apply({}, self._keys_of.pop(host, set()))

    def _apply(self, fresh: dict[str, NetworkInfo], gone: set[str] | list[str]) -> None:
        """One host's networks into the table: only rows whose network changed are
        touched (a refresh of 20 hosts answers 20 times; each answer is about its own
        rows, and the backend hands back the same object for a network that did not
        change)."""
        if not self.is_attached:
            return
        for key in gone:
            self.networks.pop(key, None)
            if self._rows.pop(key, None) is not None:
                self.table.remove_row(key)
        changed = {}
        for key, network in fresh.items():
            if self.networks.get(key) is network:
                continue
            row = network_row(network)
            if self._rows.get(key) != row:
                changed[key] = row
                self._rows[key] = row
        added = any(key not in self.networks for key in fresh)
        self.networks.update(fresh)
        if gone or added:
            self.networks = dict(sorted(self.networks.items()))
        update_rows(self.table, changed)
        self._show_problems()
        if gone or changed or not self._status_shown:
            self._show_status()

    def _show_problems(self) -> None:
        text = "  ".join(f"{host}: {visible(why)}" for host, why in sorted(self.problems.items()))
        if not self.networks and not self.problems:
            text = "No virtual networks. n creates a NAT network."
        if text != self._problems_text:  # an update re-lays out the screen: only on change
            self._problems_text = text
            self.query_one("#problems", Static).update(text)

    def _show_status(self) -> None:
        self._status_shown = True
        hosts = len({n.host for n in self.networks.values()})
        active = sum(1 for n in self.networks.values() if n.active)
        selected = self.selected()
        where = f"{selected.name} on {selected.host}" if selected else "no network selected"
        self.query_one(StatusBar).set_parts(
            [
                ("virtui", "bold $accent"),
                (
                    f"networks: {plural(len(self.networks), 'network')} "
                    f"({active} active) on {plural(hosts, 'host')}",
                    "",
                ),
                (where, "bold"),
                ("Enter detail · ? keys", "$text-muted"),
            ]
        )

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_status()

    # -- selection ----------------------------------------------------------------------

    def selected(self) -> NetworkInfo | None:
        """The highlighted network."""
        if not self.table.row_count:
            return None
        key = self.table.coordinate_to_cell_key(self.table.cursor_coordinate).row_key.value
        return self.networks.get(key or "")

    def _selected_or_say(self, verb: str = "") -> NetworkInfo | None:
        """The highlighted network, or None after saying why not: none selected, or
        ``verb`` (a change) refused on a read-only host before anything is asked."""
        network = self.selected()
        if network is None:
            self.notify("no network selected", severity="warning")
        elif verb and not self._may_change(network.host, verb):
            return None
        return network

    def _may_change(self, host: str, verb: str) -> bool:
        if not self.hosts.read_only(host):
            return True
        refused_read_only(self, verb, host)
        return False

    # -- running ------------------------------------------------------------------------

    def _run_on(self, host: str, label: str, call: Callable[[], str]) -> None:
        """Run a blocking call on its own thread, then say how it went (also in the logs
        timeline) and read the networks again."""

        def done(message: str) -> None:
            self.post_message(TimelineNote(LogEntry.now(host, "", "network", message)))
            self.notify(message)
            self.reload()

        def failed(failure: Failure) -> None:
            entry = LogEntry.now(host, "", "network", failure.message, Severity.ERROR)
            self.post_message(TimelineNote(entry))
            self._failed(failure.message)
            self.reload()

        self.calls(label, call, done, failed)

    def _confirm(
        self, title: str, targets: list[str], warning: str, choice: Choice, then: Callable[[], None]
    ) -> None:
        def chosen(result: str | None) -> None:
            if result:
                then()

        self.app.push_screen(ConfirmScreen(title, targets, warning, [choice]), chosen)
