"""Planning a batch of migrations to one target as a whole."""

from __future__ import annotations

from virtui.monitor.migration import fit_together


def test_a_batch_is_fitted_in_order_and_moves_under_way_count() -> None:

    gib = 1 << 20
    checks = fit_together([("a", 12 * gib), ("b", 12 * gib), ("c", 4 * gib)], 21 * gib, 0)
    assert [checks[k].ok for k in "abc"] == [True, False, True]  # c still fits after a
    assert checks["b"].detail == (
        "12GiB more does not fit: 21GiB free, 12GiB of it for 1 guest before it"
    )
    under_way = fit_together([("a", 12 * gib)], 21 * gib, 10 * gib)
    assert not under_way["a"].ok and "and 10GiB for moves under way" in under_way["a"].detail
