"""Settings, the hosts file, saved user settings and URI policy (no Textual)."""
