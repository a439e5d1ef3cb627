"""The BACKUP column's cells: an age in its largest whole unit, sorted by age with the
never backed up as the oldest."""

from __future__ import annotations

from virtui.formatting import format_age
from virtui.widgets.domain_table import backup_age_order


def test_ages_read_in_their_largest_whole_unit_and_sort_by_age() -> None:
    cells = [format_age(s) for s in (30, 45 * 60, 5 * 3600, 47 * 3600, 3 * 86400)]
    assert cells == ["0m", "45m", "5h", "47h", "3d"]
    shuffled = ["3d", "never", "45m", "47h!", "0m"]
    assert sorted(shuffled, key=backup_age_order) == ["0m", "45m", "47h!", "3d", "never"]
