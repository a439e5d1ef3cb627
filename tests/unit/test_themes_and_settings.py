"""Themes from files, no literal colours in styles, settings saved and restored, and the
command line's parser."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from virtui.config.usersettings import UserSettings, load_user_settings, save_user_settings
from virtui.tui.themes import load_theme, load_themes
from virtui.ui.commands import Command, CommandError, parse

SRC = Path(__file__).resolve().parents[2] / "src" / "virtui"
THEMES = Path(__file__).resolve().parents[2] / "themes"
_LITERAL_COLOUR = re.compile(
    r"#[0-9a-fA-F]{3,8}\b|\brgba?\(|\bhsla?\(|"
    r"(?:color|background|border[-a-z]*|tint|outline)\s*:\s*[^;$]*\b"
    r"(?:red|green|blue|yellow|white|black|grey|gray|magenta|cyan|orange|purple|ansi_\w+)\b"
)


def test_the_shipped_themes_load() -> None:
    loaded = load_themes()
    assert {"virtui-dark", "virtui-light", "virtui-console"} <= set(loaded.themes)
    assert loaded.problems == []
    assert loaded.themes["virtui-console"].ansi  # 16 colours: the terminal's own palette
    assert not loaded.themes["virtui-light"].dark


def test_a_broken_theme_file_is_named_not_fatal(tmp_path: Path) -> None:
    bad = tmp_path / "mine.toml"
    bad.write_text('name = "mine"\nprimary = "not-a-colour"\n')
    with pytest.raises(ValueError, match=r"mine\.toml"):
        load_theme(bad)
    bad.write_text('name = "mine"\nprimary = "#112233"\nsparkle = true\n')
    with pytest.raises(ValueError, match="unknown key"):
        load_theme(bad)


def _styles() -> list[tuple[str, str]]:
    found = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "DEFAULT_CSS" for t in node.targets)
                and isinstance(node.value, ast.Constant)
            ):
                found.append((str(path.relative_to(SRC)), str(node.value.value)))
    return found


def test_no_style_holds_a_literal_colour() -> None:
    styles = _styles()
    assert len(styles) >= 15  # the check reads the real styles
    offenders = {
        where: match.group(0) for where, css in styles if (match := _LITERAL_COLOUR.search(css))
    }
    assert offenders == {}, "use theme variables ($primary, $text-error, ...)"
    assert _LITERAL_COLOUR.search("Foo { color: #ff0000; }")  # and it would notice one


def test_settings_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    chosen = UserSettings(5.0, "solaris", "mem", False, "virtui-light", ["test:///default"])
    save_user_settings(chosen, path)
    assert load_user_settings(path) == (chosen, "")
    assert load_user_settings(tmp_path / "none.toml") == (UserSettings(), "")


def test_a_broken_settings_file_names_its_line_and_defaults_apply(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('delay = 2.0\ntheme = "virtui-light\n')
    settings, problem = load_user_settings(path)
    assert settings == UserSettings()
    assert problem.startswith("settings ignored: ") and "line 2" in problem
    path.write_text("delay = 9999\n")
    settings, problem = load_user_settings(path)
    assert settings.delay is None and "delay 9999 is outside" in problem


@pytest.mark.parametrize(
    ("line", "command"),
    [
        (":dom", Command("dom")),
        (":dom @h1 web", Command("dom", "h1", "web")),
        ("vms web", Command("dom", "", "web")),
        (":hosts", Command("host")),
        (":pool", Command("pool")),
        (":log sev:error", Command("log", "", "sev:error")),
        (":review", Command("review")),
        (":theme virtui-light", Command("theme", "", "virtui-light")),
        (":q", Command("quit")),
    ],
)
def test_command_lines(line: str, command: Command) -> None:
    assert parse(line) == command


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (":", "type a command"),
        (":frobnicate", r"unknown command .frobnicate."),
        (":dom @", "@ needs a host name"),
        (":theme", ":theme needs an argument"),
    ],
)
def test_bad_command_lines(line: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        parse(line)


_AUTO_COLOUR = re.compile(r"\$text(?:-muted|-disabled)?\b(?!-)")


def test_partial_component_styles_use_no_auto_colours() -> None:
    """Line-API widgets read their component styles with partial=True, which leaves an
    "auto" colour ($text, $text-muted: "auto 60%") unresolved: the text disappears on a
    light theme. Such rules must name a real colour."""
    offenders = []
    for where, css in _styles():
        source = (SRC / where).read_text(encoding="utf-8")
        if "partial=True" not in source:
            continue
        for line in css.splitlines():
            if re.search(r"&\s*>\s*\.[a-z-]+--", line) and _AUTO_COLOUR.search(line):
                offenders.append(f"{where}: {line.strip()}")
    assert offenders == []
    assert _AUTO_COLOUR.search("& > .x--y { color: $text-muted; }")  # it would notice one
    assert not _AUTO_COLOUR.search("& > .x--y { color: $text-secondary; }")


async def test_a_theme_whose_variables_css_refuses_is_named_and_the_app_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.tui.helpers import RecordingApp
    from virtui.config.settings import Settings
    from virtui.screens.help import HelpScreen

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    bad = tmp_path / "virtui" / "themes" / "bad.toml"
    bad.parent.mkdir(parents=True)
    bad.write_text('name = "bad"\nprimary = "#004578"\n[variables]\nfooter-key-foreground = "x"\n')
    app = RecordingApp(Settings(uris=["test:///default"], theme="bad"), auto_poll=False)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.theme == "virtui-dark"
        assert any(f"theme bad refused: {bad}" in told for told in app.told), app.told
        await pilot.press("question_mark")  # mounting more widgets still works
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert not app.switch_theme("bad")  # :theme bad later is refused the same way
        assert app.theme == "virtui-dark"
    assert app.return_code in (None, 0)
