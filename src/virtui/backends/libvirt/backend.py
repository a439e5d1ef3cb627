"""LibvirtBackend: one libvirt connection to one host."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any, NamedTuple, cast

import libvirt

from virtui.backends.base import Backend, BackendCapabilities, BackendError, EventSink
from virtui.backends.libvirt import leftovers, logfiles
from virtui.backends.libvirt.access import permission_hint
from virtui.backends.libvirt.addresses import AddressCache
from virtui.backends.libvirt.backup import LibvirtBackups
from virtui.backends.libvirt.config import LibvirtDomainConfig
from virtui.backends.libvirt.connections import (
    ConnectionOwner,
    open_connection,
    release_connection,
)
from virtui.backends.libvirt.devices import (
    NO_DEVICES,
    DeviceFacts,
    device_facts,
    disks_from_stats,
    nics_from_stats,
    read_devices,
)
from virtui.backends.libvirt.domains import LibvirtDomains
from virtui.backends.libvirt.eventloop import ensure_event_loop
from virtui.backends.libvirt.events import subscribe, unsubscribe
from virtui.backends.libvirt.handle import Link, alive, counted, describe
from virtui.backends.libvirt.migration import LibvirtMigration
from virtui.backends.libvirt.networks import LibvirtNetworkConfig, LibvirtNetworks
from virtui.backends.libvirt.samples import (
    Extra,
    sample_from_stats,
    stats_are_complete,
)
from virtui.backends.libvirt.transfers import LibvirtTransfers
from virtui.backends.libvirt.xmlread import read_xml
from virtui.formatting import plural
from virtui.model import (
    DiskCounters,
    DomainEvent,
    DomainKey,
    DomainSample,
    DomainState,
    HostCpuSample,
    HostInfo,
    HostPoll,
    NicCounters,
    Severity,
)
from virtui.model.domain import STATES_BY_CODE
from virtui.model.timeline import DaemonLogging, LogLocation
from virtui.ports.backups import BackupPort
from virtui.ports.domain_config import DomainConfigPort
from virtui.ports.domains import DomainsPort
from virtui.ports.logs import LogsPort
from virtui.ports.migration import MigrationPort
from virtui.ports.networks import NetworkConfigPort, NetworksPort
from virtui.ports.storage import StoragePort

log = logging.getLogger("virtui.backends.libvirt")

# The stats groups of one poll: what the bulk call is asked for (the benchmark asks the
# same, as the bare call virtui's poll is measured against).
BULK_STATS = (
    libvirt.VIR_DOMAIN_STATS_STATE
    | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
    | libvirt.VIR_DOMAIN_STATS_VCPU
    | libvirt.VIR_DOMAIN_STATS_BALLOON
    | libvirt.VIR_DOMAIN_STATS_BLOCK
    | libvirt.VIR_DOMAIN_STATS_INTERFACE
)

# Errors after which the handle is useless and a new open() is needed.
_DEAD_CONNECTION = {
    libvirt.VIR_ERR_SYSTEM_ERROR,
    libvirt.VIR_ERR_INTERNAL_ERROR,
    libvirt.VIR_ERR_RPC,
    libvirt.VIR_ERR_NO_CONNECT,
    libvirt.VIR_ERR_INVALID_CONN,
}

KEEPALIVE_INTERVAL_S = 5  # the defaults; -k/-K (as virsh's) change them for the process
KEEPALIVE_COUNT = 3
_keepalive = [KEEPALIVE_INTERVAL_S, KEEPALIVE_COUNT]


def set_keepalive(interval_s: int, count: int) -> None:
    """Probe every ``interval_s`` seconds; a host that misses ``count`` probes in a row
    is lost (for connections opened from now on)."""
    _keepalive[:] = [interval_s, count]


def keepalive_window() -> int:
    """How long a silent host may take to be declared lost, at most (seconds)."""
    interval, count = _keepalive
    return interval * (count + 1)


class Identity(NamedTuple):
    """A domain's handle and what names it, read once per handle."""

    dom: libvirt.virDomain
    uuid: str
    name: str
    run_id: int
    key: DomainKey


def _version(number: int) -> str:
    return f"{number // 1_000_000}.{number // 1000 % 1000}.{number % 1000}"


