"""Volumes streamed to and from this machine (upload, download): cancellable at every
chunk, and leaving nothing behind when they do not finish: a partial upload is deleted
at once, or remembered and deleted when the host answers again."""

from __future__ import annotations

import contextlib
from pathlib import Path

import libvirt

from virtui.backends.base import BackendError
from virtui.backends.imageformat import sniff
from virtui.backends.libvirt import leftovers
from virtui.backends.libvirt.handle import describe
from virtui.backends.libvirt.storage import LibvirtStorage, volume_xml
from virtui.backends.libvirt.xmlread import read_xml
from virtui.formatting import format_bytes
from virtui.model.storage import TransferProgress
from virtui.ports.storage import CancelFlag, TransferCallback

CHUNK = 1024 * 1024


class Cancelled(BackendError):
    """A transfer stopped because the user cancelled it."""


class LibvirtTransfers(LibvirtStorage):
    """LibvirtBackend's volume streams. Blocking; call from background threads."""

    LONG_JOBS = LibvirtStorage.LONG_JOBS | {"upload_volume", "download_volume"}

    def remove_leftovers(self) -> list[str]:
        """Delete the volumes of uploads that did not finish (at connect); what was done."""
        done = []
        for pool_name, volume in leftovers.pending(self.uri):
            try:
                pool = self._connection().storagePoolLookupByName(pool_name)
            except libvirt.libvirtError:
                leftovers.forget(self.uri, pool_name, volume)  # the pool is gone, and it
                continue
            if self._remove_partial(pool, volume):
                done.append(f"deleted {pool_name}/{volume}: an upload that did not finish")
        return done

    def upload_volume(
        self,
        pool_name: str,
        name: str,
        local_path: str,
        progress: TransferCallback,
        cancelled: CancelFlag,
    ) -> str:
        """Create volume ``name`` from a local file (qcow2 or raw, from its header)."""
        self._refuse_when_readonly(f"upload into {pool_name}")
        source = Path(local_path)
        try:
            size = source.stat().st_size
            with source.open("rb") as head:
                fmt = sniff(head.read(64))
        except OSError as error:
            raise BackendError(f"{local_path}: {error.strerror or error}") from error
        pool = self._pool(pool_name)
        self._refuse_existing(pool, name)
        conn = self._connection()
        leftovers.remember(self.uri, pool_name, name)
        try:
            volume = pool.createXML(volume_xml(name, max(size, 1), fmt), 0)
        except libvirt.libvirtError as error:
            self._remove_partial(pool, name)
            raise BackendError(f"upload {name}: {describe(error)}") from error
        stream = conn.newStream(0)
        try:
            volume.upload(stream, 0, size, 0)
            with source.open("rb") as data:
                done = 0
                while chunk := data.read(CHUNK):
                    if cancelled.is_set():
                        raise Cancelled(f"upload of {name} cancelled")
                    view = memoryview(chunk)
                    while view:
                        sent = stream.send(bytes(view))
                        view = view[sent:]
                    done += len(chunk)
                    progress(TransferProgress(done, size))
            stream.finish()
        except BaseException as error:
            with contextlib.suppress(libvirt.libvirtError):
                stream.abort()
            removed = self._remove_partial(pool, name)
            kept = (
                ": nothing kept"
                if removed
                else f"; its incomplete volume {pool_name}/{name} could not be deleted now "
                f"and is deleted when {self.name} answers again"
            )
            if isinstance(error, Cancelled):
                raise Cancelled(f"{error.message}{kept}") from error
            readable = _readable(f"upload of {name} did not finish", error)
            if isinstance(readable, BackendError):
                raise BackendError(f"{readable.message}{kept}") from error
            raise
        leftovers.forget(self.uri, pool_name, name)
        with contextlib.suppress(libvirt.libvirtError):
            pool.refresh(0)  # re-read the format's own idea of capacity
        return f"volume {name}: uploaded {format_bytes(size)} ({fmt}) into {pool_name}"

    def download_volume(
        self,
        pool_name: str,
        name: str,
        local_path: str,
        progress: TransferCallback,
        cancelled: CancelFlag,
    ) -> str:
        """Copy a volume into a new local file; a cancelled download leaves no file."""
        target = Path(local_path)
        if target.exists():
            raise BackendError(f"{local_path} already exists: not overwritten")
        if not target.parent.is_dir():
            raise BackendError(f"{target.parent} does not exist (or is not a directory)")
        volume = self._volume(pool_name, name)
        try:
            root = read_xml(volume.XMLDesc(0))
            total = int(root.findtext("physical") or volume.info()[1])
        except libvirt.libvirtError as error:
            raise BackendError(f"download {name}: {describe(error)}") from error
        partial = target.with_name(target.name + ".part")
        stream = self._connection().newStream(0)
        try:
            volume.download(stream, 0, 0, 0)
            done = 0
            with partial.open("xb") as out:
                while True:
                    if cancelled.is_set():
                        raise Cancelled(f"download of {name} cancelled: nothing kept")
                    chunk = stream.recv(CHUNK)
                    if not chunk or not isinstance(chunk, bytes):
                        break
                    out.write(chunk)
                    done += len(chunk)
                    progress(TransferProgress(done, max(total, done)))
            stream.finish()
            partial.rename(target)
        except BaseException as error:
            with contextlib.suppress(libvirt.libvirtError):
                stream.abort()
            partial.unlink(missing_ok=True)
            readable = _readable(f"download {name}", error)
            if readable is error:
                raise
            raise readable from error
        return f"volume {name}: downloaded {format_bytes(done)} to {local_path}"


def _readable(what: str, error: BaseException) -> BaseException:
    """What a failed transfer reports: libvirt and file errors as a BackendError saying
    ``what`` failed; anything else (BackendError, cancel, interrupt) as it is."""
    if isinstance(error, libvirt.libvirtError):
        return BackendError(f"{what}: {describe(error)}")
    if isinstance(error, OSError):
        return BackendError(f"{what}: {error.strerror or error}")
    return error
