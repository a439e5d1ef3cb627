"""What virtui changes inside Textual, in one place (Textual is pinned: 8.2.8).

Each change here reaches into Textual's private modules; a new Textual release must be
checked against this file first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, TypeVar

from rich.cells import get_character_cell_size
from rich.color import ColorSystem
from rich.console import Console, RenderableType
from rich.control import Control
from rich.text import Text
from textual._compositor import ChopsUpdate
from textual.app import App
from textual.binding import Binding
from textual.content import Content
from textual.css.stylesheet import Stylesheet, StylesheetParseError
from textual.dom import DOMNode
from textual.drivers.linux_driver import LinuxDriver
from textual.filter import Monochrome, NoColor
from textual.screen import Screen
from textual.strip import Strip
from textual.theme import Theme
from textual.widget import Widget
from textual.widgets import _data_table

_formatter = _data_table.default_cell_formatter


def _plain_cell(obj: object, wrap: bool = True, height: int = 0) -> RenderableType:
    """A DataTable cell: a string is shown as it is, never read as Rich markup (Textual's
    own formatter parses it, and a path in brackets raises MarkupError)."""
    if isinstance(obj, str):
        return Text(obj, no_wrap=not wrap, end="")
    return _formatter(obj, wrap, height)


def _resume_only_after_a_stop(driver: LinuxDriver, *_signal: Any) -> None:
    """SIGCONT: resume application mode only when SIGTSTP suspended it.

    Textual resumed on every SIGCONT, and resuming starts another input thread (and
    writer). The kernel sends SIGHUP then SIGCONT to a process group orphaned when the
    terminal's session leader exits (a killed tmux, a dropped SSH session), and
    ``kill -CONT`` does the same: each left one more input thread polling the dead
    terminal, at 90% of a core between them."""
    if driver._must_signal_resume:  # set by Textual's own SIGTSTP handler
        _sigcont(driver)


_sigcont = LinuxDriver._sigcont_application


# -- span writes: send only the changed part of each line to the terminal -------------
#
# Textual repaints a dirty region from the left edge of the widget it lies in ("TODO:
# crop to x extents" in its ChopsUpdate), so one changed cell at the right of a table row
# re-sends the whole row. Over SSH the bytes are what the user waits for; this update
# starts each write at the first dirty cell instead.


def _one_cell_each(text: str) -> bool:
    # A crop inside a wide character would paint half of it: crop only where every
    # character takes exactly one cell (ASCII, box drawing, braille).
    return text.isascii() or all(get_character_cell_size(char) == 1 for char in text)


class SpanUpdate(ChopsUpdate):
    """A ChopsUpdate that writes each dirty span from where it starts, and sets a colour
    only when it changes."""

    @classmethod
    def of(cls, update: ChopsUpdate) -> SpanUpdate:
        """The same update, written span by span."""
        return cls(update.chops, update.spans, update.chop_ends)

    def render_segments(self, console: Console) -> str:
        sequences: list[str] = []
        append = sequences.append
        move_to = Control.move_to
        colours = _Colours(append, console._color_system or ColorSystem.TRUECOLOR)
        # Every span starts with a move to its cell: no line feed between lines (Textual
        # writes one, two bytes a line for nothing).
        for y, x1, x2 in self.spans:
            for end, (x, strip) in zip(self.chop_ends[y], self.chops[y].items(), strict=False):
                if strip is None or x > x2 or end <= x1:
                    continue
                start, stop = max(x, x1), min(end, x2)
                if stop <= start:
                    continue
                if start > x and not _one_cell_each(strip.text):
                    start = x
                if (start, stop) != (x, end):
                    strip = strip.crop(start - x, stop - x)
                append(move_to(start, y).segment.text)
                colours.write(strip)
        colours.finish()
        return "".join(sequences)


class _Colours:
    """Writes segments with the SGR codes of their styles, carried across segments and
    cursor moves while they stay the same.

    Rich writes each segment as ``SGR text reset``. A table's refresh changes a figure in
    each of many rows, all in one style: the codes around one changed digit were 23 of its
    34 bytes. The terminal shows the same: a move does not change the colours set, and
    whatever Textual writes after an update starts from a reset, as before."""

    def __init__(self, append: Callable[[str], object], color_system: ColorSystem) -> None:
        self._append = append
        self._color_system = color_system
        self._in_effect = ""  # the codes set now; "" is the terminal's defaults

    def write(self, strip: Strip) -> None:
        """Write a strip's text at the cursor, in its styles."""
        append, in_effect = self._append, self._in_effect
        for text, style, _control in strip:
            if not text:
                continue
            if style is None:
                codes = ""
            elif style._link:
                # A hyperlink as Rich writes it, from the defaults.
                if in_effect:
                    append("\x1b[0m")
                    in_effect = ""
                append(style.render(text, color_system=self._color_system))
                continue
            else:
                codes = style._ansi or style._make_ansi_codes(self._color_system)
            if codes != in_effect:
                if not codes:
                    append("\x1b[0m")
                elif in_effect:
                    append(f"\x1b[0;{codes}m")
                else:
                    append(f"\x1b[{codes}m")
                in_effect = codes
            append(text)
        self._in_effect = in_effect

    def finish(self) -> None:
        """Leave the terminal at its defaults."""
        if self._in_effect:
            self._append("\x1b[0m")
            self._in_effect = ""


