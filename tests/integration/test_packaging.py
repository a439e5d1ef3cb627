"""An installed virtui, not a checkout: the wheel carries its themes and its stylesheet."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import sys
import virtui
from virtui.tui.app import VirtuiApp
from virtui.tui.themes import load_themes

assert virtui.__file__.startswith(sys.argv[1]), virtui.__file__
loaded = load_themes()
print("themes:", " ".join(sorted(loaded.themes)))
print("problems:", loaded.problems)
print("stylesheet:", VirtuiApp.CSS_PATH.is_file())
"""


def test_a_wheel_installed_elsewhere_finds_its_themes_and_stylesheet(tmp_path: Path) -> None:
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(ROOT)], check=True)
    (wheel,) = wheels.glob("virtui-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True)
    # The installed copy comes first on the path, and the checkout is not on it at all
    # (run from elsewhere): themes must come from inside the package.
    env = {**os.environ, "PYTHONPATH": str(target), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    shown = subprocess.run(
        [sys.executable, "-c", CHECK, str(target)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "themes: virtui-console virtui-dark virtui-light" in shown
    assert "problems: []" in shown
    assert "stylesheet: True" in shown
