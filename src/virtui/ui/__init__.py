"""What the screens and the app share, below both: the way blocking calls run off the
event loop (``calls``), the messages screens post up to the app (``messages``), and
the ``:`` command line's words and the registry of top screens (``commands``,
``top_screens``). Nothing here imports a screen, a widget or ``virtui.tui``."""
