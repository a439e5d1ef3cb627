"""The backups port: backing a host's domains up (backups/ on disk says what exists)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from virtui.model.backup import BackupManifest


class BackupPort(Protocol):
    """Backups of one host's domains."""

    def back_up(
        self,
        uuid: str,
        root: Path,
        incremental: bool,
        progress: Callable[[int, int], None],
        cancel: threading.Event,
    ) -> BackupManifest:
        """Back a domain up under ``root`` (incremental when it can); what was made.
        ``progress(done, total)`` bytes; ``cancel`` aborts and removes what it wrote."""

    def pool_folder(self, pool: str) -> Path:
        """The folder of a started dir pool of this (local) host, where backups go."""
