"""``virtui review``: the review desk from a shell, like ``gh pr``.

Same store, same rules, same checks as the TUI: every command drives ReviewDesk, or,
when ``[review] desk`` names a team's desk service, asks that service (which reaches the
hosts itself: ``-c`` then names one of its hosts, by name or by URI).

Exit status: 0 done; 1 refused or failed (the reason on stderr: a rule, a stale base,
libvirt's refusal, an unreachable host); 2 bad usage (unknown command, missing argument,
a file that cannot be read).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from virtui.backends import host_label
from virtui.cli.review_show import as_json, print_change
from virtui.config.hostsfile import ConfigError, ReviewConfig, load_hosts, load_review_config
from virtui.config.settings import review_store_path, write_private
from virtui.config.uripolicy import UriRefused, check_in_app
from virtui.monitor.hostports import HostPorts
from virtui.monitor.session import HostSession
from virtui.monitor.sessions import open_sessions
from virtui.monitor.store import DomainStore
from virtui.review.api import Desk as DeskApi
from virtui.review.client import DeskClient, link_to
from virtui.review.desk import ReviewDesk, ReviewError, ReviewRules
from virtui.review.history import ConfigHistory
from virtui.review.model import ChangeRequest
from virtui.review.ops import RawXml
from virtui.review.shared import SharedSetupError, init_shared
from virtui.review.store import ReviewStore, StoreError
from virtui.text import error_text, visible

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


class Refused(Exception):
    """Ends the command with exit status 1 and this message."""


def build_review_parser() -> argparse.ArgumentParser:
    """The ``virtui review`` sub-commands."""
    parser = argparse.ArgumentParser(
        prog="virtui review",
        description="The review desk from a shell. Exit status: 0 done, 1 refused or "
        "failed (reason on stderr), 2 bad usage.",
    )
    parser.add_argument(
        "--store",
        metavar="PATH",
        default="",
        help="the store (default: [review] store in config.toml, else your own)",
    )
    commands = parser.add_subparsers(dest="action", metavar="COMMAND", required=True)
    shared = commands.add_parser(
        "init-shared",
        help="set up a store (and a history) a group shares on this machine (as root)",
    )
    shared.add_argument("--group", required=True, help="the team's group, e.g. virtadmins")
    shared.add_argument(
        "--history",
        metavar="PATH",
        default=None,
        help="also a git repository of merged configurations (default: [review] history)",
    )

    def uri_option(sub: argparse.ArgumentParser, required: bool) -> None:
        sub.add_argument(
            "-c",
            "--connect",
            metavar="URI",
            dest="uri",
            required=required,
            help="libvirt URI of the domain's host"
            + ("" if required else " (default: the one the change was drafted on)"),
        )

    propose = commands.add_parser("propose", help="draft a change from a domain XML file")
    uri_option(propose, True)
    propose.add_argument("domain", help="domain name or UUID")
    propose.add_argument("file", type=Path, help="the proposed domain XML")
    propose.add_argument("--title", default="", help="default: DOMAIN: XML edit")
    propose.add_argument("--description", default="")
    propose.add_argument(
        "--new",
        action="store_true",
        help="the XML defines a new domain (named DOMAIN): reviewed before it exists",
    )
    listing = commands.add_parser("list", help="every change request")
    listing.add_argument("--json", action="store_true")
    show = commands.add_parser("show", help="one change request, its diff and warnings")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    uri_option(show, False)
    for name, text in (
        ("open", "open a draft for review"),
        ("approve", "approve this version"),
        ("withdraw", "withdraw (the author)"),
    ):
        commands.add_parser(name, help=text).add_argument("id", type=int)
    comment = commands.add_parser("comment", help="comment on the whole change")
    comment.add_argument("id", type=int)
    comment.add_argument("text")
    reject = commands.add_parser("reject", help="reject (a reviewer)")
    reject.add_argument("id", type=int)
    reject.add_argument("--reason", required=True)
    rebase = commands.add_parser("rebase", help="re-draft on the live configuration")
    rebase.add_argument("id", type=int)
    uri_option(rebase, False)
    merge = commands.add_parser("merge", help="apply an approved change")
    merge.add_argument("id", type=int)
    merge.add_argument("--yes", action="store_true", help="do not ask (scripts)")
    merge.add_argument(
        "--accept-warnings",
        action="store_true",
        help="with --yes: merge even when the change reaches beyond the guest",
    )
    uri_option(merge, False)
    export = commands.add_parser("export", help="write a patch file (0600, never overwrites)")
    export.add_argument("id", type=int)
    export.add_argument("-o", "--output", type=Path, required=True)
    importing = commands.add_parser("import", help="draft a change from a patch file")
    importing.add_argument("file", type=Path)
    uri_option(importing, True)
    return parser


def _review_config() -> tuple[ReviewConfig, str]:
    """The [review] table, and why it could not be read ("" when it could)."""
    try:
        return load_review_config(), ""
    except ConfigError as error:
        return ReviewConfig(), str(error)


def _host_name(uri: str) -> str:
    try:
        names = {entry.uri: entry.name for entry in load_hosts() if entry.name}
    except ConfigError:
        names = {}
    return names.get(uri) or host_label(uri)


class Desk:
    """The desk with at most one host connected, closed at the end of the command; or a
    team's desk service, which connects to its hosts itself."""

    def __init__(self, store: str = "") -> None:
        self.sessions: list[HostSession] = []
        config, problem = _review_config()
        ports = HostPorts(lambda: self.sessions, DomainStore())
        self.client: DeskClient | None = None
        self.desk: DeskApi
        if config.desk and not store:
            self.client = DeskClient(link_to(config.desk, config.desk_relay))
            self.desk = self.client
            return
        # Rules fail closed: a config that cannot be read keeps merging disabled.
        rules = ReviewRules(
            config.required_approvals, config.forbid_self_approval, problem, config.forbid
        )
        try:
            store_file = ReviewStore(review_store_path(store or config.store))
        except StoreError as error:
            raise Refused(str(error)) from error
        history = ConfigHistory(Path(config.history)) if config.history else None
        self.desk = ReviewDesk(store_file, ports, rules, history=history)

    def host(self, uri: str) -> str:
        """The host ``-c`` names: the service's by name or URI, else this config's."""
        if self.client is not None and uri in self.client.host_names:
            return uri
        return _host_name(uri)

    def connect(self, uri: str, name: str) -> None:
        """Open ``uri`` as host ``name`` (blocking); a desk service needs nothing."""
        if self.client is not None:
            return
        (session,) = open_sessions([uri], names={uri: name})
        self.sessions.append(session)
        try:
            session.backend.connect()
        except Exception as error:
            raise Refused(f"{name}: {error_text(error)}") from error

    def connect_for(self, change: ChangeRequest, uri: str | None) -> None:
        """Reach the change's host: ``-c`` from the command line, else the URI recorded
        with the change (checked like anything not typed on the command line)."""
        if self.client is not None:
            return
        if uri is None:
            if not change.uri:
                raise Refused(f"#{change.id} records no URI: give -c URI")
            try:
                check_in_app(change.uri)
            except UriRefused as error:
                raise Refused(f"{visible(error)}: give -c URI") from error
            uri = change.uri
        self.connect(uri, change.host)

    def close(self) -> None:
        """Close the connection and the store."""
        for session in self.sessions:
            session.close()
        self.desk.close()


