"""Bounded per-domain CPU history for graphs."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from virtui.model import DomainKey, DomainStats

DEFAULT_DEPTH = 240


class HistoryStore:
    """Ring buffers of Irix-mode CPU percentages, one per domain.

    Values are stored in Irix mode and scaled at display time, so switching the mode
    re-scales the whole history at once. Owned by a single thread (the UI's): workers
    hand it frozen stats, they never touch the buffers.
    """

    def __init__(self, depth: int = DEFAULT_DEPTH) -> None:
        self.depth = depth
        self._series: dict[DomainKey, deque[float]] = {}
        self._vcpus: dict[DomainKey, list[deque[float]]] = {}
        self._hosts: dict[str, deque[float]] = {}

    def record(self, stats: Iterable[DomainStats]) -> None:
        """Append one point per domain that has a rate; a gap is not recorded as zero."""
        series = self._series
        for item in stats:
            if item.cpu_pct_irix is None:
                continue
            key = item.sample.key
            buffer = series.get(key)
            if buffer is None:
                buffer = series[key] = deque(maxlen=self.depth)
            buffer.append(item.cpu_pct_irix)
            if item.vcpu_pct_irix:
                per_vcpu = self._vcpus.get(key)
                if per_vcpu is None or len(per_vcpu) != len(item.vcpu_pct_irix):
                    per_vcpu = self._vcpus[key] = [
                        deque(maxlen=self.depth) for _ in item.vcpu_pct_irix
                    ]
                for ring, value in zip(per_vcpu, item.vcpu_pct_irix, strict=True):
                    ring.append(value)

    def prefill(self, key: DomainKey, values: Iterable[float]) -> None:
        """Put past points (oldest first) before what was recorded since."""
        recorded = self._series.get(key, ())
        self._series[key] = deque([*values, *recorded], maxlen=self.depth)

    def series(self, key: DomainKey) -> tuple[float, ...]:
        """The recorded points of one domain, oldest first."""
        buffer = self._series.get(key)
        return tuple(buffer) if buffer is not None else ()

    def record_host(self, name: str, pct: float | None) -> None:
        """Append a host's busy percentage (100% = whole host); a gap is not a zero."""
        if pct is None:
            return
        ring = self._hosts.get(name)
        if ring is None:
            ring = self._hosts[name] = deque(maxlen=self.depth)
        ring.append(pct)

    def host_series(self, name: str) -> tuple[float, ...]:
        """A host's recorded busy percentages, oldest first (100% = whole host)."""
        ring = self._hosts.get(name)
        return tuple(ring) if ring is not None else ()

    def vcpu_series(self, key: DomainKey) -> list[tuple[float, ...]]:
        """Per-vCPU recorded points of one domain (empty where the driver has none)."""
        return [tuple(ring) for ring in self._vcpus.get(key, [])]

    def forget(self, keys: Iterable[DomainKey]) -> None:
        """Drop the history of domains that no longer exist."""
        for key in keys:
            self._series.pop(key, None)
            self._vcpus.pop(key, None)

    def __len__(self) -> int:
        return len(self._series)
