"""The BACKUP column's cells: an age in its largest whole unit, `!` past the too-old
threshold, `never`; sorted by age with the never backed up as the oldest."""

from __future__ import annotations

from virtui.formatting import format_age
from virtui.widgets.domain_table import backup_age, backup_cell


def test_ages_read_in_their_largest_whole_unit_and_sort_by_age() -> None:
    cells = [format_age(s) for s in (30, 45 * 60, 5 * 3600, 47 * 3600, 3 * 86400)]
    assert cells == ["0m", "45m", "5h", "47h", "3d"]
    now = 1_000_000.0
    # When each was last backed up, shuffled: 3 days, never, 45 minutes, 47 hours, 30 s.
    last: list[float | None] = [now - 3 * 86400, None, now - 45 * 60, now - 47 * 3600, now - 30]
    oldest_last = sorted(last, key=lambda when: backup_age(when, now))
    assert [backup_cell(when, now, 26.0) for when in oldest_last] == [
        "0m",
        "45m",
        "47h!",
        "3d!",
        "never",
    ]