def _find_domain(desk: Desk, host: str, name_or_uuid: str) -> str:
    """The UUID of a domain named or numbered so on the connected host."""
    if desk.client is not None:
        return desk.client.find_domain(host, name_or_uuid)
    backend = desk.sessions[0].backend
    for domain in backend.poll().domains:
        if name_or_uuid in (domain.name, domain.key.uuid):
            return domain.key.uuid
    raise Refused(f"{host} has no domain {visible(name_or_uuid)}")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        why = getattr(error, "strerror", None) or error
        raise UsageError(f"cannot read {path}: {why}") from error


class UsageError(Exception):
    """Ends the command with exit status 2."""


def _confirm(change: ChangeRequest, warnings: list[str], yes: bool, accept: bool) -> None:
    if warnings and yes and not accept:
        raise Refused(
            f"#{change.id} reaches beyond the guest ({'; '.join(warnings)}): "
            "add --accept-warnings to merge it with --yes"
        )
    if yes:
        return
    if not sys.stdin.isatty():
        raise Refused("not a terminal to ask in: pass --yes to merge")
    for warning in warnings:
        print(f"warning: {visible(warning)}", file=sys.stderr)
    name = visible(change.domain_name)
    what = f"{change.kind} {name}"
    answer = input(f"Merge #{change.id} into {what} on {change.host}? Type {name} to merge: ")
    if answer.strip() != name:
        raise Refused("not merged")


