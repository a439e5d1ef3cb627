"""DeskCore: what every step of the review desk shares: the store, the hosts' ports, the
rules and who acts, a change by number, store writes that fail readably, the checks of a
proposal, and marking a change stale."""

from __future__ import annotations

import contextlib
import os
import pwd
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from virtui.config.hostsfile import ConfigError, load_backup_config
from virtui.model.config import DomainConfig, LiveChange
from virtui.ports.domain_config import DomainConfigHosts, DomainConfigPort
from virtui.ports.networks import NetworkConfigPort
from virtui.review import danger
from virtui.review.history import ConfigHistory
from virtui.review.model import ChangeRequest, State
from virtui.review.store import ReviewStore, StateChanged, StoreError
from virtui.review.xmlsafe import XmlRefused, check_identity, parse_config, parse_domain
from virtui.review.xmlsafe import validate as validate_schema
from virtui.text import error_text

REVIEWABLE = (State.DRAFT, State.OPEN, State.APPROVED)
UNVERIFIED = "unverified-import"
SECRET_NOT_CARRIED = "secret-not-carried"
LOCK_WAIT_S = 60.0  # another process's merge of the same domain: wait this long for it


NEW_DOMAIN = "new-domain"  # a change request that defines a domain not there yet


class NewDomainPort:
    """A host's domain configurations as a new domain's change request sees them: the
    "live configuration" is nothing while no domain has its UUID or name (the base of
    the request), and that domain's XML once one does (then the request is stale)."""

    def __init__(self, port: DomainConfigPort, name: str) -> None:
        self.port = port
        self.name = name
        self.uri = port.uri

    def read_config(self, uuid: str) -> DomainConfig:
        """Nothing, or what now stands where the new domain would go."""
        # domain_named raises when the host cannot say: an unreachable host is not an
        # absent domain (recovery would report "nothing was applied").
        taken = self.port.domain_named(self.name)
        if taken:
            return self.port.read_config(taken)
        try:
            return self.port.read_config(uuid)
        except Exception:  # the host answered just now: no such domain, a new one's base
            return DomainConfig("", False, self.name)

    def define_config(self, xml: str) -> str:
        """Define it (validated)."""
        return self.port.define_config(xml)

    def apply_live(self, uuid: str, change: LiveChange) -> None:
        """Nothing runs yet: there is nothing to apply live."""


class ReviewError(Exception):
    """A refused step; the message says why and what to do."""

    @property
    def message(self) -> str:
        """The readable reason (an expected refusal: shown, not logged as a bug)."""
        return str(self)


@dataclass(frozen=True, slots=True)
class ReviewRules:
    """From the config file's [review] table. ``problem``: why the rules could not be
    read; merging stays disabled until it is fixed (rules fail closed)."""

    required_approvals: int = 0
    forbid_self_approval: bool = False
    problem: str = ""
    forbid: frozenset[str] = frozenset()  # kinds of host reach refused outright

    @property
    def approvals_needed(self) -> int:
        """At least one other person's approval when self-approval is forbidden."""
        return max(self.required_approvals, 1 if self.forbid_self_approval else 0)


def new_domain_identity(xml: str) -> tuple[str, str]:
    """(name, UUID in lower case) of a new domain's XML; ReviewError when it does not
    parse, does not validate against libvirt's schema, or lacks either."""
    try:
        root = parse_domain(xml)
        problems = validate_schema(xml)
    except XmlRefused as error:
        raise ReviewError(str(error)) from error
    if problems:
        raise ReviewError(f"the new domain's XML does not validate: {'; '.join(problems)}")
    name = (root.findtext("name") or "").strip()
    uuid = (root.findtext("uuid") or "").strip().lower()
    if not name or not uuid:
        raise ReviewError("a new domain's XML needs a <name> and a <uuid>")
    return name, uuid


def local_user() -> str:
    """Who acts here: the OS account of this process @ this machine. Never from the
    environment (``USER=bob`` changes nothing)."""
    return f"{pwd.getpwuid(os.geteuid()).pw_name}@{socket.gethostname()}"


@dataclass(frozen=True, slots=True)
class MergeResult:
    """How a merge went: the parts applied live, those waiting for a restart, and what
    libvirt changed in the proposal when it stored it (redacted)."""

    change: ChangeRequest
    live: list[str]
    pending_restart: list[str]
    normalised: list[str]  # unified diff proposed → applied ([] when identical)


def readable(error: BaseException) -> str:
    return error_text(error)


