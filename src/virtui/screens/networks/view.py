"""NetworksView: every network of every host, read on background threads and kept fresh;
NetworksScreen adds the keys."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Static

from virtui.formatting import plural
from virtui.model.network import NetworkInfo
from virtui.model.timeline import LogEntry, Severity
from virtui.ports.networks import NetworkHosts
from virtui.screens.base import VirtuiScreen
from virtui.screens.confirm import Choice, ConfirmScreen
from virtui.screens.navigation import TopScreenMark
from virtui.screens.networks.drafts import NetworkDrafts
from virtui.screens.networks.tables import NETWORK_COLUMNS, network_key, network_row
from virtui.text import visible
from virtui.tui.calls import Calls, Failure
from virtui.tui.messages import TimelineNote
from virtui.widgets.status_bar import StatusBar
from virtui.widgets.table_sync import sync_rows

RELOAD_EVERY_S = 5.0


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

    def reload(self) -> None:
        """Read every host's networks again, each host on its own thread, one read per
        host at a time (a frozen host is not asked again and again)."""
        hosts = self._hosts()
        self.problems = {host: why for host, why in hosts.items() if why}
        for host, why in hosts.items():
            if not why:
                self.calls(
                    f"networks:{host}",
                    self.hosts.networks(host).networks,
                    lambda found, host=host: self._read(host, found),  # type: ignore[misc]
                    lambda failure, host=host: self._read_failed(host, failure),  # type: ignore[misc]
                    once=True,
                )
        self._show({k: n for k, n in self.networks.items() if n.host not in self.problems})

    def _read(self, host: str, found: list[NetworkInfo]) -> None:
        self.problems.pop(host, None)
        merged = {k: n for k, n in self.networks.items() if n.host != host}
        merged.update({network_key(n): n for n in found})
        self._show(dict(sorted(merged.items())))

    def _read_failed(self, host: str, failure: Failure) -> None:
        self.problems[host] = failure.message
        self._show({k: n for k, n in self.networks.items() if n.host != host})

    def _show(self, networks: dict[str, NetworkInfo]) -> None:
        if not self.is_attached:
            return
        self.networks = networks
        sync_rows(self.table, {key: network_row(n) for key, n in networks.items()})
        text = "  ".join(f"{host}: {visible(why)}" for host, why in sorted(self.problems.items()))
        if not networks and not self.problems:
            text = "No virtual networks. n creates a NAT network."
        self.query_one("#problems", Static).update(text)
        self._show_status()

    def _show_status(self) -> None:
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

    def _selected_or_say(self) -> NetworkInfo | None:
        network = self.selected()
        if network is None:
            self.notify("no network selected", severity="warning")
        return network

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
