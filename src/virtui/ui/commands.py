"""The ``:`` command line, k9s style: ``:dom @h1 web``, ``:host``, ``:pool``, ``:log``,
``:net @h1`` (a top screen's words are in its entry of ``ui.top_screens``).

Parsing only (no Textual): the app carries the command out.
"""

from __future__ import annotations

from dataclasses import dataclass

from virtui.model.columns import DOMAIN_COLUMN_KEYS
from virtui.ui.top_screens import TOP_SCREENS

# Every name a command answers to (the top screens' from their registry); the first is
# the canonical one.
NAMES: dict[str, tuple[str, ...]] = {
    **{screen.words[0]: screen.words for screen in TOP_SCREENS},
    "history": ("history", "hist", "git"),
    "theme": ("theme", "themes"),
    "columns": ("columns", "cols", "col"),
    "connect": ("connect", "c"),
    "disconnect": ("disconnect", "dc", "forget"),
    "help": ("help", "h", "?"),
    "quit": ("quit", "q", "q!"),
}
HELP = "\n".join(
    [
        *(f":{screen.words[0]} {screen.usage}" for screen in TOP_SCREENS),
        ":history [@host] DOMAIN   the git history of its configuration",
        ":theme NAME · :cols -time +memp (hide, show; all) · :connect URI (kept once it",
        "connected) · :disconnect HOST (forgotten) · :q",
    ]
)
_ALIASES = {alias: name for name, aliases in NAMES.items() for alias in aliases}


class CommandError(ValueError):
    """A command line that cannot be run; the message says what would be right."""


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed command: its canonical name, an ``@host`` scope, and the rest."""

    name: str
    host: str = ""
    text: str = ""


def parse(line: str) -> Command:
    """Read ``:name [@host] [text]`` (the colon is optional)."""
    words = line.strip().removeprefix(":").split()
    if not words:
        raise CommandError("type a command, e.g. :dom, :host, :pool, :log, :review")
    name = _ALIASES.get(words[0].lower())
    if name is None:
        raise CommandError(f"unknown command {words[0]!r}: try :help")
    rest = words[1:]
    host = ""
    if rest and rest[0].startswith("@"):
        host, rest = rest[0][1:], rest[1:]
        if not host:
            raise CommandError("@ needs a host name, e.g. :dom @h1")
    text = " ".join(rest)
    if name in ("theme", "connect", "disconnect", "history") and not text:
        what = {"theme": "NAME", "connect": "URI", "disconnect": "HOST", "history": "DOMAIN"}[name]
        raise CommandError(f":{name} needs an argument: :{name} {what}")
    return Command(name, host, text)


COLUMN_KEYS = DOMAIN_COLUMN_KEYS


def hidden_after(text: str, hidden: frozenset[str]) -> frozenset[str]:
    """The hidden columns after ``:cols`` words such as ``-time +memp`` or ``all``."""
    result = set(hidden)
    for word in text.split():
        if word == "all":
            result.clear()
            continue
        sign, key = word[:1], word[1:]
        if sign not in "+-" or key not in COLUMN_KEYS:
            raise CommandError(
                f"{word!r}: write -COLUMN to hide, +COLUMN to show ({', '.join(COLUMN_KEYS)})"
            )
        if key == "name":
            raise CommandError("the name column always shows")
        (result.add if sign == "-" else result.discard)(key)
    return frozenset(result)
