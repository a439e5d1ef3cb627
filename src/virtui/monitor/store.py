"""DomainStore: the latest stats of every domain on every host, merged for display."""

from __future__ import annotations

from dataclasses import replace

from virtui.model import DomainKey, DomainState, DomainStats, HostStatus
from virtui.model.alerts import Alert
from virtui.monitor.session import HostUpdate


class DomainStore:
    """Latest stats per domain and latest update per host. Used from the UI thread only.

    A host that stops answering keeps its domains listed, in state ``unknown`` and without
    rates, so nothing silently disappears; a domain gone from a successful poll is removed.
    """

    def __init__(self) -> None:
        self.hosts: dict[str, HostUpdate] = {}
        self._by_host: dict[str, dict[DomainKey, DomainStats]] = {}

    def apply(self, update: HostUpdate) -> set[DomainKey]:
        """Take one host update; returns the keys of domains that disappeared."""
        self.hosts[update.name] = update
        old = self._by_host.get(update.name, {})
        if update.status is not HostStatus.CONNECTED:
            self._by_host[update.name] = {key: _unknown(stats) for key, stats in old.items()}
            return set()
        if not update.answered:
            return set()  # a failed poll on a live connection: keep what we had
        current = {item.sample.key: item for item in update.stats}
        self._by_host[update.name] = current
        return old.keys() - current.keys()

    def forget_host(self, name: str) -> set[DomainKey]:
        """Drop a host and its domains (disconnected); returns the domains' keys."""
        self.hosts.pop(name, None)
        return set(self._by_host.pop(name, {}))

    def all(self) -> list[DomainStats]:
        """Every domain of every host."""
        return [item for stats in self._by_host.values() for item in stats.values()]

    def get(self, key: DomainKey) -> DomainStats | None:
        """One domain's latest stats."""
        return self._by_host.get(key.host, {}).get(key)

    def name(self, key: DomainKey) -> str:
        """The domain's name (its UUID when it is not known)."""
        stats = self.get(key)
        return stats.sample.name if stats is not None else key.uuid

    def label(self, key: DomainKey) -> str:
        """How a domain is named to the user: ``name on host`` (the UUID if unknown)."""
        return f"{self.name(key)} on {key.host}"

    def matching(self, text: str) -> list[DomainStats]:
        """Domains whose name (or ``host/name``) contains ``text``, case-insensitively."""
        if not text:
            return self.all()
        needle = text.casefold()
        return [
            item
            for item in self.all()
            if needle in f"{item.sample.key.host}/{item.sample.name}".casefold()
        ]

    def alerts(self) -> list[tuple[str, Alert]]:
        """Every firing alert, with its host."""
        return [(name, alert) for name, update in self.hosts.items() for alert in update.alerts]

    def alerted(self) -> dict[DomainKey, list[Alert]]:
        """The domains alerts are about, with their alerts."""
        found: dict[DomainKey, list[Alert]] = {}
        for host, alert in self.alerts():
            if alert.uuid:
                found.setdefault(DomainKey(host, alert.uuid), []).append(alert)
        return found

    def counts(self) -> tuple[int, int]:
        """(running domains, all domains)."""
        # Asked after every poll: the states are counted in C (list.count compares
        # Enum members by identity), not by a generator per domain.
        running = total = 0
        for stats in self._by_host.values():
            running += [item.sample.state for item in stats.values()].count(DomainState.RUNNING)
            total += len(stats)
        return running, total


def _unknown(stats: DomainStats) -> DomainStats:
    return replace(
        stats,
        sample=replace(stats.sample, state=DomainState.UNKNOWN),
        cpu_pct_irix=None,
        vcpu_pct_irix=(),
    )
