"""The backups screen (7): every backup under [backup] dir per domain, newest first, with
its chain, age, size and last verify; `v` verifies the highlighted one and its row says
what verify found. The images are real qcow2 files (qemu-img), their hashes real."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.tui.helpers import screen_text, status_text, wait_for
from virtui.backends.backups import sha256_of, write_manifest
from virtui.config.settings import Settings
from virtui.model.backup import FULL, INCREMENTAL, BackupManifest, DiskImage
from virtui.monitor.sessions import open_sessions
from virtui.screens.backups import BackupsScreen
from virtui.tui.app import VirtuiApp


def _backup(root: Path, domain: str, name: str, hours_ago: float, parent: str = "") -> Path:
    """A backup folder with a 1 MiB qcow2 image (over its parent's) and its manifest."""
    folder = root / f"{domain}-6695eb01" / name
    folder.mkdir(parents=True)
    image = folder / "vda.qcow2"
    backing = ["-u", "-b", f"../{parent}/vda.qcow2", "-F", "qcow2"] if parent else []
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", *backing, str(image), "1M"], check=True
    )
    when = datetime.now(UTC) - timedelta(hours=hours_ago)
    disk = DiskImage(
        "vda", "/x.qcow2", "vda.qcow2", 1 << 20, image.stat().st_size, sha256_of(image)
    )
    write_manifest(
        folder,
        BackupManifest(
            domain,
            f"6695eb01-{domain}",
            when.isoformat(timespec="seconds"),
            INCREMENTAL if parent else FULL,
            "crash-consistent",
            parent=parent,
            disks=(disk,),
        ),
    )
    return image


def _row(app: VirtuiApp, backup: str) -> str:
    """The line of the table whose Backup column is ``backup``."""
    return next(line for line in screen_text(app).splitlines() if line.split()[1:2] == [backup])


async def test_the_backups_screen_lists_chains_and_verifies_the_highlighted_one(
    tmp_path: Path,
) -> None:
    root = tmp_path / "backups"
    _backup(root, "web01", "A-full", hours_ago=30)
    _backup(root, "web01", "B-incremental", hours_ago=2, parent="A-full")
    _backup(root, "db01", "C-incremental", hours_ago=5, parent="gone-full")
    settings = Settings(uris=["test:///default"], backup_dir=str(root))
    app = VirtuiApp(settings, sessions=open_sessions(["test:///default"]), auto_poll=False)
    async with app.run_test(size=(150, 30)) as pilot:
        await pilot.press("7")
        await wait_for(lambda: isinstance(app.screen, BackupsScreen))
        await wait_for(lambda: "3 backups" in status_text(app))
        assert f"3 backups of 2 domains in {root}, 1 bad" in status_text(app)
        # By domain folder, newest first.
        lines = [line for line in screen_text(app).splitlines() if "crash-consistent" in line]
        assert [line.split()[1] for line in lines] == ["C-incremental", "B-incremental", "A-full"]
        assert _row(app, "C-incremental").split()[3:6] == ["on", "gone-full", "broken"]
        assert _row(app, "B-incremental").split()[3:6] == ["on", "A-full", "2"]
        assert " 2h " in _row(app, "B-incremental") and " 30h " in _row(app, "A-full")
        assert _row(app, "A-full").rstrip().endswith("never")

        await pilot.press("down")  # B-incremental: its chain is read too
        await pilot.press("v")
        await wait_for(lambda: _row(app, "B-incremental").rstrip().endswith("ok 0m ago"))

        image = root / "web01-6695eb01" / "A-full" / "vda.qcow2"
        data = bytearray(image.read_bytes())
        data[-1] ^= 0xFF
        image.write_bytes(bytes(data))
        await pilot.press("down", "v")
        await wait_for(lambda: _row(app, "A-full").rstrip().endswith("BAD 0m ago"))
        assert "its SHA-256 is not the manifest's" in screen_text(app)  # the line below
    written = root / "web01-6695eb01" / "A-full" / "verified.json"
    assert written.stat().st_mode & 0o777 == 0o600
