"""``/api/admin/apikeys`` and ``/api/admin/notice-texts``: the admin's API keys (made, shown once,
revoked) and the texts of the notices in each language."""

from __future__ import annotations

import re
import tomllib
from typing import Annotated, Any

import tomli_w
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from chatserver.core.api_keys import Scope
from chatserver.core.auth import Account
from chatserver.core.notices import TEXT_DOCUMENT, texts_for
from chatserver.domain import protocol as p
from chatserver.domain.errors import NotFound
from chatserver.domain.templates import check
from chatserver.web.admin_common import Refused, endpoint, hub_of, live_of, parse

LANG = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"
KINDS: tuple[p.NoticeKind, ...] = ("confirmed", "shipped", "delayed", "refund")


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100)]
    scopes: Annotated[list[Scope], Field(min_length=1)]


class NoticeText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Field(min_length=1, max_length=300)]
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class NoticeTexts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: dict[p.NoticeKind, NoticeText]


@endpoint(write=False)
async def list_keys(request: Request, account: Account) -> dict[str, Any]:
    """``GET /api/admin/apikeys``: every key (never the key itself), revoked ones too."""
    return {"keys": [k.public() for k in await hub_of(request).keys.all()]}


@endpoint(write=True)
async def add_key(request: Request, account: Account) -> dict[str, Any]:
    """``POST /api/admin/apikeys``: a new key, shown in this answer only."""
    body = await parse(request, NewKey)
    record, key = await hub_of(request).keys.create(body.name, body.scopes, account.id)
    await live_of(request).record(account.id, f"added API key {record.id} ({body.name})")
    return {"key": key, **record.public()}


@endpoint(write=True)
async def revoke_key(request: Request, account: Account) -> dict[str, Any]:
    """``DELETE /api/admin/apikeys/{key_id}``: the key is refused from now on."""
    key_id = str(request.path_params["key_id"])
    try:
        record = await hub_of(request).keys.revoke(key_id)
    except NotFound as exc:
        raise Refused(404, exc.message) from exc
    await live_of(request).record(account.id, f"revoked API key {key_id}")
    return record.public()


def _lang(request: Request) -> str:
    lang = str(request.path_params["lang"])
    if not re.fullmatch(LANG, lang):
        raise Refused(404, f"{lang!r} is not a language code such as en or de")
    return lang


@endpoint(write=False)
async def get_texts(request: Request, account: Account) -> dict[str, Any]:
    """``GET /api/admin/notice-texts/{lang}``: the notice texts the language's customers get."""
    lang = _lang(request)
    return {"lang": lang, "texts": texts_for(lang, live_of(request).documents)}


@endpoint(write=True)
async def put_texts(request: Request, account: Account) -> dict[str, Any]:
    """``PUT /api/admin/notice-texts/{lang}``: the shop's own texts for some kinds; a placeholder
    nobody knows (or unbalanced braces) is refused, naming the field."""
    lang, body = _lang(request), await parse(request, NoticeTexts)
    for kind, text in body.texts.items():
        for part in ("title", "text"):
            try:
                check(getattr(text, part))
            except ValueError as exc:  # MissingValue too: a placeholder nobody knows
                where = f"texts.{kind}.{part}"
                raise Refused(400, f"{where}: {exc}", {where: str(exc)}) from exc
    live = live_of(request)
    name = TEXT_DOCUMENT.format(lang=lang)
    own = tomllib.loads(live.documents.get(name, ""))
    own.update({kind: text.model_dump() for kind, text in body.texts.items()})
    await live.change({name: tomli_w.dumps(own)}, account.id, f"changed the {lang} notice texts")
    return {"lang": lang, "texts": texts_for(lang, live.documents)}
