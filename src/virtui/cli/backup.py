"""``virtui backup``: back domains up, list and verify their backups, from a shell or a
timer. One line per domain; the exit status says whether every one succeeded."""

from __future__ import annotations

import argparse
import shutil
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import libvirt

from virtui.backends.backups import (
    BackupError,
    Retention,
    all_backups,
    record_verified,
    to_keep,
    verify,
)
from virtui.backends.libvirt.backup import back_up, pool_folder
from virtui.backends.libvirt.connections import open_connection, release_connection
from virtui.backends.libvirt.eventloop import ensure_event_loop
from virtui.config.hostsfile import ConfigError, load_backup_config
from virtui.formatting import format_kib
from virtui.text import error_text, visible


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="virtui backup",
        description="Back domains up through libvirt's backup API (running guests: an "
        "incremental after the first full one, through checkpoints); list and verify them.",
    )
    commands = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = commands.add_parser("create", help="back domains up now")
    create.add_argument("-c", "--connect", metavar="URI", required=True, help="libvirt URI")
    create.add_argument("domains", metavar="DOMAIN", nargs="+", help="name or UUID")
    kind = create.add_mutually_exclusive_group()
    kind.add_argument("--full", action="store_true", help="a full backup even if one exists")
    kind.add_argument(
        "--incremental", action="store_true", help="since the last backup (the default)"
    )
    listing = commands.add_parser("list", help="every backup, per domain")
    prune = commands.add_parser(
        "prune", help="remove old backups by retention rules; chains stay whole"
    )
    prune.add_argument("--keep-last", metavar="N", type=int, default=0)
    prune.add_argument("--keep-daily", metavar="N", type=int, default=0)
    prune.add_argument("--keep-weekly", metavar="N", type=int, default=0)
    prune.add_argument("--dry-run", action="store_true", help="say, remove nothing")
    prune.add_argument("domains", metavar="DOMAIN", nargs="*", help="only these (by name)")
    check = commands.add_parser("verify", help="re-read every image against its manifest")
    check.add_argument("domains", metavar="DOMAIN", nargs="*", help="only these (by name)")
    restore = commands.add_parser(
        "restore",
        help="draft a change on the review desk: a new domain from a backup's chain",
    )
    restore.add_argument("-c", "--connect", metavar="URI", required=True, help="libvirt URI")
    restore.add_argument("domain", metavar="DOMAIN", help="the backed-up domain (name or UUID)")
    restore.add_argument("--backup", default="", help="which backup (default: the newest)")
    restore.add_argument("--as", dest="new_name", metavar="NAME", required=True)
    restore.add_argument("--pool", required=True, help="the storage pool for its disks")
    restore.add_argument("--start", action="store_true", help="start it after the merge")
    restore.add_argument("--store", default="", help="a review store file (as virtui review)")
    for command in (create, listing, prune, check, restore):
        command.add_argument(
            "--to", metavar="DIR", type=Path, help="where backups go (default: [backup] dir)"
        )
    create.add_argument(
        "--pool",
        default=None,
        help="into this dir-type storage pool of the host (default: [backup] pool)",
    )
    return parser


def backup_main(arguments: Sequence[str], out: TextIO = sys.stdout) -> int:
    """Run ``virtui backup ARGS``; the exit status."""
    args = _parser().parse_args(list(arguments))
    pool = getattr(args, "pool", None)
    if args.to is None and not pool:
        try:
            config = load_backup_config()
        except ConfigError as error:
            print(f"virtui backup: {visible(str(error))}", file=out)
            return 2
        if config.dir:
            args.to = Path(config.dir)
        elif config.pool and args.action == "create":
            pool = config.pool
        else:
            print("virtui backup: say where backups go: --to DIR, or [backup] dir", file=out)
            return 2
    if args.action == "create":
        return _create(args.connect, args.domains, args.to, not args.full, out, pool)
    if args.action == "list":
        return _list(args.to, out)
    if args.action == "prune":
        rules = Retention(args.keep_last, args.keep_daily, args.keep_weekly)
        return _prune(args.to, args.domains, rules, args.dry_run, out)
    if args.action == "restore":
        return _restore(args, out)
    return _verify(args.to, args.domains, out)


