"""The timeline: filters, the memory bound, the rotating file, virtui's own warnings."""

from __future__ import annotations

import ast
import logging
import threading
import time
from pathlib import Path

import pytest

from virtui.config.log_settings import check_filters, check_outputs, uses_debug
from virtui.model.timeline import LogEntry, Severity
from virtui.monitor.tail import follow
from virtui.monitor.timeline import (
    FilterError,
    LogFilter,
    Timeline,
    TimelineFile,
    WarningsToTimeline,
    format_line,
)

ENTRIES = [
    LogEntry(1.0, "h1", "web01", "started", "booted"),
    LogEntry(2.0, "h1", "db01", "crashed", "stopped unexpectedly", Severity.ERROR),
    LogEntry(3.0, "h2", "web02", "action", "pause: ok: web02: paused"),
    LogEntry(4.0, "h2", "", "connection", "lost: keepalive timeout", Severity.ERROR),
    LogEntry(5.0, "", "", "virtui", "timeline file: disk full", Severity.WARNING),
]


def _shown(text: str) -> list[float]:
    log_filter = LogFilter.parse(text)
    return [entry.wall_time for entry in ENTRIES if log_filter.matches(entry)]


def test_filters_by_host_domain_kind_severity_and_words() -> None:
    assert _shown("") == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert _shown("host:h2") == [3.0, 4.0]
    assert _shown("dom:web") == [1.0, 3.0]
    assert _shown("kind:crash kind:connection") == [2.0, 4.0]  # any of one part
    assert _shown("host:h1 kind:started") == [1.0]  # every part
    assert _shown("sev:warning") == [2.0, 4.0, 5.0]
    assert _shown("sev:error host:h1") == [2.0]
    assert _shown("PAUSED ok") == [3.0]  # plain words, case-insensitive
    assert _shown("keepalive h1") == []
    with pytest.raises(FilterError, match="severity 'loud': use one of debug, info"):
        LogFilter.parse("sev:loud")


def test_the_timeline_keeps_the_newest_entries_only() -> None:
    timeline = Timeline(limit=3)
    for entry in ENTRIES:
        timeline.add(entry)
    assert [e.wall_time for e in timeline.entries] == [3.0, 4.0, 5.0]
    assert timeline.added == 5
    assert [e.wall_time for e in timeline.matching(LogFilter.parse("host:h2"))] == [3.0, 4.0]


def test_the_file_gets_every_entry_and_rotates(tmp_path: Path) -> None:
    writer = TimelineFile(tmp_path / "timeline.log", max_bytes=400, backups=2)
    timeline = Timeline(limit=2, writer=writer)
    for n in range(30):
        timeline.add(LogEntry(time.time(), "h1", f"vm{n:02d}", "started", "booted"))
    writer.close()
    files = sorted(tmp_path.glob("timeline.log*"))  # the file, then each rotated one
    assert [path.name for path in files] == ["timeline.log", "timeline.log.1", "timeline.log.2"]
    assert all(path.stat().st_size <= 400 for path in files)
    newest = (tmp_path / "timeline.log").read_text().splitlines()
    assert newest[-1].endswith("info    h1 vm29 started: booted")
    lines = [line for path in reversed(files) for line in path.read_text().splitlines()]
    names = [line.split()[4] for line in lines]
    assert names == sorted(names)  # in order, the oldest rotated away
    assert format_line(ENTRIES[3]).endswith("error   h2 - connection: lost: keepalive timeout")


def test_virtuis_warnings_reach_the_timeline_and_info_costs_no_formatting() -> None:
    got: list[LogEntry] = []
    handler = WarningsToTimeline(got.append)
    logger = logging.getLogger("virtui.test-warnings")
    logger.setLevel(logging.WARNING)
    logger.addHandler(handler)

    class Expensive:
        def __init__(self) -> None:
            self.formatted = 0

        def __str__(self) -> str:
            self.formatted += 1
            return "expensive"

    below_level, shown = Expensive(), Expensive()
    try:
        logger.info("not shown: %s", below_level)
        logger.warning("pool %s: %s", "images", shown)
        logger.error("host %s lost", "h1")
    finally:
        logger.removeHandler(handler)
    assert [(e.kind, e.severity, e.detail) for e in got] == [
        ("virtui", Severity.WARNING, "pool images: expensive"),
        ("virtui", Severity.ERROR, "host h1 lost"),
    ]
    assert below_level.formatted == 0  # the info line was never formatted
    assert shown.formatted >= 1


def _logging_calls_with_eager_formatting(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("debug", "info", "warning", "error", "exception", "critical")
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in ("log", "logger", "logging")
            and node.args
            and isinstance(node.args[0], ast.JoinedStr | ast.BinOp | ast.Call)
        ):
            lines.append(node.lineno)
    return lines


def test_no_log_call_formats_its_message_before_the_level_is_checked() -> None:
    source = Path(__file__).resolve().parents[2] / "src" / "virtui"
    eager = {
        str(path.relative_to(source)): lines
        for path in sorted(source.rglob("*.py"))
        if (lines := _logging_calls_with_eager_formatting(path))
    }
    assert eager == {}, "use log.info('... %s', value), not f-strings: " + repr(eager)


def test_daemon_log_settings_are_checked() -> None:
    assert check_filters("1:qemu 3:object 4:+util.json") == ""
    assert check_filters("") == ""  # clears them
    assert "'qemu' is not a log filter" in check_filters("qemu")
    assert "'5:qemu' is not a log filter" in check_filters("5:qemu")
    assert check_outputs("3:file:/var/log/libvirt/libvirtd.log 2:stderr") == ""
    assert "at least one log output" in check_outputs(" ")
    assert "'3:file:relative.log' is not a log output" in check_outputs("3:file:relative.log")
    assert uses_debug("1:qemu", "3:stderr") and not uses_debug("3:qemu", "2:stderr")


def test_follow_delivers_the_end_then_appended_lines_and_survives_truncation(
    tmp_path: Path,
) -> None:
    path = tmp_path / "guest.log"
    path.write_text("old 1\nold 2\n")
    lines: list[str] = []
    notes: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=follow, args=(path, lines.extend, notes.append, stop))
    thread.start()
    try:
        _until(lambda: lines == ["old 1", "old 2"])
        with path.open("a") as log:
            log.write("new 3\nhalf")
        _until(lambda: lines[-1] == "new 3")
        with path.open("a") as log:
            log.write(" a line\n")
        _until(lambda: lines[-1] == "half a line")
        path.write_text("after rotation\n")
        _until(lambda: lines[-1] == "after rotation")
        assert notes and ("truncated" in notes[-1] or "replaced" in notes[-1])
    finally:
        stop.set()
        thread.join(5)


def _until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within 5 s"
        time.sleep(0.02)
