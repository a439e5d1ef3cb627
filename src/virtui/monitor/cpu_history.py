"""Bounded per-domain CPU history for graphs."""

from __future__ import annotations

from array import array
from collections.abc import Iterable

from virtui.model import DomainKey, DomainStats

# The widest graph's points: two per braille cell, on a 128-column terminal.
DEFAULT_DEPTH = 240


class Ring:
    """The last ``depth`` values, oldest first, in 4 bytes each (a deque of floats costs
    32 bytes a point: at 1,000 domains, 7 MiB against 1 MiB)."""

    __slots__ = ("_depth", "_start", "_values")

    def __init__(self, depth: int, values: Iterable[float] = ()) -> None:
        self._depth = depth
        self._values = array("f", values)[-depth:] if depth else array("f")
        self._start = 0  # where the oldest value is, once the ring is full

    def append(self, value: float) -> None:
        """Add the newest value, dropping the oldest when full."""
        values = self._values
        if len(values) < self._depth:
            values.append(value)
        elif self._depth:
            values[self._start] = value
            self._start = (self._start + 1) % self._depth

    def values(self) -> tuple[float, ...]:
        """Oldest first."""
        values, start = self._values, self._start
        return tuple(values[start:]) + tuple(values[:start])

    def __len__(self) -> int:
        return len(self._values)


class CpuHistory:
    """Ring buffers of Irix-mode CPU percentages, one per domain.

    Values are stored in Irix mode and scaled at display time, so switching the mode
    re-scales the whole history at once. Owned by a single thread (the UI's): workers
    hand it frozen stats, they never touch the buffers.
    """

    def __init__(self, depth: int = DEFAULT_DEPTH) -> None:
        self.depth = depth
        self._series: dict[DomainKey, Ring] = {}
        self._vcpus: dict[DomainKey, list[Ring]] = {}
        self._hosts: dict[str, Ring] = {}

    def record(self, stats: Iterable[DomainStats]) -> None:
        """Append one point per domain that has a rate; a gap is not recorded as zero."""
        series = self._series
        depth = self.depth
        for item in stats:
            pct = item.cpu_pct_irix
            if pct is None:
                continue
            key = item.sample.key
            ring = series.get(key)
            if ring is None:
                ring = series[key] = Ring(depth)
            ring.append(pct)
            if item.vcpu_pct_irix:
                per_vcpu = self._vcpus.get(key)
                if per_vcpu is None or len(per_vcpu) != len(item.vcpu_pct_irix):
                    per_vcpu = self._vcpus[key] = [Ring(depth) for _ in item.vcpu_pct_irix]
                for vcpu_ring, value in zip(per_vcpu, item.vcpu_pct_irix, strict=True):
                    vcpu_ring.append(value)

    def prefill(self, key: DomainKey, values: Iterable[float]) -> None:
        """Put past points (oldest first) before what was recorded since."""
        recorded = self._series.get(key)
        since = recorded.values() if recorded is not None else ()
        self._series[key] = Ring(self.depth, [*values, *since])

    def series(self, key: DomainKey) -> tuple[float, ...]:
        """The recorded points of one domain, oldest first."""
        ring = self._series.get(key)
        return ring.values() if ring is not None else ()

    def record_host(self, name: str, pct: float | None) -> None:
        """Append a host's busy percentage (100% = whole host); a gap is not a zero."""
        if pct is None:
            return
        ring = self._hosts.get(name)
        if ring is None:
            ring = self._hosts[name] = Ring(self.depth)
        ring.append(pct)

    def host_series(self, name: str) -> tuple[float, ...]:
        """A host's recorded busy percentages, oldest first (100% = whole host)."""
        ring = self._hosts.get(name)
        return ring.values() if ring is not None else ()

    def vcpu_series(self, key: DomainKey) -> list[tuple[float, ...]]:
        """Per-vCPU recorded points of one domain (empty where the driver has none)."""
        return [ring.values() for ring in self._vcpus.get(key, [])]

    def forget(self, keys: Iterable[DomainKey]) -> None:
        """Drop the history of domains that no longer exist."""
        for key in keys:
            self._series.pop(key, None)
            self._vcpus.pop(key, None)

    def __len__(self) -> int:
        return len(self._series)
