"""Notices from the shop to its customers (order confirmed, shipped, delayed, refunded), and the
shopper's answer to a delay.

A notice goes into the customer's open conversation (or opens one, with the bot in charge) as a
``notice_posted`` event, stored like any other: seq, delivery, catch-up. Its text is the shop's
template for the kind in the customer's language, filled by :mod:`chatserver.domain.templates`.
The shop's own ``notice_id`` makes it idempotent: the ``notices`` ledger remembers which
conversation it went to, and the event's ``client_id`` is ``notice-<notice_id>``.

The shopper's answer (``choose_option``) is a ``choice_made`` event (``client_id``
``choice-<notice_id>``: the first answer stands); once stored, it is recorded in the ``choices``
ledger (read back by the shop with ``GET /api/notices/choices``) and queued as a webhook.
"""

from __future__ import annotations

import json
import tomllib
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Annotated

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency
from pydantic import BaseModel, ConfigDict, Field, model_validator

from chatserver.core.chats import Chats
from chatserver.core.mail import Mail, Mailer
from chatserver.core.sessions import Session
from chatserver.core.webhooks import Webhooks
from chatserver.domain import protocol as p
from chatserver.domain.conversation import Conversation
from chatserver.domain.customer import customer_shopper_id
from chatserver.domain.errors import NotAllowed
from chatserver.domain.templates import fill
from chatserver.store.base import Store
from chatserver.store.notice_ports import LedgerEntry

NOTICES = "notices"
CHOICES = "choices"
DELAY_CHOICES: tuple[p.NoticeChoice, ...] = ("keep_waiting", "faster_shipping", "cancel_refund")
TEXT_DOCUMENT = "notices.{lang}.toml"
"""The shop's own notice texts for a language, among its configuration documents."""

Plain = Annotated[str, Field(max_length=300)]


class NoticeIn(BaseModel):
    """What the shop sends to ``POST /api/notices``."""

    model_config = ConfigDict(extra="forbid")

    notice_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:@-]+$")]
    customer_id: Annotated[str, Field(min_length=1, max_length=200)]
    kind: p.NoticeKind
    first_name: Annotated[str, Field(max_length=100)] = ""
    email: Annotated[str, Field(max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")] = ""
    locale: Annotated[
        str, Field(max_length=35, pattern=r"^$|^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)*$")
    ] = ""
    order: Plain = ""
    product: Plain = ""
    tracking_link: Annotated[str, Field(max_length=1000, pattern=r"^$|^https?://\S+$")] = ""
    new_date: date | None = None
    reason: Plain = ""
    amount: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)] | None = None
    currency: Annotated[str, Field(pattern=r"^$|^[A-Z]{3}$")] = ""
    coupon: Annotated[str, Field(max_length=64)] = ""
    choices: list[p.NoticeChoice] | None = None

    @model_validator(mode="after")
    def _kind_needs(self) -> NoticeIn:
        needs = {
            "shipped": ("tracking_link",),
            "delayed": ("reason", "new_date"),
            "refund": ("amount", "currency"),
        }.get(self.kind, ())
        for name in needs:
            if not getattr(self, name):
                raise ValueError(f"a {self.kind} notice needs {name}")
        if self.choices is not None and self.kind != "delayed":
            raise ValueError("only a delayed notice offers choices")
        return self


class NoticeOut(BaseModel):
    """What ``POST /api/notices`` answers: where the notice is, and whether it was there before."""

    notice_id: str
    conversation_id: str
    seq: int
    duplicate: bool


class ChoiceOut(BaseModel):
    """A shopper's answer, as the shop reads it (API and webhook)."""

    number: int
    notice_id: str
    choice: p.NoticeChoice
    conversation_id: str
    at: float


def _locale(tag: str) -> Locale:
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale("en")


def shipped_texts(lang: str) -> dict[str, dict[str, str]]:
    """The notice texts shipped for a language (``core/notice_texts/<lang>.toml``), or none."""
    path = resources.files("chatserver.core") / "notice_texts" / f"{lang}.toml"
    if not path.is_file():
        return {}
    return tomllib.loads(path.read_text(encoding="utf-8"))


def texts_for(lang: str, documents: dict[str, str]) -> dict[str, dict[str, str]]:
    """A language's notice texts: the shop's own (from /admin) over the shipped ones; English
    for a language that has none."""
    own = tomllib.loads(documents.get(TEXT_DOCUMENT.format(lang=lang), ""))
    shipped = shipped_texts(lang)
    if not own and not shipped:
        return texts_for("en", documents) if lang != "en" else {}
    return {kind: {**shipped.get(kind, {}), **own.get(kind, {})} for kind in {*shipped, *own}}


def values_of(notice: NoticeIn, locale: Locale) -> dict[str, str]:
    """The placeholders' values of a notice, written for the customer's locale."""
    return {
        "first_name": notice.first_name,
        "order": notice.order,
        "product": notice.product,
        "tracking_link": notice.tracking_link,
        "new_date": format_date(notice.new_date, "long", locale=locale) if notice.new_date else "",
        "reason": notice.reason,
        "amount": (
            format_currency(notice.amount, notice.currency, locale=locale)
            if notice.amount is not None and notice.currency
            else ""
        ),
        "coupon": notice.coupon,
    }


