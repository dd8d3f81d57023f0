"""/admin's integrations on a real server: the identity secret rotated with a grace period, and
the order connector pointed at the shop's own (real) order service."""

from __future__ import annotations

from pathlib import Path

from chatserver.orders.demo_service import create_order_service
from tests.conftest import ServerFactory
from tests.test_admin_api import call, login
from tests.test_identity import customer, shopper_as
from tests.test_order_bot import Serve, ask, serve  # noqa: F401 (serve: a fixture)

FAQ = Path(__file__).resolve().parent.parent / "faq_data"


async def test_a_rotated_identity_secret_is_shown_once_and_the_old_one_lasts_a_day(
    start_server: ServerFactory,
) -> None:
    server = await start_server(identity_secret="flag-secret")
    admin = await login(server, "ada")
    manager = await login(server, "mona", "manager")
    path = "/api/admin/integrations/identity"
    assert (await call(server, "POST", path, manager)).status_code == 403
    rotated = await call(server, "POST", path, admin)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    shown = (await call(server, "GET", "/api/admin/integrations", manager)).json()
    assert shown["identity"]["secret_set"] and new not in str(shown)
    assert "flag-secret" not in str(shown)

    _, welcome = await shopper_as(server, customer(server, secret=new))
    assert str(welcome["user_id"]).startswith("c-")
    _, welcome = await shopper_as(server, customer(server, secret="flag-secret"))
    assert str(welcome["user_id"]).startswith("c-")  # a page rendered before the rotation
    await server.clock.advance(24 * 3600)
    old, _ = await shopper_as(server, customer(server, secret="flag-secret"))
    await old.expect("error", code="identity_refused")


async def test_the_order_connector_set_on_admin_is_used_by_the_bot(
    start_server: ServerFactory, serve: Serve
) -> None:
    base = await serve(create_order_service(secret="shop-order-secret"))
    server = await start_server(faq_dir=FAQ)
    admin = await login(server, "ada")
    path = "/api/admin/integrations/orders"
    bad = await call(server, "PUT", path, admin, {"url": base + "/api/chat/orders/"})
    assert bad.status_code == 400 and "{order}" in bad.json()["fields"]["url"]
    good = {
        "url": base + "/api/chat/orders/{order}",
        "customer_url": base + "/api/chat/customers/{customer}/orders",
        "secret": "shop-order-secret",
    }
    saved = await call(server, "PUT", path, admin, good)
    assert saved.status_code == 200, saved.text
    assert saved.json()["orders"] == {
        "url": good["url"],
        "customer_url": good["customer_url"],
        "secret_set": True,
        "demo": False,
    }
    guest = await server.shopper()
    answer = await ask(guest, "where is my order? 100234 jane@example.com", "q1")
    assert "shipped" in answer["text"]
