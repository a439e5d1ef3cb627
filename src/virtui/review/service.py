"""DeskService: the team's review desk as one service answers it. The caller is named by
the service (from the kernel's peer credentials, never from the request); every step runs
a ReviewDesk acting as that caller, on the service's own store, rules, history and host
connections. Members never open those files.

The operations are an allow-list: a request names one of ``OPERATIONS`` with its
arguments as JSON values; anything else is refused. Blocking: call from a thread per
connection.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets as random
import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from virtui.model.newguest import NewVolume
from virtui.ports.domain_config import DomainConfigHosts
from virtui.review.core import ReviewError, ReviewRules
from virtui.review.desk import ReviewDesk
from virtui.review.history import ConfigHistory
from virtui.review.model import ChangeRequest
from virtui.review.ops import Op, RawXml, ops_from_json
from virtui.review.secrets import redact, restore
from virtui.review.store import ReviewStore
from virtui.review.wire import change_to_dict, result_to_dict, rules_to_dict
from virtui.review.xmlsafe import XmlRefused
from virtui.text import error_text

# Steps that only read: they run beside a merge. Every other step takes the desk's
# lock, one at a time (a team's desk is a few steps a minute).
READING = frozenset(
    {"hello", "version", "changes", "get", "for_me", "versions", "version_diff", "export_patch"}
)


class Refusal(Exception):
    """A request the service will not run (unknown step, bad arguments)."""


def _text(args: dict[str, Any], key: str, default: str | None = None) -> str:
    value = args.get(key, default)
    if not isinstance(value, str):
        raise Refusal(f"{key} must be text")
    return value


def _number(args: dict[str, Any], key: str) -> int:
    value = args.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Refusal(f"{key} must be a number")
    return value


def _texts(args: dict[str, Any], key: str) -> list[str]:
    value = args.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Refusal(f"{key} must be a list of text")
    return value


class DeskService:
    """Answers one request at a time per caller; holds what every caller's desk shares."""

    def __init__(
        self,
        store: ReviewStore,
        hosts: DomainConfigHosts,
        rules: ReviewRules,
        identity: str,
        history: ConfigHistory | None = None,
        ready: Callable[[str], None] = lambda _host: None,
        host_names: tuple[str, ...] = (),
    ) -> None:
        """``identity``: the service's own (it commits the history); ``ready(host)``:
        connect that host when it is not (raises with a readable message);
        ``host_names``: the hosts it reaches, by the names members use."""
        self.store = store
        self.hosts = hosts
        self.rules = rules
        self.identity = identity
        self.history = history
        self.ready = ready
        self.host_names = host_names
        self._lock = threading.Lock()
        # Hashes of texts with secrets in are veiled before members see them: a bare
        # SHA-256 of a configuration would let anyone try passwords against it offline.
        self._veil_key = random.token_bytes(32)

    def veil(self, digest: str) -> str:
        """A keyed hash of ``digest``: equal for equal digests, useless offline."""
        return hmac.new(self._veil_key, digest.encode(), hashlib.sha256).hexdigest()

    def shown(self, change: ChangeRequest) -> dict[str, Any]:
        """A change as members see it: secrets redacted, hashes veiled."""
        return change_to_dict(change, self.veil)

    def desk_for(self, caller: str) -> ReviewDesk:
        """A desk acting as ``caller`` (an identity the service worked out)."""
        desk = ReviewDesk(self.store, self.hosts, self.rules, caller, self.history)
        desk.history_identity = self.identity
        return desk

    @property
    def version(self) -> int:
        """A number that moves whenever the store changed (members poll it: a step that
        wrote nothing, as a check that found no drift, does not move it)."""
        return self.store.rows_written() + self.store.data_version()

    def handle(self, caller: str, request: dict[str, Any]) -> Any:
        """Run one request as ``caller``; its answer as JSON values. Raises ReviewError
        (a refusal of the desk) or Refusal (not a request the service runs)."""
        step = request.get("op")
        args = request.get("args", {})
        if not isinstance(step, str) or step not in OPERATIONS or not isinstance(args, dict):
            raise Refusal(f"the desk has no step {step!r}")
        run = OPERATIONS[step]
        desk = self.desk_for(caller)
        host = args.get("host")
        if isinstance(host, str) and host:
            self.reach(host)
        if step in READING:
            return run(self, desk, args)
        with self._lock:
            return run(self, desk, args)

    def reach(self, host: str) -> None:
        """Connect ``host`` when it is not (ReviewError naming it when that fails)."""
        try:
            self.ready(host)
        except Exception as error:
            raise ReviewError(f"{host}: {error_text(error)}") from error

    def host_of(self, change_id: int) -> str:
        """The host a change targets ("" when there is no such change)."""
        change = self.store.get(change_id)
        return change.host if change is not None else ""


