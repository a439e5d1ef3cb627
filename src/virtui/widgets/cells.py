"""Table cells that carry their own sort value."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text


class Cell:
    """A DataTable cell: display text, a sort value, a style and alignment.

    The Rich Text is built only when the cell is drawn, so off-screen rows cost nothing
    beyond this small object. Equal cells compare equal, so unchanged values are skipped.
    """

    __slots__ = ("right", "sort", "style", "text")

    def __init__(
        self, text: str, sort: object, style: Style | str = "", right: bool = False
    ) -> None:
        self.text = text
        self.sort = sort
        self.style = style
        self.right = right

    def __rich__(self) -> Text:
        return Text(
            self.text,
            style=self.style,
            justify="right" if self.right else "left",
            no_wrap=True,
            overflow="ellipsis",
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Cell)
            and self.text == other.text
            and self.style == other.style
            and self.sort == other.sort
        )

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"Cell({self.text!r})"
