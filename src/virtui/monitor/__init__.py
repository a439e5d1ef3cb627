"""Monitoring math: CPU rates from cumulative counters, and bounded histories."""

from virtui.monitor.cpu import irix_percent, solaris_percent
from virtui.monitor.history import HistoryStore
from virtui.monitor.rates import HostRates

__all__ = ["HistoryStore", "HostRates", "irix_percent", "solaris_percent"]