def _restore(args: argparse.Namespace, out: TextIO) -> int:
    """Draft the restore on the review desk: reviewed, checked and merged like any new
    guest (the merge builds the disks from the chain, verified again)."""
    from virtui.cli.review import Desk, Refused  # the desk only for this command
    from virtui.review.core import ReviewError
    from virtui.review.desk import ReviewDesk
    from virtui.review.newguest import NAME
    from virtui.review.restore import find_backup, restore_plan
    from virtui.review.store import StoreError

    if not NAME.fullmatch(args.new_name):
        print(f"virtui backup: {visible(args.new_name)!r} is not a domain name", file=out)
        return 2
    try:
        backup = find_backup(args.to, args.domain, args.backup)
        xml, volumes = restore_plan(backup, args.new_name, args.pool)
    except BackupError as error:
        print(f"virtui backup: {visible(str(error))}", file=out)
        return 1
    try:
        desk = Desk(args.store)
    except (Refused, ReviewError) as error:
        print(f"virtui backup: {visible(str(error))}", file=out)
        return 1
    try:
        if isinstance(desk.desk, ReviewDesk):  # this machine's desk reads --to
            desk.desk.backup_root = args.to
        host = desk.host(args.connect)
        desk.connect(args.connect, host)
        change = desk.desk.draft_new(
            host,
            xml,
            volumes,
            start=args.start,
            title=f"{args.new_name}: restored from {backup.manifest.domain} {backup.name}",
        )
    except (Refused, ReviewError, StoreError) as error:
        print(f"virtui backup: {visible(str(error))}", file=out)
        return 1
    except Exception as error:  # a backend error: one line, not a traceback
        print(f"virtui backup: {visible(error_text(error))}", file=out)
        return 1
    finally:
        desk.close()
    print(
        f"#{change.id} drafted: {visible(change.title)}\n"
        + "".join(f"  {visible(line)}\n" for line in change.summary)
        + f"review and merge it: virtui review open {change.id}; virtui review merge {change.id}",
        file=out,
    )
    return 0


def _create(
    uri: str, names: list[str], root: Path | None, incremental: bool, out: TextIO, pool: str | None
) -> int:
    ensure_event_loop()
    try:
        conn = open_connection(uri)
    except libvirt.libvirtError as error:
        print(f"virtui backup: {visible(uri)}: {visible(error.get_error_message())}", file=out)
        return 2
    failed = 0
    try:
        if root is None:
            try:
                root = pool_folder(conn, pool or "")
            except BackupError as error:
                print(f"virtui backup: {visible(str(error))}", file=out)
                return 2
        for name in names:
            try:
                dom = _lookup(conn, name)
                started = datetime.now(UTC)
                made = back_up(dom, root, incremental=incremental, cancel=threading.Event())
                seconds = (datetime.now(UTC) - started).total_seconds()
                size = sum(disk.size for disk in made.disks)
                whole = sum(disk.virtual_size for disk in made.disks)
                note = f" ({made.note})" if made.note else ""
                print(
                    f"{visible(name)}: ok {made.kind} {made.consistency}, "
                    f"{format_kib(size // 1024)} written of a {format_kib(whole // 1024)} disk "
                    f"in {seconds:.1f} s{visible(note)}",
                    file=out,
                )
            except BackupError as error:
                failed += 1
                print(f"{visible(name)}: failed: {visible(str(error))}", file=out)
            except libvirt.libvirtError as error:
                failed += 1
                print(f"{visible(name)}: failed: {visible(error.get_error_message())}", file=out)
    finally:
        release_connection(uri, conn)
    return 1 if failed else 0


def _lookup(conn: libvirt.virConnect, name: str) -> libvirt.virDomain:
    try:
        return conn.lookupByUUIDString(name)
    except libvirt.libvirtError:
        return conn.lookupByName(name)


def _list(root: Path, out: TextIO) -> int:
    found = all_backups(root)
    if not any(found.values()):
        print(f"no backups under {visible(str(root))}", file=out)
        return 0
    for _folder, backups in found.items():
        for backup in backups:
            made = backup.manifest
            size = sum(disk.size for disk in made.disks)
            parent = f" on {made.parent}" if made.parent else ""
            print(
                f"{visible(made.domain)} {backup.name} {made.kind}{parent} {made.consistency} "
                f"{format_kib(size // 1024)}",
                file=out,
            )
    return 0


def _prune(root: Path, names: list[str], rules: Retention, dry_run: bool, out: TextIO) -> int:
    if not rules.keeps_anything:
        print(
            "virtui backup prune: say what to keep (--keep-last, --keep-daily, --keep-weekly)",
            file=out,
        )
        return 2
    for _folder, backups in all_backups(root).items():
        if not backups or (names and backups[-1].manifest.domain not in names):
            continue
        kept = to_keep(backups, rules)
        for backup in backups:
            head = f"{visible(backup.manifest.domain)} {backup.name}"
            if backup.name in kept:
                print(f"{head}: keep", file=out)
            elif dry_run:
                print(f"{head}: would remove", file=out)
            else:
                shutil.rmtree(backup.folder)
                print(f"{head}: removed", file=out)
    return 0


def _verify(root: Path, names: list[str], out: TextIO) -> int:
    bad = 0
    for _folder, backups in all_backups(root).items():
        for backup in backups:
            if names and backup.manifest.domain not in names:
                continue
            problems = verify(backup)
            record_verified(backup, problems)
            head = f"{visible(backup.manifest.domain)} {backup.name}"
            if problems:
                bad += 1
                print(f"{head}: BAD: {visible('; '.join(problems))}", file=out)
            else:
                print(f"{head}: ok", file=out)
    return 1 if bad else 0
