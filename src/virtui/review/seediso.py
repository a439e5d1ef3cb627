"""A cloud-init NoCloud seed: an ISO 9660 image labelled ``cidata`` holding
``user-data`` and ``meta-data`` (and ``network-config`` when given), written with
pycdlib (a maintained ISO library) rather than by hand."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json

from virtui.review.secrets import redact

SEED_LABEL = "cidata"  # the volume label cloud-init's NoCloud source looks for


def seed_iso(files: dict[str, str]) -> bytes:
    """The ISO image with each file under its own name (Joliet and Rock Ridge names;
    the ISO 9660 names are 8.3 upper case, which cloud-init does not read)."""
    import pycdlib  # only when a guest is created: 0.9 MiB kept off every start

    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge="1.09", vol_ident=SEED_LABEL)
    for index, (name, text) in enumerate(sorted(files.items())):
        data = text.encode("utf-8")
        iso.add_fp(
            io.BytesIO(data),
            len(data),
            f"/FILE{index};1",
            rr_name=name,
            joliet_path=f"/{name}",
        )
    out = io.BytesIO()
    iso.write_fp(out)
    iso.close()
    return out.getvalue()


def read_seed(data: bytes) -> dict[str, str]:
    """The files of a seed ISO by their Rock Ridge names (to check what was written)."""
    import pycdlib

    iso = pycdlib.PyCdlib()
    iso.open_fp(io.BytesIO(data))
    try:
        found = {}
        for child in iso.list_children(rr_path="/"):
            if child is None or child.is_dot() or child.is_dotdot():
                continue
            name = child.rock_ridge.name().decode()
            out = io.BytesIO()
            iso.get_file_from_iso_fp(out, rr_path=f"/{name}")
            found[name] = out.getvalue().decode("utf-8")
        return found
    finally:
        iso.close()


def cloud_config(user: str, keys: list[str], hostname: str, extra: str = "") -> dict[str, str]:
    """user-data and meta-data for one user with SSH keys and a hostname; ``extra``: a
    user-data file of the user's own, used as it is instead.

    Written by an emitter, not pasted together: JSON after the ``#cloud-config`` line is
    YAML (its flow style), with every string quoted exactly, so a key comment such as
    ``ops: laptop`` stays a string instead of turning the key into a mapping."""
    document = {
        "hostname": hostname,
        "users": [
            {
                "name": user,
                "sudo": "ALL=(ALL) NOPASSWD:ALL",
                "shell": "/bin/bash",
                "ssh_authorized_keys": keys,
            }
        ],
    }
    user_data = extra or "#cloud-config\n" + json.dumps(document, indent=2, ensure_ascii=False)
    meta = {"instance-id": hostname, "local-hostname": hostname}
    meta_data = "".join(f"{key}: {json.dumps(value)}\n" for key, value in meta.items())
    return {"user-data": user_data + ("" if extra else "\n"), "meta-data": meta_data}


def key_fingerprint(key: str) -> str:
    """An OpenSSH public key line as ``ssh-keygen -l`` names it: ``SHA256:…`` with its
    type and comment; the line itself when it is not a key."""
    parts = key.split(None, 2)
    try:
        blob = base64.b64decode(parts[1] + "=" * (-len(parts[1]) % 4), validate=True)
    except (IndexError, binascii.Error):
        return f"not an SSH public key: {key[:40]}"
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    comment = parts[2] if len(parts) > 2 else "no comment"
    return f"SHA256:{digest} {comment} ({parts[0]})"


def seed_summary(files: dict[str, str], keys: list[str]) -> str:
    """What the reviewer of a new guest reads about its seed: the user-data it runs at
    first boot (secrets redacted) and the fingerprint of every key it installs."""
    lines = ["Seed (cloud-init) user-data, run as root at first boot:", ""]
    lines += ["    " + line for line in redact(files["user-data"]).splitlines()]
    lines += ["", "SSH keys it installs:"]
    lines += [f"  {key_fingerprint(key)}" for key in keys] or ["  none"]
    return "\n".join(lines)
