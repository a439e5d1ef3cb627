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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from textual.app import App

from virtui.backends.base import BackendError
from virtui.model import DomainKey, LogEntry
from virtui.model.newguest import GuestSupport, NewVolume
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


def _names(read: Callable[[], Any]) -> list[str] | None:
    """The names of what ``read`` lists (pools, networks), or None when the host cannot
    say (no such capability, a failed read): then the step checks only the form."""
    try:
        return sorted(item.name for item in read())
    except BackendError:  # a host that cannot list them: offer nothing, refuse nothing
        return None


def _virtualisation(host: str, support: GuestSupport) -> str:
    """What the request says of how the guest will run."""
    if support.kvm:
        cpu = ", with the host's CPU (host-passthrough)" if support.passthrough else ""
        return f"Runs under KVM (hardware virtualisation on {host}){cpu}."
    why = "offers no KVM" if support.kvm is False else "did not say whether it offers KVM"
    return f"Runs emulated (QEMU TCG, many times slower): {host} {why}."


def _offer(names: list[str], where: str) -> str:
    return f"it has {', '.join(names)}" if names else f"it has none (create one on the {where})"


def _yes(text: str) -> bool:
    return text.strip().lower() in ("yes", "y")


@dataclass(frozen=True, slots=True)
class Refused:
    """Why a draft was not made, and the step (and field) of the wizard it concerns."""

    step: Literal["start", "size", "place"]  # (host, name, source, image), (OS, size), (pool…)
    field: str
    message: str


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
        # What was typed in the wizard so far: a step opened again (a refusal, a new
        # Ctrl+N after a cancel) shows it, and a draft that succeeded forgets it.
        self.typed: dict[str, str] = {}

    def _keep(self, values: dict[str, str]) -> dict[str, str]:
        self.typed |= values
        return values

    def _was(self, key: str, default: str) -> str:
        return self.typed.get(key, default)

    def start(self, selected: DomainKey | None, error: str = "", focus: str = "") -> None:
        """Step 1: host, name, source, image."""
        hosts = [h for h in self.ports.host_names() if self.ports.backend(h) is not None]
        usable = [h for h in hosts if not self.ports.read_only(h)]
        if not usable:
            refused_read_only(self.app, "create a guest", ", ".join(hosts) or "every host")
            return
        host = selected.host if selected is not None and selected.host in usable else usable[0]
        host = self._was("host", host)

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
            self._keep(values)
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
                    Field("name", "Name", self._was("name", ""), placeholder="web03"),
                    Field(
                        "source",
                        "Source (cloud, iso, import, pxe, xml)",
                        self._was("source", "cloud"),
                    ),
                    Field(
                        "image",
                        "Image, ISO or disk path on the host; XML file here",
                        self._was("image", ""),
                        placeholder="/var/lib/libvirt/images/debian-12.qcow2",
                    ),
                ],
                check,
                compact=True,
                error=error,
                focus=focus,
            ),
            chosen,
        )

    def _step_size(self, first: dict[str, str], error: str = "", focus: str = "") -> None:
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
                self._step_place(first | self._keep(values), choices[values["os"]])

        self.app.push_screen(
            FormScreen(
                "New guest (2/4): OS and size",
                "The OS chooses the devices: linux virtio on q35, windows SATA and e1000e "
                "on q35, generic IDE and e1000 on pc.",
                [
                    Field("os", "OS", self._was("os", "linux")),
                    Field("vcpus", "vCPUs", self._was("vcpus", "1")),
                    Field("memory", "Memory", self._was("memory", "1G")),
                    Field(
                        "disk",
                        "Disk size" + (" (blank: the image as it is)" if importing else ""),
                        "" if importing else self._was("disk", "20G") or "20G",
                    ),
                ],
                check,
                compact=True,
                error=error,
                focus=focus,
            ),
            chosen,
        )

    def _step_place(
        self, answers: dict[str, str], profile: str, error: str = "", focus: str = ""
    ) -> None:
        """Step 3, once the host's pools and networks are read: they are offered, and
        the step refuses what the host does not have (virt-install does too)."""
        host = answers["host"]

        def read() -> tuple[list[str] | None, list[str] | None]:
            return _names(lambda: self.ports.storage(host).pools()), _names(
                lambda: [n.config for n in self.ports.networks(host).networks()]
            )

        self.calls(
            f"new-guest-place:{host}",
            read,
            lambda found: self._place_form(answers, profile, *found, error, focus),
            lambda _failure: self._place_form(answers, profile, None, None, error, focus),
        )

    def _place_form(
        self,
        answers: dict[str, str],
        profile: str,
        pools: list[str] | None,
        networks: list[str] | None,
        error: str,
        focus: str,
    ) -> None:
        host = answers["host"]
        importing = answers["source"] == "import"  # imports the disk: no new volume
        default_pool = "default" if not pools or "default" in pools else pools[0]
        default_net = (
            "network:default"
            if networks is None or "default" in networks
            else f"network:{networks[0]}"
            if networks
            else "none"
        )

        def check(values: dict[str, str]) -> str:  # in the order of the fields
            if not importing and not values["pool"]:
                return "the pool that holds the new volumes"
            if not importing and pools is not None and values["pool"] not in pools:
                return (
                    f"{host} has no pool {values['pool']!r}: {_offer(pools, 'storage screen, 3')}"
                )
            network = values["network"]
            if network != "none" and not network.startswith(("network:", "bridge:")):
                return "network: network:NAME, bridge:NAME or none"
            name = network.removeprefix("network:")
            if network.startswith("network:") and networks is not None and name not in networks:
                return f"{host} has no network {name!r}: {_offer(networks, 'networks screen, 6')}"
            if answers["source"] == "pxe" and network == "none":
                return "PXE needs a network to boot from"
            if values["start"] not in ("yes", "no"):
                return "start: yes or no"
            return ""

        def chosen(values: dict[str, str] | None) -> None:
            if values is None:
                return
            merged = answers | self._keep(values) | {"profile": profile}
            merged.setdefault("pool", "")
            if answers["source"] == "cloud":
                self._step_cloud(merged)
            else:
                self._draft(merged)

        place = (
            []
            if importing
            else [Field("pool", "Pool for the new volumes", self._was("pool", default_pool))]
        )
        offered = "; ".join(
            f"{what} on {host}: {', '.join(names) or 'none'}"
            for what, names in (("pools", pools), ("networks", networks))
            if names is not None and not (importing and what == "pools")
        )
        self.app.push_screen(
            FormScreen(
                "New guest (3/4): storage and network",
                (
                    "The disk is imported as it is: no new volume. "
                    if importing
                    else "New volumes go to the pool (checked for room when drafted). "
                )
                + (offered + "." if offered else ""),
                [
                    *place,
                    Field(
                        "network",
                        "Network (network:NAME, bridge:NAME, none)",
                        self._was("network", default_net),
                    ),
                    Field("start", "Start it after the merge (yes, no)", self._was("start", "yes")),
                ],
                check,
                compact=True,
                error=error,
                focus=focus,
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
        config = self.ports.domain_config(host)
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

        def build() -> ChangeRequest | Refused:
            name, source, image = answers["name"], answers["source"], answers["image"]
            support = config.guest_support()
            if PROFILES[answers["profile"]].firmware == "efi" and support.efi is False:
                return Refused(
                    "size",
                    "os",
                    f"{host} has no UEFI firmware (OVMF) for {answers['os']}: install ovmf "
                    "there, or choose linux (BIOS)",
                )
            machine = PROFILES[answers["profile"]].machine
            if support.machines and machine not in support.machines:
                return Refused(
                    "size", "os", f"{host}'s QEMU offers no {machine} machine for {answers['os']}"
                )
            directory = ""
            if source != "import":
                try:
                    directory, _room = config.pool_room(answers["pool"])
                except BackendError as error:
                    return Refused("place", "pool", error.message)
            image_format = ""
            if source in ("cloud", "import", "iso"):
                found = config.image_format(image)
                if found is None:
                    return Refused(
                        "start",
                        "image",
                        f"the format of {image} on {host} cannot be read (is it a volume of "
                        "a pool there?)",
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
                domain_type="kvm" if support.kvm else "qemu",
                machine=support.machines.get(machine, ""),
                cpu_passthrough=bool(support.passthrough),
            )
            return self.desk().draft_new(
                host,
                domain_xml(spec),
                volumes,
                start=_yes(answers["start"]),
                title=f"{name}: new domain ({source})",
                description="\n".join(filter(None, [_virtualisation(host, support), description])),
            )

        def done(result: ChangeRequest | Refused) -> None:
            if isinstance(result, Refused):
                self._again(answers, result)
            else:
                self._drafted(result)

        self.calls(
            f"draft-new:{host}:{answers['name']}",
            build,
            done,
            lambda failure: self._again(answers, Refused("start", "", failure.message)),
        )

    def _again(self, answers: dict[str, str], refused: Refused) -> None:
        """A refusal at the draft: the step it concerns again, with everything typed."""
        text = f"{refused.message}: nothing was drafted"
        self.app.notify(text, severity="error", timeout=10)
        if refused.step == "place":
            self._step_place(answers, answers["profile"], text, refused.field)
        elif refused.step == "size":
            self._step_size(answers, text, refused.field)
        else:
            self.start(None, text, refused.field)

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
        self.typed.clear()  # drafted: the next Ctrl+N starts afresh
        text = f"change #{change.id} drafted: {change.title} ({'; '.join(change.summary)})"
        self.app.post_message(
            TimelineNote(LogEntry.now(change.host, change.domain_name, "action", text))
        )
        self.app.notify(f"{text}. Press 5 to review and merge it.", timeout=10)

    def _failed(self, failure: Any) -> None:
        self.app.notify(failure.message, severity="error", timeout=10)
