"""Widgets: they take plain model objects, never libvirt handles."""
