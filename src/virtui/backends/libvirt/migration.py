"""Live and offline migration over libvirt: the facts of the guest, the checks a target
makes before anything moves, and the migration itself with progress and cancel."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import libvirt

from virtui.backends.base import BackendError
from virtui.backends.libvirt.connections import ConnectionOwner
from virtui.backends.libvirt.handle import LibvirtPart, alive, describe
from virtui.backends.libvirt.xmlread import read_xml
from virtui.config.uripolicy import refusal as uri_refusal
from virtui.formatting import format_kib
from virtui.model.migration import (
    CopyStorage,
    MigrationJob,
    MigrationOptions,
    MigrationOutcome,
    MigrationSource,
    Precheck,
    Transport,
)
from virtui.ports.migration import CancelFlag, MigrationPort

T = TypeVar("T")

POLL_S = 0.5  # how often a migration's job is read
POSTCOPY_AFTER = 3  # pre-copy passes before switching to post-copy, when asked
# How long an abort for a lost target may take before virtui stops waiting for it: QEMU
# cancels a disk copy only once its in-flight writes end, and writes to a silent host
# end when TCP gives up, a quarter of an hour later.
ABANDON_AFTER_S = 10.0


def source_facts(host: str, uuid: str, xml: str, active: bool) -> MigrationSource:
    """The facts of a domain XML that a migration depends on."""
    root = read_xml(xml)
    os_type = root.find("os/type")
    cpu = root.find("cpu")
    memory = root.find("memory")
    factor = {"KiB": 1, "MiB": 1024, "GiB": 1024**2}
    memory_kib = (
        int(memory.text or 0) * factor.get(memory.get("unit", "KiB"), 1)
        if memory is not None
        else 0
    )
    disks = tuple(
        source.get("file") or source.get("dev") or ""
        for disk in root.findall("devices/disk")
        if disk.get("device", "disk") in ("disk", "lun")
        and (source := disk.find("source")) is not None
        and (source.get("file") or source.get("dev"))
    )
    interfaces = root.findall("devices/interface")
    return MigrationSource(
        host=host,
        uuid=uuid,
        name=root.findtext("name", ""),
        active=active,
        xml=xml,
        memory_kib=memory_kib,
        virt_type=root.get("type", "qemu"),
        arch=os_type.get("arch", "x86_64") if os_type is not None else "x86_64",
        machine=os_type.get("machine", "") if os_type is not None else "",
        emulator=(root.findtext("devices/emulator") or "").strip(),
        cpu_mode=(cpu.get("mode", "custom") if cpu is not None else ""),
        cpu_xml=ET.tostring(cpu, encoding="unicode") if cpu is not None else "",
        disks=disks,
        networks=tuple(
            s.get("network", "")
            for i in interfaces
            if i.get("type") == "network" and (s := i.find("source")) is not None
        ),
        bridges=tuple(
            s.get("bridge", "")
            for i in interfaces
            if i.get("type") == "bridge" and (s := i.find("source")) is not None
        ),
    )


def migration_flags(options: MigrationOptions) -> int:
    """The libvirt flags of the chosen options (every one named, none guessed)."""
    flags = libvirt.VIR_MIGRATE_ABORT_ON_ERROR
    flags |= libvirt.VIR_MIGRATE_LIVE if options.live else libvirt.VIR_MIGRATE_OFFLINE
    if options.persistent or not options.live:  # offline migration is a definition
        flags |= libvirt.VIR_MIGRATE_PERSIST_DEST
    if options.undefine_source:
        flags |= libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
    if options.copy_storage is CopyStorage.ALL:
        flags |= libvirt.VIR_MIGRATE_NON_SHARED_DISK
    elif options.copy_storage is CopyStorage.INCREMENTAL:
        flags |= libvirt.VIR_MIGRATE_NON_SHARED_INC
    if options.transport is not Transport.DIRECT:
        flags |= libvirt.VIR_MIGRATE_PEER2PEER
    if options.transport is Transport.TUNNELLED:
        flags |= libvirt.VIR_MIGRATE_TUNNELLED
    if options.auto_converge:
        flags |= libvirt.VIR_MIGRATE_AUTO_CONVERGE
    if options.postcopy:
        flags |= libvirt.VIR_MIGRATE_POSTCOPY
    if options.tls:
        flags |= libvirt.VIR_MIGRATE_TLS
    return int(flags)


def migration_params(options: MigrationOptions) -> dict[str, Any]:
    """The typed parameters of the chosen options."""
    params: dict[str, Any] = {}
    if options.bandwidth_mib:
        params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = options.bandwidth_mib
    if options.address:
        where = f"[{options.address}]" if ":" in options.address else options.address
        params[libvirt.VIR_MIGRATE_PARAM_URI] = f"tcp://{where}"
        params[libvirt.VIR_MIGRATE_PARAM_LISTEN_ADDRESS] = options.address
        if options.copy_storage is not CopyStorage.NONE:
            params[libvirt.VIR_MIGRATE_PARAM_DISKS_URI] = f"tcp://{where}"
    return params


def _job(stats: dict[str, Any]) -> MigrationJob:
    def number(key: str) -> int:
        value = stats.get(key, 0)
        return int(value) if isinstance(value, int) else 0

    return MigrationJob(
        elapsed_ms=number("time_elapsed"),
        data_total=number("data_total"),
        data_processed=number("data_processed"),
        data_remaining=number("data_remaining"),
        memory_dirty_rate=number("memory_dirty_rate"),
        memory_page_size=number("memory_page_size") or 4096,
        iteration=number("memory_iteration"),
        expected_downtime_ms=number("downtime"),
        disk_total=number("disk_total"),
        disk_processed=number("disk_processed"),
        postcopy=number("memory_postcopy_requests") > 0,
    )


_STATES = {
    libvirt.VIR_DOMAIN_RUNNING: "running",
    libvirt.VIR_DOMAIN_PAUSED: "paused",
    libvirt.VIR_DOMAIN_SHUTOFF: "shut off",
    libvirt.VIR_DOMAIN_CRASHED: "crashed",
}


class LibvirtMigration(LibvirtPart):
    """LibvirtBackend's migration port. Blocking; call from workers."""

    LONG_JOBS = frozenset({"migrate"})

    def migration_source(self, uuid: str) -> MigrationSource:
        """The guest's facts, read now."""
        dom = self._domain(uuid)
        try:
            xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE if not self.readonly else 0)
            return source_facts(self.name, uuid, xml, bool(dom.isActive()))
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: {describe(error)}") from error

    # -- the target's checks ------------------------------------------------------------

    def migration_checks(
        self, source: MigrationSource, options: MigrationOptions
    ) -> list[Precheck]:
        """Every check this host makes as the target of ``source``; nothing changes."""
        conn = self._connection()
        checks = [self._check_identity(conn, source)]
        checks.append(self._check_memory(conn, source, options))
        checks.append(self._check_machine(conn, source))
        checks.append(self._check_cpu(conn, source))
        checks += self._check_disks(conn, source, options)
        checks += self._check_networks(conn, source)
        if options.transport is not Transport.DIRECT:
            checks.append(self._check_peer_uri())
        return checks

    def _check_peer_uri(self) -> Precheck:
        """Peer to peer, the source's libvirtd (root there) opens this host's URI: it must
        be on the allow-list the app applies to the URIs it opens itself."""
        why = uri_refusal(self.uri)
        if why:
            return Precheck(
                "target URI", False, f"the source's libvirtd would open {self.uri}: {why}"
            )
        return Precheck("target URI", True, "the source's libvirtd opens it (peer to peer)")

    def _check_identity(self, conn: libvirt.virConnect, source: MigrationSource) -> Precheck:
        """Refused as libvirt refuses: the guest running there already, or its name taken
        by another domain. A shut-off definition of the same guest (defined everywhere,
        running on one: what "undefine source: no" leaves) is taken over."""
        same = other = None
        with contextlib.suppress(libvirt.libvirtError):
            same = conn.lookupByUUIDString(source.uuid)
        with contextlib.suppress(libvirt.libvirtError):
            other = conn.lookupByName(source.name)
        if same is not None and same.isActive():
            return Precheck("name and UUID", False, f"{source.name} already runs on {self.name}")
        if other is not None and other.UUIDString() != source.uuid:
            return Precheck(
                "name and UUID",
                False,
                f"{self.name} has another domain named {source.name} ({other.UUIDString()})",
            )
        if same is not None and same.name() != source.name:
            return Precheck(
                "name and UUID",
                False,
                f"{self.name} has this guest's UUID under another name, {same.name()}",
            )
        if same is not None:
            return Precheck(
                "name and UUID",
                True,
                f"a shut-off definition of {source.name} is there: the migration takes it over",
            )
        return Precheck("name and UUID", True, f"no {source.name} on {self.name}")

    def _check_memory(
        self, conn: libvirt.virConnect, source: MigrationSource, options: MigrationOptions
    ) -> Precheck:
        if not (options.live and source.active):
            return Precheck("memory", True, "offline: none needed now")
        try:
            free_kib = int(conn.getFreeMemory()) // 1024
        except libvirt.libvirtError as error:
            return Precheck("memory", False, f"cannot read free memory: {describe(error)}")
        ok = free_kib >= source.memory_kib
        return Precheck(
            "memory",
            ok,
            f"{format_kib(free_kib)} free, {format_kib(source.memory_kib)} needed",
        )

    def _check_machine(self, conn: libvirt.virConnect, source: MigrationSource) -> Precheck:
        try:
            caps = read_xml(
                conn.getDomainCapabilities(
                    source.emulator or None,
                    source.arch,
                    source.machine or None,
                    source.virt_type,
                    0,
                )
            )
        except libvirt.libvirtError as error:
            return Precheck("emulator and machine", False, describe(error))
        path = caps.findtext("path", "")
        machine = caps.findtext("machine", "")
        if source.emulator and path != source.emulator:
            return Precheck(
                "emulator and machine", False, f"{source.emulator} is not on {self.name}"
            )
        return Precheck("emulator and machine", True, f"{path} {machine or source.machine}".strip())

    def _check_cpu(self, conn: libvirt.virConnect, source: MigrationSource) -> Precheck:
        if not source.cpu_xml or source.cpu_mode in ("", "maximum"):
            return Precheck("CPU", True, "the emulator's default model")
        if source.cpu_mode == "host-passthrough":
            return Precheck(
                "CPU", True, "host-passthrough: the target's CPU must match the source's exactly"
            )
        try:
            result = conn.compareHypervisorCPU(
                source.emulator or None,
                source.arch,
                source.machine or None,
                source.virt_type,
                source.cpu_xml,
                0,
            )
        except libvirt.libvirtError as error:
            return Precheck("CPU", False, describe(error))
        if result == libvirt.VIR_CPU_COMPARE_INCOMPATIBLE:
            return Precheck("CPU", False, f"{self.name} cannot run the guest's CPU model")
        return Precheck("CPU", True, "the guest's CPU model runs here")

    def _check_disks(
        self, conn: libvirt.virConnect, source: MigrationSource, options: MigrationOptions
    ) -> list[Precheck]:
        checks = []
        copying = options.copy_storage is not CopyStorage.NONE
        live = options.live and source.active
        if copying and not live:
            return [
                Precheck(
                    "disks",
                    False,
                    f"copy storage needs a running guest and a live migration: {_OFFLINE_WAYS}",
                )
            ]
        if copying and options.transport is Transport.TUNNELLED:
            # Seen with libvirt 9.0: the copy through a tunnel fails at once ("argument
            # key 'host' must not have null value"); refused here rather than there.
            return [
                Precheck(
                    "disks",
                    False,
                    "storage cannot be copied through a tunnel: choose p2p or direct",
                )
            ]
        pool_paths = _pool_paths(conn) if copying else []
        for path in source.disks:
            present = _volume_exists(conn, path)
            if options.copy_storage is CopyStorage.INCREMENTAL:
                checks.append(
                    Precheck(
                        f"disk {path}",
                        present,
                        "the copy goes onto the image there"
                        if present
                        else f"missing on {self.name}: an incremental copy needs the base "
                        "image there (libvirt does not create it); choose all",
                    )
                )
            elif copying:
                folder = path.rsplit("/", 1)[0]
                ok = present or folder in pool_paths
                detail = (
                    "copied (over NBD)"
                    if ok
                    else f"no storage pool on {self.name} at {folder} to create it in"
                )
                if present:
                    detail = "copied (over NBD) onto the image there"
                checks.append(Precheck(f"disk {path}", ok, detail))
            elif not present:
                way = "choose copy storage (all)" if live else _OFFLINE_WAYS
                checks.append(Precheck(f"disk {path}", False, f"missing on {self.name}: {way}"))
            else:
                checks.append(Precheck(f"disk {path}", True, self._shared(conn, path, live)))
        return checks

    def _shared(self, conn: libvirt.virConnect, path: str, live: bool) -> str:
        """What is known of a disk found at the same path on this host: shared storage
        only when its pool is of a kind that is (NFS, Ceph, iSCSI …); else only that a
        file is there, which may be a copy left by an earlier move (libvirt's own check,
        of the filesystem, decides when a live migration starts)."""
        try:
            pool = conn.storageVolLookupByPath(path).storagePoolLookupByVolume()
            kind = read_xml(pool.XMLDesc(0)).get("type", "")
            name = pool.name()
        except (libvirt.libvirtError, ET.ParseError):
            kind = name = ""
        if kind in SHARED_POOL_TYPES:
            return f"shared storage (pool {name}, {kind})"
        where = f" (pool {name}, {kind}: local unless a shared filesystem is mounted there)"
        if not live:
            return f"a file is at that path on {self.name}{where}; only the definition moves"
        return (
            f"a file is at that path on {self.name}{where}: not known to be the same image, "
            "libvirt refuses a live move without copy storage unless it is shared"
        )

    def _check_networks(self, conn: libvirt.virConnect, source: MigrationSource) -> list[Precheck]:
        checks = []
        for name in source.networks:
            try:
                active = bool(conn.networkLookupByName(name).isActive())
                checks.append(
                    Precheck(
                        f"network {name}", active, "active" if active else "defined but not active"
                    )
                )
            except libvirt.libvirtError:
                checks.append(
                    Precheck(f"network {name}", False, f"no network {name} on {self.name}")
                )
        for bridge in source.bridges:
            try:
                conn.interfaceLookupByName(bridge)
                checks.append(Precheck(f"bridge {bridge}", True, "present"))
            except libvirt.libvirtError as error:
                if error.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
                    checks.append(
                        Precheck(f"bridge {bridge}", True, "not checked (no interface driver)")
                    )
                else:
                    checks.append(Precheck(f"bridge {bridge}", False, f"no bridge {bridge}"))
        return checks

    # -- moving -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _target_connection(self) -> Iterator[ConnectionOwner]:
        """This host's connection for the migration another backend drives into it: a
        connection of its own on a remote host (the migration holds it throughout, and
        the host's polls must not wait or share it), else the shared one, counted as a
        call in flight so it is not closed under it."""
        owner = self._link.owner
        if owner is None:
            raise self._link.not_connected()
        own = owner.serial
        if own:
            owner = self._link.open_job()
        if not owner.enter():
            raise self._link.not_connected()
        try:
            yield owner
        finally:
            owner.leave()
            if own:
                owner.retire()

    def _on_main(
        self, uuid: str, dom: libvirt.virDomain, use: Callable[[libvirt.virDomain], T]
    ) -> T:
        """``use`` the domain from the host's main connection while a migration holds the
        job's own (a second thread inside one remote connection can crash libvirt's
        client); on an in-process driver, the same handle."""
        main = self._link.owner
        if main is None or not main.serial or getattr(self._link.pin, "owner", None) is main:
            return use(dom)
        if not main.enter():
            raise libvirt.libvirtError(f"{self.name}: not connected")
        try:
            with main.one_at_a_time() as conn:
                return use(conn.lookupByUUIDString(uuid))
        finally:
            main.leave()

    def migrate(
        self,
        uuid: str,
        target: MigrationPort,
        options: MigrationOptions,
        on_progress: Callable[[MigrationJob], None],
        cancelled: CancelFlag,
        postcopy_now: CancelFlag | None = None,
    ) -> MigrationOutcome:
        """Move the domain to ``target``; the job is read every POLL_S and handed to
        ``on_progress`` (from this thread); a set ``cancelled`` aborts it, a set
        ``postcopy_now`` switches it to post-copy (with the post-copy option). The
        outcome says where the guest is afterwards, read back from both hosts."""
        self._refuse_when_readonly("migrate a domain")
        if not isinstance(target, LibvirtMigration):
            raise BackendError(f"{target!r} is not a libvirt host: it cannot receive a guest")
        target._refuse_when_readonly("receive a migrated domain")
        if options.transport is not Transport.DIRECT:  # checked again, whatever was shown
            peer = target._check_peer_uri()
            if not peer.ok:
                raise BackendError(f"{target.name}: {peer.detail}; nothing was moved")
        dom = self._domain(uuid)
        name = dom.name()
        flags, params = migration_flags(options), migration_params(options)
        failure: list[BaseException] = []
        start = time.monotonic()

        # The connection this call runs on (counted: a long job's own on a remote host).
        source: ConnectionOwner | None = getattr(self._link.pin, "owner", None)
        with target._target_connection() as destination:
            dconn = destination.conn
            # The mover counts itself on both connections: when virtui stops waiting
            # for it (a lost target), neither is closed until its call returns.
            owners = [owner for owner in (source, destination) if owner is not None]
            movers = [owner for owner in owners if owner.enter()]
            if len(movers) < len(owners):  # one was retired meanwhile (a disconnect)
                for owner in movers:
                    owner.leave()
                gone = target if destination not in movers else self
                raise gone._link.not_connected()

            def run() -> None:
                try:
                    if options.transport is Transport.DIRECT:
                        dom.migrate3(dconn, params, flags)
                    else:
                        dom.migrateToURI3(target.uri, params, flags)
                except BaseException as error:  # handed to the waiting thread
                    failure.append(error)
                finally:
                    for owner in movers:
                        owner.leave()

            mover = threading.Thread(target=run, name=f"migrate:{name}", daemon=True)
            mover.start()
            previous = None
            aborted = lost = switched = downtime_set = False
            abandon_at = None
            while mover.is_alive():
                mover.join(POLL_S)
                if not mover.is_alive():
                    break
                # A target that went silent (no reset reached us) would hold the copy
                # for TCP's quarter of an hour: its connection's keepalive says so first.
                if not lost and not alive(dconn):
                    lost, abandon_at = True, time.monotonic() + ABANDON_AFTER_S
                if abandon_at is not None and time.monotonic() > abandon_at:
                    why = (
                        f"lost the connection to {target.name}; {self.name} is still "
                        "cancelling the migration, until its transfer times out"
                    )
                    return self._failed(uuid, dom, name, target, aborted=False, why=why)
                if (cancelled.is_set() or lost) and not aborted:
                    with contextlib.suppress(libvirt.libvirtError):
                        self._on_main(uuid, dom, lambda d: d.abortJob())
                    aborted = True
                with contextlib.suppress(libvirt.libvirtError):
                    stats = self._on_main(uuid, dom, lambda d: d.jobStats(0))
                    if stats.get("type", 0) == libvirt.VIR_DOMAIN_JOB_NONE:
                        continue
                    job = _job(stats)
                    on_progress(job)
                    if options.max_downtime_ms and not downtime_set:
                        # Once the job exists (libvirt keeps it for this job only).
                        self._on_main(
                            uuid, dom, lambda d: d.migrateSetMaxDowntime(options.max_downtime_ms, 0)
                        )
                        downtime_set = True
                    asked = postcopy_now is not None and postcopy_now.is_set()
                    stuck = (
                        job.iteration >= POSTCOPY_AFTER
                        and previous is not None
                        and job.data_remaining >= previous.data_remaining
                    )
                    if options.postcopy and not switched and (asked or stuck):
                        self._on_main(uuid, dom, lambda d: d.migrateStartPostCopy(0))
                        switched = True
                    previous = job
            duration = time.monotonic() - start
            if failure:
                # libvirt's own keepalive may fail the call before the loop saw it.
                lost = lost or not alive(dconn)
                why = f"lost the connection to {target.name}" if lost else describe(failure[0])
                outcome = self._failed(uuid, dom, name, target, aborted and not lost, why)
                if options.address and "Cannot assign requested address" in outcome.message:
                    outcome = dataclasses.replace(
                        outcome,
                        message=f"{outcome.message}: the migration network address "
                        f"{options.address} is not one of {target.name}'s",
                    )
                return outcome
            downtime = None
            with contextlib.suppress(libvirt.libvirtError):
                moved = dconn.lookupByUUIDString(uuid)
                completed = moved.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
                downtime = completed.get("downtime")
            return self._moved(dom, name, target, dconn, uuid, options, duration, downtime)

    def _moved(
        self,
        dom: libvirt.virDomain,
        name: str,
        target: LibvirtMigration,
        dconn: libvirt.virConnect,
        uuid: str,
        options: MigrationOptions,
        duration: float,
        downtime: int | None,
    ) -> MigrationOutcome:
        try:
            there = dconn.lookupByUUIDString(uuid)
            state = _STATES.get(there.state()[0], "in another state")
        except libvirt.libvirtError:
            state = "not found there (read back failed)"
        try:
            left = _STATES.get(dom.state()[0], "in another state")
            source_said = f"{self.name} keeps a {left} definition"
        except libvirt.libvirtError:
            source_said = f"gone from {self.name}"
        pause = f", downtime {downtime} ms" if downtime is not None else ""
        return MigrationOutcome(
            domain=name,
            source=self.name,
            target=target.name,
            ok=True,
            message=(
                f"{name} moved to {target.name} in {duration:.1f} s{pause}: {state} there; "
                f"{source_said}"
            ),
            downtime_ms=downtime,
        )

    def _failed(
        self,
        uuid: str,
        dom: libvirt.virDomain,
        name: str,
        target: LibvirtMigration,
        aborted: bool,
        why: str,
    ) -> MigrationOutcome:
        """The outcome of a migration that did not complete: cancelled by the user
        (``aborted``), or failed for ``why``; where the guest is, read back."""
        try:
            # From the main connection: a migration virtui stopped waiting for may
            # still be inside the job's own.
            state = self._on_main(uuid, dom, lambda d: d.state()[0])
            where = f"{_STATES.get(state, 'in another state')} on {self.name}"
        except libvirt.libvirtError as state_error:
            where = f"in an unknown state on {self.name} ({describe(state_error)})"
        first = (
            f"cancelled: {name} is {where}"
            if aborted
            else f"{name} did not move ({why}); it is {where}"
        )
        return MigrationOutcome(
            domain=name,
            source=self.name,
            target=target.name,
            ok=False,
            message=first,
        )


def _pool_paths(conn: libvirt.virConnect) -> list[str]:
    paths = []
    with contextlib.suppress(libvirt.libvirtError):
        for pool in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
            with contextlib.suppress(libvirt.libvirtError, ET.ParseError):
                paths.append(read_xml(pool.XMLDesc(0)).findtext("target/path", ""))
    return paths


# Pool types whose volumes every host that has the pool reaches as the same storage.
SHARED_POOL_TYPES = frozenset(
    {"netfs", "rbd", "iscsi", "iscsi-direct", "gluster", "sheepdog", "vstorage", "mpath"}
)
# What to do when a shut-off guest's disks are not on the target (an offline move
# carries only the definition; copy storage needs a running guest).
_OFFLINE_WAYS = (
    "copy its volumes there first (storage screen: d downloads one, u uploads it to the "
    "target's pool), or start the guest and migrate it live with copy storage"
)


def _volume_exists(conn: libvirt.virConnect, path: str) -> bool:
    try:
        conn.storageVolLookupByPath(path)
        return True
    except libvirt.libvirtError:
        return False