def _run(args: argparse.Namespace, desk: Desk) -> int:
    d = desk.desk
    action = args.action
    if action == "list":
        changes = d.changes()
        if args.json:
            json.dump([as_json(d, c, []) | {"diff": None} for c in changes], sys.stdout, indent=1)
            print()
        for change in changes if not args.json else []:
            print(
                f"#{change.id}\t{change.state.label}\t{visible(change.where)}"
                f"\t{visible(change.title)}\t{visible(change.author)}"
            )
        return EXIT_OK
    if action == "propose":
        name = desk.host(args.uri)
        desk.connect(args.uri, name)
        proposed = _read(args.file)
        if args.new:  # a domain that is not there yet: "define new domain"
            change = d.draft_new(
                name,
                proposed,
                title=args.title or f"{args.domain}: new domain",
                description=args.description,
            )
            if change.domain_name != args.domain:
                d.withdraw(change.id)
                raise Refused(
                    f"the XML defines {visible(change.domain_name)}, not {visible(args.domain)}"
                )
            print(change.id)
            return EXIT_OK
        uuid = _find_domain(desk, name, args.domain)
        change = d.draft(
            name,
            uuid,
            args.title or f"{args.domain}: XML edit",
            [RawXml(proposed)],
            args.description,
        )
        print(change.id)
        return EXIT_OK
    if action == "import":
        name = desk.host(args.uri)
        desk.connect(args.uri, name)
        change = d.import_patch(_read(args.file), name)
        if change.flags:
            print(
                f"virtui review: #{change.id} is unverified: {', '.join(change.flags)}",
                file=sys.stderr,
            )
        print(change.id)
        return EXIT_OK
    change = d.get(args.id)
    if action == "show":
        if args.uri:
            desk.connect_for(change, args.uri)
        warnings = d.warnings(change)
        if args.json:
            json.dump(as_json(d, change, warnings), sys.stdout, indent=1)
            print()
        else:
            print_change(d, change, warnings)
        return EXIT_OK
    simple = {
        "open": lambda: d.publish(args.id),
        "approve": lambda: d.approve(args.id),
        "withdraw": lambda: d.withdraw(args.id),
        "comment": lambda: d.comment(args.id, 0, "", args.text),
        "reject": lambda: d.reject(args.id, args.reason),
    }
    if action in simple:
        done = simple[action]()
        print(f"#{done.id} {done.state.label}")
        return EXIT_OK
    if action == "export":
        try:
            write_private(args.output, d.export_patch(args.id))
        except FileExistsError as error:
            raise Refused(f"{args.output} exists: not overwritten") from error
        except OSError as error:
            raise Refused(f"cannot write {args.output}: {error.strerror}") from error
        print(args.output)
        return EXIT_OK
    desk.connect_for(change, args.uri)
    d.recover()
    if action == "rebase":
        done = d.rebase(args.id)
        print(f"#{done.id} rebased: {done.state.label}")
        return EXIT_OK
    if action == "merge":
        d.check_mergeable(change)
        warnings = d.warnings(change)
        _confirm(change, warnings, args.yes, args.accept_warnings)
        result = d.merge(args.id, accepted=warnings)
        print(f"#{change.id} merged into {visible(change.domain_name)}")
        for line in result.live:
            print(f"  live: {visible(line)}")
        for line in result.pending_restart:
            print(f"  pending restart: {visible(line)}")
        changed = [line for line in result.normalised[2:] if line[:1] in "+-"]
        if changed:
            print(f"  libvirt normalised {len(changed)} line(s):")
            for line in changed:
                print(f"    {visible(line)}")
        return EXIT_OK
    raise UsageError(f"unknown command {action}")


def _init_shared(args: argparse.Namespace) -> int:
    config, problem = _review_config()
    if problem:
        print(f"virtui review: {problem}", file=sys.stderr)
        return EXIT_REFUSED
    store = args.store or config.store
    history = args.history if args.history is not None else config.history
    if not store or not os.path.isabs(store) or (history and not os.path.isabs(history)):
        print(
            "virtui review: init-shared needs absolute paths: --store PATH (or [review] "
            "store), and --history PATH if any",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        done = init_shared(Path(store), args.group, Path(history) if history else None)
    except SharedSetupError as error:
        print(f"virtui review: {visible(error)}", file=sys.stderr)
        return EXIT_REFUSED
    for line in done:
        print(visible(line))
    return EXIT_OK


def review_main(argv: Sequence[str]) -> int:
    """Run one ``virtui review`` command; returns the exit status."""
    args = build_review_parser().parse_args(argv)
    if args.action == "init-shared":
        return _init_shared(args)
    try:
        desk = Desk(args.store)
    except (Refused, ReviewError) as error:
        print(f"virtui review: {visible(error)}", file=sys.stderr)
        return EXIT_REFUSED
    try:
        return _run(args, desk)
    except UsageError as error:
        print(f"virtui review: {visible(error)}", file=sys.stderr)
        return EXIT_USAGE
    except (Refused, ReviewError, StoreError) as error:
        print(f"virtui review: {visible(error)}", file=sys.stderr)
        return EXIT_REFUSED
    except Exception as error:  # a backend error: one line, not a traceback
        print(f"virtui review: {error_text(error)}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        desk.close()