def store_border_text(widget: Widget, *, top: bool, content: Content) -> None:
    """Set a widget's border title (top) or subtitle (bottom) without the repaint of the
    whole panel that ``border_title`` causes: stored where Textual's ``_BorderTitle``
    descriptor keeps it; the caller refreshes the cells it covers."""
    if top:
        widget._border_title = content
    else:
        widget._border_subtitle = content


ReturnType = TypeVar("ReturnType")


class HackedApp(App[ReturnType]):
    """An App with virtui's changes to Textual's private parts: each dirty span written
    from where it starts, and NO_COLOR meaning no colour at all."""

    def __init__(self) -> None:
        install()
        super().__init__()
        if self.no_color:
            # Textual turns colours into 256-colour greys under NO_COLOR; no colour at all
            # is what NO_COLOR asks for (the cursor is shown reversed instead).
            self._filters = [f for f in self._filters if not isinstance(f, Monochrome)]
            self._filters.append(NoColor())

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        if isinstance(renderable, ChopsUpdate):
            renderable = SpanUpdate.of(renderable)
        super()._display(screen, renderable)


def install() -> None:
    """Apply the changes (idempotent). Before the app builds its driver: the driver
    binds its signal handlers when it is made."""
    _data_table.default_cell_formatter = _plain_cell
    LinuxDriver._sigcont_application = _resume_only_after_a_stop  # type: ignore[method-assign,assignment]


def css_refusal(app: App[Any], theme: Theme) -> str:
    """Why the app's stylesheet would not parse with ``theme``'s variables, or "".

    Parsed in a stylesheet of its own, as Textual's reparse does: switching to a theme
    whose [variables] hold a value CSS refuses leaves the app's own stylesheet marked
    invalid, and the next widget mounted ends the app with a stylesheet error."""
    variables = {**theme.to_color_system().generate(), **theme.variables}
    variables = {**app.get_theme_variable_defaults(), **variables}
    trial = Stylesheet(variables=variables)
    for read_from, (css, is_defaults, tie_breaker, scope) in app.stylesheet.source.items():
        trial.add_source(
            css,
            read_from=read_from,
            is_default_css=is_defaults,
            tie_breaker=tie_breaker,
            scope=scope,
        )
    # A widget's default CSS joins the app's stylesheet only when it is first mounted:
    # every widget class loaded so far may be mounted later with these variables.
    classes: list[type[DOMNode]] = [DOMNode]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        default_css: object = cls.__dict__.get("DEFAULT_CSS")
        if isinstance(default_css, str) and default_css.strip():
            read_from = (f"{cls.__module__}.{cls.__qualname__}", "")
            trial.add_source(default_css, read_from=read_from, is_default_css=True)
    try:
        trial.parse()
    except StylesheetParseError as error:
        for rule in error.errors.rules:
            for token, message in rule.errors:
                said = Text.from_markup(str(message)).plain
                return f"{said} (from a [variables] value: {token.value})"
        return "its [variables] do not make valid CSS"
    except Exception as error:  # Textual's CSS errors are not all one type
        return str(error)
    return ""


def prune_watchers(nodes: Iterable[DOMNode]) -> None:
    """Forget the watchers on ``nodes`` whose owners were removed from the DOM.

    Textual prunes a removed node's watcher only when the watched value next changes,
    and until then the watcher's bound method keeps the node, and everything it holds,
    alive: every hosts screen ever opened stayed in memory with its table (it watches
    the app's CPU mode, which rarely changes), every status bar with it, and the
    domains screen's Footer kept every FooterKey it ever composed (each is data-bound
    to the Footer's ``compact``). Called after a screen is popped."""
    for node in nodes:
        watchers: dict[str, list[tuple[object, object]]] = getattr(node, "__watchers", {})
        for entries in watchers.values():
            entries[:] = [
                (owner, callback)
                for owner, callback in entries
                if not isinstance(owner, DOMNode) or owner.is_attached
            ]


def _slug(action: str) -> str:
    """An action as part of a binding id: ``act('REBOOT')`` → ``act_reboot``."""
    action = action.removeprefix("app.").replace("-", "minus")
    return re.sub(r"[^A-Za-z0-9]+", "_", action).strip("_").lower()


def give_binding_ids(owners: Iterable[tuple[str, type[DOMNode]]]) -> dict[str, str]:
    """Give every binding declared by each owner without an id the id ``SCOPE.ACTION``,
    so a keymap can remap it (``App.set_keymap``); returns every id → the key(s) it has
    by default. Textual merges a class's bindings when the class is made, so the merged
    maps of every virtui node class are made again (a private attribute)."""
    ids: dict[str, str] = {}
    for scope, owner in owners:
        named: list[Any] = []
        for binding in owner.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding):
                binding_id = binding.id or f"{scope}.{_slug(binding.action)}"
                if ids.get(binding_id, binding.key) != binding.key:
                    raise ValueError(f"binding id {binding_id} names two bindings")
                ids[binding_id] = binding.key
                binding = replace(binding, id=binding_id)
            named.append(binding)
        owner.BINDINGS = named
    stack: list[type[DOMNode]] = [DOMNode]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("virtui."):
            cls._merged_bindings = cls._merge_bindings()
    return ids
