"""The libvirt backend, on libvirt-python.

libvirt reads ``LIBVIRT_LOG_OUTPUTS`` once, when the module is first imported; in-process
drivers (embed, test) otherwise log warnings to stderr, over the TUI. Every module of
virtui that imports libvirt lives in this package, so this runs first. A user's own
setting wins.
"""

import os as _os

from virtui.config import state_dir as _state_dir

if "LIBVIRT_LOG_OUTPUTS" not in _os.environ:
    _log = _state_dir() / "libvirt.log"
    try:
        _log.parent.mkdir(parents=True, exist_ok=True)
        _os.environ["LIBVIRT_LOG_OUTPUTS"] = f"3:file:{_log}"
    except OSError:
        pass  # unwritable state dir: libvirt keeps logging to stderr
