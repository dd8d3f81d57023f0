"""Admission control on the fake clock: under overload a share of shopper messages is refused
with a retry hint and stored nowhere, agent frames always pass, and it recovers by itself."""

from __future__ import annotations

import asyncio
import json

import pytest

from chatserver.core.admission import FLOOR, MAX_WAIT_S, Admission
from chatserver.core.hub import Hub
from chatserver.domain import protocol as p
from chatserver.domain.errors import Overloaded
from tests.conftest import Client, FakeClock, Server, ServerFactory
from tests.test_hub_unit import agent, hub, settle, shopper

__all__ = ["hub"]  # the fixture, shared with the hub's unit tests


@pytest.fixture
def backend_kind() -> str:
    """Admission is the hub's, whatever the store: one backend is enough."""
    return "sqlite"


def admitted(rule: Admission, messages: int) -> int:
    taken = 0
    for k in range(messages):
        try:
            rule.admit_shopper_message(f"m{k}")
            taken += 1
        except Overloaded:
            pass
    return taken


def test_a_loop_on_time_admits_every_message() -> None:
    rule = Admission(FakeClock(), max_lag_s=0.05)
    rule.observe(0.01)
    assert admitted(rule, 100) == 100 and rule.refused == 0


def test_lag_over_the_bound_refuses_a_share_with_a_hint_and_the_share_grows_back() -> None:
    clock = FakeClock()
    rule = Admission(clock, max_lag_s=0.05, recover_s=2.0)
    rule.observe(0.2)
    rule.observe(0.2)
    assert rule.share() == 1.0  # a pause or two is not load
    for _ in range(3):
        rule.observe(0.2)
    assert rule.share() == pytest.approx(0.512)
    assert admitted(rule, 1000) == pytest.approx(512, abs=1)  # spread evenly, not in bursts
    with pytest.raises(Overloaded) as refused:
        for _ in range(3):
            rule.admit_shopper_message("again")
    assert refused.value.code == "overloaded" and refused.value.client_id == "again"
    assert refused.value.retry_after_ms == round(1000 * (1 - 0.512) * 2.0)

    clock._now += 1.0  # no more lag: half the way back
    assert rule.share() == pytest.approx(1.0)  # 0.512 + 1.0 / 2.0, capped
    assert admitted(rule, 50) == 50


def test_a_long_overload_keeps_a_floor_of_messages_moving() -> None:
    rule = Admission(FakeClock(), max_lag_s=0.05)
    for _ in range(100):
        rule.observe(1.0)
    assert rule.share() == FLOOR
    assert admitted(rule, 100) == round(100 * FLOOR)
    assert rule.retry_after_ms() == round(1000 * (1 - FLOOR) * 2.0)


async def test_beyond_max_in_flight_a_shopper_message_waits_in_line_until_the_line_is_too_slow() -> (
    None
):
    clock = FakeClock()
    rule = Admission(clock, max_lag_s=0.05, max_in_flight=2)
    await rule.enter("a")
    await rule.enter("b")
    c = asyncio.ensure_future(rule.enter("c"))
    d = asyncio.ensure_future(rule.enter("d"))
    await asyncio.sleep(0)
    assert not c.done() and not d.done() and rule.in_flight == 2 and rule.waiting == 2
    rule.leave()  # a is stored: c, first in line, takes its place
    await asyncio.sleep(0)
    assert c.done() and not d.done() and rule.in_flight == 2

    clock._now += MAX_WAIT_S  # d has waited as long as a newcomer may: the line is too slow
    with pytest.raises(Overloaded) as refused:
        await rule.enter("e")
    assert refused.value.client_id == "e" and refused.value.retry_after_ms >= 1000 * MAX_WAIT_S
    assert rule.refused == 1

    rule.leave()  # b
    await asyncio.sleep(0)
    assert d.done()
    rule.leave()  # c
    await rule.enter("e")  # the line is empty again and a place free: room at once
    assert rule.in_flight == 2 and rule.waiting == 0


async def test_a_message_whose_socket_closed_in_line_gives_its_turn_to_the_next() -> None:
    rule = Admission(FakeClock(), max_lag_s=0.05, max_in_flight=1)
    await rule.enter("a", "ann")
    gone = asyncio.ensure_future(rule.enter("b", "bob"))
    next_one = asyncio.ensure_future(rule.enter("c", "cy"))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.gather(gone, return_exceptions=True)
    rule.leave("ann")
    await asyncio.sleep(0)
    assert next_one.done() and rule.in_flight == 1
    rule.leave("cy")
    assert rule.in_flight == 0 and rule.waiting == 0 and not rule._by_shopper


def test_no_bound_never_refuses() -> None:
    rule = Admission(FakeClock(), max_lag_s=0.0)
    rule.observe(10.0)
    assert admitted(rule, 10) == 10


