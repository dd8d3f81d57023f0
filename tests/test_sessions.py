"""Delivery to one client without sockets: in order, once, gaps filled from the log, bounded."""

from __future__ import annotations

import asyncio

from chatserver.core.sessions import Outbox, Session


def make(log: list[tuple[int, str]], size: int = 100) -> tuple[Session, list[str]]:
    async def read_log(conversation_id: str, after: int, limit: int) -> list[tuple[int, str]]:
        return [row for row in log if row[0] > after][:limit]

    overflowed: list[str] = []
    session = Session(
        "shopper",
        "s",
        "",
        Outbox(size),
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


async def test_catch_up_is_paced_by_the_writer_not_pushed_into_the_outbox() -> None:
    """603 events through an outbox of 8: all arrive once, in order, and nothing overflows."""
    log = [(seq, f"e{seq}") for seq in range(1, 604)]
    session, overflowed = make(log, size=8)
    session.follow("c1", 0)
    received = []
    while len(received) < 604:
        received.append(await asyncio.wait_for(session.outbox.get(), 5))
        if len(received) == 300:
            session.offer("c1", None, "typing")  # a live notice still finds room
    assert received.count("typing") == 1
    assert [r for r in received if r != "typing"] == [text for _, text in log]
    await settle(session)
    assert not overflowed and drain(session) == []


async def test_a_live_event_seen_during_catch_up_is_read_from_the_log() -> None:
    log = [(1, "a")]
    session, _ = make(log)
    session.follow("c1", 0)
    log.append((2, "b"))
    session.offer("c1", 2, "b")  # stored, then published while the first read is under way
    await settle(session)
    session.offer("c1", 3, "c")
    assert drain(session) == ["a", "b", "c"]


async def test_a_resync_rereads_what_a_lost_relay_missed() -> None:
    log = [(1, "a")]
    session, _ = make(log)
    session.follow("c1", 0)
    await settle(session)
    log.extend([(2, "b"), (3, "c")])  # published while the relay was reconnecting: never offered
    session.resync("c1")
    await settle(session)
    assert drain(session) == ["a", "b", "c"]


async def test_a_store_that_stays_down_during_catch_up_closes_the_socket() -> None:
    async def broken(conversation_id: str, after: int, limit: int) -> list[tuple[int, str]]:
        raise OSError("store down")

    overflowed: list[str] = []
    session = Session(
        "shopper", "s", "", Outbox(8), broken, on_overflow=lambda: overflowed.append("x")
    )
    session.follow("c1", 0)
    await settle(session)
    assert overflowed == ["x"]