class Notices:
    """Sends notices into customers' conversations and keeps their answers for the shop."""

    def __init__(self, chats: Chats, store: Store, webhooks: Webhooks, mailer: Mailer) -> None:
        self.chats = chats
        self.store = store
        self.webhooks = webhooks
        self.mailer = mailer

    def start(self) -> None:
        self.chats.journal.watch(p.ChoiceMade, self.choice_stored)

    async def render(self, notice: NoticeIn, locale: str) -> tuple[str, str]:
        """The notice's title and text in ``locale``. Raises MissingValue naming a placeholder."""
        documents = await self.store.config.documents()
        babel = _locale(locale or "en")
        texts = texts_for(babel.language, documents).get(notice.kind, {})
        values = values_of(notice, babel)
        return fill(texts.get("title", ""), values), fill(texts.get("text", ""), values)

    async def send(self, notice: NoticeIn) -> NoticeOut:
        """Put a notice into its customer's conversation, once per ``notice_id``.

        Raises:
            MissingValue: the template names a placeholder the notice has no value for.
        """
        journal, shopper_id = self.chats.journal, customer_shopper_id(notice.customer_id)
        client_id = f"notice-{notice.notice_id}"
        known = await self.store.ledger.get(NOTICES, notice.notice_id)
        if known is not None:
            conversation_id = json.loads(known.text)["conversation_id"]
            original = await journal.find(conversation_id, client_id)
            if original is not None:
                return NoticeOut(
                    notice_id=notice.notice_id,
                    conversation_id=conversation_id,
                    seq=original.seq,
                    duplicate=True,
                )
        latest = await journal.latest(shopper_id)
        locale = notice.locale or (latest.locale if latest is not None else "en")
        title, text = await self.render(notice, locale)
        if known is None:
            conversation = await self._open(shopper_id, locale)
            entry = await self.store.ledger.record(
                NOTICES,
                notice.notice_id,
                self.chats.clock.now(),
                json.dumps({"conversation_id": conversation.id, "kind": notice.kind}),
            )
            conversation_id = json.loads(entry.text)["conversation_id"]
        choices = list(notice.choices or DELAY_CHOICES) if notice.kind == "delayed" else []
        stored = await journal.post(
            conversation_id,
            p.NoticePosted,
            notice_id=notice.notice_id,
            notice_kind=notice.kind,
            title=title,
            text=text,
            order=notice.order,
            tracking_link=notice.tracking_link,
            new_date=notice.new_date.isoformat() if notice.new_date else "",
            coupon=notice.coupon,
            choices=choices,
            client_id=client_id,
        )
        if not stored.duplicate:
            await self._mail(notice, conversation_id, title, text)
        return NoticeOut(
            notice_id=notice.notice_id,
            conversation_id=conversation_id,
            seq=stored.seq,
            duplicate=stored.duplicate,
        )

    async def _open(self, shopper_id: str, locale: str) -> Conversation:
        """The customer's open conversation, or a new one with the bot in charge (a notice is
        not a question: it goes to the queue only when the shopper asks something)."""
        async with self.chats.shopper_locks[shopper_id]:
            conversation = await self.chats.journal.latest(shopper_id)
            if conversation is not None and conversation.status != "closed":
                return conversation
            hello = p.Hello(version=p.PROTOCOL_VERSION, locale=locale or "en")
            return await self.chats.open_conversation(shopper_id, hello, with_bot=True)

    async def _mail(self, notice: NoticeIn, conversation_id: str, title: str, text: str) -> None:
        """E-mail the notice too, when e-mail is on and the customer's address is known."""
        conversation = await self.chats.journal.get(conversation_id)
        to = notice.email or conversation.email
        if not (self.mailer.enabled and to):
            return
        link = f"{self.chats.settings.base_url}/"
        mail = Mail(
            kind="notice",
            to=to,
            subject=title,
            body=f"{text}\n\n{link}",
            conversation_id=conversation_id,
            queued_at=self.chats.clock.now(),
        )
        await self.mailer.queue(mail)

    async def choice_stored(self, conversation_id: str, at: float) -> None:
        """A shopper answered a notice: into the ``choices`` ledger and, once, to the webhook."""
        for _, text in await self.store.log.read(conversation_id):
            event = json.loads(text)
            if event.get("type") != "choice_made":
                continue
            entry = await self.store.ledger.record(
                CHOICES,
                event["notice_id"],
                event["ts"],
                json.dumps({"choice": event["choice"], "conversation_id": conversation_id}),
            )
            if not entry.duplicate:
                body = _choice(entry).model_dump_json()
                await self.webhooks.queue(f"choice-{event['notice_id']}", body)

    async def choices(self, after: int = 0, limit: int = 100) -> list[ChoiceOut]:
        """The shoppers' answers numbered above ``after``, in the order they came."""
        return [_choice(e) for e in await self.store.ledger.after(CHOICES, after, limit)]


def _choice(entry: LedgerEntry) -> ChoiceOut:
    data = json.loads(entry.text)
    return ChoiceOut(
        number=entry.number,
        notice_id=entry.entry_id,
        choice=data["choice"],
        conversation_id=data["conversation_id"],
        at=entry.at,
    )


async def choose_option(chats: Chats, session: Session, frame: p.ChooseOption) -> None:
    """The shopper answers a delay notice of their conversation; the first answer stands."""
    conversation = await chats.own(session, None)
    notice = await chats.journal.find(conversation.id, f"notice-{frame.notice_id}")
    offered = json.loads(notice.text).get("choices", []) if notice is not None else []
    if frame.choice not in offered:
        raise NotAllowed(f"notice {frame.notice_id!r} does not offer {frame.choice!r}")
    stored = await chats.journal.post(
        conversation.id,
        p.ChoiceMade,
        notice_id=frame.notice_id,
        choice=frame.choice,
        client_id=f"choice-{frame.notice_id}",
    )
    if not stored.duplicate and frame.choice != "keep_waiting" and conversation.status == "bot":
        await chats.assigner.enqueue(conversation, "handoff")  # a person acts on it
