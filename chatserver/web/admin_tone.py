"""``/api/admin/tone``: the tone coach's rules per language, listed, added, edited and deleted.

A language's rules are stored whole as the document ``tone.<lang>.toml``, which replaces the
shipped file of that language; deleting the document brings the shipped rules back. A rule is
checked before anything is stored: a pattern that does not compile, that browsers cannot read,
or that matches empty text gets its error next to the field.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request

from chatserver.core.auth import Account
from chatserver.playbook.tone import DOCUMENT, Tone, ToneRule, ToneRules, default_boundaries
from chatserver.web.admin_api import change, to_toml
from chatserver.web.admin_common import Refused, endpoint, invalid, live_of, parse


class RuleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: dict[str, Any]
    index: int | None = None
    """The rule replaced (its place in the language's list); none: a new rule at the end."""


def _tone(request: Request) -> Tone:
    tone: Tone = request.app.state.tone.tone
    return tone


def _lang(request: Request) -> str:
    lang = str(request.path_params["lang"])
    if not DOCUMENT.match(f"tone.{lang}.toml"):
        raise Refused(400, f"not a language code: {lang!r}", {"lang": "e.g. en, de, zh-CN"})
    return lang


def _current(request: Request, lang: str) -> ToneRules:
    rules = _tone(request).rules.get(lang)
    if rules is None:
        return ToneRules(lang=lang, boundaries=default_boundaries(lang))
    return rules


def _listing(request: Request) -> dict[str, Any]:
    stored = live_of(request).documents
    return {
        "languages": [
            {
                **rules.model_dump(mode="json"),
                "edited": f"tone.{lang}.toml" in stored,
            }
            for lang, rules in _tone(request).rules.items()
        ]
    }


async def _store(
    request: Request, account: Account, lang: str, rules: list[ToneRule], what: str
) -> dict[str, Any]:
    boundaries = _current(request, lang).boundaries
    document = {"boundaries": boundaries, "rule": [r.model_dump(mode="json") for r in rules]}
    await change(request, account, {f"tone.{lang}.toml": to_toml(document)}, what)
    return _listing(request)


@endpoint(write=False)
async def tone_rules(request: Request, account: Account) -> dict[str, Any]:
    """``GET /api/admin/tone``: every language's rules, and whether the shop has edited them."""
    return _listing(request)


@endpoint(write=True)
async def put_rule(request: Request, account: Account) -> dict[str, Any]:
    """``PUT /api/admin/tone/{lang}``: add a rule, or replace the one at ``index``."""
    lang, body = _lang(request), await parse(request, RuleChange)
    try:
        rule = ToneRule.model_validate(body.rule)
    except ValidationError as exc:
        raise invalid(exc) from exc
    rules = list(_current(request, lang).rules)
    if body.index is None:
        rules.append(rule)
    elif 0 <= body.index < len(rules):
        rules[body.index] = rule
    else:
        raise Refused(404, f"no rule {body.index} in {lang!r}")
    verb = "added" if body.index is None else "edited"
    return await _store(request, account, lang, rules, f"tone {lang}: {verb} {rule.pattern!r}")


@endpoint(write=True)
async def delete_rule(request: Request, account: Account) -> dict[str, Any]:
    """``DELETE /api/admin/tone/{lang}/{index}``: remove one rule."""
    lang = _lang(request)
    rules = list(_current(request, lang).rules)
    index = str(request.path_params["index"])
    if not index.isdigit() or int(index) >= len(rules):
        raise Refused(404, f"no rule {index} in {lang!r}")
    gone = rules.pop(int(index))
    return await _store(request, account, lang, rules, f"tone {lang}: deleted {gone.pattern!r}")


@endpoint(write=True)
async def restore_defaults(request: Request, account: Account) -> dict[str, Any]:
    """``DELETE /api/admin/tone/{lang}``: back to the shipped rules of the language."""
    lang = _lang(request)
    if f"tone.{lang}.toml" not in live_of(request).documents:
        raise Refused(404, f"the rules of {lang!r} are the shipped ones already")
    await change(request, account, {f"tone.{lang}.toml": None}, f"tone {lang}: shipped rules")
    return _listing(request)
