"""Fair overload on the fake clock: a shopper flooding is held to their share while another
shopper's single message is stored, agent replies are never refused and, while the loop lags,
go before shopper messages that were ready at the same time."""

from __future__ import annotations

import asyncio
import json

import pytest

from chatserver.core.admission import (
    CREDIT_CAP,
    FAIR_GAP_S,
    FLOOR,
    PER_SHOPPER,
    PROBE_S,
    Admission,
)
from chatserver.core.hub import Hub
from chatserver.domain import protocol as p
from chatserver.domain.errors import Overloaded
from tests.conftest import FakeClock
from tests.test_hub_unit import agent, hub, shopper

__all__ = ["hub"]  # the fixture, shared with the hub's unit tests


def cut(rule: Admission) -> None:
    """The loop far behind for long: the share of shopper messages at its floor."""
    for _ in range(50):
        rule.observe(1.0)
    assert rule.share() == FLOOR


def taken(rule: Admission, shopper_id: str, messages: int) -> int:
    count = 0
    for k in range(messages):
        try:
            rule.admit_shopper_message(f"{shopper_id}-{k}", shopper_id)
            count += 1
        except Overloaded:
            pass
    return count


def test_a_flooding_shopper_gets_one_message_per_gap_and_the_others_their_share() -> None:
    clock = FakeClock()
    rule = Admission(clock, max_lag_s=0.05, recover_s=1000.0)
    cut(rule)
    assert taken(rule, "flood", 1000) == 1  # spread evenly it would have been 200
    calm = sum(taken(rule, f"calm{k}", 1) for k in range(100))
    assert calm >= CREDIT_CAP  # the flood's unused share went to them (up to the cap at once)
    assert sum(taken(rule, f"late{k}", 1) for k in range(100)) == pytest.approx(100 * FLOOR, abs=1)
    clock._now += FAIR_GAP_S
    assert taken(rule, "flood", 1000) == 1  # again one, a gap later


async def test_one_shopper_holds_at_most_their_share_of_the_messages_being_stored() -> None:
    rule = Admission(FakeClock(), max_lag_s=0.05, max_in_flight=10)
    await rule.enter("a", "flood")
    await rule.enter("b", "flood")
    assert PER_SHOPPER == 2
    with pytest.raises(Overloaded) as refused:
        await rule.enter("c", "flood")
    assert refused.value.client_id == "c" and refused.value.retry_after_ms >= 200
    await rule.enter("d", "calm")  # another shopper: room
    assert rule.in_flight == 3
    for shopper_id in ("flood", "flood", "calm"):
        rule.leave(shopper_id)
    assert rule.in_flight == 0
    await rule.enter("c", "flood")  # stored: room again


def stored_ids(events: list[tuple[int, str]]) -> list[str | None]:
    return [json.loads(text).get("client_id") for _, text in events]


async def test_the_hub_refuses_the_flood_stores_the_other_shopper_and_every_agent_reply(
    hub: Hub,
) -> None:
    assert hub._lag_probe is not None
    hub._lag_probe.cancel()  # this test says what the lag is
    alice = await agent(hub, capacity=2)
    flood, calm = await shopper(hub), await shopper(hub)
    await flood.send(p.SendMessage(client_id="f0", text="Is this in stock?"))
    await calm.send(p.SendMessage(client_id="c0", text="Do you ship to Austria?"))
    flood_chat = flood.frames("ack")[0]["conversation_id"]
    calm_chat = calm.frames("ack")[0]["conversation_id"]

    cut(hub.admission)
    refused = []
    for k in range(1, 41):
        try:
            await flood.send(p.SendMessage(client_id=f"f{k}", text="Hello? Anyone?"))
        except Overloaded as exc:
            assert exc.code == "overloaded" and exc.retry_after_ms >= 200
            refused.append(exc.client_id)
    assert len(refused) >= 39  # one message in FAIR_GAP_S at most
    await calm.send(p.SendMessage(client_id="c1", text="And to Switzerland?"))
    assert [a["client_id"] for a in calm.frames("ack")] == ["c0", "c1"]
    for k in range(5):
        for chat in (flood_chat, calm_chat):
            reply = p.SendMessage(conversation_id=chat, client_id=f"a{k}", text="Yes.")
            await alice.send(reply)
    assert len(alice.frames("ack")) == 10  # every reply stored

    flood_log = stored_ids(await hub.store.log.read(flood_chat))
    assert not set(refused) & set(flood_log)  # refused: stored nothing
    assert "c1" in stored_ids(await hub.store.log.read(calm_chat))


async def test_while_the_loop_lags_an_agent_reply_goes_before_a_shopper_message(hub: Hub) -> None:
    assert hub._lag_probe is not None
    hub._lag_probe.cancel()
    alice = await agent(hub)
    bob = await shopper(hub)
    await bob.send(p.SendMessage(client_id="m1", text="Is this in stock?"))
    chat = bob.frames("ack")[0]["conversation_id"]

    async def both(k: int) -> list[str | None]:
        """A shopper message and an agent reply, ready at once (the shopper's first)."""
        question = p.SendMessage(client_id=f"s{k}", text="Hello?")
        answer = p.SendMessage(conversation_id=chat, client_id=f"r{k}", text="Yes.")
        await asyncio.gather(hub.handle(bob.session, question), hub.handle(alice.session, answer))
        return stored_ids(await hub.store.log.read(chat))[-2:]

    assert await both(1) == ["s1", "r1"]  # on time: in the order they came
    hub.admission.observe(1.0)  # one sample late: nobody refused yet, but agents first
    assert hub.admission.lagging() and hub.admission.share() == 1.0
    assert await both(2) == ["r2", "s2"]
    assert hub.admission.refused == 0


async def test_a_shopper_message_waits_for_busy_agents_no_longer_than_a_probe() -> None:
    rule = Admission(FakeClock(), max_lag_s=0.05)
    rule.observe(1.0)
    rule.agent_started()  # an agent's frame that takes long
    loop = asyncio.get_running_loop()
    started = loop.time()
    await rule.agents_first()
    assert PROBE_S <= loop.time() - started < PROBE_S + 0.5
    assert not rule._waiting  # nothing left behind

    waiting = asyncio.create_task(rule.agents_first())
    await asyncio.sleep(0.001)
    rule.agent_done()  # the agents' frames are done: the shopper's goes now
    for _ in range(3):
        await asyncio.sleep(0)
    assert waiting.done() and not rule._waiting


async def test_while_agents_go_first_a_refused_message_is_answered_without_waiting(
    hub: Hub,
) -> None:
    assert hub._lag_probe is not None
    hub._lag_probe.cancel()
    bob = await shopper(hub)
    hub.admission.observe(1.0)  # the loop lags: a message taken lets agents' frames go first
    hub.admission.agent_started()  # an agent's frame being handled, for long
    taken = [
        asyncio.create_task(hub.handle(bob.session, p.SendMessage(client_id=f"m{k}", text="Hi?")))
        for k in range(PER_SHOPPER)
    ]
    await asyncio.sleep(0)
    assert not any(task.done() for task in taken)  # taken, waiting for the agent's frame

    over = hub.handle(bob.session, p.SendMessage(client_id="over", text="Hello??"))
    with pytest.raises(Overloaded) as refused:
        over.send(None)  # its first step: refused before any wait
    assert refused.value.client_id == "over"

    hub.admission.agent_done()
    await asyncio.gather(*taken)
    assert [a["client_id"] for a in bob.frames("ack")] == ["m0", "m1"]
