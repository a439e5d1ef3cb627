"""Monitoring math: CPU rates from cumulative counters, and bounded histories."""

from virtui.monitor.cpu import irix_percent, solaris_percent
from virtui.monitor.cpu_history import CpuHistory
from virtui.monitor.rates import HostRates

__all__ = ["CpuHistory", "HostRates", "irix_percent", "solaris_percent"]
