"""virtui: a keyboard-driven terminal console for libvirt virtualization hosts."""

__version__ = "0.1.0"