class DeskCore:
    """The state and helpers the desk's steps share (ReviewDesk is the whole)."""

    def __init__(
        self,
        store: ReviewStore,
        hosts: DomainConfigHosts,
        rules: ReviewRules,
        user: str = "",
        history: ConfigHistory | None = None,
        *,
        readonly: bool = False,
    ) -> None:
        self.store = store
        self.hosts = hosts
        self.rules = rules
        self.user = user or local_user()
        self.history = history  # a git repository of merged configurations, when kept
        self.readonly = readonly  # --readonly: every step that writes is refused
        # Who commits to the history: the person acting, or a desk service's own
        # identity (its commits then name people only in their trailers).
        self.history_identity = ""
        # Where backups are read for a restore: None reads [backup] dir when needed.
        self.backup_root: Path | None = None

    def backups_root(self) -> Path:
        """Where a restore's backups are read (ReviewError when nothing says: a
        [backup] table that cannot be read, or none, refuses every restore)."""
        if self.backup_root is not None:
            return self.backup_root
        try:
            where = load_backup_config().dir
        except ConfigError as error:
            raise ReviewError(f"no restore: {error}") from error
        if not where:
            raise ReviewError("no restore: [backup] dir is not set where this desk runs")
        return Path(where)

    @property
    def committer(self) -> str:
        """The identity history commits are made as."""
        return self.history_identity or self.user

    @property
    def shared(self) -> bool:
        """True for a team's desk (its list opens on what waits for me)."""
        return self.store.shared

    @property
    def keeps_history(self) -> bool:
        """True when merged configurations are committed to a history."""
        return self.history is not None

    def data_version(self) -> int:
        """A number that moves when anyone changes the desk (watch it to reload)."""
        return self.store.data_version()

    def get(self, change_id: int) -> ChangeRequest:
        """One change request (ReviewError when there is none)."""
        return self._get(change_id)

    def live_config(self, change: ChangeRequest) -> DomainConfig:
        """What now stands where ``change`` applies (a new domain's: nothing, until a
        domain takes its name or UUID) (blocking)."""
        return self._port_of(change).read_config(change.domain_uuid)

    def read_config(self, host: str, uuid: str, kind: str = "domain") -> DomainConfig:
        """The live configuration of a domain (or network), to edit (blocking)."""
        return self._port(host, kind).read_config(uuid)

    def image_format(self, host: str, path: str) -> str | None:
        """The format of a disk image on the host (None when it cannot say)."""
        return self.hosts.domain_config(host).image_format(path)

    def close(self) -> None:
        """Close the store (at exit)."""
        self.store.close()

    def _writable(self, verb: str) -> None:
        """Raise ReviewError when the desk is read-only (``--readonly``)."""
        if self.readonly:
            raise ReviewError(
                f"cannot {verb}: the review desk is read-only (opened with --readonly); "
                "nothing was changed"
            )

    def _get(self, change_id: int) -> ChangeRequest:
        try:
            change = self.store.get(change_id)
        except StoreError as error:
            raise ReviewError(str(error)) from error
        if change is None:
            raise ReviewError(f"there is no change #{change_id}")
        return change

    def changes(self) -> list[ChangeRequest]:
        """Every change, newest first (ReviewError when the store cannot be read)."""
        try:
            return [c for i in self.store.ids() if (c := self.store.get(i)) is not None]
        except StoreError as error:
            raise ReviewError(str(error)) from error

    def _record(self, step: str, write: Callable[[], object]) -> None:
        """Run a store write; its failures become one readable ReviewError."""
        try:
            write()
        except StateChanged as error:
            raise ReviewError(f"{error}: {step} not done; look again") from error
        except StoreError as error:
            raise ReviewError(f"{step}: {error}") from error

    # -- checks shared by several steps ----------------------------------------------

    def _port(self, host: str, kind: str = "domain") -> DomainConfigPort | NetworkConfigPort:
        """The port that reads and defines the host's configurations of this kind."""
        if kind == "network":
            return self.hosts.network_config(host)
        return self.hosts.domain_config(host)

    def _port_of(
        self, change: ChangeRequest
    ) -> DomainConfigPort | NetworkConfigPort | NewDomainPort:
        """The port a change reads its live configuration from and is defined through."""
        if change.kind == NEW_DOMAIN:
            return NewDomainPort(self.hosts.domain_config(change.host), change.domain_name)
        return self._port(change.host, change.kind)

    def _check_proposal(self, host: str, uuid: str, base_xml: str, proposed: str) -> None:
        """Refuse a proposal that edits another domain (or network) or names an unknown
        emulator."""
        if not base_xml.strip():  # a new domain: checked against the host at draft
            return
        try:
            check_identity(base_xml, proposed, uuid)
            if parse_config(base_xml).tag != "domain":
                return
            if danger.emulator(proposed) != danger.emulator(base_xml):
                danger.check_emulator(
                    base_xml, proposed, self.hosts.domain_config(host).host_facts().emulators
                )
        except (XmlRefused, danger.DangerRefused) as error:
            raise ReviewError(str(error)) from error

    def forbidden(self, change: ChangeRequest) -> list[str]:
        """What the change reaches of the kinds ``[review] forbid`` refuses (ReviewDesk's)."""
        raise NotImplementedError

    def _refuse_forbidden(self, change: ChangeRequest, nothing: str) -> None:
        """Raise ReviewError when the change reaches a kind the rules forbid outright
        (no acceptance lets it through); ``nothing``: what did not happen."""
        lines = self.forbidden(change)
        if lines:
            raise ReviewError(
                f"refused by the rules ([review] forbid): {'; '.join(lines)}; {nothing}"
            )

    def _mark_stale(self, change: ChangeRequest) -> None:
        # Another process may have moved it first: what it did stands.
        with contextlib.suppress(StateChanged):
            self.store.set_state(
                change.id,
                State.STALE,
                self.user,
                "stale",
                "the live configuration changed",
                resume=change.state,
                expect=(change.state,),
            )
