"""The networks screen on the test driver: what it lists, what it asks before it acts,
what it refuses before libvirt, and its edits as change requests on the review desk."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input

from tests.fixtures.nodes import NETWORKS, SMALL_FLEET, write_node
from tests.tui.helpers import (
    RecordingApp,
    column,
    own_desk,
    showing,
    status_text,
    text_screen_shown,
    wait_for,
)
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.review.model import State
from virtui.screens.confirm import ConfirmScreen
from virtui.screens.form import FormScreen
from virtui.screens.networks import NetworksScreen
from virtui.screens.networks.detail import NetworkDetailScreen
from virtui.screens.prompt import PromptScreen
from virtui.screens.review import ReviewScreen


def _app(*uris: str) -> RecordingApp:
    return RecordingApp(
        Settings(uris=list(uris)), sessions=open_sessions(list(uris)), auto_poll=False
    )


def _rows(table: DataTable[str]) -> dict[str, tuple[str, ...]]:
    return {
        str(row.key.value): tuple(str(cell) for cell in table.get_row(row.key))
        for row in table.ordered_rows
    }


async def _open(app: RecordingApp, pilot: object, count: int = 2) -> NetworksScreen:
    await app.poll_now()
    await pilot.press("6")  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, NetworksScreen))
    screen = app.screen
    assert isinstance(screen, NetworksScreen)
    await wait_for(lambda: len(screen.networks) == count)
    return screen


async def _select(screen: NetworksScreen, pilot: object, name: str) -> None:
    for _ in range(len(screen.networks)):  # bounded: the row may not be there
        if screen.selected() is not None and screen.selected().name == name:  # type: ignore[union-attr]
            return
        await pilot.press("down")  # type: ignore[attr-defined]
    raise AssertionError(f"no network {name}")


async def _fill(app: RecordingApp, pilot: object, values: dict[str, str]) -> FormScreen:
    await wait_for(lambda: isinstance(app.screen, FormScreen))
    form = app.screen
    assert isinstance(form, FormScreen)
    for key, value in values.items():
        form.query_one(f"#{key}", Input).value = value
    return form


async def _submit(app: RecordingApp, pilot: object) -> None:
    """Enter in the form's last field: the form checks what was typed, then closes."""
    form = app.screen
    assert isinstance(form, FormScreen)
    form.set_focus(list(form.query(Input))[-1])
    await pilot.press("enter")  # type: ignore[attr-defined]


def _form_error(app: RecordingApp) -> str:
    return str(app.screen.query_one("#error").render())


async def test_key_6_lists_every_network_with_its_use(network_uri: str) -> None:
    app = _app(network_uri)
    async with app.run_test(size=(200, 30)) as pilot:
        screen = await _open(app, pilot)
        row = _rows(screen.table)["test\tdefault"]
        assert row == (
            "test",
            "default",
            "active",
            "nat",
            "192.168.122.1/24",
            "0/253",
            "web01",
            "virbr0",
            "192.168.122.2-192.168.122.254",
            "no",
            "yes",
            "-",
        )
        backend = _rows(screen.table)["test\tbackend"]
        assert backend[3:] == (
            "isolated",
            "10.10.0.1/24",
            "-",
            "-",
            "virbr1",
            "-",
            "no",
            "yes",
            "fd00:10::1/64",
        )
        assert "2 networks (2 active) on 1 host" in status_text(app)


async def test_new_nat_network_gets_a_free_subnet_and_bad_input_is_refused(
    network_uri: str,
) -> None:
    app = _app(network_uri)
    async with app.run_test(size=(200, 30)) as pilot:
        screen = await _open(app, pilot)
        await pilot.press("n")
        form = await _fill(app, pilot, {"name": "default"})
        proposed = form.query_one("#subnet", Input).value
        assert proposed == "192.168.100.0/24"  # 192.168.122.0/24 is the default network's
        assert form.query_one("#start", Input).value == "192.168.100.2"
        assert form.query_one("#end", Input).value == "192.168.100.254"
        for values, why in (
            ({"name": "default"}, "a network named default already exists"),
            ({"name": "lab", "subnet": "192.168.122.128/25"}, "overlaps 192.168.122.0/24"),
            ({"subnet": "192.168.100.0/24", "start": "192.168.101.5"}, "outside the subnet"),
            ({"start": "192.168.100.1"}, "gateway"),
            ({"start": "192.168.100.50", "end": "192.168.100.10"}, "before it starts"),
            ({"name": "a b"}, "not a network name"),
        ):
            await _fill(app, pilot, values)
            await _submit(app, pilot)
            await wait_for(lambda why=why: why in _form_error(app))  # type: ignore[misc]
            assert isinstance(app.screen, FormScreen)
        await _fill(
            app,
            pilot,
            {"name": "lab", "start": "192.168.100.10", "end": "192.168.100.99", "domain": "lab"},
        )
        await _submit(app, pilot)
        await wait_for(lambda: "test\tlab" in screen.networks)
        lab = _rows(screen.table)["test\tlab"]
        assert (lab[2], lab[9], lab[10]) == ("active", "yes", "yes")
        assert (lab[4], lab[8]) == ("192.168.100.1/24", "192.168.100.10-192.168.100.99")
        assert any("network lab created on 192.168.100.0/24" in t for t in app.told)
        # created from this app: its own event lands on the timeline
        await wait_for(
            lambda: any(
                e.kind == "network started" and e.domain == "lab" for e in app.timeline.entries
            )
        )


