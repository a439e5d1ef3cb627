"""The storage screen: pools and volumes of every host (view, tables, dialogs)."""

from virtui.screens.storage.screen import StorageScreen
from virtui.screens.storage.tables import pool_key

__all__ = ["StorageScreen", "pool_key"]
