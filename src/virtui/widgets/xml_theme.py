"""A Rich syntax theme for XML drawn from the app's theme, so the XML view follows it."""

from __future__ import annotations

from pygments.token import Comment, Keyword, Name, Punctuation, String, Text, Token
from rich.style import Style
from rich.syntax import ANSISyntaxTheme, SyntaxTheme
from textual.color import Color, ColorParseError

# Theme variable each kind of XML token takes its colour from.
_ROLES = {
    Name.Tag: "primary",
    Name.Attribute: "accent",
    String: "success",
    Comment: "secondary",
    Keyword: "warning",
    Punctuation: "foreground",
    Text: "foreground",
    Token: "foreground",
}


def xml_syntax_theme(variables: dict[str, str]) -> SyntaxTheme:
    """Token styles from theme variables (``app.get_css_variables()``)."""
    styles: dict[object, Style] = {}
    for token, role in _ROLES.items():
        try:
            colour = Color.parse(variables.get(role, "")).rich_color
        except ColorParseError:
            continue
        styles[token] = Style(color=colour)
    return ANSISyntaxTheme(styles)  # type: ignore[arg-type]