async def test_stop_asks_and_names_the_running_domains_that_lose_their_link(
    network_uri: str,
) -> None:
    app = _app(network_uri)
    async with app.run_test(size=(200, 30)) as pilot:
        screen = await _open(app, pilot)
        await _select(screen, pilot, "default")
        await pilot.press("ctrl+k")
        await wait_for(lambda: showing(app, ConfirmScreen))
        text = " ".join(str(s.render()) for s in app.screen.query("Static"))
        assert "These running domains lose their link: web01." in text
        await pilot.press("y")
        await wait_for(lambda: screen.networks["test\tdefault"].state == "inactive")
        await wait_for(lambda: any(e.kind == "network stopped" for e in app.timeline.entries))
        await pilot.press("s")
        await wait_for(lambda: screen.networks["test\tdefault"].active)


async def test_fixed_host_is_drafted_reviewed_merged_live_and_read_back(
    network_uri: str, tmp_path: Path
) -> None:
    app = _app(network_uri)
    async with app.run_test(size=(200, 40)) as pilot:
        desk = own_desk(app, tmp_path)
        await _select(await _open(app, pilot), pilot, "default")
        await pilot.press("h")
        for values, why in (
            ({"mac": "52:54:00:zz:00:01", "ip": "192.168.122.50"}, "not a MAC address"),
            ({"mac": "52:54:00:00:00:01", "ip": "10.0.0.5"}, "not a host address of"),
            ({"mac": "52:54:00:00:00:01", "ip": "192.168.122.1"}, "the network's own address"),
        ):
            await _fill(app, pilot, values)
            await _submit(app, pilot)
            await wait_for(lambda why=why: why in _form_error(app))  # type: ignore[misc]
        await _fill(app, pilot, {"mac": "52:54:00:AA:00:01", "ip": "192.168.122.50", "name": "web"})
        await _submit(app, pilot)
        await wait_for(lambda: any("change #1 drafted" in t for t in app.told))
        change = desk.changes()[0]
        assert (change.kind, change.object_label) == ("network", "network default")
        assert change.summary == [
            "fixed address 52:54:00:aa:00:01 → 192.168.122.50 (web): live and in the configuration"
        ]
        port = app.ports.networks("test")
        before = port.network_detail("default")
        assert "52:54:00:aa:00:01" not in before.xml  # a draft changes nothing

        desk.publish(change.id)
        result = desk.merge(change.id)
        assert result.change.state is State.MERGED
        assert result.live == [change.summary[0]]
        after = port.network_detail("default")
        hosts = after.info.config.ipv4().hosts  # type: ignore[union-attr]
        assert [(h.mac, h.ip, h.name) for h in hosts] == [
            ("52:54:00:aa:00:01", "192.168.122.50", "web")
        ]

        # the same MAC again: refused in the form, before any draft
        await pilot.press("r")
        await wait_for(lambda: bool(app.screen.networks["test\tdefault"].config.ipv4().hosts))  # type: ignore[attr-defined]
        await pilot.press("h")
        await _fill(app, pilot, {"mac": "52:54:00:aa:00:01", "ip": "192.168.122.51"})
        await _submit(app, pilot)
        await wait_for(lambda: "already has a fixed address here" in _form_error(app))


async def test_detail_shows_fixed_hosts_nics_and_the_xml(network_uri: str) -> None:
    app = _app(network_uri)
    async with app.run_test(size=(160, 40)) as pilot:
        await _select(await _open(app, pilot), pilot, "default")
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, NetworkDetailScreen))
        detail = app.screen
        assert isinstance(detail, NetworkDetailScreen)
        await wait_for(lambda: detail.detail is not None)
        assert _rows(detail.nics) == {
            "web01\t52:54:00:00:00:01": ("web01", "52:54:00:00:00:01", "virtio", "yes")
        }
        facts = str(detail.query_one("#facts").render())
        assert "forward nat · bridge virbr0" in facts
        await pilot.press("x")
        assert "<name>default</name>" in await text_screen_shown(app)


