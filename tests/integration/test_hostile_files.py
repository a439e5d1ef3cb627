"""Bad files, hostile names and file modes: one clear line, never a traceback, 0600."""

from __future__ import annotations

import csv
import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.nodes import NodeDomain, write_node
from virtui.cli.batch import run_batch
from virtui.model import CpuMode, LogEntry
from virtui.monitor.sessions import open_sessions
from virtui.monitor.timeline import Timeline, TimelineFile
from virtui.tui.themes import load_theme, load_themes

FORMULA = "=2+5+cmd|' -C calc'!A0"


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("LIBVIRT_LOG")},
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }


def _batch(env: dict[str, str], *prefix: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "virtui", "top", "--batch", "-n", "1", "-d", "0.5"]
    return subprocess.run(
        [*prefix, *command, "-c", "test:///default"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.mark.parametrize("name", ["config.toml", "settings.toml"])
def test_a_file_that_is_not_utf8_is_one_line_and_the_app_runs(tmp_path: Path, name: str) -> None:
    env = _env(tmp_path)
    folder = tmp_path / "config" / "virtui"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(b"\xff\xfe[[hosts]]\nuri = 'x'\n")
    done = _batch(env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert str(folder / name) in done.stderr
    assert done.stdout.startswith("time,host,domain")


def test_a_read_only_state_directory_still_runs(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    env = _env(tmp_path)
    done = _batch(
        env,
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        f'mount --bind {state} {state} && mount -o remount,ro,bind {state} && exec "$@"',
        "-",
    )
    assert done.returncode == 0, done.stderr
    assert "SystemError" not in done.stderr and "Traceback" not in done.stderr
    assert "not logging to a file" in done.stderr
    assert done.stdout.startswith("time,host,domain")


def test_state_files_are_private(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert _batch(env).returncode == 0
    folder = tmp_path / "state" / "virtui"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = sorted(folder.iterdir())
    assert {p.name for p in files} >= {"virtui.log", "libvirt.log"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    timeline = TimelineFile(folder / "timeline.log", max_bytes=200, backups=2)
    for n in range(20):
        timeline.write(LogEntry.now("h", "d", "action", f"line {n} " + "x" * 50))
    timeline.close()
    rotated = sorted(folder.glob("timeline.log*"))
    assert len(rotated) == 3
    for path in rotated:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_one_timeline_entry_is_one_line(tmp_path: Path) -> None:
    timeline = Timeline()
    timeline.writer = TimelineFile(tmp_path / "timeline.log")
    forged = "test:///default\n2026-01-01 00:00:00.000 ERROR   h - crashed: forged"
    timeline.add(LogEntry.now("h\x1b[2J", "", "connection", f"connecting: {forged}"))
    timeline.writer.close()
    text = (tmp_path / "timeline.log").read_text()
    assert text.count("\n") == 1 and "\\x0a2026" in text and "\\x1b[2J" in text
    assert "\x1b" not in timeline.entries[0].host


def test_csv_cells_never_start_a_formula(tmp_path: Path) -> None:
    node = write_node(tmp_path / "node.xml", [NodeDomain(FORMULA), NodeDomain("@SUM(A1)")])
    out, err = io.StringIO(), io.StringIO()
    sessions = open_sessions([f"test://{node}"], names={f"test://{node}": "+h"})
    try:
        assert run_batch(sessions, 1, 0.5, CpuMode.IRIX, out, err) == 0
    finally:
        for session in sessions:
            session.close()
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert sorted(r["domain"] for r in rows) == ["'=2+5+cmd|' -C calc'!A0", "'@SUM(A1)"]
    assert {r["host"] for r in rows} == {"'+h"}


def test_a_theme_with_a_bad_field_is_refused_at_load_naming_file_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    folder = tmp_path / "config" / "virtui" / "themes"
    folder.mkdir(parents=True)
    bad = folder / "bad.toml"
    bad.write_text('name = "bad"\ndark = "yes"\nprimary = "#336699"\n')
    with pytest.raises(ValueError, match=r"bad.toml: dark must be true or false, not 'yes'"):
        load_theme(bad)
    loaded = load_themes()
    assert "bad" not in loaded.themes
    assert any("bad.toml" in problem and "dark" in problem for problem in loaded.problems)


@pytest.mark.parametrize("name", ["config.toml", "settings.toml"])
@pytest.mark.parametrize("kind", ["fifo", "huge", "folder"])
def test_a_file_that_would_block_or_flood_is_one_line_and_the_app_runs(
    tmp_path: Path, name: str, kind: str
) -> None:
    env = _env(tmp_path)
    folder = tmp_path / "config" / "virtui"
    folder.mkdir(parents=True)
    path = folder / name
    if kind == "fifo":
        os.mkfifo(path)  # nobody ever writes: a plain read blocks forever
    elif kind == "huge":
        path.write_text("# padding\n" * 300_000)  # 3 MB
    else:
        path.mkdir()
    done = _batch(env)
    assert done.returncode == 0, done.stderr
    said = {
        "fifo": "not a regular file",
        "huge": "larger than 1024 KiB",
        "folder": "Is a directory",
    }[kind]
    assert said in done.stderr and str(path) in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.count("\n") == 2  # the header and test:///default's one domain


def test_a_theme_file_that_would_block_or_flood_is_named_and_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "themes"
    folder.mkdir()
    os.mkfifo(folder / "pipe.toml")
    (folder / "huge.toml").write_text('name = "huge"\nprimary = "#112233"\n' + "#\n" * 100_000)
    problems = []
    for path in sorted(folder.iterdir()):
        with pytest.raises(ValueError) as refused:
            load_theme(path)
        problems.append(str(refused.value))
    assert "huge.toml: larger than 64 KiB" in problems[0]
    assert "pipe.toml: not a regular file" in problems[1]


def test_batch_output_into_a_closed_pipe_stops_quietly(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "virtui", "top", "--batch", "-n", "30", "-d", "0.5"]
    reader = subprocess.Popen(["head", "-c", "1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert reader.stdin is not None
    done = subprocess.run(
        [*command, "-c", "test:///default"],
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
        timeout=60,
    )
    reader.stdin.close()
    reader.wait(timeout=10)
    assert done.returncode == 141  # 128 + SIGPIPE, as a C tool killed by it
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
