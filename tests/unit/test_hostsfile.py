"""Hosts from the config file, and what a broken file tells the user."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.cli.main import build_parser, settings_from
from virtui.config.hostsfile import (
    ConfigError,
    HostEntry,
    ReviewConfig,
    config_path,
    load_hosts,
    load_review_config,
)
from virtui.monitor.session import HostSession
from virtui.monitor.sessions import open_sessions


def _write(text: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture(autouse=True)
def _no_config_left_behind() -> Iterator[None]:
    yield
    config_path().unlink(missing_ok=True)


def test_hosts_with_names_and_tags() -> None:
    _write(
        '[[hosts]]\nname = "h1"\nuri = "qemu+ssh://admin@h1/system"\ntags = ["prod"]\n'
        "refresh = 10\n"
        '[[hosts]]\nuri = "test:///default"\n'
    )
    assert load_hosts() == [
        HostEntry("qemu+ssh://admin@h1/system", "h1", ("prod",), 10.0),
        HostEntry("test:///default", "", (), None),
    ]


def test_config_hosts_join_the_command_line_and_keep_their_names() -> None:
    _write('[[hosts]]\nname = "lab"\nuri = "test:///default"\n')
    settings = settings_from(build_parser().parse_args(["-c", "qemu:///system"]))
    assert settings.uris == ["qemu:///system", "test:///default"]
    names = [s.name for s in open_sessions(settings.uris, names=settings.names)]
    assert names == ["localhost", "lab"]


def test_broken_file_names_the_line_and_the_app_starts_with_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIBVIRT_DEFAULT_URI", "test:///default")
    path = _write('[[hosts]]\nuri = "test:///default"\nname = \n')
    with pytest.raises(ConfigError, match="line 3"):
        load_hosts()
    settings = settings_from(build_parser().parse_args([]))
    assert settings.uris == ["test:///default"]
    assert str(path) in settings.config_problem and "line 3" in settings.config_problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("hosts = 3\n", "array of tables"),
        ('[[hosts]]\nname = "x"\n', "needs uri"),
        ('[[hosts]]\nuri = "test:///default"\nname = "a/b"\n', "without '/'"),
        ('[[hosts]]\nuri = "test:///default"\ntags = "prod"\n', "list of strings"),
        ('[[hosts]]\nuri = "test:///default"\npassword = "x"\n', "unknown key"),
        ('[[hosts]]\nuri = "test:///default"\nrefresh = 0\n', "refresh must be"),
        ('[[hosts]]\nuri = "test:///default"\nrefresh = "5"\n', "refresh must be"),
    ],
)
def test_bad_entries_say_what_is_wrong(text: str, problem: str) -> None:
    _write(text)
    with pytest.raises(ConfigError, match=problem):
        load_hosts()


def test_two_hosts_named_alike_stay_distinct() -> None:
    names = [s.name for s in open_sessions(["test:///a", "test:///b"], names={"test:///b": "test"})]
    assert len(set(names)) == 2


def test_a_host_with_its_own_refresh_is_polled_less_often() -> None:
    now = [100.0]
    session = HostSession(
        LibvirtBackend("test:///default", "slow"), clock=lambda: now[0], refresh=10.0
    )
    assert session.due()
    session.poll_once()
    now[0] += 2.0  # the app's 2 s tick
    assert not session.due()
    now[0] += 7.0  # 9 s since the last poll: within the slack
    assert session.due()
    session.close()


def test_tags_and_refresh_reach_the_sessions() -> None:
    _write('[[hosts]]\nname = "lab"\nuri = "test:///default"\ntags = ["a", "b"]\nrefresh = 5\n')
    settings = settings_from(build_parser().parse_args([]))
    (session,) = open_sessions(
        settings.uris, names=settings.names, refresh=settings.refresh, tags=settings.tags
    )
    assert (session.name, session.tags, session.refresh) == ("lab", ("a", "b"), 5.0)


def test_review_rules_from_the_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert load_review_config(path) == ReviewConfig()  # no file: a solo admin may merge
    path.write_text("[review]\nrequired_approvals = 2\nforbid_self_approval = true\n")
    assert load_review_config(path) == ReviewConfig(2, True)
    path.write_text("[review]\nrequired_approvals = -1\n")
    with pytest.raises(ConfigError, match="required_approvals must be a number from 0 to 9"):
        load_review_config(path)
    path.write_text("[review]\nrequire = 1\n")
    with pytest.raises(ConfigError, match=r"\[review\] unknown key\(s\) require"):
        load_review_config(path)


def test_the_review_table_names_a_shared_store_and_a_history(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[review]\nstore = "/var/lib/virtui/reviews.db"\nhistory = "/var/lib/virtui/config.git"\n'
    )
    config = load_review_config(path)
    assert (config.store, config.history) == (
        "/var/lib/virtui/reviews.db",
        "/var/lib/virtui/config.git",
    )
    path.write_text('[review]\nstore = "reviews.db"\n')
    with pytest.raises(ConfigError, match="store must be an absolute path"):
        load_review_config(path)


def test_review_forbid_names_kinds_and_a_misspelt_kind_fails_closed(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[review]\nforbid = ["qemu", "script"]\n')
    assert load_review_config(path).forbid == frozenset({"qemu", "script"})
    path.write_text('[review]\nforbid = ["qemu", "scripts"]\n')  # one letter off
    with pytest.raises(ConfigError, match=r"forbid: unknown kind\(s\) scripts \(known: qemu, "):
        load_review_config(path)
    path.write_text('[review]\nforbid = "qemu"\n')
    with pytest.raises(ConfigError, match="forbid must be a list of kinds"):
        load_review_config(path)
