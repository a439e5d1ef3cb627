"""Ctrl+N: the new-guest form in steps on the test driver, what it refuses, and the
change request it drafts (nothing created before the merge)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from tests.tui.helpers import RecordingApp, own_desk, showing, text_screen_shown, wait_for
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.review.core import NEW_DOMAIN, ReviewError
from virtui.screens.form import FormScreen

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE1vY2tLZXlGb3JUZXN0c09ubHk admin@jump"


def _app(uri: str) -> RecordingApp:
    return RecordingApp(Settings(uris=[uri]), sessions=open_sessions([uri]), auto_poll=False)


async def _step(app: RecordingApp, pilot: object, title: str, values: dict[str, str]) -> FormScreen:
    await wait_for(lambda: isinstance(app.screen, FormScreen) and title in app.screen._title)
    form = app.screen
    assert isinstance(form, FormScreen)
    for key, value in values.items():
        form.query_one(f"#{key}", Input).value = value
    form.set_focus(list(form.query(Input))[-1])
    await pilot.press("enter")  # type: ignore[attr-defined]
    return form


def _error(form: FormScreen) -> str:
    return str(form.query_one("#error").render())


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "id_ed25519.pub"
    path.write_text(KEY + "\n")
    return path


async def test_a_cloud_guest_is_drafted_in_four_steps(
    storage_uri: str, tmp_path: Path, key_file: Path
) -> None:
    app = _app(storage_uri)
    async with app.run_test(size=(160, 50)) as pilot:
        desk = own_desk(app, tmp_path)
        await app.poll_now()
        await pilot.press("ctrl+n")
        image = "/var/lib/libvirt/images/web01.qcow2"  # a qcow2 volume of the pool
        form = await _step(app, pilot, "(1/4)", {"name": "web01", "image": image})
        await wait_for(lambda: "already has a domain named web01" in _error(form))
        await _step(app, pilot, "(1/4)", {"name": "web03"})
        form = await _step(app, pilot, "(2/4)", {"os": "beos"})
        await wait_for(lambda: "an OS such as" in _error(form))
        await _step(
            app, pilot, "(2/4)", {"os": "linux", "vcpus": "2", "memory": "2G", "disk": "10G"}
        )
        # What the host has is offered, and what it has not is refused at the step.
        form = await _step(app, pilot, "(3/4)", {"pool": "default", "network": "network:default"})
        await wait_for(lambda: _error(form) != "")
        assert "has no pool 'default': it has " in _error(form), _error(form)
        assert "images" in _error(form)
        form = await _step(app, pilot, "(3/4)", {"pool": "images"})
        await wait_for(lambda: "has no network 'default'" in _error(form))
        await _step(app, pilot, "(3/4)", {"network": "none"})
        form = await _step(app, pilot, "(4/4)", {"key": str(tmp_path / "none.pub")})
        await wait_for(lambda: "cannot read" in _error(form))
        form = await _step(app, pilot, "(4/4)", {"key": str(tmp_path / "reviews.db")})
        await wait_for(lambda: "cannot read" in _error(form) or "does not hold" in _error(form))
        await _step(app, pilot, "(4/4)", {"key": str(key_file), "user": "debian"})
        await wait_for(lambda: any("drafted: web03: new domain (cloud)" in t for t in app.told))
        (change,) = desk.changes()
        assert change.kind == NEW_DOMAIN and change.domain_name == "web03"
        assert change.summary == [
            "define new domain web03",
            f"create volume images/web03.qcow2: 10GiB qcow2 over {image}",
            "create cloud-init seed images/web03-seed.iso (user debian)",
            "start it after the merge",
        ]
        xml = change.proposed_xml
        assert "<vcpu>2</vcpu>" in xml and "<memory unit='MiB'>2048</memory>" in xml
        assert "bus='virtio'" in xml and "machine='q35'" in xml
        # The test host offers no KVM: the guest would be emulated, and the request says so.
        assert xml.startswith("<domain type='qemu'>")
        assert "Runs emulated (QEMU TCG, many times slower): test offers no KVM" in (
            change.description
        )
        # What virt-install adds for a Linux guest: agent channel, tablet, entropy.
        assert "name='org.qemu.guest_agent.0'" in xml and "<input type='tablet'" in xml
        assert "<rng model='virtio'><backend model='builtin'/></rng>" in xml
        assert "/var/lib/libvirt/images/web03-seed.iso" in xml
        (create,) = change.ops
        seed = create.new_volumes()[1].seed  # type: ignore[union-attr]
        assert KEY in seed["user-data"] and '"name": "debian"' in seed["user-data"]
        # The reviewer reads what runs at first boot and which key gets in.
        assert "run as root at first boot" in change.description
        assert '"name": "debian"' in change.description
        assert "SSH keys it installs:\n  SHA256:" in change.description
        assert "admin@jump (ssh-ed25519)" in change.description


async def test_an_image_whose_format_cannot_be_read_is_refused(
    storage_uri: str, tmp_path: Path
) -> None:
    app = _app(storage_uri)
    async with app.run_test(size=(160, 50)) as pilot:
        desk = own_desk(app, tmp_path)
        await app.poll_now()
        await pilot.press("ctrl+n")
        await _step(
            app, pilot, "(1/4)", {"name": "web04", "source": "import", "image": "/nowhere/x.img"}
        )
        await _step(app, pilot, "(2/4)", {"vcpus": "3"})
        await wait_for(lambda: isinstance(app.screen, FormScreen) and "(3/4)" in app.screen._title)
        assert "no new volume" in str(app.screen.query_one("#hint").render())
        await _step(app, pilot, "(3/4)", {"network": "none"})  # no pool: it imports
        await wait_for(lambda: any("cannot be read" in t for t in app.told))
        assert desk.changes() == []
        # The step it concerns again, with the error, and nothing typed lost (it closed
        # the wizard and every value was gone).
        await wait_for(lambda: isinstance(app.screen, FormScreen) and "(1/4)" in app.screen._title)
        first = app.screen
        assert isinstance(first, FormScreen)
        assert "cannot be read" in _error(first)
        assert first.values() == {
            "host": "test",
            "name": "web04",
            "source": "import",
            "image": "/nowhere/x.img",
        }
        assert first.focused is first.query_one("#image")
        await _step(app, pilot, "(1/4)", {})
        await wait_for(lambda: isinstance(app.screen, FormScreen) and "(2/4)" in app.screen._title)
        second = app.screen
        assert isinstance(second, FormScreen) and second.values()["vcpus"] == "3"


async def test_g_hands_the_graphical_console_over_with_a_viewer_file(tmp_path: Path) -> None:
    from tests.fixtures.nodes import NodeDomain, write_node
    from virtui.config.settings import state_dir

    node = write_node(
        tmp_path / "gfx.xml",
        [NodeDomain("desk01", devices="<graphics type='vnc' port='5901' listen='127.0.0.1'/>")],
    )
    app = _app(f"test://{node}")
    async with app.run_test(size=(160, 50)) as pilot:
        await app.poll_now()
        await pilot.press("g")
        text = await text_screen_shown(app)
        vv = state_dir() / "consoles" / "desk01.vv"
        assert f"remote-viewer {vv}" in text and "vnc://127.0.0.1:5901" in text
        assert vv.read_text().startswith("[virt-viewer]\ntype=vnc\nhost=127.0.0.1\nport=5901\n")
        assert vv.stat().st_mode & 0o777 == 0o600
        assert vv.parent.stat().st_mode & 0o777 == 0o700


async def test_x_resets_after_asking(storage_uri: str) -> None:
    from tests.tui.helpers import action_log
    from virtui.screens.confirm import ConfirmScreen

    app = _app(storage_uri)
    async with app.run_test(size=(160, 50)) as pilot:
        await app.poll_now()
        await pilot.press("slash", *"web01", "enter", "X")
        await wait_for(lambda: showing(app, ConfirmScreen))
        shown = " ".join(str(s.render()) for s in app.screen.query("Static"))
        assert "Like pressing the reset button" in shown
        await pilot.press("y")
        await wait_for(
            lambda: any("reset (like the reset button)" in line for line in action_log(app))
        )


async def test_a_new_guest_request_can_be_edited_before_it_exists(
    storage_uri: str, tmp_path: Path
) -> None:
    """`e` on a new-domain request failed ("Document is empty": there is no live domain
    to carry the edit onto); its XML is edited as it is, and checked as a draft is."""
    from virtui.review.newguest import GuestSpec, domain_xml

    app = _app(storage_uri)
    async with app.run_test(size=(160, 50)):
        desk = own_desk(app, tmp_path)
        await app.poll_now()
        xml = domain_xml(GuestSpec("web05", 1, 512, "linux"))
        change = desk.draft_new("test", xml, start=True)
        _change, live, text = desk.editable_text(change.id)
        assert (live, text) == ("", xml)
        edited = desk.resolve(change.id, text.replace("<vcpu>1</vcpu>", "<vcpu>2</vcpu>"), live)
        assert "<vcpu>2</vcpu>" in edited.proposed_xml
        assert edited.summary == change.summary and edited.kind == NEW_DOMAIN
        with pytest.raises(ReviewError, match="the name and UUID stay web05"):
            desk.resolve(change.id, text.replace("web05", "web06"), live)
        with pytest.raises(ReviewError, match="does not validate"):
            desk.resolve(change.id, text.replace("<vcpu>1</vcpu>", "<vcpu>x</vcpu>"), live)
