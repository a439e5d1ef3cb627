"""Alerts of a host's monitoring on the timeline: said once when they start firing and
once when they stop, and not "resolved" by a poll that failed (it says nothing of them).
The updates are made here; tests/integration/test_fleet_complete.py has a real rule."""

from __future__ import annotations

from dataclasses import replace

from tests.tui.helpers import app_on
from virtui.model import HostStatus, Severity
from virtui.model.alerts import Alert


async def test_an_alert_is_logged_when_it_fires_and_when_it_stops_not_when_a_poll_fails() -> None:
    app = app_on("test:///default")
    async with app.run_test(size=(120, 30)):
        await app.poll_now()
        (name,) = app.store.hosts
        quiet = app.store.hosts[name]
        uuid = quiet.stats[0].sample.key.uuid
        alert = Alert("GuestBusy", "critical", "test keeps a CPU busy", uuid, "test")
        app.hosts.apply(replace(quiet, alerts=(alert,)))
        app.hosts.apply(replace(quiet, status=HostStatus.LOST, stats=(), message="gone"))
        assert app.store.hosts[name].alerts == (alert,)  # not known to have stopped
        app.hosts.apply(replace(quiet, alerts=(alert,)))  # still firing: said once
        app.hosts.apply(quiet)
        said = [(e.domain, e.detail, e.severity) for e in app.timeline.entries if e.kind == "alert"]
        assert said == [
            ("test", "firing: GuestBusy (critical): test keeps a CPU busy", Severity.ERROR),
            ("test", "resolved: GuestBusy", Severity.INFO),
        ]
