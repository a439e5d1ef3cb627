"""When a poll's figures are drawn: the round's last answer at once (with one host,
every answer), and answers that come within a few ms of each other once for all."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fixtures.nodes import NodeDomain, write_node
from tests.tui.helpers import RecordingApp, wait_for
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.tui.app import REDRAW_COALESCE_S


def _app(uris: list[str]) -> tuple[RecordingApp, list[float]]:
    """The app on ``uris``, and the draws it put off to wait for more answers."""
    app = RecordingApp(Settings(uris=uris), sessions=open_sessions(uris), auto_poll=False)
    put_off: list[float] = []
    real_set_timer = app.set_timer

    def set_timer(delay: float, callback: Callable[[], Any] | None = None, **kwargs: Any) -> Any:
        if delay == REDRAW_COALESCE_S:
            put_off.append(delay)
        return real_set_timer(delay, callback, **kwargs)

    app.set_timer = set_timer  # type: ignore[method-assign]
    return app, put_off


async def test_one_hosts_answer_is_drawn_as_it_arrives() -> None:
    app, put_off = _app(["test:///default"])
    async with app.run_test(size=(120, 30)):
        for _ in range(3):
            app.poll_all()
            await wait_for(lambda: not app.poller.busy(), 30)
            assert app.domains.table.row_count == 1
        assert put_off == []  # nothing else to wait for: no 50 ms wait
    app.shutdown()


async def test_hosts_answering_together_are_drawn_once_the_last_has(tmp_path: Path) -> None:
    uris = [f"test://{write_node(tmp_path / f'n{n}.xml', [NodeDomain('one')])}" for n in (1, 2)]
    app, put_off = _app(uris)
    async with app.run_test(size=(120, 30)):
        drawn: list[bool] = []
        app.broadcasts.polled.subscribe(
            app.domains.status, lambda _node, _news: drawn.append(app.poller.busy())
        )
        app.poll_all()
        await wait_for(lambda: not app.poller.busy(), 30)
        # The last answer drew, at once; an earlier one waited for it (or for 50 ms).
        assert drawn and drawn[-1] is False
        assert len(put_off) <= 1
        assert app.domains.table.row_count == 2
    app.shutdown()
