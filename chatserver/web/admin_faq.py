"""``/api/admin/faq``: the FAQ per language, and "try a question"; ``faq check`` warns first.

A save that makes ``faq check`` say something new (two entries ambiguous, an entry missing in a
language) answers 409 with the warnings; the same save with ``confirm`` goes through.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request

from chatserver.core.auth import Account
from chatserver.faq import shop_docs
from chatserver.faq.models import FaqEntry
from chatserver.faq.shop_bot import ShopBot
from chatserver.web.admin_api import change, faq_tables, to_toml
from chatserver.web.admin_common import Refused, endpoint, invalid, live_of, parse


class EntryChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry: dict[str, Any]
    new: bool = False
    confirm: bool = False


class Question(BaseModel):
    text: str = Field(min_length=1, max_length=1000)
    locale: str = Field("en", max_length=20)


def _entry(lang: str, raw: dict[str, Any], english: list[dict[str, Any]]) -> dict[str, Any]:
    """One FAQ entry checked; in another language, the fields a translation has."""
    data = dict(raw)
    if isinstance(data.get("questions"), str):
        data["questions"] = [q.strip() for q in data["questions"].splitlines() if q.strip()]
    if lang != "en":
        base = next((e for e in english if e["id"] == data.get("id")), None)
        if base is None:
            raise Refused(
                400, "id: no English entry has this id", {"id": "no English entry has this id"}
            )
        data["category"] = base["category"]
    try:
        entry = FaqEntry.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc) from exc
    kept = entry.model_dump(mode="json")
    return kept if lang == "en" else {k: kept[k] for k in ("title", "answer", "questions")}


def _faq_documents(lang: str, entries: list[dict[str, Any]]) -> dict[str, str | None]:
    if lang == "en":
        return {"faq.toml": to_toml({"entry": entries}) if entries else None}
    table = {e["id"]: {k: v for k, v in e.items() if k != "id"} for e in entries}
    return {f"faq.{lang}.toml": to_toml(table) if table else None}


def _lang(request: Request) -> str:
    lang = str(request.path_params["lang"])
    if not shop_docs.DOCUMENT_NAME.match(f"faq.{lang}.toml"):
        raise Refused(400, f"not a language code: {lang!r}")
    return lang


@endpoint(write=True)
async def put_faq_entry(request: Request, account: Account) -> dict[str, Any]:
    """``PUT /api/admin/faq/{lang}``: add or replace one entry; ambiguity warns before saving."""
    lang, body = _lang(request), await parse(request, EntryChange)
    faq = faq_tables(request)
    entries = faq.get(lang, [])
    entry = _entry(lang, body.entry, faq["en"])
    entry_id = body.entry.get("id")
    exists = any(e["id"] == entry_id for e in entries)
    if body.new and exists:
        raise Refused(
            400, f"id: an entry with id {entry_id!r} exists", {"id": "an entry with this id exists"}
        )
    row = {"id": entry_id, **entry} if lang != "en" else entry
    entries = [row if e["id"] == entry_id else e for e in entries] if exists else [*entries, row]
    changes = _faq_documents(lang, entries)
    if not body.confirm:
        warnings = await _new_warnings(request, changes)
        if warnings:
            raise Refused(409, "check these before saving", {"warnings": "\n".join(warnings)})
    await change(
        request, account, changes, f"FAQ {lang}: {'added' if not exists else 'edited'} {entry_id}"
    )
    return {"faq": faq_tables(request)}


_checked: dict[int, list[tuple[str, str]]] = {}
"""The check of the last documents checked (the current ones, usually): a check takes seconds."""


async def _check(documents: dict[str, str]) -> list[tuple[str, str]]:
    key = hash(tuple(sorted(documents.items())))
    if key not in _checked:
        found = await asyncio.to_thread(shop_docs.check, documents)
        _checked.clear()
        _checked[key] = found
    return _checked[key]


async def _new_warnings(request: Request, changes: dict[str, str | None]) -> list[str]:
    """What ``faq check`` would say after the change that it does not say now."""
    before = live_of(request).documents
    after = {k: v for k, v in {**before, **changes}.items() if v is not None}
    old = await _check(before)
    new = await _check(after)  # kept: once saved, these are the current documents
    return [f"{where}: {message}" for where, message in new if (where, message) not in old]


@endpoint(write=True)
async def delete_faq_entry(request: Request, account: Account) -> dict[str, Any]:
    """``DELETE /api/admin/faq/{lang}/{id}``: remove an entry (in English: in every language)."""
    lang, entry_id = _lang(request), str(request.path_params["entry_id"])
    faq = faq_tables(request)
    if not any(e["id"] == entry_id for e in faq.get(lang, [])):
        raise Refused(404, f"no entry {entry_id!r} in {lang!r}")
    changes: dict[str, str | None] = {}
    for code, entries in faq.items():
        if code == lang or lang == "en":
            changes.update(_faq_documents(code, [e for e in entries if e["id"] != entry_id]))
    await change(request, account, changes, f"FAQ {lang}: deleted {entry_id}")
    return {"faq": faq_tables(request)}


@endpoint(write=False)
async def try_question(request: Request, account: Account) -> dict[str, Any]:
    """``POST /api/admin/try``: what the bot would answer, its confidence and the runner-up."""
    body = await parse(request, Question)
    bot = live_of(request).bot
    if not isinstance(bot, ShopBot):
        return {"kind": "off", "answer": "The bot is off: the shop has no FAQ."}
    reply = bot.faq.reply(body.text, body.locale)
    match = bot.faq.matchers[reply.lang].match(body.text)
    return {
        **reply.model_dump(mode="json"),
        "runner_up": match.runner_up,
        "runner_up_confidence": match.runner_up_confidence,
    }
