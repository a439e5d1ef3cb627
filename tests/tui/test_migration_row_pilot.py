"""A migrating domain's row: one busy glyph, and a share sent that never goes back
(libvirt's total grows when the disks are done and memory starts: 100% of the disks
then read as 10% of everything)."""

from __future__ import annotations

import re

from tests.tui.helpers import screen_text, showing, wait_for
from virtui.config.settings import Settings
from virtui.model import DomainKey
from virtui.model.migration import MigrationJob, MigrationOptions
from virtui.monitor.sessions import open_sessions
from virtui.tui.app import VirtuiApp
from virtui.tui.migrations import Migration

MIB = 1 << 20


def _state_cell(app: VirtuiApp) -> str:
    """The web01 row's state cell as drawn (the busy text overlays the state)."""
    line = next(
        line for line in screen_text(app).splitlines() if "web01" in line and "filter" not in line
    )
    found = re.search(r"(⟳[^0-9]*\d*%?|running)", line)
    return found.group(1).strip() if found else line


def _job(elapsed_ms: int, processed: int, total: int) -> MigrationJob:
    """A reading as virDomainGetJobStats gives it (MiB)."""
    return MigrationJob(
        elapsed_ms, total * MIB, processed * MIB, (total - processed) * MIB, 0, 4096, 1, 0
    )


async def test_the_row_shows_one_glyph_and_a_share_that_never_goes_back(fleet_uri: str) -> None:
    app = VirtuiApp(
        Settings(uris=[fleet_uri]), sessions=open_sessions([fleet_uri]), auto_poll=False
    )
    async with app.run_test(size=(140, 30)) as pilot:
        await app.poll_now()
        await pilot.press("slash", *"web01", "enter")
        row = app.domains.table.selected_key
        assert isinstance(row, DomainKey)
        migration = Migration(row, "web01", "test", "other", MigrationOptions())
        shown = []
        # Disks 16 of 20 MiB, then the switch to memory (the total grows), then on.
        for elapsed, processed, total in [(500, 16, 20), (1000, 20, 200), (1500, 100, 200)]:
            app.migrations._progress(migration, _job(elapsed, processed, total))
            await pilot.pause()
            shown.append(_state_cell(app))
        assert shown[0] == "⟳ mig  80%"
        assert shown[1] == "⟳ mig  80%"  # 20 of 200 is 10%: not shown going back
        assert shown[2] == "⟳ mig  80%"  # 50% is still below what was shown
        app.migrations._progress(migration, _job(2000, 180, 200))
        await wait_for(lambda: _state_cell(app) == "⟳ mig  90%")


async def test_j_opens_the_migrations_panel_from_the_hosts_screen(fleet_uri: str) -> None:
    """E evacuates from the hosts screen; J, which follows migrations everywhere else,
    did nothing there."""
    from virtui.screens.hosts import HostsScreen
    from virtui.screens.migrations import MigrationsScreen

    app = VirtuiApp(
        Settings(uris=[fleet_uri]), sessions=open_sessions([fleet_uri]), auto_poll=False
    )
    async with app.run_test(size=(140, 30)) as pilot:
        await app.poll_now()
        await pilot.press("2")
        await wait_for(lambda: isinstance(app.screen, HostsScreen))
        await pilot.press("J")
        await wait_for(lambda: isinstance(app.screen, MigrationsScreen), timeout=5)


def test_a_cancelled_migration_says_cancelled_not_failed() -> None:
    from virtui.model.migration import MigrationOutcome

    key = DomainKey("h1", "u")
    migration = Migration(key, "web01", "h1", "h2", MigrationOptions())
    migration.cancel.set()
    migration.outcome = MigrationOutcome("web01", "h1", "h2", False, "cancelled: ...")
    assert migration.state == "cancelled"
    migration.cancel.clear()
    assert migration.state == "failed"


async def test_p_in_the_panel_switches_to_post_copy_after_asking(fleet_uri: str) -> None:
    """virsh migrate-postcopy while it runs: P asks first (a failure then loses the
    guest) and needs the post-copy option the migration started with."""
    from virtui.screens.confirm import ConfirmScreen
    from virtui.screens.migrations import MigrationsScreen

    app = VirtuiApp(
        Settings(uris=[fleet_uri]), sessions=open_sessions([fleet_uri]), auto_poll=False
    )
    async with app.run_test(size=(160, 40)) as pilot:
        await app.poll_now()
        key = DomainKey("test", "u1")
        plain = Migration(key, "web01", "test", "other", MigrationOptions())
        app.migrations.migrations[key] = plain
        await pilot.press("J")
        await wait_for(lambda: isinstance(app.screen, MigrationsScreen))
        await pilot.press("P")
        await wait_for(lambda: showing(app, ConfirmScreen))
        await pilot.press("y")
        await wait_for(lambda: isinstance(app.screen, MigrationsScreen))
        assert not plain.postcopy_now.is_set()  # libvirt cannot switch without the flag
        ready = Migration(key, "web01", "test", "other", MigrationOptions(postcopy=True))
        app.migrations.migrations[key] = ready
        app.broadcasts.migrations_changed.publish(None)
        await pilot.pause()
        await pilot.press("P")
        await wait_for(lambda: showing(app, ConfirmScreen))
        await pilot.press("escape")  # asked, and not now
        await wait_for(lambda: isinstance(app.screen, MigrationsScreen))
        assert not ready.postcopy_now.is_set()
        await pilot.press("P", "y")
        await wait_for(ready.postcopy_now.is_set, timeout=5)