Operation = Callable[[DeskService, ReviewDesk, dict[str, Any]], Any]


def _by_id(
    act: Callable[[ReviewDesk, int, dict[str, Any]], Any],
    host: bool = True,
    shown: bool = False,
) -> Operation:
    """A step on one change: its host is connected first when the step reaches it;
    ``shown``: it answers with the change, as members see it."""

    def run(service: DeskService, desk: ReviewDesk, args: dict[str, Any]) -> Any:
        change_id = _number(args, "id")
        target = service.host_of(change_id) if host else ""
        if target:
            service.reach(target)
        answer = act(desk, change_id, args)
        return service.shown(answer) if shown else answer

    return run


def _on(step: Callable[[DeskService, ReviewDesk, int, dict[str, Any]], Any]) -> Operation:
    """A step on one change that needs the service itself (to show what it answers)."""

    def run(service: DeskService, desk: ReviewDesk, args: dict[str, Any]) -> Any:
        return _by_id(lambda d, i, a: step(service, d, i, a))(service, desk, args)

    return run


def _hello(service: DeskService, desk: ReviewDesk, _args: dict[str, Any]) -> Any:
    return {
        "user": desk.user,
        "rules": rules_to_dict(service.rules),
        "history": service.history is not None,
        "hosts": list(service.host_names),
    }


def _ops(args: dict[str, Any]) -> Any:
    try:
        return ops_from_json(json.dumps(args.get("ops", [])))
    except (TypeError, XmlRefused) as error:
        raise Refusal(f"ops: {error}") from error


def _volumes(args: dict[str, Any]) -> list[NewVolume]:
    raw = args.get("volumes", [])
    if not isinstance(raw, list):
        raise Refusal("volumes must be a list")
    try:
        return [NewVolume(**item) for item in raw]
    except TypeError as error:
        raise Refusal(f"volumes: {error}") from error


def _with_secrets(ops: list[Op], live_xml: str) -> list[Op]:
    """A member's XML, made from the redacted live configuration, with the live secrets
    back where its lines keep them."""
    try:
        return [
            RawXml(restore(op.proposed, live_xml)) if isinstance(op, RawXml) else op for op in ops
        ]
    except ValueError as error:
        raise ReviewError(str(error)) from error


def _kind(args: dict[str, Any]) -> str:
    kind = _text(args, "kind", "domain")
    if kind not in ("domain", "network"):
        raise Refusal("kind must be domain or network")
    return kind


def _draft(service: DeskService, desk: ReviewDesk, args: dict[str, Any]) -> Any:
    kind = _kind(args)
    host, uuid = _text(args, "host"), _text(args, "uuid")
    ops = _with_secrets(_ops(args), desk.read_config(host, uuid, kind).xml)
    return service.shown(
        desk.draft(host, uuid, _text(args, "title"), ops, _text(args, "description", ""), kind=kind)
    )


def _read_config(_s: DeskService, desk: ReviewDesk, args: dict[str, Any]) -> Any:
    config = desk.read_config(_text(args, "host"), _text(args, "uuid"), _kind(args))
    return {"xml": redact(config.xml), "active": config.active, "name": config.name}


def _resolve(service: DeskService, desk: ReviewDesk, change_id: int, args: dict[str, Any]) -> Any:
    live = desk.live_config(desk.get(change_id)).xml
    if redact(live) != _text(args, "live"):
        raise ReviewError(
            f"#{change_id}: the live configuration changed while you edited; edit again"
        )
    (edited,) = _with_secrets([RawXml(_text(args, "edited"))], live)
    assert isinstance(edited, RawXml)
    return service.shown(desk.resolve(change_id, edited.proposed, live))


