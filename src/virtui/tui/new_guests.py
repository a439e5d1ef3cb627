"""NewGuestController: Ctrl+N on the domains screen, a form in steps whose answers
become a "define new domain" change request on the review desk — the domain XML and
the storage it will create, reviewed before anything exists.

Sources: a cloud image (an overlay over it, plus a cloud-init NoCloud seed), an ISO
install (an empty disk and the ISO as a CD-ROM), an existing disk image (imported as
it is), PXE (an empty disk, boot from the network), or a domain XML file.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App

from virtui.model import DomainKey, LogEntry
from virtui.model.newguest import NewVolume
from virtui.monitor.hostports import HostPorts
from virtui.monitor.store import DomainStore
from virtui.review.api import Desk
from virtui.review.model import ChangeRequest
from virtui.review.newguest import HOSTNAME, NAME, PROFILES, SSH_KEY, USER, GuestSpec, domain_xml
from virtui.review.seediso import cloud_config, seed_summary
from virtui.screens.form import Field, FormScreen
from virtui.screens.readonly import refused_read_only
from virtui.screens.storage.inputs import InputError, parse_size
from virtui.ui.calls import Calls
from virtui.ui.messages import TimelineNote

SOURCES = ("cloud", "iso", "import", "pxe", "xml")
MAX_FILE = 64 * 1024  # a user-data or key file larger than this is not one


def os_choices() -> dict[str, str]:
    """OS name -> device profile: libosinfo's short ids when ``osinfo-query`` is
    installed (Windows ones get the Windows profile), else the short list."""
    choices = {name: name for name in PROFILES}
    tool = shutil.which("osinfo-query")
    if tool is None:
        return choices
    try:
        out = subprocess.run(
            [tool, "os", "--fields=short-id"], capture_output=True, text=True, timeout=5
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return choices
    for line in out.splitlines()[2:]:
        short = line.strip()
        if short:
            choices[short] = "windows" if short.startswith("win") else "linux"
    return choices


def public_keys(home: Path | None = None) -> list[Path]:
    """The SSH public keys offered: ``~/.ssh/*.pub``."""
    folder = (home or Path.home()) / ".ssh"
    return sorted(folder.glob("*.pub")) if folder.is_dir() else []


def read_keys(path: str) -> list[str]:
    """The keys of a public key file, each checked; ValueError says what is wrong."""
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")[: MAX_FILE + 1]
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(
            f"cannot read {path}: {getattr(error, 'strerror', None) or error}"
        ) from error
    if len(text) > MAX_FILE:
        raise ValueError(f"{path} is larger than a key file")
    keys = [line.strip() for line in text.splitlines() if line.strip()]
    if not keys or not all(SSH_KEY.match(key) for key in keys):
        raise ValueError(f"{path} does not hold SSH public keys (ssh-ed25519 AAAA… comment)")
    return keys


def read_user_data(path: str) -> str:
    """A user-data file of the user's own: #cloud-config or a script."""
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(
            f"cannot read {path}: {getattr(error, 'strerror', None) or error}"
        ) from error
    if len(text) > MAX_FILE or not text.startswith(("#cloud-config", "#!")):
        raise ValueError(f"{path} is not a user-data file (#cloud-config or #!, under 64 KiB)")
    return text


def _yes(text: str) -> bool:
    return text.strip().lower() in ("yes", "y")


class NewGuestController:
    """Asks, checks, and drafts; nothing is created before the merge."""

    def __init__(
        self,
        app: App[Any],
        desk: Callable[[], Desk],
        calls: Calls,
        ports: HostPorts,
        store: DomainStore,
    ) -> None:
        self.app = app
        self.desk = desk
        self.calls = calls
        self.ports = ports
        self.store = store

    def start(self, selected: DomainKey | None) -> None:
        """Step 1: host, name, source, image."""
        hosts = [h for h in self.ports.host_names() if self.ports.backend(h) is not None]
        usable = [h for h in hosts if not self.ports.read_only(h)]
        if not usable:
            refused_read_only(self.app, "create a guest", ", ".join(hosts) or "every host")
            return
        host = selected.host if selected is not None and selected.host in usable else usable[0]

        def check(values: dict[str, str]) -> str:
            if values["host"] not in usable:
                return f"{values['host']!r}: one of {', '.join(usable)}"
            if not NAME.match(values["name"]):
                return f"{values['name']!r} is not a domain name: letters, digits, _.+-"
            taken = {s.sample.name for s in self.store.all() if s.sample.key.host == values["host"]}
            if values["name"] in taken:
                return f"{values['host']} already has a domain named {values['name']}"
            if values["source"] not in SOURCES:
                return f"source: one of {', '.join(SOURCES)}"
            if values["source"] != "pxe" and not values["image"]:
                return "the image (or ISO, disk, XML file) is needed for that source"
            if values["source"] == "xml" and not Path(values["image"]).expanduser().is_file():
                return f"no XML file at {values['image']} (on this machine)"
            return ""

        def chosen(values: dict[str, str] | None) -> None:
            if values is None:
                return
            if values["source"] == "xml":
                self._from_xml(values)
            else:
                self._step_size(values)

        self.app.push_screen(
            FormScreen(
                "New guest (1/4): where, and from what",
                "Sources: cloud (image + cloud-init), iso (install), import (a disk as it "
                "is), pxe, xml (a file here). Nothing is created before the merge.",
                [
                    Field("host", "Host", host),
                    Field("name", "Name", placeholder="web03"),
                    Field("source", "Source (cloud, iso, import, pxe, xml)", "cloud"),
                    Field(
                        "image",
                        "Image, ISO or disk path on the host; XML file here",
                        placeholder="/var/lib/libvirt/images/debian-12.qcow2",
                    ),
                ],
                check,
                compact=True,
            ),
            chosen,
        )

    def _step_size(self, first: dict[str, str]) -> None:
        choices = os_choices()
        importing = first["source"] == "import"

        def check(values: dict[str, str]) -> str:
            if values["os"] not in choices:
                shown = ", ".join(list(choices)[:8])
                return f"{values['os']!r}: an OS such as {shown} (osinfo-query os lists them)"
            if not values["vcpus"].isdigit() or not 1 <= int(values["vcpus"]) <= 256:
                return "vCPUs: a whole number from 1"
            try:
                memory = parse_size(values["memory"])
                disk = parse_size(values["disk"]) if values["disk"] or not importing else 0
            except InputError as error:
                return str(error)
            if memory < 16 * 1024 * 1024:
                return "memory: at least 16MiB"
            if not importing and disk < 1024 * 1024:
                return "disk: at least 1MiB"
            return ""

        def chosen(values: dict[str, str] | None) -> None:
            if values is not None:
                self._step_place(first | values, choices[values["os"]])

        self.app.push_screen(
            FormScreen(
                "New guest (2/4): OS and size",
                "The OS chooses the devices: linux virtio on q35, windows SATA and e1000e "
                "on q35, generic IDE and e1000 on pc.",
                [
                    Field("os", "OS", "linux"),
                    Field("vcpus", "vCPUs", "1"),
                    Field("memory", "Memory", "1G"),
                    Field(
                        "disk",
                        "Disk size" + (" (blank: the image as it is)" if importing else ""),
                        "" if importing else "20G",
                    ),
                ],
                check,
                compact=True,
            ),
            chosen,
        )

    def _step_place(self, answers: dict[str, str], profile: str) -> None:
        default_pool = "default"
        image_dir = answers["image"].rsplit("/", 1)[0] if "/" in answers["image"] else ""

        def check(values: dict[str, str]) -> str:
            network = values["network"]
            if network != "none" and not network.startswith(("network:", "bridge:")):
                return "network: network:NAME, bridge:NAME or none"
            if answers["source"] == "pxe" and network == "none":
                return "PXE needs a network to boot from"
            if values["start"] not in ("yes", "no"):
                return "start: yes or no"
            if not values["pool"]:
                return "the pool that holds the new volumes"
            return ""

        def chosen(values: dict[str, str] | None) -> None:
            if values is None:
                return
            merged = answers | values | {"profile": profile}
            if answers["source"] == "cloud":
                self._step_cloud(merged)
            else:
                self._draft(merged)

        self.app.push_screen(
            FormScreen(
                "New guest (3/4): storage and network",
                f"New volumes go to the pool (its directory{' ' + image_dir if image_dir else ''} "
                "is checked for room when the request is drafted).",
                [
                    Field("pool", "Pool for the new volumes", default_pool),
                    Field(
                        "network", "Network (network:NAME, bridge:NAME, none)", "network:default"
                    ),
                    Field("start", "Start it after the merge (yes, no)", "yes"),
                ],
                check,
                compact=True,
            ),
            chosen,
        )

    def _step_cloud(self, answers: dict[str, str]) -> None:
        keys = public_keys()

        def check(values: dict[str, str]) -> str:
            if not USER.match(values["user"]):
                return f"{values['user']!r} is not a user name (a-z, 0-9, _ -)"
            if not HOSTNAME.match(values["hostname"]):
                return f"{values['hostname']!r} is not a host name"
            try:
                read_keys(values["key"])
                if values["user_data"]:
                    read_user_data(values["user_data"])
            except ValueError as error:
                return str(error)
            return ""

        def chosen(values: dict[str, str] | None) -> None:
            if values is not None:
                self._draft(answers | values)

        self.app.push_screen(
            FormScreen(
                "New guest (4/4): cloud-init",
                "Written as a NoCloud seed ISO (user-data, meta-data) next to the disk.",
                [
                    Field("user", "User", "admin"),
                    Field(
                        "key",
                        "SSH public key file (here)",
                        str(keys[0]) if keys else "",
                        placeholder="~/.ssh/id_ed25519.pub",
                    ),
                    Field("hostname", "Hostname", answers["name"]),
                    Field("user_data", "Own user-data file (optional: replaces the above)"),
                ],
                check,
                compact=True,
            ),
            chosen,
        )

    # -- drafting ---------------------------------------------------------------------

    def _draft(self, answers: dict[str, str]) -> None:
        host = answers["host"]
        config = self.ports.config(host)
        files = {}
        description = ""
        if answers["source"] == "cloud":
            try:  # read again: the files may have changed since the form checked them
                extra = read_user_data(answers["user_data"]) if answers["user_data"] else ""
                keys = read_keys(answers["key"])
            except ValueError as error:
                self.app.notify(f"{error}: nothing was drafted", severity="error", timeout=10)
                return
            files = cloud_config(answers["user"], keys, answers["hostname"], extra)
            description = seed_summary(files, keys)

        def build() -> ChangeRequest:
            directory, _room = config.pool_room(answers["pool"])
            name, source, image = answers["name"], answers["source"], answers["image"]
            image_format = ""
            if source in ("cloud", "import", "iso"):
                found = config.image_format(image)
                if found is None:
                    raise ValueError(
                        f"the format of {image} on {host} cannot be read (is it a volume of "
                        "a pool there?): nothing was drafted"
                    )
                image_format = found
            size = parse_size(answers["disk"]) if answers["disk"] else 0
            volumes: list[NewVolume] = []
            disk_path, disk_format, cdrom, seed, boot = "", "qcow2", "", "", "hd"
            if source == "cloud":
                disk_path = f"{directory}/{name}.qcow2"
                volumes.append(
                    NewVolume(answers["pool"], f"{name}.qcow2", size, "qcow2", image, image_format)
                )
                seed = f"{directory}/{name}-seed.iso"
                volumes.append(
                    NewVolume(answers["pool"], f"{name}-seed.iso", 1024 * 1024, "raw", seed=files)
                )
            elif source == "import":
                disk_path, disk_format = image, image_format
            else:
                disk_path = f"{directory}/{name}.qcow2"
                volumes.append(NewVolume(answers["pool"], f"{name}.qcow2", size, "qcow2"))
                if source == "iso":
                    cdrom, boot = image, "cdrom"
                else:
                    boot = "network"
            spec = GuestSpec(
                name,
                int(answers["vcpus"]),
                parse_size(answers["memory"]) // (1024 * 1024),
                answers["profile"],
                disk_path=disk_path,
                disk_format=disk_format,
                cdrom_path=cdrom,
                seed_path=seed,
                network="" if answers["network"] == "none" else answers["network"],
                boot=boot,
            )
            return self.desk().draft_new(
                host,
                domain_xml(spec),
                volumes,
                start=_yes(answers["start"]),
                title=f"{name}: new domain ({source})",
                description=description,
            )

        self.calls(f"draft-new:{host}:{answers['name']}", build, self._drafted, self._failed)

    def _from_xml(self, answers: dict[str, str]) -> None:
        try:
            xml = Path(answers["image"]).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            self.app.notify(f"cannot read {answers['image']}: {error}", severity="error")
            return
        host = answers["host"]
        self.calls(
            f"draft-new:{host}:{answers['name']}",
            lambda: self.desk().draft_new(
                host, xml, [], title=f"{answers['name']}: new domain (XML)"
            ),
            self._drafted,
            self._failed,
        )

    def _drafted(self, change: ChangeRequest) -> None:
        text = f"change #{change.id} drafted: {change.title} ({'; '.join(change.summary)})"
        self.app.post_message(
            TimelineNote(LogEntry.now(change.host, change.domain_name, "action", text))
        )
        self.app.notify(f"{text}. Press 5 to review and merge it.", timeout=10)

    def _failed(self, failure: Any) -> None:
        self.app.notify(failure.message, severity="error", timeout=10)
