"""Command-line entry points: the TUI launcher, batch CSV, `virtui review`, `virtui serve`."""