def _draft_new(service: DeskService, desk: ReviewDesk, args: dict[str, Any]) -> Any:
    return service.shown(
        desk.draft_new(
            _text(args, "host"),
            _text(args, "xml"),
            _volumes(args),
            start=bool(args.get("start", False)),
            title=_text(args, "title", ""),
            description=_text(args, "description", ""),
        )
    )


def _find_domain(_s: DeskService, desk: ReviewDesk, args: dict[str, Any]) -> Any:
    host, wanted = _text(args, "host"), _text(args, "name")
    port = desk.hosts.domain_config(host)
    uuid = port.domain_named(wanted)
    if not uuid:  # not a name: perhaps a UUID
        uuid = wanted.lower()
        try:
            port.read_config(uuid)
        except Exception as error:
            raise ReviewError(f"{host} has no domain {wanted}") from error
    return uuid


def _recover(service: DeskService, desk: ReviewDesk) -> Any:
    for host in service.host_names:  # a host that does not answer keeps its merges
        with contextlib.suppress(ReviewError):  # recovered when it answers again
            service.reach(host)
    return desk.recover()


def _editable(service: DeskService, desk: ReviewDesk, change_id: int) -> Any:
    change, live, text = desk.editable_text(change_id)
    return {"change": service.shown(change), "live": redact(live), "text": redact(text)}


def _change(act: Callable[[ReviewDesk, int, dict[str, Any]], ChangeRequest]) -> Operation:
    """A step on one change that answers with the change, as members see it."""
    return _by_id(act, shown=True)


OPERATIONS: dict[str, Operation] = {
    "hello": _hello,
    "version": lambda service, _d, _a: service.version,
    "changes": lambda service, desk, _a: [service.shown(c) for c in desk.changes()],
    "get": _by_id(lambda desk, i, _a: desk.get(i), host=False, shown=True),
    "read_config": _read_config,
    "image_format": lambda _s, desk, a: desk.image_format(_text(a, "host"), _text(a, "path")),
    "for_me": lambda _s, desk, _a: desk.for_me(),
    "find_domain": _find_domain,
    "draft": _draft,
    "draft_new": _draft_new,
    "publish": _change(lambda desk, i, _a: desk.publish(i)),
    "comment": _change(
        lambda desk, i, a: desk.comment(
            i, _number(a, "line"), _text(a, "anchor", ""), _text(a, "text")
        )
    ),
    "approve": _change(lambda desk, i, _a: desk.approve(i)),
    "reject": _change(lambda desk, i, a: desk.reject(i, _text(a, "reason"))),
    "withdraw": _change(lambda desk, i, _a: desk.withdraw(i)),
    "warnings": _by_id(lambda desk, i, _a: desk.warnings(desk.get(i))),
    "check_mergeable": _by_id(lambda desk, i, _a: desk.check_mergeable(desk.get(i)), host=False),
    "check_stale": _change(lambda desk, i, _a: desk.check_stale(i)),
    "check_domain": lambda _s, desk, a: desk.check_domain(_text(a, "host"), _text(a, "uuid")),
    "record_drift": lambda _s, desk, a: desk.record_drift(_text(a, "host"), _text(a, "uuid")),
    "versions": lambda _s, desk, a: [
        asdict(v) for v in desk.versions(_text(a, "host"), _text(a, "name"))
    ],
    "version_diff": lambda _s, desk, a: desk.version_diff(
        _text(a, "host"), _text(a, "name"), _text(a, "commit")
    ),
    "revert_to": lambda service, desk, a: service.shown(
        desk.revert_to(_text(a, "host"), _text(a, "uuid"), _text(a, "commit"))
    ),
    "import_patch": lambda service, desk, a: service.shown(
        desk.import_patch(_text(a, "text"), _text(a, "host", ""))
    ),
    "export_patch": _by_id(lambda desk, i, _a: desk.export_patch(i), host=False),
    "revert": _change(lambda desk, i, _a: desk.revert(i)),
    "rebase": _change(lambda desk, i, _a: desk.rebase(i)),
    "editable_text": _on(lambda service, desk, i, _a: _editable(service, desk, i)),
    "resolve": _on(_resolve),
    "merge": _on(
        lambda service, desk, i, a: result_to_dict(
            desk.merge(i, _texts(a, "accepted")), service.veil
        )
    ),
    "recover": lambda service, desk, _a: _recover(service, desk),
}