async def test_the_hub_refuses_shopper_messages_but_not_agent_replies_and_recovers(
    hub: Hub,
) -> None:
    assert hub._lag_probe is not None
    hub._lag_probe.cancel()  # this test says what the lag is
    alice = await agent(hub)
    bob = await shopper(hub)
    await bob.send(p.SendMessage(client_id="m1", text="Is this in stock?"))
    conversation_id = bob.frames("message_posted")[0]["conversation_id"]
    assert alice.frames("message_posted")

    for _ in range(50):  # the loop is far behind
        hub.admission.observe(1.0)
    with pytest.raises(Overloaded) as refused:
        for k in range(5):
            await bob.send(p.SendMessage(client_id=f"busy{k}", text="Hello?"))
    assert refused.value.retry_after_ms >= 200
    await alice.send(
        p.SendMessage(conversation_id=conversation_id, client_id="a1", text="Yes, in stock.")
    )
    await settle()
    texts = [f["text"] for f in bob.frames("message_posted")]
    assert texts[-1] == "Yes, in stock."  # the agent's reply went through
    refused_id = refused.value.client_id
    stored = [json.loads(text) for _, text in await hub.store.log.read(conversation_id)]
    assert refused_id not in [e.get("client_id") for e in stored]  # stored nothing

    clock = hub.clock
    assert isinstance(clock, FakeClock)
    await clock.advance(hub.admission.recover_s)  # the load dropped: back to all
    await bob.send(p.SendMessage(client_id=refused_id or "", text="Hello?"))
    assert bob.frames("message_posted")[-1]["client_id"] == refused_id


async def one_place_taken(start_server: ServerFactory) -> tuple[Server, Client, Admission]:
    """A server with one place for a shopper message being stored, taken; and a shopper."""
    server = await start_server(max_shopper_sends_in_flight=1)
    shopper = await server.shopper()
    await server.hub.admission.enter("someone-else")
    return server, shopper, server.hub.admission


async def in_line(admission: Admission) -> None:
    """Wait (a second at most) until a message waits in line."""
    for _ in range(100):
        if admission.waiting:
            return
        await asyncio.sleep(0.01)


async def test_an_overloaded_send_gets_an_error_frame_with_its_client_id_and_a_hint(
    start_server: ServerFactory,
) -> None:
    server, shopper, admission = await one_place_taken(start_server)
    waiting = asyncio.ensure_future(admission.enter("next-in-line"))
    try:
        await asyncio.sleep(0)
        await server.clock.advance(MAX_WAIT_S)  # the line has not moved for as long as it may
        await shopper.send(p.SendMessage(client_id="m1", text="Hello?"))
        error = await shopper.expect("error", code="overloaded")
        assert error["client_id"] == "m1" and error["frame_type"] == "send_message"
        assert error["retry_after_ms"] >= 200 and "not sent" in error["message"]
    finally:
        admission.leave()
        await waiting
        admission.leave()
    await shopper.send(p.SendMessage(client_id="m1", text="Hello?"))  # the same, after the hint
    ack = await shopper.expect("ack", client_id="m1")
    log = await server.hub.store.log.read(ack["conversation_id"])
    assert sum("Hello?" in text for _, text in log) == 1  # the refused try stored nothing


async def test_a_shopper_message_over_the_limit_waits_for_a_place_and_is_stored(
    start_server: ServerFactory,
) -> None:
    _, shopper, admission = await one_place_taken(start_server)
    try:
        await shopper.send(p.SendMessage(client_id="m1", text="Still there?"))
        await in_line(admission)
        assert admission.waiting == 1 and not shopper.all("ack")  # in line, not refused
    finally:
        admission.leave()
    ack = await shopper.expect("ack", client_id="m1")
    assert not shopper.all("error") and ack["seq"] >= 1


async def test_a_sender_ahead_of_the_hub_is_refused_at_once_rather_than_kept_waiting(
    start_server: ServerFactory,
) -> None:
    """With no room, a message whose sender has already sent the next one does not wait in line
    (the next would wait unseen behind it): it is refused at once; the last one waits."""
    _, shopper, admission = await one_place_taken(start_server)
    try:
        await shopper.send(p.SendMessage(client_id="m1", text="Hello?"))
        await shopper.send(p.SendMessage(client_id="m2", text="Anyone?"))
        error = await shopper.expect("error", code="overloaded")
        assert error["client_id"] == "m1"
        await in_line(admission)
        assert admission.waiting == 1  # m2: nothing sent after it
    finally:
        admission.leave()
    await shopper.expect("ack", client_id="m2")
    assert [e["client_id"] for e in shopper.all("error")] == ["m1"]
