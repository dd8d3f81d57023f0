"""What an open socket costs: no task of ours per socket, watchdogs on one shared task, and
sockets that come and go leave nothing behind."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from chatserver.domain.errors import ChatError, Idle, TimedOut
from chatserver.domain.settings import Settings
from chatserver.web.guard import Patrol, Watchdog
from tests.conftest import FakeClock, Server


def _ours(task: asyncio.Task[object]) -> bool:
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and "/chatserver/" in code.co_filename


async def test_idle_sockets_run_no_task_of_ours(server: Server) -> None:
    """The server's own task per socket reads it; frames are written from where they are sent,
    and every watchdog shares one task."""
    first = await server.shopper()
    await first.expect("availability")
    before = sum(_ours(task) for task in asyncio.all_tasks())
    for _ in range(20):
        shopper = await server.shopper()
        await shopper.expect("availability")
    assert sum(_ours(task) for task in asyncio.all_tasks()) == before


async def test_page_views_leave_no_sessions_or_watchdogs_behind(server: Server) -> None:
    for _ in range(30):
        shopper = await server.shopper()
        await shopper.expect("availability")
        await shopper.close()
    await server.until(lambda: _gone(server))
    assert server.hub.chats.hellos == {} and server.hub.fanout.shopper_ids() == []


async def _gone(server: Server) -> bool:
    return not server.hub.fanout.shopper_ids()


def _settings(tmp_path: Path, **overrides: float) -> Settings:
    return Settings(port=0, data_dir=tmp_path, **overrides)  # type: ignore[arg-type]


async def test_one_patrol_closes_each_socket_at_its_own_deadline(tmp_path: Path) -> None:
    clock = FakeClock()
    patrol = Patrol(_settings(tmp_path, hello_timeout_s=10, idle_timeout_s=60), clock)
    closed: dict[str, int | None] = {}

    def verdict(name: str) -> Callable[[ChatError], None]:
        return lambda error: closed.setdefault(name, error.close_code) and None

    silent = Watchdog(patrol, verdict("silent"))  # noqa: F841 - never says hello
    talking = Watchdog(patrol, verdict("talking"))
    talking.said_hello()
    await clock.advance(11)
    assert closed == {"silent": TimedOut.close_code}
    await clock.advance(40)
    talking.heard()  # the idle deadline moves on: 51 + 60
    await clock.advance(30)
    assert "talking" not in closed
    await clock.advance(31)
    assert closed["talking"] == Idle.close_code
    await patrol.close()


async def test_watchdogs_of_closed_sockets_are_swept_out(tmp_path: Path) -> None:
    clock = FakeClock()
    patrol = Patrol(_settings(tmp_path, hello_timeout_s=300), clock)
    for _ in range(5000):
        dog = Watchdog(patrol, lambda error: None)
        dog.said_hello()
        dog.stop()
    assert patrol.pending < 600  # bounded by the live ones and a sweep's slack, not by visits
    await patrol.close()
