"""The timeline: a bounded, filterable history of log entries, also kept on disk."""

from __future__ import annotations

import dataclasses
import logging
import logging.handlers
import queue
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from virtui.config.settings import private_file
from virtui.model.timeline import LogEntry, Severity
from virtui.text import visible

KEPT_IN_MEMORY = 20_000
FILE_MAX_BYTES = 2 * 1024 * 1024
FILE_BACKUPS = 4
_PREFIXES = {"host": "hosts", "dom": "domains", "domain": "domains", "kind": "kinds"}


class FilterError(ValueError):
    """A filter that cannot be read; the message says why."""


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Which entries to show. Every part must match; within a part, any value may.

    Written as words: ``host:h1 dom:web kind:crashed sev:warning text words``. Host,
    domain and kind match by substring, case-insensitively; plain words must all occur
    in the line.
    """

    hosts: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    min_severity: Severity = Severity.DEBUG
    text: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: str) -> LogFilter:
        """Read a filter as typed; raises FilterError for an unknown severity."""
        parts: dict[str, list[str]] = {"hosts": [], "domains": [], "kinds": [], "words": []}
        severity = Severity.DEBUG
        for word in text.split():
            prefix, colon, value = word.partition(":")
            prefix = prefix.lower()
            if colon and prefix in ("sev", "severity"):
                try:
                    severity = Severity[value.upper()]
                except KeyError:
                    names = ", ".join(s.label for s in Severity)
                    raise FilterError(f"severity {value!r}: use one of {names}") from None
            elif colon and prefix in _PREFIXES and value:
                parts[_PREFIXES[prefix]].append(value.lower())
            else:
                parts["words"].append(word.lower())
        return cls(
            hosts=tuple(parts["hosts"]),
            domains=tuple(parts["domains"]),
            kinds=tuple(parts["kinds"]),
            words=tuple(parts["words"]),
            min_severity=severity,
            text=" ".join(text.split()),
        )

    def matches(self, entry: LogEntry) -> bool:
        """True when ``entry`` passes every part of the filter."""
        if entry.severity < self.min_severity:
            return False
        if self.hosts and not any(h in entry.host.lower() for h in self.hosts):
            return False
        if self.domains and not any(d in entry.domain.lower() for d in self.domains):
            return False
        if self.kinds and not any(k in entry.kind.lower() for k in self.kinds):
            return False
        if self.words:
            line = f"{entry.host} {entry.domain} {entry.kind} {entry.detail}".lower()
            return all(word in line for word in self.words)
        return True

    @property
    def empty(self) -> bool:
        """True when the filter lets everything through."""
        return not (self.hosts or self.domains or self.kinds or self.words) and (
            self.min_severity is Severity.DEBUG
        )


class Timeline:
    """The newest ``limit`` entries in memory, oldest first; each also goes to a writer."""

    def __init__(self, limit: int = KEPT_IN_MEMORY, writer: TimelineFile | None = None) -> None:
        self.entries: deque[LogEntry] = deque(maxlen=limit)
        self.writer = writer
        self.added = 0  # entries ever added (those dropped from memory included)

    def add(self, entry: LogEntry) -> None:
        """Keep an entry (the oldest falls out when full) and hand it to the writer.
        Its texts come from libvirt, hosts and users: control characters are made
        visible here, once, for the screen and the file alike (one entry, one line)."""
        entry = dataclasses.replace(
            entry,
            host=visible(entry.host),
            domain=visible(entry.domain),
            kind=visible(entry.kind),
            detail=visible(entry.detail),
        )
        self.entries.append(entry)
        self.added += 1
        if self.writer is not None:
            self.writer.write(entry)

    def matching(self, log_filter: LogFilter) -> list[LogEntry]:
        """The kept entries that pass ``log_filter``, oldest first."""
        if log_filter.empty:
            return list(self.entries)
        return [entry for entry in self.entries if log_filter.matches(entry)]


def format_line(entry: LogEntry) -> str:
    """One entry as a line of the timeline file."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.wall_time))
    millis = int(entry.wall_time * 1000) % 1000
    return (
        f"{stamp}.{millis:03d} {entry.severity.label:<7} {entry.host or '-'} "
        f"{entry.domain or '-'} {entry.kind}: {entry.detail}"
    )


class TimelineFile:
    """Appends entries to a rotating file from a thread of its own.

    The UI thread only puts the entry on a queue; formatting and writing happen on the
    listener thread, so a slow disk never stalls the screen.
    """

    def __init__(
        self, path: Path, max_bytes: int = FILE_MAX_BYTES, backups: int = FILE_BACKUPS
    ) -> None:
        self.path = private_file(path)
        self._file = _PrivateRotatingFile(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
        self._file.setFormatter(_EntryFormatter())
        self._queue: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self._listener = logging.handlers.QueueListener(self._queue, self._file)
        self._listener.start()

    def write(self, entry: LogEntry) -> None:
        """Queue one entry for the file (never blocks)."""
        record = logging.LogRecord("virtui.timeline", entry.severity, "", 0, "", None, None)
        record.entry = entry
        self._queue.put(record)

    def close(self) -> None:
        """Write what is queued, then close the file."""
        self._listener.stop()
        self._file.close()


class _PrivateRotatingFile(logging.handlers.RotatingFileHandler):
    """Every file of the rotation is created 0600 (the timeline names domains and
    hosts; the process umask would make it world-readable)."""

    def _open(self) -> Any:
        private_file(Path(self.baseFilename))
        return super()._open()


class _EntryFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = getattr(record, "entry", None)
        return format_line(entry) if isinstance(entry, LogEntry) else super().format(record)


class WarningsToTimeline(logging.Handler):
    """Hands virtui's own warnings and errors to the timeline (from any thread).

    Attached to the ``virtui`` logger at WARNING: records below that level are dropped
    by the logger before any message is formatted.
    """

    def __init__(self, deliver: Callable[[LogEntry], None]) -> None:
        super().__init__(level=logging.WARNING)
        self._deliver = deliver

    def emit(self, record: logging.LogRecord) -> None:
        try:
            severity = Severity.ERROR if record.levelno >= logging.ERROR else Severity.WARNING
            detail = record.getMessage()
            self._deliver(LogEntry(record.created, "", "", "virtui", detail, severity))
        except Exception:  # a log handler must never raise into the code that logged
            self.handleError(record)
