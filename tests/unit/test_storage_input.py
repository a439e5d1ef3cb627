"""What the storage screen accepts from a user, and the messages for what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from virtui.formatting import format_bytes
from virtui.screens.storage.inputs import (
    InputError,
    check_fits,
    check_name,
    check_pool_path,
    parse_size,
)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("20G", 20 * 1024**3),
        ("20 GiB", 20 * 1024**3),
        ("512M", 512 * 1024**2),
        ("1.5T", int(1.5 * 1024**4)),
        ("10GB", 10 * 1000**3),
        ("4096", 4096),
        ("1k", 1024),
    ],
)
def test_sizes_read_as_virsh_reads_them(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12 parsecs", "'parsecs' is not a size unit"),
        ("lots", "'lots' is not a size"),
        ("", "'' is not a size"),
        ("-5G", "is not a size"),
        ("0", "more than 0 bytes"),
    ],
)
def test_bad_sizes_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_size(text)


def test_names_with_a_slash_or_odd_characters_are_refused() -> None:
    assert check_name("volume", "disk1.qcow2") == ""
    assert "cannot contain a slash" in check_name("volume", "../etc/passwd")
    assert "not a valid pool name" in check_name("pool", "my pool")
    assert "not a valid volume name" in check_name("volume", ".hidden")
    assert check_name("pool", "") == "the pool needs a name"


def test_pool_paths_must_be_absolute_and_exist_locally(tmp_path: Path) -> None:
    assert check_pool_path(str(tmp_path), local=True) == ""
    assert "does not exist" in check_pool_path(str(tmp_path / "nope"), local=True)
    assert check_pool_path(str(tmp_path / "nope"), local=False) == ""  # remote: libvirt says
    assert "not an absolute path" in check_pool_path("images", local=True)


def test_sizes_beyond_the_pool_are_refused() -> None:
    assert check_fits(1024**3, 2 * 1024**3, "images") == ""
    assert check_fits(3 * 1024**3, 2 * 1024**3, "images") == (
        "3GiB does not fit: pool images has 2GiB available"
    )


def test_byte_counts_format_in_binary_units() -> None:
    assert [format_bytes(n) for n in (0, 1023, 1024, 1536, 10 * 1024**3, 150 * 1024**2)] == [
        "0B",
        "1023B",
        "1KiB",
        "1.5KiB",
        "10GiB",
        "150MiB",
    ]
