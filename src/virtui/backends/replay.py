"""ReplayBackend: plays back polls recorded from a real host (``virtui record``).

A recording is JSON: ``{"host": {HostInfo fields}, "polls": [{"monotonic_ns", "wall_time",
"domains": [DomainSample fields]}]}``. Polls are returned in order and then from the
start again, each loop as a new run of every guest (one gap in the rates, never a bogus
figure across the seam). It makes screens deterministic for
snapshot tests and lets a user show what a host looked like without reaching it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from virtui.backends.base import Backend, BackendCapabilities, BackendError
from virtui.model import DomainKey, DomainSample, DomainState, HostInfo, HostPoll


def save_recording(polls: Sequence[HostPoll], path: Path) -> None:
    """Write polls of one host as a recording file."""
    if not polls:
        raise ValueError("nothing to record")
    document = {
        "host": asdict(polls[0].host),
        "polls": [
            {
                "monotonic_ns": poll.monotonic_ns,
                "wall_time": poll.wall_time,
                "domains": [_sample_to_json(sample) for sample in poll.domains],
            }
            for poll in polls
        ],
    }
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def _sample_to_json(sample: DomainSample) -> dict[str, Any]:
    data = asdict(sample)
    data["key"] = sample.key.uuid
    data["state"] = sample.state.name
    data["vcpu_times_ns"] = list(sample.vcpu_times_ns)
    return data


class ReplayBackend(Backend):
    """A host whose polls come from a recording file (``replay:///abs/path.json``)."""

    def __init__(self, uri: str, name: str) -> None:
        super().__init__(uri, name)
        self.path = Path(urlsplit(uri).path)
        self._info: HostInfo | None = None
        self._polls: list[dict[str, Any]] = []
        self._index = 0
        self._loops = 0

    @property
    def capabilities(self) -> BackendCapabilities:
        return BackendCapabilities()

    def connect(self) -> HostInfo:
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            host = dict(document["host"], name=self.name, uri=self.uri)
            self._info = HostInfo(**host)
            self._polls = list(document["polls"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise BackendError(f"cannot replay {self.path}: {error}", reason="permanent") from error
        if not self._polls:
            raise BackendError(f"cannot replay {self.path}: it holds no polls")
        self._index = 0
        self._loops = 0
        return self._info

    def poll(self) -> HostPoll:
        if self._info is None:
            raise BackendError(f"{self.name}: not connected", connection_lost=True)
        record, loop = self._polls[self._index], self._loops
        self._index += 1
        if self._index == len(self._polls):
            self._index = 0
            self._loops += 1
        try:
            return HostPoll(
                host=self._info,
                monotonic_ns=int(record["monotonic_ns"]) + loop * self._span_ns(),
                wall_time=float(record["wall_time"]),
                domains=tuple(self._sample(item, loop) for item in record["domains"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise BackendError(f"{self.path}: malformed poll: {error}") from error

    def _span_ns(self) -> int:
        """Length of one loop of the recording, one poll interval included."""
        first = int(self._polls[0]["monotonic_ns"])
        last = int(self._polls[-1]["monotonic_ns"])
        step = (last - first) // max(1, len(self._polls) - 1) or 1_000_000_000
        return last - first + step

    def _sample(self, item: dict[str, Any], loop: int) -> DomainSample:
        run_id = int(item.get("run_id", -1))
        read_ns = int(item.get("read_ns", 0))
        return DomainSample(
            key=DomainKey(self.name, str(item["key"])),
            name=str(item["name"]),
            state=DomainState[item["state"]],
            vcpus=int(item["vcpus"]),
            mem_kib=int(item["mem_kib"]),
            max_mem_kib=int(item["max_mem_kib"]),
            cpu_time_ns=int(item["cpu_time_ns"]),
            vcpu_times_ns=tuple(int(v) for v in item.get("vcpu_times_ns", ())),
            # Each loop is a new run: counters start over, so no rate spans the seam.
            run_id=run_id + 1_000_000 * loop,
            read_ns=read_ns + loop * self._span_ns() if read_ns else 0,
        )

    def close(self) -> None:
        self._info = None