class LibvirtBackend(Backend):
    """A host reached through libvirt-python: its polls and logs here, each of its other
    ports a part (handle.py) around the one counted connection they share.

    The connection is opened in ``connect`` (blocking: call it from a worker). Polls use
    ``getAllDomainStats`` and fall back to ``virDomainGetInfo`` for drivers whose bulk
    stats lack CPU or memory figures.
    """

    def __init__(self, uri: str, name: str, *, readonly: bool = False) -> None:
        super().__init__(uri, name)
        self.readonly = readonly
        self._link = Link(uri, name, readonly, self._open_job_owner)
        self._domains = LibvirtDomains(self._link)
        self._storage = LibvirtTransfers(self._link)
        self._config = LibvirtDomainConfig(self._link)
        self._networks = LibvirtNetworks(self._link)
        self._migration = LibvirtMigration(self._link)
        self._backups = LibvirtBackups(self._link)
        self._info: HostInfo | None = None
        self._bulk_stats = True
        self._lock = threading.Lock()
        self._sink: EventSink | None = None
        self._events: int | None = None  # subscription token
        self._saved: dict[str, bool] = {}  # shut-off domain -> has a managed save image
        # Handles of domains read one by one: by ID while running, by name while not.
        self._identities: dict[int | str, Identity] = {}
        self._identities_of: libvirt.virConnect | None = None
        # (UUID, run) -> what the domain's XML says of its devices, read once per run.
        self._device_facts: dict[tuple[str, int], DeviceFacts] = {}
        self._addresses = AddressCache()

    @property
    def capabilities(self) -> BackendCapabilities:
        return BackendCapabilities(mutations=not self.readonly)

    def domain_port(self) -> DomainsPort:
        return self._domains

    def storage_port(self) -> StoragePort:
        return self._storage

    def domain_config_port(self) -> DomainConfigPort:
        return self._config

    def logs_port(self) -> LogsPort:
        return self

    def network_port(self) -> NetworksPort:
        return self._networks

    def migration_port(self) -> MigrationPort:
        return self._migration

    def network_config_port(self) -> NetworkConfigPort:
        return LibvirtNetworkConfig(self._networks)

    def backup_port(self) -> BackupPort:
        return self._backups

    def connect(self) -> HostInfo:
        ensure_event_loop()
        try:
            conn = open_connection(self.uri, readonly=self.readonly)
        except libvirt.libvirtError as error:
            message = describe(error)
            raise BackendError(
                f"cannot connect to {self.uri}: {message}{permission_hint(message)}",
                reason=_connect_failure(error),
            ) from error
        # Local drivers (test, embed) have no keepalive: there is no link to lose, and
        # no RPC client that crashes when several threads wait on it (ConnectionOwner).
        remote = False
        with contextlib.suppress(libvirt.libvirtError):
            conn.setKeepAlive(*_keepalive)
            remote = True
        try:
            arch, memory_mib, cpus, _mhz, nodes, sockets, cores, threads = conn.getInfo()
            info = HostInfo(
                name=self.name,
                uri=self.uri,
                hostname=conn.getHostname(),
                driver=conn.getType(),
                cpus=int(cpus),
                memory_kib=int(memory_mib) * 1024,
                cpu_model=str(arch),
                hypervisor_version=_version(conn.getVersion()),
                libvirt_version=_version(conn.getLibVersion()),
                topology=_topology(nodes, sockets, cores, threads),
                host_uuid=_host_uuid(conn),
            )
        except libvirt.libvirtError as error:
            release_connection(self.uri, conn)
            raise BackendError(f"{self.uri}: {describe(error)}") from error
        with self._lock:
            old, self._link.owner, self._info = (
                self._link.owner,
                ConnectionOwner(self.uri, conn, serial=remote),
                info,
            )
            old_events, self._events = self._events, None
            self._identities, self._identities_of = {}, None  # the old connection's
        if old is not None:
            _let_go(old, old_events)
        if not self.readonly and leftovers.pending(self.uri):
            for done in self._storage.remove_leftovers():
                log.warning("%s: %s", self.name, done)
        # Always: the review desk counts the defines it did not make (define_count).
        self._register_events(conn)
        return info

    def set_event_sink(self, sink: EventSink | None) -> None:
        self._sink = sink

    def _register_events(self, conn: libvirt.virConnect) -> None:
        # A driver without events still shows changes at the next poll.
        self._events = subscribe(conn, self._emit)
        with self._link.defined:
            self._link.events = self._events is not None

    def _emit(
        self,
        dom: libvirt.virDomain | libvirt.virNetwork,
        kind: str,
        detail: str,
        severity: Severity,
    ) -> None:
        # Runs on libvirt's event-loop thread: hand over plain data and return at once.
        link = self._link
        link.autostart.pop(dom.UUIDString(), None)  # defined anew, perhaps changed
        if kind == "defined" and isinstance(dom, libvirt.virDomain):
            with link.defined:
                link.defines[dom.UUIDString()] += 1
                link.defined.notify_all()
        sink = self._sink
        if sink is not None:
            event = DomainEvent(
                self.name, dom.UUIDString(), dom.name(), kind, detail, time.time(), severity
            )
            sink(event)

    def qemu_log(self, name: str) -> LogLocation:
        return logfiles.qemu_log_location(self.uri, name)

    def daemon_logging(self) -> DaemonLogging:
        return logfiles.read_daemon_logging(self.uri)

    def set_daemon_logging(self, filters: str | None, outputs: str | None) -> DaemonLogging:
        self._link.refuse_when_readonly("change the daemon's logging")
        return logfiles.set_daemon_logging(self.uri, filters, outputs)

    @counted
    def poll(self) -> HostPoll:
        conn, info = self._link.connection(), self._info
        if info is None:
            raise self._link.not_connected()
        try:
            start = time.monotonic_ns()
            samples = self._read_samples(conn)
            end = time.monotonic_ns()
            self._addresses.fill(conn, samples)
            cpu, free_kib = _host_counters(conn)
        except libvirt.libvirtError as error:
            lost = error.get_error_code() in _DEAD_CONNECTION or not alive(conn)
            raise BackendError(f"{self.name}: {describe(error)}", connection_lost=lost) from error
        return HostPoll(
            host=info,
            monotonic_ns=(start + end) // 2,
            wall_time=time.time(),
            domains=tuple(samples),
            cpu=cpu,
            free_memory_kib=free_kib,
        )

    def _read_samples(self, conn: libvirt.virConnect) -> list[DomainSample]:
        host = self.name
        if self._bulk_stats:
            try:
                before = time.monotonic_ns()
                records = conn.getAllDomainStats(BULK_STATS, 0)
                # The counters' own time: what follows (a new domain's autostart flag
                # and device facts, saved images) must not stretch it, or the first
                # rate after a domain appears reads high on a loaded host.
                read_ns = (before + time.monotonic_ns()) // 2
            except libvirt.libvirtError as error:
                if error.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
                    raise
                self._bulk_stats = False
        if not self._bulk_stats:
            return self._with_saved(self._forget_gone(self._read_one_by_one(conn)))
        samples: list[DomainSample] = []
        complete = 0
        for dom, record in records:
            uuid, name, run_id = dom.UUIDString(), dom.name(), dom.ID()
            if record and stats_are_complete(record):
                complete += 1
                has_nics = bool(record.get("net.count"))
                facts = self._facts(dom, uuid, run_id) if has_nics else None
                extra = Extra(
                    disks_from_stats(record),
                    nics_from_stats(record, facts),
                    self._autostart_of(dom, uuid),
                )
                samples.append(sample_from_stats(host, uuid, name, run_id, record, extra, read_ns))
                continue
            sample = self._read_info(Identity(dom, uuid, name, run_id, DomainKey(host, uuid)))
            if sample is not None:
                samples.append(sample)
        if samples and complete == 0:
            # This driver's bulk stats never carry CPU figures (the test driver's do not):
            # stop paying for a call whose answer is read again domain by domain.
            self._bulk_stats = False
        return self._with_saved(self._forget_gone(samples))

    def _forget_gone(self, samples: list[DomainSample]) -> list[DomainSample]:
        """Drop what was kept of domains (and runs of them) no longer there."""
        if len(self._device_facts) > len(samples):
            live = {(sample.key.uuid, sample.run_id) for sample in samples}
            self._device_facts = {k: v for k, v in self._device_facts.items() if k in live}
        link = self._link
        if len(link.autostart) > len(samples):
            uuids = {sample.key.uuid for sample in samples}
            link.autostart = {k: v for k, v in link.autostart.items() if k in uuids}
        return samples

    def _read_one_by_one(self, conn: libvirt.virConnect) -> list[DomainSample]:
        """Every domain read with ``virDomainGetInfo``, through handles kept from earlier
        polls: listing IDs and names is cheap, building a handle per domain per poll is
        not (at 1,000 domains it was half of the poll)."""
        # Handles belong to the connection that made them: never reuse one across a reconnect.
        known = self._identities if self._identities_of is conn else {}
        current: dict[int | str, Identity | None] = {}
        for ident in conn.listDomainsID():
            current[ident] = known.get(ident) or self._lookup(conn.lookupByID, ident)
        for name in conn.listDefinedDomains():
            current[name] = known.get(name) or self._lookup(conn.lookupByName, name)
        samples = self._read_each(current)
        # Only identities are left: _read_each dropped what was None.
        self._identities = cast(dict[int | str, Identity], current)
        self._identities_of = conn
        return samples

    def _read_each(self, identities: dict[int | str, Identity | None]) -> list[DomainSample]:
        """One ``virDomainGetInfo`` per domain, each stamped with its own time: on a large
        host the reads span long enough that one poll-wide stamp would skew every rate.
        (Stamped just after the read: the same small offset in every poll, so no rate is
        skewed by it.) Drops from ``identities`` what is gone or listed twice."""
        samples: list[DomainSample] = []
        seen: set[str] = set()
        dropped: list[int | str] = []
        # This loop runs for every domain of every poll (5,000 domains: 5,000 times a
        # second): a domain whose autostart flag and devices are known from earlier
        # polls costs one libvirt call and one sample, no helper calls. Only a first
        # reading (of a domain, or of a new run of it) calls out to learn them.
        device_facts, autostart = self._device_facts, self._link.autostart
        clock, by_code, codes = time.monotonic_ns, STATES_BY_CODE, len(STATES_BY_CODE)
        for key, identity in identities.items():
            if identity is None:  # undefined between the listing and the lookup
                dropped.append(key)
                continue
            uuid = identity.uuid
            if uuid in seen:  # listed twice: it stopped between the two listings
                dropped.append(key)
                continue
            seen.add(uuid)
            dom = identity.dom
            try:
                info = dom.info()
            except libvirt.libvirtError as error:
                if error.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                    raise
                dropped.append(key)  # undefined between the listing and the read: gone
                continue
            read_ns = clock()
            code = info[0]
            state = by_code[code] if 0 <= code < codes else DomainState.UNKNOWN
            active = state.is_active
            facts = device_facts.get((uuid, identity.run_id)) if active else None
            if facts is None and active:
                facts = self._facts(dom, uuid, identity.run_id)
                # The XML was read between the stamp and the device counters: read the
                # figures again, so CPU, disks and NICs all belong to one stamp.
                with contextlib.suppress(libvirt.libvirtError):
                    info = dom.info()
                    read_ns = clock()
            starts = autostart.get(uuid)
            if starts is None:
                starts = self._autostart_of(dom, uuid)
            disks: tuple[DiskCounters, ...] | None = None
            nics: tuple[NicCounters, ...] | None = None
            if facts is NO_DEVICES:
                disks = nics = ()
            elif facts is not None:
                disks, nics = read_devices(dom, facts)
            # virDomainGetInfo: [state, maxMem KiB, mem KiB, vcpus, cpuTime ns]. Every
            # field by position: keywords cost as much as the rest of the sample. (key,
            # name, state, vcpus, memory, max memory, CPU time, vCPU times, run, read at,
            # saved, disks, NICs, autostart)
            samples.append(
                DomainSample(
                    identity.key,
                    identity.name,
                    state,
                    info[3],
                    info[2],
                    info[1],
                    info[4],
                    (),
                    identity.run_id,
                    read_ns,
                    False,
                    disks,
                    nics,
                    starts,
                )
            )
        for key in dropped:
            del identities[key]
        return samples

    def _lookup(
        self, find: Callable[[Any], libvirt.virDomain], handle: int | str
    ) -> Identity | None:
        try:
            dom = find(handle)
            uuid = dom.UUIDString()
            return Identity(dom, uuid, dom.name(), dom.ID(), DomainKey(self.name, uuid))
        except libvirt.libvirtError as error:
            if error.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise
            return None  # undefined between the listing and the lookup

    def _read_info(self, identity: Identity) -> DomainSample | None:
        """One domain read as a poll reads it (None: it is gone)."""
        samples = self._read_each({identity.uuid: identity})
        return samples[0] if samples else None

    def _facts(self, dom: libvirt.virDomain, uuid: str, run_id: int) -> DeviceFacts | None:
        """The domain's devices as its XML says, read once per run of the guest."""
        facts = self._device_facts.get((uuid, run_id))
        if facts is None:
            try:
                facts = device_facts(dom.XMLDesc(0))
            except (libvirt.libvirtError, ET.ParseError):
                return None
            if not facts.disks and not facts.nics:
                facts = NO_DEVICES  # one shared object: a cheap test in every poll
            self._device_facts[(uuid, run_id)] = facts
        return facts

    def _autostart_of(self, dom: libvirt.virDomain, uuid: str) -> bool | None:
        known = self._link.autostart.get(uuid)
        if known is None:
            try:
                known = self._link.autostart[uuid] = bool(dom.autostart())
            except libvirt.libvirtError:
                return None
        return known

    def _with_saved(self, samples: list[DomainSample]) -> list[DomainSample]:
        """Mark shut-off domains that have a managed save image. Asked once when a
        domain is first seen shut off (one call, not one per poll), kept while it stays
        off."""
        conn = self._link.connection()
        known, self._saved = self._saved, {}
        marked = []
        for sample in samples:
            if sample.state is not DomainState.SHUTOFF:
                marked.append(sample)
                continue
            saved = known.get(sample.key.uuid)
            if saved is None:
                try:
                    dom = conn.lookupByUUIDString(sample.key.uuid)
                    saved = bool(dom.hasManagedSaveImage(0))
                except libvirt.libvirtError:
                    saved = False
            self._saved[sample.key.uuid] = saved
            marked.append(dataclasses.replace(sample, saved=True) if saved else sample)
        return marked

    def _open_job_owner(self) -> ConnectionOwner:
        """A connection of its own for one long job on a remote host (blocking)."""
        try:
            conn = open_connection(self.uri, readonly=self.readonly)
        except libvirt.libvirtError as error:
            raise BackendError(
                f"cannot connect to {self.uri}: {describe(error)}", connection_lost=True
            ) from error
        with contextlib.suppress(libvirt.libvirtError):
            conn.setKeepAlive(*_keepalive)
        return ConnectionOwner(self.uri, conn, serial=True)

    def connected(self) -> bool:
        owner = self._link.owner
        return owner is not None and alive(owner.conn)

    def close(self) -> None:
        """Stop new calls on the connection; it is closed once no call uses it."""
        with self._lock:
            owner, self._link.owner = self._link.owner, None
            events, self._events = self._events, None
            self._identities, self._identities_of = {}, None
        with self._link.defined:
            self._link.events = False  # define counts are no longer followed
        if owner is not None:
            _let_go(owner, events)


