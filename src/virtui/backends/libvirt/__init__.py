"""The libvirt backend, on libvirt-python.

libvirt reads ``LIBVIRT_LOG_OUTPUTS`` once, when the module is first imported; in-process
drivers (embed, test) otherwise log warnings to stderr, over the TUI. Every module of
virtui that imports libvirt lives in this package, so this runs first. A user's own
setting wins.
"""

import os as _os

from virtui.config.settings import private_file as _private_file
from virtui.config.settings import state_dir as _state_dir

if "LIBVIRT_LOG_OUTPUTS" not in _os.environ:
    try:
        # Created here, 0600: libvirt fails to initialise at all when it cannot open it.
        _log = _private_file(_state_dir() / "libvirt.log")
        _os.environ["LIBVIRT_LOG_OUTPUTS"] = f"3:file:{_log}"
    except OSError:
        # An unwritable state dir: libvirt's warnings go to stderr (the TUI keeps fd 2
        # off the screen, or sends it nowhere).
        _os.environ["LIBVIRT_LOG_OUTPUTS"] = "3:stderr"