async def test_net_command_shows_one_hosts_networks(network_uri: str, tmp_path: Path) -> None:
    other = write_node(tmp_path / "other.xml", SMALL_FLEET, networks=NETWORKS[:1])
    app = _app(network_uri, f"test://{other}")
    async with app.run_test(size=(200, 30)) as pilot:
        await app.poll_now()
        first, second = app.ports.host_names()
        await pilot.press("colon", *f"net @{second}", "enter")
        await wait_for(lambda: isinstance(app.screen, NetworksScreen))
        screen = app.screen
        assert isinstance(screen, NetworksScreen)
        await wait_for(lambda: len(screen.networks) == 1)
        assert {n.host for n in screen.networks.values()} == {second}
        await pilot.press("colon", *"net", "enter")
        await wait_for(lambda: {n.host for n in app.screen.networks.values()} == {first, second})  # type: ignore[attr-defined]


async def test_domains_table_and_detail_show_guest_addresses_with_their_source() -> None:
    # test:///default's domain has one NIC; the test driver answers a lease for it.
    app = _app("test:///default")
    async with app.run_test(size=(200, 30)) as pilot:
        await app.poll_now()
        await pilot.pause()
        assert "IP" in app.domains.table.render_line(0).text
        assert column(app, "ip") == ["192.168.122.3"]
        (stats,) = app.store.all()
        assert stats.sample.address_source == "lease"
        port = app.ports.networks(app.ports.host_names()[0])
        found = port.guest_addresses(stats.sample.key.uuid)
        assert [(a.address, a.source) for a in found.addresses] == [("192.168.122.3/24", "lease")]


async def test_the_address_column_gives_way_first_on_a_narrow_terminal() -> None:
    app = _app("test:///default")
    async with app.run_test(size=(80, 24)) as pilot:
        await app.poll_now()
        await pilot.pause()
        header = app.domains.table.render_line(0).text
        assert " IP" not in header and "NAME" in header


async def test_a_nic_is_drafted_with_a_free_mac_and_a_used_one_is_refused(
    network_uri: str, tmp_path: Path
) -> None:
    app = _app(network_uri)
    async with app.run_test(size=(200, 40)) as pilot:
        desk = own_desk(app, tmp_path)
        await app.poll_now()
        await pilot.press("slash", *"web01", "enter", "i")
        form = await _fill(app, pilot, {})
        assert form.query_one("#source", Input).value == "network:default"
        proposed = form.query_one("#mac", Input).value
        assert proposed.startswith("52:54:00:") and proposed != "52:54:00:00:00:01"
        for values, why in (
            ({"mac": "52:54:00:00:00:01"}, "already used on network default by web01"),
            ({"mac": "01:00:5e:00:00:01"}, "multicast"),
            ({"mac": proposed, "source": "network:nowhere"}, "the host has no network nowhere"),
            ({"source": "default"}, "write network:NAME or bridge:NAME"),
            ({"source": "network:backend", "model": "ne2k"}, "model: one of"),
        ):
            await _fill(app, pilot, values)
            await _submit(app, pilot)
            await wait_for(lambda why=why: why in _form_error(app))  # type: ignore[misc]
        await _fill(app, pilot, {"model": "e1000e", "mac": proposed})
        await _submit(app, pilot)
        await wait_for(lambda: any("change #1 drafted" in t for t in app.told))
        (change,) = desk.changes()
        assert change.kind == "domain"
        assert change.summary == [f"add interface backend {proposed}: hot-plugged"]
        assert f'<mac address="{proposed}"/>' in change.proposed_xml

        await pilot.press("D")
        await wait_for(lambda: isinstance(app.screen, PromptScreen))
        app.screen.query_one(Input).value = "52:54:00:00:00:01"
        await pilot.press("enter")
        await wait_for(lambda: len(desk.changes()) == 2)
        removal = desk.changes()[0]
        assert removal.summary == ["remove interface default 52:54:00:00:00:01: hot-unplugged"]


async def test_the_desk_and_the_cli_say_a_change_is_a_networks(
    network_uri: str, tmp_path: Path
) -> None:
    app = _app(network_uri)
    async with app.run_test(size=(200, 40)) as pilot:
        desk = own_desk(app, tmp_path)
        await _select(await _open(app, pilot), pilot, "default")
        await pilot.press("f")
        await _fill(app, pilot, {"mode": "route"})
        await _submit(app, pilot)
        await wait_for(lambda: bool(desk.changes()))
        (change,) = desk.changes()
        assert change.summary == ["forward nat → route: at next network restart"]
        assert '<forward mode="route"/>' in change.proposed_xml
        await pilot.press("5")
        await wait_for(lambda: isinstance(app.screen, ReviewScreen) and bool(app.screen.changes))
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        row = [str(cell) for cell in screen.list_table.get_row_at(0)]
        assert "network default@test" in row
        assert "network default" in export_patch_header(desk.export_patch(change.id))


def export_patch_header(text: str) -> str:
    """The ``Network:`` header line of an exported patch, lower-cased key."""
    line = next(line for line in text.splitlines() if line.startswith("Network:"))
    return "network " + line.split(":", 1)[1].split()[0]