def _let_go(owner: ConnectionOwner, events: int | None) -> None:
    """Stop this backend's events on the owner's connection and retire it (closed once
    its calls return). A remote connection's close frees its callbacks: asking the host
    to deregister them would wait on a frozen one, and beside a call in flight be a
    second thread inside the client; only a shared in-process one deregisters."""
    if events is not None:
        with contextlib.suppress(libvirt.libvirtError):
            unsubscribe(owner.conn, events, deregister=not owner.serial)
    owner.retire()


_AUTH_ERRORS = {
    libvirt.VIR_ERR_AUTH_FAILED,
    libvirt.VIR_ERR_AUTH_CANCELLED,
    libvirt.VIR_ERR_AUTH_UNAVAILABLE,
    libvirt.VIR_ERR_ACCESS_DENIED,
}


def _connect_failure(error: libvirt.libvirtError) -> str:
    """Why an open failed, in the words of the hosts screen's states."""
    if error.get_error_code() in _AUTH_ERRORS:
        return "auth failed"
    message = describe(error)
    if "Connection refused" in message or "No such file or directory" in message:
        return "refused"  # TCP refused, or no daemon socket
    if "no connection driver available" in message or "nable to parse URI" in message:
        return "permanent"  # waiting does not make a driver appear
    return ""


