"""The routes of the admin page (``/admin``) and its API, and ``/`` while the demo page is on."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from chatserver.domain.shop import DEMO_SHOP_NAME
from chatserver.web import admin_agents as agents
from chatserver.web import admin_api as api
from chatserver.web import admin_faq as faq
from chatserver.web import admin_keys as keys
from chatserver.web import admin_tone as tone
from chatserver.web.admin_common import live_of
from chatserver.web.assets import REVALIDATE, STATIC, CachedFiles, page

_files = CachedFiles(STATIC, REVALIDATE)
_demo = page(_files, "demo.html")


async def home(request: Request) -> Response:
    """``/``: the demo product page while the shop is still the demo (has not set a name of its
    own) and has not turned the page off; else the console."""
    shop = live_of(request).shop
    demo = shop is None or (shop.demo_page and shop.name in ("", DEMO_SHOP_NAME))
    if not demo:
        return RedirectResponse("/console", 307)
    return await _demo(request)


def routes() -> list[BaseRoute]:
    """Before the asset routes, so ``/`` is decided here."""
    return [
        Route("/", home),
        Route("/admin", page(_files, "admin.html")),
        Route("/api/shop", api.public_shop),
        Route("/api/admin/state", api.state),
        Route("/api/admin/shop", api.put_shop, methods=["PUT"]),
        Route("/api/admin/faq/{lang}", faq.put_faq_entry, methods=["PUT"]),
        Route("/api/admin/faq/{lang}/{entry_id}", faq.delete_faq_entry, methods=["DELETE"]),
        Route("/api/admin/canned", api.put_canned, methods=["PUT"]),
        Route("/api/admin/canned/{shortcut}", api.delete_canned, methods=["DELETE"]),
        Route("/api/admin/try", faq.try_question, methods=["POST"]),
        Route("/api/admin/tone", tone.tone_rules),
        Route("/api/admin/tone/{lang}", tone.put_rule, methods=["PUT"]),
        Route("/api/admin/tone/{lang}", tone.restore_defaults, methods=["DELETE"]),
        Route("/api/admin/tone/{lang}/{index}", tone.delete_rule, methods=["DELETE"]),
        Route("/api/admin/origin", api.check_origin),
        Route("/api/admin/agents", agents.add_agent, methods=["POST"]),
        Route("/api/admin/agents/{agent_id}", agents.change_agent, methods=["PATCH"]),
        Route("/api/admin/agents/{agent_id}", agents.remove_agent, methods=["DELETE"]),
        Route("/api/admin/agents/{agent_id}/password", agents.reset_password, methods=["POST"]),
        Route("/api/admin/apikeys", keys.list_keys),
        Route("/api/admin/apikeys", keys.add_key, methods=["POST"]),
        Route("/api/admin/apikeys/{key_id}", keys.revoke_key, methods=["DELETE"]),
        Route("/api/admin/notice-texts/{lang}", keys.get_texts),
        Route("/api/admin/notice-texts/{lang}", keys.put_texts, methods=["PUT"]),
    ]
