"""The command line: options, defaults and errors a user sees."""

from __future__ import annotations

import subprocess
import sys

import pytest

from virtui import __version__
from virtui.cli.main import build_parser, main, settings_from
from virtui.model import CpuMode


def test_defaults_honour_libvirt_default_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIBVIRT_DEFAULT_URI", "test:///default")
    settings = settings_from(build_parser().parse_args([]))
    assert settings.uris == ["test:///default"]
    assert settings.delay == 2.0
    assert settings.cpu_mode is CpuMode.IRIX


def test_repeatable_connect_and_options_after_subcommand() -> None:
    args = build_parser().parse_args(
        ["-c", "test:///a", "top", "-c", "test:///b", "-d", "5", "--cpu-mode", "solaris"]
    )
    settings = settings_from(args)
    assert settings.uris == ["test:///a", "test:///b"]
    assert settings.delay == 5.0
    assert settings.cpu_mode is CpuMode.SOLARIS


def test_demo_alone_connects_to_nothing_else() -> None:
    assert settings_from(build_parser().parse_args(["--demo"])).uris == []


def test_sort_on_the_command_line_wins_over_the_saved_one() -> None:
    from virtui.config.usersettings import UserSettings, save_user_settings

    save_user_settings(UserSettings(sort="mem", sort_reverse=False))  # isolated XDG dirs
    assert (settings_from(build_parser().parse_args([])).sort, False) == ("mem", False)
    for argv in (["-o", "name"], ["top", "--sort", "name"]):
        settings = settings_from(build_parser().parse_args(argv))
        assert (settings.sort, settings.sort_reverse) == ("name", None)


def test_a_bad_sort_column_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["-o", "bogus"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'bogus'" in err and "cpu" in err and "Traceback" not in err


@pytest.mark.parametrize("delay", ["0", "-1", "abc", "1000"])
def test_bad_delay_is_a_clear_error(delay: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["-d", delay])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "delay" in err and "Traceback" not in err


def test_version_and_module_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "virtui", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"virtui {__version__}"


def test_iterations_need_batch(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["top", "-n", "2", "-c", "test:///default"])
    assert "--batch" in capsys.readouterr().err


def test_serve_on_a_taken_port_says_so_without_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import socket

    from virtui.cli.serve import serve

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve(["--port", str(port)], lambda _args: None) == 2
    error = capsys.readouterr().err
    assert error == f"virtui serve: cannot listen on 127.0.0.1:{port}: Address already in use\n"
