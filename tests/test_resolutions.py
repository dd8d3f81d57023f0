"""The after-sale resolution ladder: offers within the shop's ranges and the role's limit, the
shopper accepting one, and the report figures (exact, on a seeded store of each backend)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatserver.core.resolutions import priced_options
from chatserver.domain import protocol as p
from chatserver.domain.conversation import Conversation
from chatserver.domain.errors import InvalidFrame, NotAllowed
from chatserver.domain.playbook import Playbook, parse_playbook, problem_of
from chatserver.reports.playbook import resolution_report, resolutions_table
from chatserver.store.base import Store
from chatserver.store.redis import RedisStore
from chatserver.store.sqlite import SQLiteStore
from tests._redis import REDIS_URL, drop_keys, unique_prefix
from tests.conftest import Server, ServerFactory
from tests.test_reports import login

DAY = datetime(2027, 3, 1, tzinfo=UTC).timestamp()
FAQ = Path(__file__).resolve().parent.parent / "faq_data"


def offered(*pairs: tuple[str, float]) -> list[p.OfferedOption]:
    return [p.OfferedOption(kind=kind, percent=percent) for kind, percent in pairs]  # type: ignore[arg-type]


# --- the ladder's rules ----------------------------------------------------------------------


def test_options_are_priced_and_sorted_cheapest_first() -> None:
    options = priced_options(
        Playbook(), "agent", 80.0, offered(("partial_refund", 30), ("coupon", 15))
    )
    assert [(o.kind, o.percent, o.amount) for o in options] == [
        ("coupon", 15, 12.0),
        ("partial_refund", 30, 24.0),
    ]


def test_an_agent_cannot_offer_above_their_role_limit_but_a_manager_can() -> None:
    with pytest.raises(NotAllowed, match="above your limit as agent \\(50% of the order\\)"):
        priced_options(Playbook(), "agent", 80.0, offered(("coupon", 10), ("resend", 70)))
    options = priced_options(Playbook(), "manager", 80.0, offered(("coupon", 10), ("resend", 70)))
    assert [o.amount for o in options] == [8.0, 56.0]


def test_a_percent_outside_the_shops_range_or_a_kind_twice_is_refused() -> None:
    with pytest.raises(InvalidFrame, match="coupon: 30% is outside the shop's range 10-20%"):
        priced_options(Playbook(), "admin", 50.0, offered(("coupon", 30), ("explain", 0)))
    with pytest.raises(InvalidFrame, match="once"):
        priced_options(Playbook(), "admin", 50.0, offered(("coupon", 10), ("coupon", 20)))


def test_the_shops_own_percentages_and_limits_come_from_playbook_toml() -> None:
    book = parse_playbook("[ladder]\ncoupon = [5, 25]\n[limits]\nagent = 25\n")
    assert book.ladder.coupon == (5, 25) and book.limit("agent") == 25
    assert book.ladder.resend == (65, 80)  # what the shop did not set keeps its default
    with pytest.raises(ValueError, match=r"lowest percent 30\.0 is above the highest 20\.0"):
        parse_playbook("[ladder]\ncoupon = [30, 20]\n")


def test_the_problem_comes_from_a_tag_or_else_the_bots_matched_faq_entry() -> None:
    assert problem_of(["order-status", "damaged-item"], []) == "damaged"
    assert problem_of(["missing-item"], ["vip"]) == "incomplete"
    assert problem_of(["damaged-item"], ["late"]) == "late"
    assert problem_of(["lost-package"], []) == "late"
    assert problem_of(["order-status"], ["vip"]) is None


# --- report figures on a seeded store, on each backend ------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    prefix = unique_prefix()
    backend: Store = (
        SQLiteStore(tmp_path / "chat.sqlite3")
        if request.param == "sqlite"
        else RedisStore(REDIS_URL, prefix=prefix)
    )
    await backend.start()
    yield backend
    await backend.close()
    if request.param == "redis":
        await drop_keys(prefix)


def settled(
    problem: str, kind: str, percent: float, value: float, cheapest: bool
) -> dict[str, Any]:
    return {
        "problem": problem,
        "kind": kind,
        "percent": percent,
        "amount": round(value * percent / 100, 2),
        "currency": "EUR",
        "order_value": value,
        "cheapest": cheapest,
        "offered": 2,
    }


async def seed(store: Store) -> None:
    """Five after-sale chats and one other, on one day; figures worked out by hand below."""
    chats: dict[str, dict[str, Any]] = {
        # damaged: coupon 10% of 100 (cheapest), partial refund 40% of 50 (not the cheapest)
        "d1": {"resolution": settled("damaged", "coupon", 10, 100.0, True)},
        "d2": {"resolution": settled("damaged", "partial_refund", 40, 50.0, False)},
        # damaged: offered, not (yet) accepted
        "d3": {"resolution_offer": {"problem": "damaged", "seq": 4, "options": []}},
        # late: explained (no cost) on an order of 30, the cheapest
        "l1": {"resolution": settled("late", "explain", 0, 30.0, True)},
        # wrong: resend 70% of 20
        "w1": {"resolution": settled("wrong", "resend", 70, 20.0, False)},
        "x1": {},
    }
    for i, (cid, fields) in enumerate(chats.items()):
        record = Conversation(
            id=cid,
            shop_id="kitebay",
            shopper_id=f"s-{cid}",
            status="closed",
            created_at=DAY + 3600 + i,
            **fields,
        ).fields()
        await store.records.create(cid, f"s-{cid}", record)


async def test_resolutions_per_problem_cost_share_and_cheapest_share(store: Store) -> None:
    await seed(store)
    report = await resolution_report(store, DAY, DAY + 86400)
    rows = {r.problem: r for r in report.rows}
    assert list(rows) == ["damaged", "late", "wrong", "all"]
    damaged = rows["damaged"]
    assert (damaged.offered, damaged.settled) == (3, 2)
    assert damaged.by_kind["coupon"] == 1 and damaged.by_kind["partial_refund"] == 1
    # cost 10 + 20 = 30 of orders worth 150
    assert (damaged.cost, damaged.order_value, damaged.cost_share) == (30.0, 150.0, 0.2)
    assert (damaged.cheapest_settled, damaged.cheapest_share) == (1, 0.5)
    assert (rows["late"].cost, rows["late"].cost_share, rows["late"].cheapest_share) == (
        0.0,
        0.0,
        1.0,
    )
    # all: cost 10 + 20 + 0 + 14 = 44 of 200; cheapest settled 2 of 4
    total = rows["all"]
    assert (total.offered, total.settled, total.cost, total.order_value) == (5, 4, 44.0, 200.0)
    assert (total.cost_share, total.cheapest_share) == (0.22, 0.5)
    assert report.currencies == ["EUR"]
    header, table = resolutions_table(report)
    assert header[:3] == ["problem", "offered", "settled"]
    assert table[-1] == ["all", 5, 4, 1, 1, 1, 1, 0, 200.0, 44.0, 0.22, 2, 0.5]
    assert (await resolution_report(store, DAY + 86400, DAY + 2 * 86400)).rows == []


# --- over real servers ---------------------------------------------------------------------------


async def test_the_shopper_accepts_one_of_two_offered_and_the_report_shows_its_cost(
    server: Server,
) -> None:
    manager = await login(server, "mona", "manager")
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="q1", text="My kite arrived with a torn sail"))
    cid = (await shopper.expect("ack", client_id="q1"))["conversation_id"]
    alice = await server.agent("alice")
    await alice.expect("conversation_assigned", conversation_id=cid)

    over = p.OfferResolutions(
        conversation_id=cid,
        client_id="o0",
        problem="damaged",
        order_value=80,
        currency="EUR",
        options=offered(("coupon", 15), ("full_refund", 100)),
    )
    await alice.send(over)
    error = await alice.expect("error", frame_type="offer_resolutions")
    assert error["code"] == "not_allowed" and "above your limit as agent" in error["message"]

    offer = over.model_copy(
        update={"client_id": "o1", "options": offered(("partial_refund", 30), ("coupon", 15))}
    )
    await alice.send(offer)
    shown = await shopper.expect("resolutions_offered", problem="damaged")
    assert [(o["kind"], o["amount"]) for o in shown["options"]] == [
        ("coupon", 12.0),
        ("partial_refund", 24.0),
    ]
    assert shown["currency"] == "EUR"

    await shopper.send(p.AcceptResolution(offer_seq=shown["seq"], kind="partial_refund"))
    accepted = await alice.expect("resolution_accepted", conversation_id=cid)
    assert (accepted["resolution"], accepted["amount"], accepted["currency"]) == (
        "partial_refund",
        24.0,
        "EUR",
    )
    assert (accepted["by"], accepted["cheapest"]) == ("shopper", False)
    await shopper.expect("resolution_accepted", resolution="partial_refund")

    await shopper.send(p.AcceptResolution(offer_seq=shown["seq"], kind="coupon"))
    again = await shopper.expect("error", frame_type="accept_resolution")
    assert "already accepted" in again["message"]

    day = datetime.fromtimestamp(server.clock.now(), UTC).date().isoformat()
    auth = {"Authorization": f"Bearer {manager}"}
    async with httpx.AsyncClient(base_url=server.url, headers=auth) as http:
        body = (await http.get("/api/reports/resolutions", params={"from": day, "to": day})).json()
        csv = await http.get("/api/reports/resolutions.csv", params={"from": day, "to": day})
        agent = await login(server, "ann", "agent")
        refused = await http.get(
            "/api/reports/resolutions", headers={"Authorization": f"Bearer {agent}"}
        )
    row = {r["problem"]: r for r in body["rows"]}["damaged"]
    assert (row["settled"], row["cost"], row["order_value"], row["cost_share"]) == (
        1,
        24.0,
        80.0,
        0.3,
    )
    assert row["cheapest_share"] == 0.0
    assert csv.text.splitlines()[1].startswith("damaged,1,1,0,0,1,0,0,80.0,24.0,0.3,0,0.0")
    assert refused.status_code == 403


async def test_an_agent_records_the_accepted_option_for_the_shopper(server: Server) -> None:
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="q1", text="Only one of two boards came"))
    cid = (await shopper.expect("ack", client_id="q1"))["conversation_id"]
    bob = await server.agent("bob")
    await bob.expect("conversation_assigned", conversation_id=cid)
    await bob.send(
        p.OfferResolutions(
            conversation_id=cid,
            client_id="o1",
            problem="incomplete",
            order_value=200,
            currency="USD",
            options=offered(("explain", 0), ("coupon", 20)),
        )
    )
    old = await bob.expect("resolutions_offered", conversation_id=cid)
    await bob.expect("ack", client_id="o1")
    await bob.send(
        p.OfferResolutions(
            conversation_id=cid,
            client_id="o2",
            problem="incomplete",
            order_value=200,
            currency="USD",
            options=offered(("explain", 0), ("coupon", 10)),
        )
    )
    offer = await bob.expect("resolutions_offered", conversation_id=cid)
    await bob.expect("ack", client_id="o2")
    await shopper.send(p.AcceptResolution(offer_seq=old["seq"], kind="coupon"))
    stale = await shopper.expect("error", frame_type="accept_resolution")
    assert "newer one" in stale["message"]
    await bob.send(p.AcceptResolution(conversation_id=cid, offer_seq=offer["seq"], kind="explain"))
    done = await shopper.expect("resolution_accepted", by="agent")
    assert (done["amount"], done["cheapest"], done["currency"]) == (0.0, True, "USD")
    record = await server.hub.store.records.get(cid)
    assert record is not None
    assert json.loads(record["resolution"])["kind"] == "explain"


async def test_the_shop_edits_its_ladder_on_admin_and_agents_read_it(server: Server) -> None:
    admin = await login(server, "ada", "admin")
    agent = await login(server, "ann", "agent")
    async with httpx.AsyncClient(base_url=server.url) as http:
        change = {
            "ladder": {"coupon": [5, 15]},
            "limits": {"agent": 20, "manager": 60, "admin": 100},
        }
        put = await http.put(
            "/api/admin/playbook", json=change, headers={"Authorization": f"Bearer {admin}"}
        )
        assert put.status_code == 200, put.text
        bad = await http.put(
            "/api/admin/playbook",
            json={"ladder": {"coupon": [30, 10]}},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert bad.status_code == 400 and "above the highest" in bad.json()["error"]
        by_agent = await http.put(
            "/api/admin/playbook", json=change, headers={"Authorization": f"Bearer {agent}"}
        )
        assert by_agent.status_code == 403
        ladder = (
            await http.get("/api/playbook/ladder", headers={"Authorization": f"Bearer {agent}"})
        ).json()
    assert ladder["limit"] == 20 and ladder["role"] == "agent"
    assert ladder["steps"][1] == {"kind": "coupon", "low": 5.0, "high": 15.0}
    stored = await server.hub.store.config.documents()
    assert parse_playbook(stored["playbook.toml"]).ladder.coupon == (5, 15)


async def test_the_bots_matched_faq_entry_is_kept_on_the_record(
    start_server: ServerFactory,
) -> None:
    server = await start_server(faq_dir=FAQ)
    shopper = await server.shopper()
    await shopper.send(p.SendMessage(client_id="q1", text="My item arrived damaged"))
    answer = await shopper.expect("message_posted", author="bot")
    assert answer["faq_id"] == "damaged-item"
    record = await server.hub.store.records.get(answer["conversation_id"])
    assert record is not None
    faq_ids = json.loads(record["faq_ids"])
    assert faq_ids == ["damaged-item"] and problem_of(faq_ids, []) == "damaged"
