"""A cloud-init NoCloud seed: an ISO 9660 image labelled ``cidata`` holding
``user-data`` and ``meta-data`` (and ``network-config`` when given), written with
pycdlib (a maintained ISO library) rather than by hand."""

from __future__ import annotations

import io

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
    user-data file of the user's own, used as it is instead."""
    user_data = extra or (
        "#cloud-config\n"
        f"hostname: {hostname}\n"
        "users:\n"
        f"  - name: {user}\n"
        "    sudo: ALL=(ALL) NOPASSWD:ALL\n"
        "    shell: /bin/bash\n"
        "    ssh_authorized_keys:\n" + "".join(f"      - {key}\n" for key in keys)
    )
    meta_data = f"instance-id: {hostname}\nlocal-hostname: {hostname}\n"
    return {"user-data": user_data, "meta-data": meta_data}
