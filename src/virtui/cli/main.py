"""Command line: ``virtui`` (the TUI), ``virtui top --batch`` (CSV), ``virtui record``."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from virtui import __version__
from virtui.config.hostsfile import (
    BackupConfig,
    ConfigError,
    ReviewConfig,
    load_backup_config,
    load_hosts,
    load_review_config,
)
from virtui.config.settings import (
    MAX_DELAY_S,
    MIN_DELAY_S,
    Settings,
    default_uris,
    private_file,
    state_dir,
)
from virtui.config.uripolicy import UriRefused, check_in_app, check_readonly
from virtui.config.usersettings import SORT_KEYS, load_user_settings
from virtui.model import CpuMode
from virtui.model.columns import DEFAULT_HIDDEN
from virtui.text import visible

log = logging.getLogger("virtui")


def _delay(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not MIN_DELAY_S <= value <= MAX_DELAY_S:
        raise argparse.ArgumentTypeError(
            f"delay must be between {MIN_DELAY_S} and {MAX_DELAY_S} seconds, not {text}"
        )
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return value


def _add_sort(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    """``-o``, as virt-top has it (``record`` uses -o for its file: not there)."""
    parser.add_argument(
        "-o",
        "--sort",
        metavar="COLUMN",
        choices=SORT_KEYS,
        default=None if top_level else argparse.SUPPRESS,
        help="sort the domains by COLUMN, in its natural direction (like virt-top -o): "
        + ", ".join(SORT_KEYS),
    )


def _add_common(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    # Sub-commands repeat the options; SUPPRESS keeps them from overwriting the top level's.
    default = None if top_level else argparse.SUPPRESS
    parser.add_argument(
        "-c",
        "--connect",
        metavar="URI",
        action="append",
        dest="uris" if top_level else "sub_uris",
        default=default,
        help="libvirt URI to connect to (repeatable); default $LIBVIRT_DEFAULT_URI "
        "or qemu:///system",
    )
    parser.add_argument(
        "-d",
        "--delay",
        metavar="SECONDS",
        type=_delay,
        default=default,
        help="refresh delay in seconds (default 2)",
    )
    parser.add_argument(
        "--cpu-mode",
        choices=[mode.value for mode in CpuMode],
        default=default,
        help="irix: 100%% = one CPU (default); solaris: 100%% = all host CPUs",
    )
    parser.add_argument(
        "--theme",
        metavar="NAME",
        default=default,
        help="colour theme: virtui-dark, virtui-light, virtui-console (16 colours), "
        "or one of yours from ~/.config/virtui/themes/",
    )
    parser.add_argument(
        "--review-store",
        metavar="PATH",
        type=_store_path,
        default=default,
        help="the review desk's store: a team's shared one (see virtui review init-shared); "
        "default [review] store in config.toml, else your own",
    )
    parser.add_argument(
        "-k",
        "--keepalive-interval",
        metavar="SECONDS",
        type=_positive,
        default=default,
        help="libvirt keepalive: probe a host every SECONDS (default 5; as virsh -k)",
    )
    parser.add_argument(
        "-K",
        "--keepalive-count",
        metavar="N",
        type=_positive,
        default=default,
        help="a host that misses N probes in a row is lost (default 3; as virsh -K)",
    )
    parser.add_argument(
        "--readonly",
        action="store_true",
        default=False if top_level else argparse.SUPPRESS,
        help="open every connection read-only; keys that change anything are refused",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        default=False if top_level else argparse.SUPPRESS,
        help="boot tiny real guests in libvirt's embedded QEMU driver (no daemon needed) "
        "and add a test:/// host",
    )


def _store_path(text: str) -> str:
    if not os.path.isabs(os.path.expanduser(text)):
        raise argparse.ArgumentTypeError(f"{text!r} is not an absolute path")
    return os.path.expanduser(text)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command."""
    parser = argparse.ArgumentParser(
        prog="virtui",
        description="Keyboard-driven terminal console for libvirt hosts.",
    )
    parser.add_argument("--version", action="version", version=f"virtui {__version__}")
    _add_common(parser, top_level=True)
    _add_sort(parser, top_level=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    top = commands.add_parser(
        "top", help="the live domains view; with --batch, CSV for scripts (like virt-top -b)"
    )
    _add_common(top, top_level=False)
    _add_sort(top, top_level=False)
    top.add_argument("-b", "--batch", action="store_true", help="write CSV to stdout")
    top.add_argument(
        "-n",
        "--iterations",
        metavar="N",
        type=_positive,
        default=None,
        help="with --batch: rounds of rows to write (default 1)",
    )
    commands.add_parser(
        "review",
        help="the review desk from a shell (like gh pr); see virtui review --help",
        add_help=False,
    )
    commands.add_parser(
        "desk",
        help="a team's review desk as a service; see virtui desk --help",
        add_help=False,
    )
    commands.add_parser(
        "backup",
        help="back domains up, list and verify their backups; see virtui backup --help",
        add_help=False,
    )
    commands.add_parser(
        "serve",
        help="run virtui in a browser (textual-serve); see virtui serve --help",
        add_help=False,
    )
    record = commands.add_parser(
        "record", help="record polls of one host to a JSON file (replay with -c replay:///FILE)"
    )
    _add_common(record, top_level=False)
    record.add_argument("-n", "--iterations", metavar="N", type=_positive, default=5)
    record.add_argument("-o", "--output", metavar="FILE", type=Path, required=True)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from parsed arguments and the config file, with defaults filled in."""
    uris: list[str] = list(args.uris or []) + list(getattr(args, "sub_uris", None) or [])
    problem = ""
    try:
        configured = load_hosts()
    except ConfigError as error:
        configured, problem = [], f"config ignored: {error}"
    # Rules fail closed: a config that cannot be read keeps merging disabled.
    rules_problem = ""
    try:
        review = load_review_config()
    except ConfigError as error:
        review, rules_problem = ReviewConfig(), str(error)
    try:
        backup, backup_problem = load_backup_config(), ""
    except ConfigError as error:
        backup, backup_problem = BackupConfig(), str(error)
    saved, saved_problem = load_user_settings()
    problems = [problem, saved_problem]
    # settings.toml is written by the app: what it holds came from inside the app.
    saved_hosts = []
    for uri in saved.hosts:
        try:
            check_in_app(uri)
        except UriRefused as error:
            problems.append(f"settings.toml host ignored: {visible(error)}")
            continue
        saved_hosts.append(uri)
    for uri in [entry.uri for entry in configured] + saved_hosts:
        if uri not in uris:
            uris.append(uri)
    if not uris and not args.demo:
        uris = default_uris()
    if args.readonly:
        for uri in list(uris):
            try:
                check_readonly(uri)
            except UriRefused as error:
                problems.append(f"host ignored: {visible(error)}")
                uris.remove(uri)
    return Settings(
        names={entry.uri: entry.name for entry in configured if entry.name},
        tags={entry.uri: entry.tags for entry in configured if entry.tags},
        refresh={entry.uri: entry.refresh for entry in configured if entry.refresh},
        config_problem="; ".join(p for p in problems if p),
        required_approvals=review.required_approvals,
        forbid_self_approval=review.forbid_self_approval,
        forbid=review.forbid,
        review_rules_problem=rules_problem,
        review_store=getattr(args, "review_store", None) or review.store,
        review_history=review.history,
        review_desk=review.desk,
        review_desk_relay=review.desk_relay,
        backup_dir=backup.dir,
        backup_pool=backup.pool,
        backup_too_old_hours=backup.too_old_hours,
        backup_problem=backup_problem,
        uris=uris,
        delay=args.delay if args.delay is not None else saved.delay or Settings().delay,
        cpu_mode=CpuMode(args.cpu_mode or saved.cpu_mode or CpuMode.IRIX.value),
        theme=getattr(args, "theme", None) or saved.theme or "",
        sort=getattr(args, "sort", None) or saved.sort or "cpu",
        sort_reverse=None if getattr(args, "sort", None) else saved.sort_reverse,
        added_hosts=saved_hosts,
        hidden_columns=list(
            DEFAULT_HIDDEN if saved.hidden_columns is None else saved.hidden_columns
        ),
        keys=dict(saved.keys),
        demo=bool(args.demo),
        readonly=bool(args.readonly),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``virtui`` command."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["serve"]:
        from virtui.cli.serve import serve

        return serve(arguments[1:], build_parser().parse_args)
    if arguments[:1] == ["desk"]:
        from virtui.cli.desk import desk_main

        return desk_main(arguments[1:])
    if arguments[:1] == ["backup"]:
        from virtui.cli.backup import backup_main

        return backup_main(arguments[1:])
    if arguments[:1] == ["review"]:
        from virtui.cli.review import review_main

        _configure_logging()
        return review_main(arguments[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = settings_from(args)
    if args.keepalive_interval or args.keepalive_count:
        from virtui.backends import set_keepalive

        set_keepalive(args.keepalive_interval or 5, args.keepalive_count or 3)
    _configure_logging()
    if settings.config_problem:
        print(f"virtui: {settings.config_problem}", file=sys.stderr)
    try:
        if args.command == "top" and args.batch:
            return _batch(settings, args.iterations or 1)
        if args.command == "top" and args.iterations is not None:
            parser.error("-n/--iterations goes with --batch")
        if args.command == "record":
            return _record(settings, args.iterations, args.output)
        return _tui(settings)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``| head -1``): stop quietly, as other tools do, and keep
        # Python from failing again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


class OneLineFormatter(logging.Formatter):
    """A log record on one line, control characters visible (names come from libvirt);
    a traceback follows as it is."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = visible(record.message)
        return super().formatMessage(record)


def _configure_logging() -> None:
    path = state_dir() / "virtui.log"
    try:
        handler: logging.Handler = logging.FileHandler(private_file(path), encoding="utf-8")
    except OSError as error:
        print(f"virtui: {path}: {error.strerror}; not logging to a file", file=sys.stderr)
        handler = logging.NullHandler()
    handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def _tui(settings: Settings) -> int:
    from virtui.cli.first_frame import LEAVE, draw_first_frame

    drawn = draw_first_frame(sys.stdout, len(settings.uris))
    try:
        from virtui.tui.app import VirtuiApp
        from virtui.tui.departure import Departure
        from virtui.tui.terminal import stderr_to_log

        app = VirtuiApp(settings)
    except BaseException:
        if drawn:
            sys.stdout.write(LEAVE)
            sys.stdout.flush()
        raise

    # A closed terminal, SIGHUP or SIGTERM leave the app the normal way, so the `finally`
    # below still tears the demo guests down; a wedged app is ended after a grace time.
    departure = Departure(app, sys.stdin.fileno(), app.demo.stop)
    app.departure = departure
    departure.listen()
    with stderr_to_log(state_dir() / "stderr.log"):
        try:
            app.run()
        finally:
            departure.finished()
            app.shutdown()
    return app.return_code or 0


def _batch(settings: Settings, iterations: int) -> int:
    from virtui.cli.batch import run_batch
    from virtui.monitor.sessions import DemoStartError, open_sessions, start_demo

    demo = None
    if settings.demo:
        try:
            demo, uris = start_demo(
                lambda message, step, steps: print(
                    f"virtui: [{step}/{steps}] {message}", file=sys.stderr
                )
            )
        except DemoStartError as error:
            print(f"virtui: {error}", file=sys.stderr)
            uris = list(error.fallback_uris)
        settings.uris = uris + settings.uris
    sessions = open_sessions(settings.uris, readonly=settings.readonly, names=settings.names)
    try:
        return run_batch(sessions, iterations, settings.delay, settings.cpu_mode)
    finally:
        for session in sessions:
            session.close()
        if demo is not None:
            demo.stop()


def _record(settings: Settings, iterations: int, output: Path) -> int:
    import time

    from virtui.backends import BackendError
    from virtui.backends.replay import save_recording
    from virtui.monitor.sessions import open_sessions

    if len(settings.uris) != 1:
        print("virtui: record takes exactly one -c URI", file=sys.stderr)
        return 2
    backend = open_sessions(settings.uris)[0].backend
    try:
        backend.connect()
        polls = []
        for index in range(iterations):
            polls.append(backend.poll())
            if index + 1 < iterations:
                time.sleep(settings.delay)
        save_recording(polls, output)
    except (BackendError, OSError) as error:
        print(f"virtui: {error}", file=sys.stderr)
        return 1
    finally:
        backend.close()
    print(f"virtui: recorded {iterations} polls of {backend.name} to {output}", file=sys.stderr)
    return 0
