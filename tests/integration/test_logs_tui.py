"""The logs screen against real libvirt: a QEMU log followed live, daemon logging changed."""

from __future__ import annotations

import subprocess

from textual.widgets import Input, Static

from tests.integration.daemons import Daemon
from tests.tui.helpers import RecordingApp, showing, wait_for
from virtui.backends.libvirt.demo import DEMO_PREFIX, EmbeddedDemo
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.screens.confirm import ConfirmScreen
from virtui.screens.form import FormScreen
from virtui.screens.logs import LogsScreen
from virtui.screens.prompt import PromptScreen
from virtui.screens.tail import TailScreen


def _app(uri: str, name: str) -> RecordingApp:
    return RecordingApp(
        Settings(uris=[uri], names={uri: name}),
        sessions=open_sessions([uri], names={uri: name}),
        auto_poll=False,
    )


async def test_the_qemu_log_view_follows_appended_lines(embedded_demo: EmbeddedDemo) -> None:
    name = DEMO_PREFIX + "spin"
    path = embedded_demo.root / "log" / "qemu" / f"{name}.log"
    app = _app(embedded_demo.uri, "embed")
    async with app.run_test(size=(150, 30)) as pilot:
        await app.poll_now()
        await pilot.press("slash", *"spin", "enter", "L")
        await wait_for(lambda: isinstance(app.screen, TailScreen))
        tail = app.screen
        assert isinstance(tail, TailScreen)
        assert tail.location.path == str(path)
        await wait_for(lambda: any("qemu-system-x86_64" in line for line in tail.log_widget.lines))
        with path.open("a") as log:
            log.write("virtui test: a line written now\n")
        await wait_for(lambda: tail.log_widget.lines[-1] == "virtui test: a line written now", 10)
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.domains)
        assert tail.stop.is_set()  # the follower thread was told to stop


def _virt_admin(daemon: Daemon, *args: str) -> str:
    uri = f"libvirtd:///system?socket={daemon.dir}/libvirt-admin-sock"
    return subprocess.run(
        ["virt-admin", "-c", uri, *args], capture_output=True, text=True, check=True
    ).stdout


async def test_daemon_log_filters_are_changed_and_read_back(storage_daemon: Daemon) -> None:
    app = _app(storage_daemon.qemu_uri, "d")
    async with app.run_test(size=(150, 40)) as pilot:
        await app.poll_now()
        await pilot.press("4")
        await wait_for(lambda: isinstance(app.screen, LogsScreen))
        await pilot.press("D")
        await wait_for(lambda: isinstance(app.screen, PromptScreen))
        await pilot.press("enter")  # the host proposed: the only one
        await wait_for(lambda: isinstance(app.screen, FormScreen), 15)
        form = app.screen
        outputs = form.query_one("#outputs", Input).value
        assert outputs == f"3:file:{storage_daemon.dir}/libvirtd.log"  # the daemon's own
        assert "costs real CPU" in str(form.query_one("#hint", Static).render())

        form.query_one("#filters", Input).value = "qemu"
        form.query_one("#outputs", Input).focus()
        await pilot.press("enter")
        assert "'qemu' is not a log filter" in str(form.query_one("#error", Static).render())
        form.query_one("#filters", Input).value = "1:qemu 3:object"
        await pilot.press("enter")
        await wait_for(lambda: showing(app, ConfirmScreen))  # debug: asked first
        await pilot.press("y")
        await wait_for(lambda: any("filters 1:*qemu* 3:*object*" in t for t in app.told), 15)
        assert "1:*qemu* 3:*object*" in _virt_admin(storage_daemon, "daemon-log-filters")
        # The timeline's entry is a message the screen posts beside the notification:
        # it lands a moment later (a loaded machine showed the gap).
        await wait_for(
            lambda: any(
                e.kind == "action" and "daemon logging: filters 1:*qemu*" in e.detail
                for e in app.timeline.entries
            ),
            10,
        )
    _virt_admin(storage_daemon, "daemon-log-filters", "")
