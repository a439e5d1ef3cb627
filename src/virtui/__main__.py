"""Allow ``python -m virtui``."""

from virtui.cli.main import main

raise SystemExit(main())
