"""DeskClient: a member's end of a team's desk service. The same steps as ReviewDesk, each
one request over the service's Unix socket (or over SSH to the machine it runs on); the
service decides who is asking and whether the rules allow it. Blocking: call from worker
threads, like ReviewDesk.

Where the desk is: ``[review] desk`` in config.toml, either the socket's path or
``ssh://[USER@]HOST[:PORT]/PATH/TO/SOCKET`` (ssh then runs ``virtui desk relay PATH`` on
that machine, with the member's own keys and ssh config).
"""

from __future__ import annotations

import contextlib
import json
import shlex
import socket
import subprocess
import threading
from collections.abc import Collection, Sequence
from typing import IO, Any
from urllib.parse import urlsplit

from virtui.model.config import DomainConfig
from virtui.model.newguest import NewVolume
from virtui.review.core import MergeResult, ReviewError, ReviewRules
from virtui.review.history import Version
from virtui.review.model import ChangeRequest
from virtui.review.ops import Op, ops_to_json
from virtui.review.wire import (
    MAX_LINE,
    WireError,
    change_from_dict,
    decode,
    encode,
    result_from_dict,
    rules_from_dict,
    version_from_dict,
)

CONNECT_TIMEOUT_S = 10.0
RELAY = ("virtui",)  # the program ssh runs on the desk's machine


class DeskUnavailable(ReviewError):
    """The desk service cannot be reached or went away; the message says which."""


class Link:
    """One conversation with the service: a request, then its answer, one at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reader: IO[bytes] | None = None
        self._writer: IO[bytes] | None = None

    def _open(self) -> tuple[IO[bytes], IO[bytes]]:
        raise NotImplementedError

    def _drop(self) -> None:
        for stream in (self._reader, self._writer):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._reader = self._writer = None

    def call(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one request, read its answer (DeskUnavailable when the link fails)."""
        with self._lock:
            try:
                if self._reader is None or self._writer is None:
                    self._reader, self._writer = self._open()
                try:
                    self._writer.write(encode(message))
                    self._writer.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the service closed: it may have said why first (read below)
                line = self._reader.readline(MAX_LINE + 1)
            except OSError as error:
                self._drop()
                raise DeskUnavailable(f"the desk service: {error.strerror or error}") from error
            if not line:
                self._drop()
                raise DeskUnavailable(f"the desk service closed the connection{self._why()}")
            try:
                return decode(line)
            except WireError as error:
                self._drop()
                raise DeskUnavailable(f"the desk service: {error}") from error

    def _why(self) -> str:
        return ""

    def close(self) -> None:
        """End the conversation."""
        with self._lock:
            self._drop()


