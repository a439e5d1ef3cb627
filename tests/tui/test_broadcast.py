"""State flows down: a screen hears the app's news while it is up, and is forgotten once
it is gone (never kept alive by its subscription)."""

from __future__ import annotations

import gc
import weakref

import pytest
from textual.app import App
from textual.screen import Screen

from virtui.ui.broadcast import Broadcast


class Listener(Screen[None]):
    def __init__(self) -> None:
        super().__init__()
        self.heard: list[str] = []

    def hear(self, news: str) -> None:
        if news == "boom":
            raise RuntimeError("a broken listener")
        self.heard.append(news)


async def test_a_screen_hears_while_up_and_is_forgotten_when_gone() -> None:
    broadcast: Broadcast[str] = Broadcast()
    app: App[None] = App()
    async with app.run_test() as pilot:
        screen = Listener()
        await app.push_screen(screen)
        broadcast.subscribe(screen, Listener.hear)
        broadcast.publish("one")
        assert screen.heard == ["one"]
        with pytest.raises(RuntimeError, match="a broken listener"):  # never swallowed
            broadcast.publish("boom")
        await app.pop_screen()
        await pilot.pause()
        broadcast.publish("two")  # gone: not told, and forgotten
        assert screen.heard == ["one"] and len(broadcast) == 0
        gone = weakref.ref(screen)
        del screen
        gc.collect()
        assert gone() is None
