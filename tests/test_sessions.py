"""Delivery to one client without sockets: in order, once, gaps filled from the log, bounded."""

from __future__ import annotations

import asyncio

from chatserver.core.sessions import Session


def make(log: list[tuple[int, str]], size: int = 100) -> tuple[Session, list[str]]:
    async def read_log(conversation_id: str, after: int) -> list[tuple[int, str]]:
        return [row for row in log if row[0] > after]

    overflowed: list[str] = []
    session = Session(
        "shopper",
        "s",
        "",
        asyncio.Queue(size),
        read_log,
        on_overflow=lambda: overflowed.append("x"),
    )
    return session, overflowed


def drain(session: Session) -> list[str]:
    out = []
    while not session.outbox.empty():
        out.append(session.outbox.get_nowait())
    return out


async def settle(session: Session) -> None:
    await asyncio.gather(*session.tasks)


async def test_follow_replays_after_last_seq_then_goes_live() -> None:
    log = [(1, "a"), (2, "b"), (3, "c")]
    session, _ = make(log)
    session.follow("c1", 1)
    await settle(session)
    session.offer("c1", 3, "c")  # already replayed: not again
    session.offer("c1", 4, "d")
    assert drain(session) == ["b", "c", "d"]


async def test_live_events_during_replay_are_held_and_not_duplicated() -> None:
    log = [(1, "a"), (2, "b")]
    session, _ = make(log)
    session.follow("c1", 0)
    session.offer("c1", 2, "b")
    session.offer("c1", 3, "c")
    log.append((3, "c"))
    await settle(session)
    assert drain(session) == ["a", "b", "c"]


async def test_a_gap_is_filled_from_the_log_in_order() -> None:
    log = [(1, "a"), (2, "b"), (3, "c"), (4, "d")]
    session, _ = make(log)
    session.follow("c1", 1)
    await settle(session)
    drain(session)
    session.offer("c1", 6, "f")
    log.append((5, "e"))
    log.append((6, "f"))
    await settle(session)
    assert drain(session) == ["e", "f"]


async def test_live_notices_without_seq_pass_straight_through() -> None:
    session, _ = make([])
    session.follow("c1", 0)
    await settle(session)
    session.offer("c1", None, "typing")
    session.offer("other", None, "not mine")
    assert drain(session) == ["typing"]


async def test_a_client_that_cannot_keep_up_is_flagged_once() -> None:
    session, overflowed = make([], size=2)
    for text in ("1", "2", "3", "4"):
        session.send(text)
    assert overflowed == ["x"] and session.overflowed
    assert drain(session) == ["1", "2"]
