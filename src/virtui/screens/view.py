"""View options shared by every screen (so I means the same everywhere)."""

from __future__ import annotations

from dataclasses import dataclass

from virtui.model import CpuMode


@dataclass
class ViewOptions:
    """Mutable, UI-thread-only display choices."""

    mode: CpuMode = CpuMode.IRIX
