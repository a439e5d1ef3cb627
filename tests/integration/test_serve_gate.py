"""``virtui serve`` admits only the holder of its token, from its own origin."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.integration.prometheus import free_port


@pytest.fixture
def served(served_with_pid: tuple[int, str, int]) -> tuple[int, str]:
    """The server's port and token."""
    port, token, _pid = served_with_pid
    return port, token


@pytest.fixture
def served_with_pid(tmp_path: Path) -> Iterator[tuple[int, str, int]]:
    """``virtui serve`` on a free port: its port, token and pid."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "virtui", "serve", "--port", str(port), "-c", "test:///default"],
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
        assert process.stdout is not None
        line = process.stdout.readline()  # printed once the server listens
        assert "/?token=" in line, line
        yield port, line.split("token=")[1].strip(), process.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def _upgrade(port: int, **headers: str) -> int:
    """Try a websocket upgrade; the HTTP status the server answered (101 on success)."""
    try:
        with connect(f"ws://127.0.0.1:{port}/ws", additional_headers=headers, open_timeout=10):
            return 101
    except InvalidStatus as refused:
        return int(refused.response.status_code)


def test_no_token_no_page_and_no_websocket(served: tuple[int, str]) -> None:
    port, _token = served
    assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 403
    assert httpx.get(f"http://127.0.0.1:{port}/?token=wrong").status_code == 403
    assert _upgrade(port, Origin=f"http://127.0.0.1:{port}") == 403


def test_a_foreign_origin_is_refused_even_with_the_token(served: tuple[int, str]) -> None:
    port, token = served
    cookie = f"virtui_token={token}"
    assert _upgrade(port, Origin="http://evil.example", Cookie=cookie) == 403
    assert _upgrade(port, Origin="null", Cookie=cookie) == 403
    assert _upgrade(port, Cookie=cookie) == 403  # a websocket must say where it comes from
    rebound = httpx.get(f"http://127.0.0.1:{port}/?token={token}", headers={"Host": "evil:80"})
    assert rebound.status_code == 403  # DNS rebinding: an unknown Host


def test_the_token_sets_a_cookie_that_opens_the_websocket(served: tuple[int, str]) -> None:
    port, token = served
    page = httpx.get(f"http://127.0.0.1:{port}/?token={token}")
    assert page.status_code == 200
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert _upgrade(port, Origin=f"http://127.0.0.1:{port}", Cookie=f"virtui_token={token}") == 101


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--host", "0.0.0.0"], "give --tls-cert and --tls-key, or --insecure-no-tls"),
        (["--tls-cert", "/nonexistent"], "--tls-cert and --tls-key go together"),
        (["--port", "99999"], "a port is a number from 1 to 65535, not 99999"),
        (["--port", "-5"], "a port is a number from 1 to 65535, not -5"),
    ],
)
def test_unsafe_or_bad_serve_options_are_refused_in_one_line(args: list[str], said: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "virtui", "serve", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert said in done.stderr and "Traceback" not in done.stderr


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().split()[3])


def _served_virtui(server: int) -> int:
    """The app process the server started for a browser (its child, or a shell's)."""
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError):
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            if b"virtui" in cmdline and b"serve" not in cmdline:
                parent = _parent(int(entry.name))
                if server in (parent, _parent(parent)):
                    return int(entry.name)
    raise AssertionError("no served virtui process")


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                return True
        except OSError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("ending", ["websocket dropped", "server killed"])
def test_a_served_app_ends_when_its_browser_or_server_goes(
    served_with_pid: tuple[int, str, int], ending: str
) -> None:
    port, token, server = served_with_pid
    headers = {"Origin": f"http://127.0.0.1:{port}", "Cookie": f"virtui_token={token}"}
    url = f"ws://127.0.0.1:{port}/ws?width=120&height=35"
    with connect(url, additional_headers=headers, open_timeout=10) as socket:
        drawn = b""
        while b"virtui" not in drawn:  # the app's first frame reached the browser
            message = socket.recv(timeout=60)
            drawn += message if isinstance(message, bytes) else b""
        socket.send(json.dumps(["stdin", "?"]))  # a dialog open, as a person leaves it
        app = _served_virtui(server)
        if ending == "server killed":
            os.kill(server, signal.SIGKILL)  # nobody left to read the app
    # The browser went away (the websocket closed), or the server did first.
    assert _gone(app, 15), f"the served app lived on after: {ending}"
