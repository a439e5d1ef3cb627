"""``virtui serve`` in headless Chromium: the page loads, a key press changes the screen,
and the served app's whole process tree is gone after teardown."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.fixtures.nodes import SMALL_FLEET, write_node
from tests.integration.prometheus import free_port
from tests.requirements import require

ROWS = "(document.querySelector('.xterm-rows') || {}).innerText || ''"


class DevTools:
    """Just enough of Chromium's DevTools protocol: call a method, read its result."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.last_id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.last_id += 1
        self.socket.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") == self.last_id:
                return dict(message)

    def evaluate(self, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return answer["result"]["result"].get("value")

    def press(self, key: str) -> None:
        self.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
        self.call("Input.dispatchKeyEvent", type="keyDown", text=key, key=key)
        self.call("Input.dispatchKeyEvent", type="keyUp", key=key)

    def wait_for_text(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = str(self.evaluate(ROWS))
            if text in shown:
                return shown
            time.sleep(0.25)
        raise AssertionError(f"{text!r} never appeared; the page shows: {shown[:500]!r}")


def _kill_tree(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    # Orphaned served apps spin at 100% CPU: the whole process group goes.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def _processes_mentioning(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture
def browser() -> Iterator[DevTools]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    require(
        "" if chromium else "chromium is not installed (Debian: chromium)", "run headless Chromium"
    )
    assert chromium is not None
    port = free_port()
    profile = tempfile.mkdtemp(prefix="vt-chromium-")
    process = subprocess.Popen(
        [
            chromium,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-3d-apis",
            f"--remote-debugging-port={port}",
            f"--user-data-dir={profile}",
            "--window-size=1200,800",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        # Chromium's own temporary folders go into the profile, removed with it.
        env={**os.environ, "TMPDIR": profile},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                pages = httpx.get(f"http://127.0.0.1:{port}/json", timeout=1).json()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "Chromium's DevTools did not come up"
                time.sleep(0.1)
        page = next(p for p in pages if p["type"] == "page")
        with connect(page["webSocketDebuggerUrl"], max_size=None) as socket:
            yield DevTools(socket)
    finally:
        _kill_tree(process)
        shutil.rmtree(profile, ignore_errors=True)


def test_the_served_app_answers_keys_in_a_browser(browser: DevTools, tmp_path: Path) -> None:
    node = write_node(tmp_path / "served-node.xml", SMALL_FLEET)
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "virtui", "serve", "--port", str(port), "-c", f"test://{node}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        env={
            **os.environ,
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_STATE_HOME": str(tmp_path / "state"),
        },
    )
    try:
        assert serve.stdout is not None
        url = serve.stdout.readline().split("open ", 1)[1].strip()  # printed once listening
        assert url.startswith(f"http://127.0.0.1:{port}/?token=")
        browser.call("Page.navigate", url=url)
        first = browser.wait_for_text("web01")
        assert "CPU Irix (100% = 1 CPU)" in first  # the domains screen, served
        assert _processes_mentioning(str(node))  # the app runs, one per browser session
        browser.press("2")
        hosts = browser.wait_for_text("connected")
        assert "Hypervisor" in hosts and "web01" not in hosts  # the hosts screen now
    finally:
        _kill_tree(serve)
    deadline = time.monotonic() + 10
    while _processes_mentioning(str(node)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_mentioning(str(node)) == [], "a served app outlived the server"
