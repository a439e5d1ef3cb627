"""`b` adds a disk with the format the image really has (a qcow2 is never defined raw)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from tests.tui.helpers import RecordingApp, own_desk, wait_for
from tests.tui.test_review_pilot import WEB01
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.review.ops import RawXml
from virtui.screens.form import FormScreen
from virtui.screens.prompt import PromptScreen

QCOW2_HEADER = b"QFI\xfb\x00\x00\x00\x03" + b"\x00" * 56


def _app(uri: str) -> RecordingApp:
    return RecordingApp(Settings(uris=[uri]), sessions=open_sessions([uri]), auto_poll=False)


async def _add_disk(app: RecordingApp, pilot: object, path: str, target: str) -> None:
    await pilot.press("slash", *"web01", "enter", "b")  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, FormScreen))
    app.screen.query_one("#path", Input).value = path
    app.screen.query_one("#target", Input).value = target
    form = app.screen
    assert isinstance(form, FormScreen)
    # Enter goes field by field and sends from the last one (the first Enter sent it).
    for _field in form.query(Input):
        await pilot.press("enter")  # type: ignore[attr-defined]


async def test_the_format_comes_from_the_pool_or_the_header_or_is_asked(
    storage_uri: str, tmp_path: Path
) -> None:
    local = tmp_path / "data.qcow2"
    local.write_bytes(QCOW2_HEADER)
    app = _app(storage_uri)
    async with app.run_test(size=(160, 50)) as pilot:
        desk = own_desk(app, tmp_path)
        await app.poll_now()
        await _add_disk(app, pilot, "/var/lib/libvirt/images/scratch.raw", "vdb")  # pool: raw
        await wait_for(lambda: len(desk.store.ids()) == 1)
        await _add_disk(app, pilot, str(local), "vdc")  # not in a pool: the header says
        await wait_for(lambda: len(desk.store.ids()) == 2)
        await _add_disk(app, pilot, str(tmp_path / "nowhere.img"), "vdd")  # nobody can say
        await wait_for(lambda: isinstance(app.screen, PromptScreen))
        app.screen.query_one(Input).value = "qcow2"
        await pilot.press("enter")
        await wait_for(lambda: len(desk.store.ids()) == 3)
        proposals = [
            desk.store.get(n).proposed_xml  # type: ignore[union-attr]
            for n in sorted(desk.store.ids())
        ]
        assert 'type="raw"/><source file="/var/lib/libvirt/images/scratch.raw"' in proposals[0]
        assert f'type="qcow2"/><source file="{local}"' in proposals[1]
        assert f'type="qcow2"/><source file="{tmp_path / "nowhere.img"}"' in proposals[2]


async def test_an_xml_edit_declaring_raw_over_a_qcow2_image_is_flagged(
    storage_uri: str, tmp_path: Path
) -> None:
    local = tmp_path / "data.qcow2"
    local.write_bytes(QCOW2_HEADER)
    app = _app(storage_uri)
    async with app.run_test(size=(160, 50)) as pilot:
        desk = own_desk(app, tmp_path)
        await app.poll_now()
        await pilot.pause()
        xml = (
            desk.hosts.domain_config("images" if False else app.sessions[0].name)
            .read_config(WEB01)
            .xml
        )
        disk = (
            "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            f"<source file='{local}'/><target dev='vdz' bus='virtio'/></disk>"
        )
        change = desk.draft(
            app.sessions[0].name,
            WEB01,
            "raw!",
            [RawXml(xml.replace("</devices>", disk + "</devices>"))],
        )
        warnings = desk.warnings(change)
        assert any(f"disk {local}: driver type raw but the image is qcow2" in w for w in warnings)
