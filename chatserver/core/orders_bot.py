"""The bot's order answers: "where is my order" settled with the shop's real order data.

A verified customer asking about their order gets their recent orders; a guest is asked for the
order number with its e-mail or postcode, and gets the order only when the shop confirms the
two belong together. When the shop's system does not answer in time the FAQ's general answer
stands, with the offer of a person. Agents see what was looked up in the staff log.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import replace
from typing import Any

from chatserver.core.journal import Journal
from chatserver.domain import protocol as p
from chatserver.domain.bot import BotTurn
from chatserver.domain.conversation import Conversation
from chatserver.domain.order_lookup import OrderAnswer, OrderLookup


class OrderDesk:
    """Turns the FAQ bot's answer to an order question into one with the shop's order data."""

    def __init__(self, journal: Journal, lookup: OrderLookup) -> None:
        self.journal = journal
        self.lookup = lookup

    async def close(self) -> None:
        await self.lookup.close()

    async def reply(
        self, conversation: Conversation, text: str, turn: BotTurn
    ) -> tuple[BotTurn, dict[str, Any]]:
        """The bot's turn for the shopper message ``text``, and the record's changes."""
        lang = turn.lang or conversation.locale
        asked = self.lookup.asks_about_orders(turn.faq_id)
        if asked and conversation.customer_id and self.lookup.knows_customers():
            answer = await self._looking(
                conversation, self.lookup.of_customer(conversation.customer_id, lang)
            )
        elif asked or conversation.order_asked or self._names_order(text, turn):
            answer = None
            if self.lookup.names_order(text):
                answer = await self._looking(conversation, self.lookup.in_message(text, lang))
            if answer is None and asked:
                ask = f"{turn.text}\n\n{self.lookup.ask(lang)}"
                return replace(turn, text=ask), {"order_asked": True}
            if answer is None and any(c.isdigit() for c in text):
                # A number without its e-mail or postcode: ask for both again, reveal nothing.
                return BotTurn(self.lookup.ask(lang), lang=lang), {}
        else:
            return turn, {}
        if answer is None:  # a guest asked before, and this message names no order
            return turn, {}
        await self.journal.post(
            conversation.id,
            p.OrderLookedUp,
            log_id=p.staff_log(conversation.id),
            outcome=answer.outcome,
            orders=answer.cards,
        )
        if answer.outcome == "unavailable":
            said = f"{turn.text}\n\n{answer.text}" if asked else answer.text
            return BotTurn(said, faq_id=turn.faq_id, title=turn.title, lang=lang), {}
        # A guest may go on to ask about another order: their next reference is looked up too.
        changes: dict[str, Any] = {"order_asked": not conversation.customer_id}
        if answer.outcome == "found" and answer.cards:
            changes["bot_order_answers"] = conversation.bot_order_answers + 1
        return BotTurn(answer.text, faq_id=turn.faq_id, title=turn.title, lang=lang), changes

    def _names_order(self, text: str, turn: BotTurn) -> bool:
        """An order number with its e-mail or postcode, in a message the FAQ had no answer to."""
        return turn.faq_id is None and self.lookup.names_order(text)

    async def _looking(
        self, conversation: Conversation, lookup: Awaitable[OrderAnswer | None]
    ) -> OrderAnswer | None:
        """Await a lookup while the shopper sees the bot typing (the connector's timeout bounds it)."""
        await self._typing(conversation, True)
        try:
            return await lookup
        finally:
            await self._typing(conversation, False)

    async def _typing(self, conversation: Conversation, on: bool) -> None:
        notice = p.TypingNotice(conversation_id=conversation.id, role="bot", is_typing=on)
        await self.journal.notify(conversation.id, notice)
