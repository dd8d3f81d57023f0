"""``/api/admin/*``: the shop's settings, hours, texts, FAQ and canned replies, read and changed.

Every change is checked whole before anything is stored (``LiveShop.change`` builds it first),
so a bad field leaves the shop as it was; the answer names the field and what is wrong.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from typing import Any

import tomli_w
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request

from chatserver.core.auth import Account
from chatserver.domain.protocol import CannedReply
from chatserver.domain.shop import ShopSettings
from chatserver.faq import shop_docs
from chatserver.faq.shop_bot import back_at
from chatserver.web.admin_common import Refused, endpoint, hub_of, invalid, live_of, parse

DEFAULT_TEXTS = {
    "greeting": "Hi! How can we help?",
    "thanks": "You're welcome!",
    "away": "We are away right now. Leave your e-mail address and we will get back to you.",
    "handoff": "Sure, I'm passing you to a person now.",
    "abstain": "I'm not sure about that one, so a person will follow up.",
}


class CannedChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reply: dict[str, Any]
    new: bool = False


def to_toml(data: dict[str, Any]) -> str:
    return tomli_w.dumps(data, multiline_strings=True)


def _doc(request: Request, name: str) -> dict[str, Any]:
    text = live_of(request).documents.get(name)
    return tomllib.loads(text) if text else {}


def _shop(request: Request) -> dict[str, Any]:
    live = live_of(request)
    if live.shop is not None:
        return live.shop.model_dump(mode="json", exclude_none=True)
    settings = live.settings
    return {
        "shop_id": settings.shop_id,
        "name": "",
        "time_zone": "UTC",
        "response_target_s": int(settings.response_target_s),
        "texts": {"en": DEFAULT_TEXTS},
    }


def faq_tables(request: Request) -> dict[str, list[dict[str, Any]]]:
    english = _doc(request, "faq.toml").get("entry", [])
    faq = {"en": english}
    for name in live_of(request).documents:
        if name.startswith("faq.") and name != "faq.toml":
            lang = name.removeprefix("faq.").removesuffix(".toml")
            faq[lang] = [{"id": k, **v} for k, v in _doc(request, name).items()]
    return faq


def hours_now(request: Request) -> str:
    """ "open now (Europe/Berlin)" or "closed; next opening Monday 09:00 CET (Europe/Berlin)"."""
    shop = live_of(request).shop
    if shop is None:
        return "no hours set: every chat goes to the queue"
    hours = shop.staffed_hours()
    at = datetime.fromtimestamp(hub_of(request).clock.now(), UTC)
    if hours.is_open(at):
        return f"open now ({shop.time_zone})"
    opening = hours.next_opening(at)
    if opening is None:
        return f"closed, no opening in the next two weeks ({shop.time_zone})"
    return f"closed now; next opening {back_at(opening, 'en')} ({shop.time_zone})"


@endpoint(write=False)
async def state(request: Request, account: Account) -> dict[str, Any]:
    """``GET /api/admin/state``: everything the admin page shows."""
    live, hub = live_of(request), hub_of(request)
    return {
        "me": {"id": account.id, "role": account.role},
        "shop": _shop(request),
        "hours_now": hours_now(request),
        "faq": faq_tables(request),
        "canned": _doc(request, "canned.toml").get("reply", []),
        "agents": [a.public() for a in await hub.accounts.all()],
        "audit": await live.audit(),
        "flag_origins": live.flag_origins,
        "base_url": hub.settings.base_url,
    }


@endpoint(write=True)
async def put_shop(request: Request, account: Account) -> dict[str, Any]:
    """``PUT /api/admin/shop``: the whole shop section (settings, hours, texts, embed)."""
    body = await parse(request, ShopSettings)
    await change(
        request,
        account,
        {"shop.toml": to_toml(body.model_dump(mode="json", exclude_none=True))},
        "shop settings",
    )
    return {"shop": _shop(request), "hours_now": hours_now(request)}


async def change(
    request: Request, account: Account, changes: dict[str, str | None], what: str
) -> None:
    try:
        await live_of(request).change(changes, account.id, what)
    except shop_docs.ConfigProblems as exc:
        fields = {where: message for where, message in exc.problems}
        raise Refused(400, str(exc), fields) from exc


@endpoint(write=True)
async def put_canned(request: Request, account: Account) -> dict[str, Any]:
    """``PUT /api/admin/canned``: add or replace one canned reply (by shortcut)."""
    body = await parse(request, CannedChange)
    try:
        reply = CannedReply.model_validate(body.reply).model_dump(mode="json", exclude={"type"})
    except ValidationError as exc:
        raise invalid(exc) from exc
    replies = _doc(request, "canned.toml").get("reply", [])
    exists = any(r["shortcut"] == reply["shortcut"] for r in replies)
    if body.new and exists:
        raise Refused(
            400, "shortcut: already used", {"shortcut": "another reply uses this shortcut"}
        )
    replies = (
        [reply if r["shortcut"] == reply["shortcut"] else r for r in replies]
        if exists
        else [*replies, reply]
    )
    await change(
        request,
        account,
        {"canned.toml": to_toml({"reply": replies})},
        f"canned reply /{reply['shortcut']}",
    )
    return {"canned": replies}


@endpoint(write=True)
async def delete_canned(request: Request, account: Account) -> dict[str, Any]:
    """``DELETE /api/admin/canned/{shortcut}``."""
    shortcut = str(request.path_params["shortcut"])
    replies = _doc(request, "canned.toml").get("reply", [])
    kept = [r for r in replies if r["shortcut"] != shortcut]
    if len(kept) == len(replies):
        raise Refused(404, f"no canned reply /{shortcut}")
    await change(
        request,
        account,
        {"canned.toml": to_toml({"reply": kept})},
        f"deleted canned reply /{shortcut}",
    )
    return {"canned": kept}


@endpoint(write=False)
async def check_origin(request: Request, account: Account) -> dict[str, Any]:
    """``GET /api/admin/origin?url=``: would a page at this URL be allowed to embed the widget?"""
    url = request.query_params.get("url", "").strip()
    parts = url.split("/")
    if len(parts) < 3 or parts[0] not in ("http:", "https:") or not parts[2]:
        raise Refused(
            400,
            "url: give a full address such as https://shop.example/product/1",
            {"url": "not a full http(s) address"},
        )
    origin = "/".join(parts[:3]).lower()
    return {"origin": origin, "allowed": hub_of(request).settings.origin_allowed(origin)}


async def public_shop(request: Request) -> Any:
    """``GET /api/shop``: what pages show of the shop (console title, colour, logo); no login."""
    from chatserver.web.admin_common import answer

    shop = live_of(request).shop
    public = {"name", "console_title", "color", "logo_url", "ask_effort"}
    shown = (
        {"name": "", "console_title": "", "color": "", "logo_url": "", "ask_effort": True}
        if shop is None
        else shop.model_dump(include=public)
    )
    response = answer(shown)
    response.headers["Access-Control-Allow-Origin"] = "*"  # the widget runs on the shop's pages
    return response
