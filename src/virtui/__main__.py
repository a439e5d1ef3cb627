"""Allow ``python -m virtui``."""

from virtui.cli import main

raise SystemExit(main())
