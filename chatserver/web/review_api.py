"""HTTP endpoints of the playbook's ladder and the quality review (``/review``).

- ``GET /api/playbook/ladder``: the ladder and the caller's limit (any staff; the console).
- ``GET /api/review/queue?week=2026-W48``: the week's review queue (managers and admins).
- ``GET /api/review/mine``: the caller's own reviews (any staff: the console's "My reviews").
- ``GET /api/review/{id}`` / ``POST /api/review/{id}``: a chat's review; scoring needs a manager
  or admin who did not handle the chat, and a same-origin request.
- ``GET /api/admin/playbook`` / ``PUT``: ``playbook.toml`` as JSON (managers read, admins write).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chatserver.core.auth import Account
from chatserver.core.review import REVIEWERS, Reviewer, Scoring
from chatserver.domain.errors import ChatError, NotAllowed, NotFound, Unauthorized
from chatserver.domain.playbook import DOCUMENT, Playbook
from chatserver.web.admin_api import change, to_toml
from chatserver.web.admin_common import (
    Refused,
    answer,
    endpoint,
    hub_of,
    live_of,
    parse,
    refusal,
)
from chatserver.web.assets import REVALIDATE, STATIC, CachedFiles, page

_STATUS = {NotAllowed: 403, NotFound: 404}
_files = CachedFiles(STATIC, REVALIDATE)


def reviewer_of(request: Request) -> Reviewer:
    hub = hub_of(request)
    return Reviewer(hub.journal, hub.store.records.created_between, hub.store.reviews)


async def _staff(request: Request, write: bool = False) -> Account:
    """Any logged-in agent, manager or admin; writes must come from this server's own page."""
    hub = hub_of(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused(401, "log in first: send the session token from /api/login")
    try:
        account, _ = await hub.accounts.session_account(hub.tokens, token.strip())
    except Unauthorized as exc:
        raise Refused(401, exc.message) from exc
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if write and origin is not None and origin.rstrip("/") not in (own, hub.settings.base_url):
        raise Refused(403, f"writes must come from this server's own page, not {origin}")
    return account


def _chat_error(exc: ChatError) -> Refused:
    status = next((s for kind, s in _STATUS.items() if isinstance(exc, kind)), 400)
    return Refused(status, exc.message)


def week_range(week: str | None, time_zone: str, now: float) -> tuple[str, float, float]:
    """An ISO week (``2026-W48``; default the current one) and its ``[since, until)``."""
    zone = ZoneInfo(time_zone)
    try:
        if week:
            year, number = week.split("-W")
            monday = date.fromisocalendar(int(year), int(number), 1)
        else:
            today = datetime.fromtimestamp(now, zone).date()
            monday = today - timedelta(days=today.weekday())
    except ValueError as exc:
        raise Refused(400, f"week must be YYYY-Www, e.g. 2026-W48: {week!r}") from exc
    iso = monday.isocalendar()
    since = datetime(monday.year, monday.month, monday.day, tzinfo=zone)
    until = since + timedelta(days=7)
    return f"{iso.year}-W{iso.week:02d}", since.timestamp(), until.timestamp()


def _zone(request: Request) -> str:
    shop = live_of(request).shop
    return shop.time_zone if shop is not None else "UTC"


def _playbook(request: Request) -> Playbook:
    return hub_of(request).chats.playbook


async def _run(request: Request, write: bool, handler: Any) -> Response:
    try:
        account = await _staff(request, write)
        return answer(await handler(account))
    except Refused as exc:
        return refusal(exc)
    except ChatError as exc:
        return refusal(_chat_error(exc))


async def ladder(request: Request) -> Response:
    """``GET /api/playbook/ladder``: the resolutions (cheapest first) and the caller's limit."""

    async def body(account: Account) -> dict[str, Any]:
        book = _playbook(request)
        steps = [{"kind": k, "low": low, "high": high} for k, low, high in book.ladder.steps()]
        return {"steps": steps, "role": account.role, "limit": book.limit(account.role)}

    return await _run(request, False, body)


async def queue(request: Request) -> Response:
    """``GET /api/review/queue``: the week's closed chats to review (managers and admins)."""

    async def body(account: Account) -> dict[str, Any]:
        if account.role not in REVIEWERS:
            raise Refused(403, "the review queue is for managers and admins")
        week, since, until = week_range(
            request.query_params.get("week"), _zone(request), hub_of(request).clock.now()
        )
        settings = _playbook(request).review
        items = await reviewer_of(request).queue(since, until, week, settings)
        return {
            "week": week,
            "since": since,
            "until": until,
            "rubric": settings.rubric,
            "items": [i.model_dump(mode="json") for i in items],
        }

    return await _run(request, False, body)


async def mine(request: Request) -> Response:
    """``GET /api/review/mine``: the reviews of the caller's own chats, newest first."""

    async def body(account: Account) -> dict[str, Any]:
        reviews = await reviewer_of(request).of_agent(account.id)
        return {
            "rubric": _playbook(request).review.rubric,
            "reviews": [r.model_dump(mode="json") for r in reviews],
        }

    return await _run(request, False, body)


async def review(request: Request) -> Response:
    """``GET`` a chat's review (reviewers, or the agent who handled it); ``POST`` scores it."""
    conversation_id = str(request.path_params["conversation_id"])
    write = request.method == "POST"

    async def body(account: Account) -> dict[str, Any]:
        reviewer = reviewer_of(request)
        settings = _playbook(request).review
        if write:
            scoring = await parse(request, Scoring)
            hub = hub_of(request)
            done = await reviewer.score(
                conversation_id,
                account.id,
                account.name,
                account.role,
                scoring,
                settings,
                hub.clock.now(),
            )
            return {"review": done.model_dump(mode="json"), "rubric": settings.rubric}
        found = await reviewer.get(conversation_id)
        if account.role not in REVIEWERS and (found is None or found.agent_id != account.id):
            raise Refused(403, "agents read only the reviews of their own chats")
        return {
            "review": found.model_dump(mode="json") if found else None,
            "rubric": settings.rubric,
        }

    return await _run(request, write, body)


@endpoint(write=False)
async def get_playbook(request: Request, account: Account) -> dict[str, Any]:
    """``GET /api/admin/playbook``: the ladder, role limits and review settings."""
    return _playbook(request).model_dump(mode="json")


@endpoint(write=True)
async def put_playbook(request: Request, account: Account) -> dict[str, Any]:
    """``PUT /api/admin/playbook``: replace them; every field is checked before anything is stored."""
    book = await parse(request, Playbook)
    await change(request, account, {DOCUMENT: to_toml(book.model_dump(mode="json"))}, "playbook")
    return _playbook(request).model_dump(mode="json")


def routes() -> list[BaseRoute]:
    """The ladder, review and playbook routes, and the ``/review`` page."""
    return [
        Route("/review", page(_files, "review.html")),
        Route("/api/playbook/ladder", ladder),
        Route("/api/review/queue", queue),
        Route("/api/review/mine", mine),
        Route("/api/review/{conversation_id}", review, methods=["GET", "POST"]),
        Route("/api/admin/playbook", get_playbook),
        Route("/api/admin/playbook", put_playbook, methods=["PUT"]),
    ]
