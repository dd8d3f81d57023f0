"""Admission control on the fake clock: under overload a share of shopper messages is refused
with a retry hint and stored nowhere, agent frames always pass, and it recovers by itself."""

from __future__ import annotations

import json

import pytest

from chatserver.core.admission import FLOOR, Admission
from chatserver.core.hub import Hub
from chatserver.domain import protocol as p
from chatserver.domain.errors import Overloaded
from tests.conftest import FakeClock, ServerFactory
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


def test_no_more_than_max_in_flight_shopper_messages_are_stored_at_once() -> None:
    rule = Admission(FakeClock(), max_lag_s=0.05, max_in_flight=2)
    with rule.shopper_message("a"), rule.shopper_message("b"):
        with pytest.raises(Overloaded) as refused, rule.shopper_message("c"):
            pass
        assert refused.value.client_id == "c" and refused.value.retry_after_ms == 200
        assert rule.in_flight == 2
    assert rule.in_flight == 0 and rule.refused == 1
    with rule.shopper_message("c"):  # stored: room again
        assert rule.in_flight == 1


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


async def test_an_overloaded_send_gets_an_error_frame_with_its_client_id_and_a_hint(
    start_server: ServerFactory,
) -> None:
    server = await start_server(max_shopper_sends_in_flight=1)
    shopper = await server.shopper()
    admission = server.hub.admission
    with admission.shopper_message("someone-else"):  # the one message being stored now
        await shopper.send(p.SendMessage(client_id="m1", text="Hello?"))
        error = await shopper.expect("error", code="overloaded")
    assert error["client_id"] == "m1" and error["frame_type"] == "send_message"
    assert error["retry_after_ms"] >= 200 and "not sent" in error["message"]
    await shopper.send(p.SendMessage(client_id="m1", text="Hello?"))  # the same, after the hint
    ack = await shopper.expect("ack", client_id="m1")
    log = await server.hub.store.log.read(ack["conversation_id"])
    assert sum("Hello?" in text for _, text in log) == 1  # the refused try stored nothing