class SocketLink(Link):
    """The service's Unix socket on this machine."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def _open(self) -> tuple[IO[bytes], IO[bytes]]:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(CONNECT_TIMEOUT_S)
        try:
            sock.connect(self.path)
        except OSError as error:
            sock.close()
            raise OSError(error.errno, f"{self.path}: {error.strerror}") from error
        sock.settimeout(None)  # a merge takes as long as libvirt takes
        return sock.makefile("rb"), sock.makefile("wb")


class SshLink(Link):
    """The service's socket on another machine, through ``ssh HOST virtui desk relay``."""

    def __init__(self, target: str, port: int | None, path: str, relay: Sequence[str]) -> None:
        super().__init__()
        self.target = target
        self.port = port
        self.path = path
        self.relay = tuple(relay) or RELAY
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        """The ssh command line (batch mode: a prompt would hang a worker thread)."""
        port = ["-p", str(self.port)] if self.port else []
        remote = shlex.join([*self.relay, "desk", "relay", self.path])
        return ["ssh", "-T", "-o", "BatchMode=yes", *port, "--", self.target, remote]

    def _open(self) -> tuple[IO[bytes], IO[bytes]]:
        self._process = subprocess.Popen(
            self.command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        return self._process.stdout, self._process.stdin

    def _why(self) -> str:
        process = self._process
        if process is None or process.stderr is None:
            return ""
        with contextlib.suppress(subprocess.TimeoutExpired, OSError):
            process.wait(5)
            said = process.stderr.read().decode(errors="replace").strip().splitlines()
            return f": {said[-1]}" if said else ""
        return ""

    def _drop(self) -> None:
        super()._drop()
        process, self._process = self._process, None
        if process is not None:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                process.terminate()
                process.wait(5)


def link_to(address: str, relay: Sequence[str] = RELAY) -> Link:
    """The link to a desk service at ``address`` (a socket path, or ssh://...)."""
    if address.startswith("ssh://"):
        parts = urlsplit(address)
        if not parts.hostname or not parts.path.startswith("/"):
            raise DeskUnavailable(f"{address}: not ssh://[USER@]HOST[:PORT]/PATH/TO/SOCKET")
        target = f"{parts.username}@{parts.hostname}" if parts.username else parts.hostname
        return SshLink(target, parts.port, parts.path, relay)
    if not address.startswith("/"):
        raise DeskUnavailable(f"{address}: the desk is a socket's absolute path, or ssh://...")
    return SocketLink(address)


class DeskClient:
    """A member's desk: every step asks the service, which acts as the caller it sees."""

    def __init__(self, link: Link, *, readonly: bool = False) -> None:
        self.link = link
        self.readonly = readonly
        hello = self._call("hello")
        self.user: str = hello["user"]
        self.rules: ReviewRules = rules_from_dict(hello["rules"])
        self.keeps_history: bool = bool(hello["history"])
        self.host_names: list[str] = list(hello["hosts"])
        self.shared = True

    def _call(self, step: str, **args: Any) -> Any:
        answer = self.link.call({"op": step, "args": args})
        if "ok" in answer:
            return answer["ok"]
        raise ReviewError(str(answer.get("refused") or answer.get("error") or answer))

    def _writing(self, verb: str) -> None:
        if self.readonly:
            raise ReviewError(
                f"cannot {verb}: the review desk is read-only (opened with --readonly); "
                "nothing was changed"
            )

    def _change(self, step: str, **args: Any) -> ChangeRequest:
        try:
            return change_from_dict(self._call(step, **args))
        except WireError as error:
            raise DeskUnavailable(f"the desk service: {error}") from error

    def close(self) -> None:
        """End the link (at exit)."""
        self.link.close()

    # -- reading ---------------------------------------------------------------------------

    def data_version(self) -> int:
        """A number the service moves whenever its store changed (anyone's step)."""
        return int(self._call("version"))

    def changes(self) -> list[ChangeRequest]:
        """Every change, newest first."""
        return [change_from_dict(c) for c in self._call("changes")]

    def get(self, change_id: int) -> ChangeRequest:
        """One change request."""
        return self._change("get", id=change_id)

    def for_me(self) -> int:
        """How many requests wait for this member's review."""
        return int(self._call("for_me"))

    def find_domain(self, host: str, name: str) -> str:
        """The UUID of the domain named (or numbered) so on the service's host."""
        return str(self._call("find_domain", host=host, name=name))

    def warnings(self, change: ChangeRequest) -> list[str]:
        """What the change reaches beyond the guest (the service reads the host)."""
        return list(self._call("warnings", id=change.id))

    def check_mergeable(self, change: ChangeRequest) -> None:
        """Raise ReviewError unless the team's rules allow merging it now."""
        self._call("check_mergeable", id=change.id)

    def versions(self, host: str, name: str) -> list[Version]:
        """The history of one domain's configuration, newest first."""
        return [version_from_dict(v) for v in self._call("versions", host=host, name=name)]

    def version_diff(self, host: str, name: str, commit: str) -> str:
        """What one commit changed."""
        return str(self._call("version_diff", host=host, name=name, commit=commit))

    def read_config(self, host: str, uuid: str, kind: str = "domain") -> DomainConfig:
        """The live configuration as the service reads it, its secrets redacted (a
        proposal made from it gets them back where its lines keep them)."""
        answer = self._call("read_config", host=host, uuid=uuid, kind=kind)
        return DomainConfig(str(answer["xml"]), bool(answer["active"]), str(answer["name"]))

    def image_format(self, host: str, path: str) -> str | None:
        """A disk image's format, as the service's host says."""
        found = self._call("image_format", host=host, path=path)
        return str(found) if found else None

    def export_patch(self, change_id: int) -> str:
        """The patch file text of a change (secrets redacted)."""
        return str(self._call("export_patch", id=change_id))

    def editable_text(self, change_id: int) -> tuple[ChangeRequest, str, str]:
        """A conflicted change's text to resolve, and the live configuration."""
        answer = self._call("editable_text", id=change_id)
        return change_from_dict(answer["change"]), answer["text"], answer["live"]

    # -- writing ---------------------------------------------------------------------------

    def draft(
        self,
        host: str,
        uuid: str,
        title: str,
        ops: list[Op],
        description: str = "",
        flags: list[str] | None = None,
        kind: str = "domain",
    ) -> ChangeRequest:
        """A new change request (``flags`` are the service's to set, not a member's)."""
        self._writing("draft a change")
        return self._change(
            "draft",
            host=host,
            uuid=uuid,
            title=title,
            ops=_json_ops(ops),
            description=description,
            kind=kind,
        )

    def draft_new(
        self,
        host: str,
        xml: str,
        volumes: list[NewVolume] | None = None,
        *,
        start: bool = False,
        title: str = "",
        description: str = "",
    ) -> ChangeRequest:
        """A change request that defines a new domain."""
        self._writing("draft a new guest")
        return self._change(
            "draft_new",
            host=host,
            xml=xml,
            volumes=[v.as_dict() for v in volumes or []],
            start=start,
            title=title,
            description=description,
        )

    def publish(self, change_id: int) -> ChangeRequest:
        """Draft → open."""
        self._writing("open a change for review")
        return self._change("publish", id=change_id)

    def comment(self, change_id: int, line: int, anchor: str, text: str) -> ChangeRequest:
        """Comment on a diff line (0: on the whole change)."""
        self._writing("comment")
        return self._change("comment", id=change_id, line=line, anchor=anchor, text=text)

    def approve(self, change_id: int) -> ChangeRequest:
        """Approve this version (the service knows who asks)."""
        self._writing("approve")
        return self._change("approve", id=change_id)

    def reject(self, change_id: int, reason: str) -> ChangeRequest:
        """Close as rejected."""
        self._writing("reject")
        return self._change("reject", id=change_id, reason=reason)

    def withdraw(self, change_id: int) -> ChangeRequest:
        """Close as withdrawn."""
        self._writing("withdraw")
        return self._change("withdraw", id=change_id)

    def check_stale(self, change_id: int) -> ChangeRequest:
        """Mark stale when the live configuration moved."""
        return self._change("check_stale", id=change_id)

    def check_domain(self, host: str, uuid: str) -> list[int]:
        """Check a domain's requests after a host reported a change."""
        return [int(n) for n in self._call("check_domain", host=host, uuid=uuid)]

    def record_drift(self, host: str, uuid: str) -> str:
        """Have the service commit a change made outside the desk ("" when none)."""
        if self.readonly:
            return ""
        return str(self._call("record_drift", host=host, uuid=uuid))

    def revert_to(self, host: str, uuid: str, commit: str) -> ChangeRequest:
        """A draft back to a commit's configuration."""
        self._writing("draft a revert")
        return self._change("revert_to", host=host, uuid=uuid, commit=commit)

    def import_patch(self, text: str, host: str = "") -> ChangeRequest:
        """A draft from a patch file."""
        self._writing("import a patch")
        return self._change("import_patch", text=text, host=host)

    def revert(self, change_id: int) -> ChangeRequest:
        """A change that puts a merged change's base back."""
        self._writing("draft a revert")
        return self._change("revert", id=change_id)

    def rebase(self, change_id: int) -> ChangeRequest:
        """Re-draft on the live configuration."""
        self._writing("rebase")
        return self._change("rebase", id=change_id)

    def resolve(self, change_id: int, edited: str, live_xml: str) -> ChangeRequest:
        """A conflicted change, resolved by hand."""
        self._writing("resolve")
        return self._change("resolve", id=change_id, edited=edited, live=live_xml)

    def merge(self, change_id: int, accepted: Collection[str] = ()) -> MergeResult:
        """The service merges it, with its own libvirt access, after its own checks."""
        self._writing("merge")
        try:
            return result_from_dict(self._call("merge", id=change_id, accepted=list(accepted)))
        except WireError as error:
            raise DeskUnavailable(f"the desk service: {error}") from error

    def recover(self) -> list[int]:
        """The service settles merges a crash cut short."""
        if self.readonly:
            return []
        return [int(n) for n in self._call("recover")]


def _json_ops(ops: list[Op]) -> Any:
    return json.loads(ops_to_json(ops))


__all__ = ["DeskClient", "DeskUnavailable", "Link", "link_to"]
