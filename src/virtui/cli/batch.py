"""``virtui top --batch``: CSV on stdout, like ``virt-top -b --csv``."""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TextIO

from virtui.model import CpuMode, HostStatus
from virtui.monitor.session import HostSession, HostUpdate
from virtui.text import csv_cell, visible

CSV_HEADER = (
    "time",
    "host",
    "domain",
    "uuid",
    "state",
    "vcpus",
    "cpu_pct",
    "cpu_mode",
    "mem_kib",
    "cpu_time_ns",
    # Added in round 2, after the first ten so scripts reading by position still work.
    "disk_rd_bytes_per_s",
    "disk_wr_bytes_per_s",
    "disk_rd_reqs_per_s",
    "disk_wr_reqs_per_s",
    "net_rx_bytes_per_s",
    "net_tx_bytes_per_s",
    "autostart",
    "saved",
)


def run_batch(
    sessions: Sequence[HostSession],
    iterations: int,
    delay: float,
    mode: CpuMode,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Write ``iterations`` rounds of rows; the first needs two samples, so it polls
    ``iterations + 1`` times. Returns the exit status: 1 when a host never answered."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    out.flush()
    reported: set[str] = set()
    answered: set[str] = set()
    with ThreadPoolExecutor(max_workers=max(1, len(sessions))) as pool:
        for round_number in range(iterations + 1):
            started = time.monotonic()
            updates = list(pool.map(HostSession.poll_once, sessions))
            for update in updates:
                if update.status is HostStatus.CONNECTED:
                    answered.add(update.name)
                    reported.discard(update.name)
                elif update.name not in reported:
                    reported.add(update.name)
                    print(f"virtui: {visible(update.name)}: {visible(update.message)}", file=err)
                if round_number > 0:
                    _write_rows(writer, update, mode)
            out.flush()
            if round_number < iterations:
                time.sleep(max(0.0, delay - (time.monotonic() - started)))
    return 0 if len(answered) == len(sessions) else 1


def _write_rows(writer: Any, update: HostUpdate, mode: CpuMode) -> None:
    stamp = datetime.fromtimestamp(update.wall_time or time.time(), UTC).isoformat(
        timespec="seconds"
    )
    for item in update.stats:
        sample = item.sample
        pct = item.cpu_pct(mode)
        writer.writerow(
            (
                stamp,
                csv_cell(update.name),
                csv_cell(sample.name),
                csv_cell(sample.key.uuid),
                sample.state.value,
                sample.vcpus,
                "" if pct is None else f"{pct:.1f}",
                mode.value,
                sample.mem_kib,
                sample.cpu_time_ns,
                _figure(item.disk_rd_bps),
                _figure(item.disk_wr_bps),
                _figure(item.disk_rd_iops),
                _figure(item.disk_wr_iops),
                _figure(item.net_rx_bps),
                _figure(item.net_tx_bps),
                "" if sample.autostart is None else str(sample.autostart).lower(),
                str(sample.saved).lower(),
            )
        )


def _figure(rate: float | None) -> str:
    """A rate with one decimal; empty until two samples of the same run exist."""
    return "" if rate is None else f"{rate:.1f}"
