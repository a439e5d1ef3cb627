"""The networks screen (key 6): every virtual network of every host, and its detail."""

from virtui.screens.networks.screen import NetworksScreen

__all__ = ["NetworksScreen"]