def _topology(nodes: int, sockets: int, cores: int, threads: int) -> str:
    return ", ".join(
        [
            plural(nodes, "node"),
            plural(sockets, "socket"),
            plural(cores, "core"),
            plural(threads, "thread"),
        ]
    )


def _host_counters(conn: libvirt.virConnect) -> tuple[HostCpuSample | None, int]:
    """The host's CPU time counters and free memory, where the driver has them."""
    cpu: HostCpuSample | None = None
    with contextlib.suppress(libvirt.libvirtError, KeyError):
        stats = conn.getCPUStats(libvirt.VIR_NODE_CPU_STATS_ALL_CPUS)
        busy = int(stats["kernel"]) + int(stats["user"])
        cpu = HostCpuSample(busy, busy + int(stats["idle"]) + int(stats.get("iowait", 0)))
    free_kib = 0
    with contextlib.suppress(libvirt.libvirtError):
        free_kib = int(conn.getFreeMemory()) // 1024
    return cpu, free_kib


def _host_uuid(conn: libvirt.virConnect) -> str:
    """The UUID in the host's capabilities ("" when the driver has none to say)."""
    try:
        return read_xml(conn.getCapabilities()).findtext("host/uuid", "").strip()
    except (libvirt.libvirtError, ET.ParseError):
        return ""
